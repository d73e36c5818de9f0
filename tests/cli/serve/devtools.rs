//! A small driver for headless chromium over the DevTools protocol, so the browser test can use
//! the search page as a person does: click into the box, type, press Enter, click a facet and a
//! link, and take screenshots. chromium listens on a free port (`--remote-debugging-port=0`,
//! announced in `DevToolsActivePort` in its profile); the test speaks JSON over a WebSocket to
//! the page target.

use base64::Engine;
use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};
use tungstenite::{Message, WebSocket};

/// How long a page may take to show what a step waits for.
const PATIENCE: Duration = Duration::from_secs(30);

/// A headless chromium with one page, killed when dropped.
pub struct Browser {
    child: Child,
    socket: WebSocket<tungstenite::stream::MaybeTlsStream<TcpStream>>,
    next_id: u64,
    _profile: tempfile::TempDir,
}

impl Browser {
    /// Starts chromium with a fresh profile and connects to its page.
    pub fn start(chromium: &Path) -> Browser {
        let profile = tempfile::tempdir().expect("profile directory");
        let child = std::process::Command::new(chromium)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--hide-scrollbars",
                "--remote-debugging-port=0",
                "--window-size=1280,900",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg("about:blank")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromium");
        let port = wait_for_port(&profile.path().join("DevToolsActivePort"));
        let page = page_socket_url(port);
        let (socket, _) = tungstenite::connect(page.as_str()).expect("connect to the page");
        let mut browser = Browser {
            child,
            socket,
            next_id: 0,
            _profile: profile,
        };
        browser.call(
            "Emulation.setDeviceMetricsOverride",
            json!({"width": 1280, "height": 900, "deviceScaleFactor": 1, "mobile": false}),
        );
        browser
    }

    /// Sends one command and returns its result, skipping the events in between.
    pub fn call(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        let command = json!({"id": id, "method": method, "params": params}).to_string();
        self.socket
            .send(Message::Text(command.into()))
            .unwrap_or_else(|error| panic!("send {method}: {error}"));
        loop {
            let message = self
                .socket
                .read()
                .unwrap_or_else(|error| panic!("read the answer to {method}: {error}"));
            let Message::Text(text) = message else {
                continue;
            };
            let answer: Value = serde_json::from_str(text.as_str()).expect("JSON from chromium");
            if answer["id"] == id {
                assert!(
                    answer.get("error").is_none(),
                    "{method} failed: {}",
                    answer["error"]
                );
                return answer["result"].clone();
            }
        }
    }

    /// Opens a URL.
    pub fn navigate(&mut self, url: &str) {
        self.call("Page.navigate", json!({ "url": url }));
    }

    /// The value of a JavaScript expression in the page (promises awaited).
    pub fn evaluate(&mut self, expression: &str) -> Value {
        self.try_evaluate(expression)
            .unwrap_or_else(|exception| panic!("{expression} threw: {exception}"))
    }

    /// The value of a JavaScript expression, or the exception it threw.
    fn try_evaluate(&mut self, expression: &str) -> Result<Value, Value> {
        let result = self.call(
            "Runtime.evaluate",
            json!({"expression": expression, "returnByValue": true, "awaitPromise": true}),
        );
        match result.get("exceptionDetails") {
            Some(exception) => Err(exception.clone()),
            None => Ok(result["result"]["value"].clone()),
        }
    }

