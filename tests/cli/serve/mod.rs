//! `vocmine serve` end to end: the binary on a free port over a workspace mined from a small
//! input, driven over loopback with a raw HTTP/1.0 client (so hostile paths reach the server
//! exactly as written); `browser` uses the search page in headless chromium.

use crate::util::{vocmine, Scratch};
use serde_json::Value;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, ChildStdout, Stdio};
use std::time::Duration;

mod browser;
mod devtools;
mod hostile;

const FEEDBACK: &str = "id,date,rating,source,location,product,text\n\
    e1,2026-08-03,1,complaint,North,sedan,The brakes make a grinding noise and nobody called me back\n\
    e2,2026-08-20,5,review,South,suv,Quick service and a friendly advisor\n\
    e3,2026-09-02,2,review,North,sedan,Noise from the brakes again after the repair\n\
    x1,2026-09-05,1,review,North,sedan,\"<script>alert('pwned')</script> the brake pedal feels soft & spongy\"\n\
    z1,2026-09-10,1,complaint,北京,sedan,刹车有异响，修了两次还是不好\n\
    z2,2026-09-12,2,review,台北,suv,剎車有異響，服務態度也很差\n\
    z3,2026-10-01,5,review,上海,suv,服务态度很好，刹车问题一次修好\n";

/// A `vocmine serve` process, killed when dropped.
struct Served {
    child: Child,
    address: String,
    /// Kept open: the server must not see a closed stdout while the test runs.
    _stdout: BufReader<ChildStdout>,
}

impl Served {
    fn start(workspace: &Path) -> Served {
        let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("vocmine"))
            .args(["--quiet", "serve"])
            .arg(workspace)
            .args(["--port", "0", "--threads", "2"])
            .env_remove("RUST_LOG")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start vocmine serve");
        let mut line = String::new();
        let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
        stdout.read_line(&mut line).expect("read the address line");
        let address = line
            .split("http://")
            .nth(1)
            .and_then(|rest| rest.split('/').next())
            .unwrap_or_else(|| panic!("no address in {line:?}"))
            .to_string();
        Served {
            child,
            address,
            _stdout: stdout,
        }
    }

    /// GET (or another method) over a fresh connection: status, headers (lowercase names), body.
    fn request(&self, method: &str, path: &str) -> (u16, Vec<(String, String)>, Vec<u8>) {
        let mut stream = TcpStream::connect(&self.address).expect("connect");
        stream
            .set_read_timeout(Some(Duration::from_secs(60)))
            .unwrap();
        write!(stream, "{method} {path} HTTP/1.0\r\nHost: test\r\n\r\n").unwrap();
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).expect("read the answer");
        let split = raw
            .windows(4)
            .position(|window| window == b"\r\n\r\n")
            .expect("end of headers");
        let head = String::from_utf8_lossy(&raw[..split]).to_string();
        let mut lines = head.lines();
        let status = lines
            .next()
            .unwrap()
            .split(' ')
            .nth(1)
            .unwrap()
            .parse()
            .unwrap();
        let headers = lines
            .filter_map(|line| line.split_once(':'))
            .map(|(name, value)| (name.to_ascii_lowercase(), value.trim().to_string()))
            .collect();
        (status, headers, raw[split + 4..].to_vec())
    }

    fn get(&self, path: &str) -> (u16, String) {
        let (status, _, body) = self.request("GET", path);
        (status, String::from_utf8(body).expect("utf-8 body"))
    }

    fn json(&self, path: &str) -> Value {
        let (status, body) = self.get(path);
        assert_eq!(status, 200, "{path}: {body}");
        serde_json::from_str(&body).expect("json")
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.address)
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn mined() -> Scratch {
    let scratch = Scratch::new();
    let input = scratch.write("feedback.csv", FEEDBACK.as_bytes());
    scratch.mine(&[&input]);
    scratch
}

fn ids(results: &Value) -> Vec<String> {
    let mut ids: Vec<String> = results["hits"]
        .as_array()
        .expect("hits")
        .iter()
        .map(|hit| hit["id"].as_str().unwrap().to_string())
        .collect();
    ids.sort();
    ids
}