    /// Waits until a JavaScript expression is true (one that throws, say on a page still
    /// loading, counts as not yet), and panics with `what` and the page's text when it does not
    /// become true in time.
    pub fn wait_until(&mut self, expression: &str, what: &str) {
        let started = Instant::now();
        while started.elapsed() < PATIENCE {
            if self.try_evaluate(&format!("Boolean({expression})")) == Ok(Value::Bool(true)) {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let text = self.evaluate("document.body ? document.body.innerText : ''");
        panic!("timed out waiting for {what}; the page shows:\n{text}");
    }

    /// The page's current HTML.
    pub fn html(&mut self) -> String {
        self.evaluate("document.documentElement.outerHTML")
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    /// Clicks the middle of the first element that `selector` matches, with the mouse.
    pub fn click(&mut self, selector: &str) {
        let selector_json = serde_json::to_string(selector).unwrap();
        let centre = self.evaluate(&format!(
            "(() => {{ const e = document.querySelector({selector_json}); if (!e) return null; \
             e.scrollIntoView({{block: 'center'}}); const r = e.getBoundingClientRect(); \
             return [r.x + r.width / 2, r.y + r.height / 2]; }})()"
        ));
        let (x, y) = match centre.as_array().map(Vec::as_slice) {
            Some([x, y]) => (x.as_f64().unwrap(), y.as_f64().unwrap()),
            _ => panic!("nothing matches {selector} to click:\n{}", self.html()),
        };
        for kind in ["mousePressed", "mouseReleased"] {
            self.call(
                "Input.dispatchMouseEvent",
                json!({"type": kind, "x": x, "y": y, "button": "left", "clickCount": 1}),
            );
        }
    }

    /// Types text into the focused element key by key, as a keyboard does.
    pub fn type_keys(&mut self, text: &str) {
        for character in text.chars() {
            let key = character.to_string();
            self.call(
                "Input.dispatchKeyEvent",
                json!({"type": "keyDown", "key": key, "text": key}),
            );
            self.call(
                "Input.dispatchKeyEvent",
                json!({"type": "keyUp", "key": key}),
            );
        }
    }

    /// Commits text into the focused element the way an input method does (Chinese).
    pub fn type_composed(&mut self, text: &str) {
        self.call("Input.insertText", json!({ "text": text }));
    }

    /// Presses a named key (Enter, Backspace, ...).
    pub fn press(&mut self, key: &str, code: u32) {
        let text = if key == "Enter" { "\r" } else { "" };
        self.call(
            "Input.dispatchKeyEvent",
            json!({"type": "keyDown", "key": key, "code": key,
                   "windowsVirtualKeyCode": code, "text": text}),
        );
        self.call(
            "Input.dispatchKeyEvent",
            json!({"type": "keyUp", "key": key, "code": key, "windowsVirtualKeyCode": code}),
        );
    }

    /// A PNG of the viewport.
    pub fn screenshot(&mut self) -> Vec<u8> {
        let result = self.call("Page.captureScreenshot", json!({"format": "png"}));
        base64::engine::general_purpose::STANDARD
            .decode(result["data"].as_str().expect("screenshot data"))
            .expect("base64 screenshot")
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The DevTools port chromium writes into its profile once it listens.
fn wait_for_port(file: &Path) -> u16 {
    let started = Instant::now();
    while started.elapsed() < PATIENCE {
        if let Ok(text) = std::fs::read_to_string(file) {
            if let Some(port) = text.lines().next().and_then(|line| line.parse().ok()) {
                return port;
            }
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!(
        "chromium did not announce a DevTools port in {}",
        file.display()
    );
}

/// The WebSocket address of the browser's page, from its `/json/list`.
fn page_socket_url(port: u16) -> String {
    let started = Instant::now();
    while started.elapsed() < PATIENCE {
        let targets = http_get(port, "/json/list");
        if let Some(url) = targets.as_array().into_iter().flatten().find_map(|target| {
            (target["type"] == "page")
                .then(|| target["webSocketDebuggerUrl"].as_str().map(str::to_string))
                .flatten()
        }) {
            return url;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("chromium on port {port} shows no page target");
}

/// GET a DevTools JSON endpoint. chromium keeps the connection open after answering, so the
/// body is read by its Content-Length.
fn http_get(port: u16, path: &str) -> Value {
    let stream = TcpStream::connect(("127.0.0.1", port)).expect("connect to DevTools");
    stream.set_read_timeout(Some(PATIENCE)).unwrap();
    let mut reader = BufReader::new(stream);
    write!(
        reader.get_mut(),
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n"
    )
    .unwrap();
    let mut length = 0;
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).expect("read DevTools headers");
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            if name.eq_ignore_ascii_case("content-length") {
                length = value.trim().parse().expect("Content-Length");
            }
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).expect("read DevTools body");
    serde_json::from_slice(&body).unwrap_or(Value::Null)
}