fn facet(results: &Value, field: &str) -> Value {
    results["facets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|facet| facet["field"] == field)
        .unwrap_or_else(|| panic!("no facet {field}"))["counts"]
        .clone()
}

#[test]
fn the_api_searches_filters_pages_and_sees_new_runs_without_a_restart() {
    let scratch = mined();
    let served = Served::start(&scratch.workspace());
    let brake = served.json("/api/search?q=brake");
    assert_eq!(ids(&brake), ["e1", "e3", "x1"]);
    let snippet = &brake["hits"][0]["snippet"];
    let marked: Vec<&str> = snippet
        .as_array()
        .unwrap()
        .iter()
        .filter(|part| part["highlight"] == true)
        .map(|part| part["text"].as_str().unwrap())
        .collect();
    assert!(marked[0].starts_with("brake"), "{snippet}");
    let traditional = served.json("/api/search?q=%E5%89%8E%E8%BB%8A"); // 剎車
    assert_eq!(ids(&traditional), ["z1", "z2", "z3"]);
    let filtered = served
        .json("/api/search?q=brake&source=complaint&from=2026-08-01&to=2026-08-31&rating=%3C%3D2");
    assert_eq!(ids(&filtered), ["e1"]);
    assert_eq!(
        facet(&served.json("/api/search"), "source"),
        serde_json::json!([{"value": "review", "count": 5}, {"value": "complaint", "count": 2}])
    );
    assert_eq!(
        facet(&brake, "language"),
        serde_json::json!([{"value": "en", "count": 3}])
    );
    let page = served.json("/api/search?per_page=3&page=3");
    assert_eq!(
        (page["total"].as_u64(), page["pages"].as_u64()),
        (Some(7), Some(3))
    );
    assert_eq!(page["hits"].as_array().unwrap().len(), 1);
    let document = served.json("/api/document/z2");
    assert_eq!(document["location"], "台北");
    assert_eq!(document["language"], "zh-Hant");
    let filters = served.json("/api/filters");
    assert_eq!(filters["product"], serde_json::json!(["sedan", "suv"]));

    let more = scratch.write(
        "more.csv",
        b"id,date,text\nn1,2026-10-20,The brake light stays on\n",
    );
    scratch.mine(&[&more]);
    assert_eq!(
        ids(&served.json("/api/search?q=brake")),
        ["e1", "e3", "n1", "x1"],
        "a run committed while serving is searchable at once"
    );
}

#[test]
fn searches_during_a_mine_run_see_the_old_commit_or_the_new_one_never_a_part() {
    let scratch = mined();
    let served = Served::start(&scratch.workspace());
    // Texts new to the shared embedding cache, so the run spends a few seconds encoding.
    let nonce = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let mut rows = String::from("id,date,text\n");
    for row in 0..150 {
        rows.push_str(&format!(
            "m{row},2026-10-{:02},customer {nonce}-{row} says the brake squeals\n",
            1 + row % 28
        ));
    }
    let input = scratch.write("during.csv", rows.as_bytes());
    let mut run = std::process::Command::new(assert_cmd::cargo::cargo_bin("vocmine"))
        .args(["--quiet", "mine"])
        .arg(scratch.workspace())
        .arg(&input)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .env("VOCMINE_THREADS", "1")
        .env(
            "VOCMINE_EMBEDDING_CACHE",
            Path::new(env!("CARGO_TARGET_TMPDIR")).join("embeddings"),
        )
        .spawn()
        .expect("start mine");
    let mut seen = std::collections::BTreeSet::new();
    loop {
        let finished = run.try_wait().expect("mine status").is_some();
        let (status, body) = served.get("/api/search?q=brake");
        assert_eq!(status, 200, "{body}");
        let results: Value = serde_json::from_str(&body).unwrap();
        seen.insert(results["total"].as_u64().unwrap());
        if finished {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(run.wait().unwrap().success(), "mine failed");
    assert!(
        seen.iter().all(|total| *total == 3 || *total == 153),
        "totals seen while mining: {seen:?}"
    );
    assert!(
        seen.contains(&153),
        "the committed run is visible: {seen:?}"
    );
}

#[test]
fn hostile_requests_get_a_4xx_with_a_message_and_never_a_500() {
    let scratch = mined();
    std::fs::create_dir_all(scratch.workspace().join("reports/2026-10")).unwrap();
    std::fs::write(
        scratch.workspace().join("reports/2026-10/summary.html"),
        "<h1>ok</h1>",
    )
    .unwrap();
    let served = Served::start(&scratch.workspace());
    let long_query = "brake%20".repeat(400);
    let nested = format!("{}brake{}", "(".repeat(500), ")".repeat(500));
    let cases: Vec<(String, u16)> = vec![
        (format!("/api/search?q={long_query}"), 400),
        (format!("/api/search?q={}", "a".repeat(20_000)), 414),
        (format!("/api/search?q={nested}"), 400),
        (format!("/api/search?q={}x", "NOT%20".repeat(300)), 400),
        ("/api/search?q=%22unbalanced".into(), 400),
        ("/api/search?q=brake%20AND".into(), 400),
        ("/api/search?q=nosuchfield:x".into(), 400),
        ("/api/search?from=2026-13-01".into(), 400),
        ("/api/search?to=yesterday".into(), 400),
        ("/api/search?from=2026-10-01&to=2026-09-01".into(), 400),
        ("/api/search?sentiment=furious".into(), 400),
        ("/api/search?source=%3Cscript%3E".into(), 400),
        ("/api/search?language=fr".into(), 400),
        ("/api/search?rating=lots".into(), 400),
        ("/api/search?rating=NaN".into(), 400),
        ("/api/search?per_page=1000".into(), 400),
        ("/api/search?page=0".into(), 400),
        ("/api/search?page=99999999999999999999999".into(), 400),
        ("/api/search?colour=red".into(), 400),
        ("/api/document/no-such-id".into(), 404),
        ("/api/problem/P9999".into(), 404),
        ("/api/problems?period=..%2F..%2Fetc".into(), 400),
        ("/reports/../../etc/passwd".into(), 400),
        ("/reports/%2e%2e/%2e%2e/etc/passwd".into(), 400),
        ("/reports/..%2F..%2Fetc%2Fpasswd".into(), 400),
        ("/reports/2026-10/..%5c..%5cvocmine.toml".into(), 400),
        ("/reports/%00".into(), 400),
        ("/reports/nothing.html".into(), 404),
        ("/../../etc/passwd".into(), 400),
        ("/etc/passwd".into(), 404),
    ];
    for (path, expected) in &cases {
        let (status, headers, body) = served.request("GET", path);
        let body = String::from_utf8_lossy(&body);
        let shown = &path[..path.len().min(80)];
        assert_eq!(status, *expected, "{shown}: {body}");
        let content_type = &headers
            .iter()
            .find(|(name, _)| name == "content-type")
            .unwrap()
            .1;
        if path.starts_with("/api/") {
            let error: Value = serde_json::from_str(&body).expect("a JSON error");
            let message = error["error"]["message"].as_str().unwrap();
            assert!(
                !message.is_empty() && message.len() < 1_000,
                "{shown}: {message}"
            );
        } else {
            assert!(content_type.starts_with("text/html"), "{shown}");
            assert!(!body.contains("root:"), "{shown} leaked a file");
        }
    }
    // Clients that hang up mid-answer (a closed browser tab) must not take the server down.
    let big = "<p>customer feedback</p>\n".repeat(200_000);
    std::fs::write(scratch.workspace().join("reports/2026-10/big.html"), big).unwrap();
    for _ in 0..10 {
        let mut stream = TcpStream::connect(&served.address).unwrap();
        write!(stream, "GET /reports/2026-10/big.html HTTP/1.0\r\n\r\n").unwrap();
        drop(stream);
    }
    let (status, _, _) = served.request("POST", "/api/search?q=x");
    assert_eq!(status, 405);
    let (status, body) = served.get("/reports/2026-10/summary.html");
    assert_eq!((status, body.as_str()), (200, "<h1>ok</h1>"));
    assert_eq!(served.get("/api/search?q=brake").0, 200, "still serving");
}

#[test]
fn documents_are_escaped_everywhere_they_appear() {
    let scratch = mined();
    let served = Served::start(&scratch.workspace());
    let (status, page) = served.get("/document/x1");
    assert_eq!(status, 200);
    assert!(
        page.contains("&lt;script&gt;alert(&#39;pwned&#39;)&lt;/script&gt;"),
        "{page}"
    );
    assert!(
        !page.contains("<script"),
        "the document page runs no script at all"
    );
    let (status, headers, _) = served.request("GET", "/");
    assert_eq!(status, 200);
    let policy = &headers
        .iter()
        .find(|(name, _)| name == "content-security-policy")
        .expect("a security policy")
        .1;
    assert!(policy.contains("default-src 'none'") && policy.contains("connect-src 'self'"));
    let hit = served.json("/api/search?q=pedal");
    let text: String = hit["hits"][0]["snippet"]
        .as_array()
        .unwrap()
        .iter()
        .map(|part| part["text"].as_str().unwrap())
        .collect();
    assert!(
        text.contains("<script>"),
        "JSON carries the text as text: {text}"
    );
    let (_, error_page) = served.get("/document/%3Cscript%3Ealert(1)");
    assert!(error_page.contains("&lt;script&gt;alert(1)") && !error_page.contains("<script>alert"));
}

const PROBLEMS: &str = r#"{"period":"2026-10","run":"r1","candidates":5,"unassigned_share":0.2,
 "problems":[{"id":"P0001","title":"brake noise after repair","keywords":["brake","刹车"],
   "quotes":[{"id":"e1","text":"The brakes make a grinding noise","date":"2026-08-03","language":"en"},
             {"id":"x1","text":"<script>alert('pwned')</script>","date":null,"language":"en"}],
   "size":3,"negative_share":1.0,"counts":{"2026-08":1,"2026-09":2},"status":"growing","spike":false,
   "impact":2.5,"customer_value":null,"topic":"safety","team":"after-sales","route_rule":"keyword",
   "route_reason":"2 of 3 documents mention brake","merged_from":[],"split_from":null,
   "statement":"The brakes make a grinding noise","parent":"T01"}],
 "themes":[{"id":"T01","title":"brakes","problems":["P0001"]}],
 "assignments":[{"id":"e1","problem":"P0001","team":"after-sales"},
                {"id":"z1","problem":"P0001","team":"after-sales"}]}"#;

#[test]
fn problem_pages_come_from_problems_json_and_say_so_when_there_is_none() {
    let scratch = mined();
    let served = Served::start(&scratch.workspace());
    let reports = scratch.workspace().join("reports");
    let _ = std::fs::remove_dir_all(&reports);
    let none = served.json("/api/problems");
    assert_eq!(none["problems"], serde_json::json!([]));
    let (status, page) = served.get("/problem/P0001");
    assert_eq!(status, 404);
    assert!(page.contains("problems.json"), "{page}");

    std::fs::create_dir_all(reports.join("2026-10/teams")).unwrap();
    std::fs::write(reports.join("2026-10/problems.json"), PROBLEMS).unwrap();
    std::fs::write(
        reports.join("2026-10/teams/after-sales.html"),
        "<p>team</p>",
    )
    .unwrap();
    let listed = served.json("/api/problems");
    assert_eq!(listed["period"], "2026-10");
    assert_eq!(listed["problems"][0]["title"], "brake noise after repair");
    assert_eq!(listed["problems"][0]["parent"], "T01");
    assert_eq!(
        listed["problems"][0]["statement"],
        "The brakes make a grinding noise"
    );
    assert_eq!(listed["themes"][0]["title"], "brakes");
    let problem = served.json("/api/problem/P0001");
    assert_eq!(problem["documents"], serde_json::json!(["e1", "z1"]));
    assert_eq!(problem["search"], "cluster:P0001");
    let (status, page) = served.get("/problem/P0001");
    assert_eq!(status, 200);
    for expected in [
        "brake noise after repair",
        "› brakes",
        "after-sales",
        "href=\"/?q=cluster%3AP0001\"",
        "href=\"/document/e1\"",
        "&lt;script&gt;",
        "<svg class=\"trend\"",
    ] {
        assert!(page.contains(expected), "no {expected} in {page}");
    }
    let files = served.json("/api/reports");
    assert_eq!(
        files["periods"][0]["files"],
        serde_json::json!([
            "/reports/2026-10/problems.json",
            "/reports/2026-10/teams/after-sales.html"
        ])
    );
}

#[test]
fn serve_refuses_a_directory_without_an_index_and_warns_when_exposed() {
    let scratch = Scratch::new();
    vocmine()
        .arg("serve")
        .arg(scratch.workspace())
        .args(["--port", "0"])
        .assert()
        .code(1)
        .stderr(predicates::str::contains("vocmine mine"));
    vocmine()
        .arg("serve")
        .arg(scratch.workspace())
        .args(["--port", "0", "--bind", "0.0.0.0"])
        .assert()
        .code(1)
        .stderr(predicates::str::contains("warning: listening on 0.0.0.0"));
}
