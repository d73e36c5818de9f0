//! HTTP/1.1 framing, bytes in and bytes out, with the limits a server facing hostile clients
//! needs. [`parse_head`] turns the bytes received so far into a [`Head`] (or asks for more);
//! [`render`] turns a [`Reply`] into the bytes of one answer, headers and body in one buffer so
//! they leave in one write. Parsing itself is httparse's (hyper's parser); what this module adds
//! is what to do with input nobody should send: a head over [`MAX_HEAD_BYTES`], more than
//! [`MAX_HEADERS`] headers, a body declared over [`MAX_BODY_BYTES`], a Content-Length that is
//! not a number, a chunked body, bytes that are not HTTP (invalid UTF-8 in the request line
//! included). Each becomes an [`HttpError`] with its status, decided from the head alone: no
//! declared length is ever read or allocated.

use super::request::{Reply, POLICY_STATIC};
use thiserror::Error;

/// Largest request head (request line and headers) accepted, in bytes: room for a URL at
/// [`super::MAX_URL_BYTES`] and more (so a long URL gets its 414 with a message) and ordinary
/// headers.
pub const MAX_HEAD_BYTES: usize = 64 * 1024;

/// Most headers one request may carry.
pub const MAX_HEADERS: usize = 64;

/// Largest request body accepted (and thrown away: every route is GET or HEAD). A larger
/// declared length is refused with 413 before a byte of the body is read.
pub const MAX_BODY_BYTES: u64 = 16 * 1024;

/// A request head that passed every check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    /// The method, as sent (`GET`, `HEAD`, ...).
    pub method: String,
    /// The request target (path and query), as sent.
    pub target: String,
    /// True when the connection stays open after the answer (HTTP/1.1 unless `Connection:
    /// close`; HTTP/1.0 only with `Connection: keep-alive`).
    pub keep_alive: bool,
    /// Declared body length (0 when none), at most [`MAX_BODY_BYTES`].
    pub body_bytes: u64,
    /// True when the client waits for `100 Continue` before sending its body.
    pub expects_continue: bool,
}

/// What the bytes received so far amount to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parsed {
    /// A whole head, `length` bytes long; whatever follows is the body or the next request.
    Complete {
        /// The head.
        head: Head,
        /// Bytes the head took.
        length: usize,
    },
    /// Not a whole head yet: read more.
    Partial,
}

/// A request the server cannot take, with the status that says why; the connection is closed
/// after the answer, since where the next request would start is unknown.
#[derive(Debug, Clone, Error, PartialEq, Eq)]
pub enum HttpError {
    /// Not HTTP/1.x at all, or a request line or header that breaks the grammar.
    #[error("the request is not valid HTTP/1.1 ({0}); send a request line such as 'GET /api/filters HTTP/1.1'")]
    Malformed(String),
    /// The head does not end within [`MAX_HEAD_BYTES`].
    #[error("the request head is longer than {MAX_HEAD_BYTES} bytes")]
    HeadTooLarge,
    /// More than [`MAX_HEADERS`] headers.
    #[error("the request has more than {MAX_HEADERS} headers")]
    TooManyHeaders,
    /// A body longer than [`MAX_BODY_BYTES`] (a length too large for 64 bits included).
    #[error("the request body is declared as {0} bytes; this read-only server accepts at most {MAX_BODY_BYTES}")]
    BodyTooLarge(String),
    /// A Content-Length that is not a decimal number, or two that disagree.
    #[error("the Content-Length header is not one decimal number: '{0}'")]
    BadLength(String),
    /// A body in chunked (or any other) transfer coding.
    #[error("request bodies with a Transfer-Encoding are not accepted; this server answers GET and HEAD and needs no body")]
    TransferEncoding,
    /// An HTTP version other than 1.0 and 1.1.
    #[error("only HTTP/1.0 and HTTP/1.1 are served")]
    Version,
    /// The head did not arrive in time.
    #[error("the request head did not arrive in time")]
    Timeout,
    /// The server has as many connections open as it takes.
    #[error("the server is busy; try again in a moment")]
    Busy,
}

impl HttpError {
    /// The HTTP status code.
    pub fn status(&self) -> u16 {
        match self {
            HttpError::Malformed(_) | HttpError::BadLength(_) => 400,
            HttpError::Timeout => 408,
            HttpError::TransferEncoding => 411,
            HttpError::BodyTooLarge(_) => 413,
            HttpError::HeadTooLarge | HttpError::TooManyHeaders => 431,
            HttpError::Busy => 503,
            HttpError::Version => 505,
        }
    }

    /// The answer: the status and its message as plain text.
    pub fn reply(&self) -> Reply {
        Reply {
            status: self.status(),
            content_type: "text/plain; charset=utf-8",
            body: format!("{self}\n").into_bytes(),
            security_policy: POLICY_STATIC,
        }
    }
}

/// Parses the head at the start of `received`. Call it only once `received` holds the end of a
/// head ([`head_end`]) or has reached [`MAX_HEAD_BYTES`]: httparse parses from the start every
/// time, so calling it after every small read would let a slow client cost quadratic time.
pub fn parse_head(received: &[u8]) -> Result<Parsed, HttpError> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut request = httparse::Request::new(&mut headers);
    match request.parse(received) {
        Ok(httparse::Status::Complete(length)) => Ok(Parsed::Complete {
            head: checked(&request)?,
            length,
        }),
        Ok(httparse::Status::Partial) if received.len() >= MAX_HEAD_BYTES => {
            Err(HttpError::HeadTooLarge)
        }
        Ok(httparse::Status::Partial) => Ok(Parsed::Partial),
        Err(httparse::Error::TooManyHeaders) => Err(HttpError::TooManyHeaders),
        Err(httparse::Error::Version) => Err(HttpError::Version),
        Err(error) => Err(HttpError::Malformed(error.to_string())),
    }
}

/// Where the head ends in `received` (just past its blank line), searching from `from` (bytes
/// before it were searched already); `None` while it has not arrived.
pub fn head_end(received: &[u8], from: usize) -> Option<usize> {
    let start = from.saturating_sub(3);
    received[start..]
        .windows(2)
        .enumerate()
        .find_map(|(offset, pair)| {
            let at = start + offset;
            match pair {
                b"\n\n" => Some(at + 2),
                b"\r\n" if received[at + 2..].starts_with(b"\r\n") => Some(at + 4),
                _ => None,
            }
        })
}

/// The head's fields, once the grammar is known to hold.
fn checked(request: &httparse::Request<'_, '_>) -> Result<Head, HttpError> {
    let minor = request.version.unwrap_or(1);
    let mut keep_alive = minor >= 1;
    let mut length: Option<&[u8]> = None;
    let mut expects_continue = false;
    for header in request.headers.iter() {
        let value = trim(header.value);
        let name = header.name;
        if name.eq_ignore_ascii_case("content-length") {
            if length.is_some_and(|earlier| earlier != value) {
                return Err(HttpError::BadLength(shown(value)));
            }
            length = Some(value);
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            return Err(HttpError::TransferEncoding);
        } else if name.eq_ignore_ascii_case("connection") {
            for option in value.split(|&byte| byte == b',').map(trim) {
                if option.eq_ignore_ascii_case(b"close") {
                    keep_alive = false;
                } else if option.eq_ignore_ascii_case(b"keep-alive") && minor == 0 {
                    keep_alive = true;
                }
            }
        } else if name.eq_ignore_ascii_case("expect") {
            expects_continue = value.eq_ignore_ascii_case(b"100-continue");
        }
    }
    let body_bytes = match length {
        None => 0,
        Some(value) => body_length(value)?,
    };
    Ok(Head {
        method: request.method.unwrap_or_default().to_string(),
        target: request.path.unwrap_or_default().to_string(),
        keep_alive,
        body_bytes,
        expects_continue,
    })
}

/// A Content-Length value: decimal digits only, at most [`MAX_BODY_BYTES`].
fn body_length(value: &[u8]) -> Result<u64, HttpError> {
    if value.is_empty() || !value.iter().all(u8::is_ascii_digit) {
        return Err(HttpError::BadLength(shown(value)));
    }
    let digits = std::str::from_utf8(value).expect("ASCII digits");
    match digits.parse::<u64>() {
        Ok(bytes) if bytes <= MAX_BODY_BYTES => Ok(bytes),
        _ => Err(HttpError::BodyTooLarge(shown(value))),
    }
}

fn trim(value: &[u8]) -> &[u8] {
    let start = value
        .iter()
        .position(|byte| !byte.is_ascii_whitespace())
        .unwrap_or(value.len());
    let end = value
        .iter()
        .rposition(|byte| !byte.is_ascii_whitespace())
        .map_or(start, |last| last + 1);
    &value[start..end]
}

/// A header value quoted back in a message: lossy, and at most 40 characters.
fn shown(value: &[u8]) -> String {
    super::request::truncate_for_message(&String::from_utf8_lossy(&value[..value.len().min(160)]))
        .chars()
        .take(40)
        .collect()
}

/// The bytes of one answer: status line, headers, and the body unless the request was HEAD.
pub fn render(reply: &Reply, keep_alive: bool, head_only: bool) -> Vec<u8> {
    let date = chrono::Utc::now().format("%a, %d %b %Y %H:%M:%S GMT");
    let mut bytes = format!(
        "HTTP/1.1 {} {}\r\nDate: {date}\r\nContent-Type: {}\r\nContent-Length: {}\r\n\
         Content-Security-Policy: {}\r\nX-Content-Type-Options: nosniff\r\n\
         Referrer-Policy: no-referrer\r\nCache-Control: no-store\r\nConnection: {}\r\n\r\n",
        reply.status,
        reason(reply.status),
        reply.content_type,
        reply.body.len(),
        reply.security_policy,
        if keep_alive { "keep-alive" } else { "close" },
    )
    .into_bytes();
    if !head_only {
        bytes.extend_from_slice(&reply.body);
    }
    bytes
}

/// The reason phrase of the statuses this server sends.
fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        411 => "Length Required",
        413 => "Content Too Large",
        414 => "URI Too Long",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        505 => "HTTP Version Not Supported",
        _ => "Unknown",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(raw: &[u8]) -> Result<Head, HttpError> {
        match parse_head(raw)? {
            Parsed::Complete { head, length } => {
                assert_eq!(length, raw.len());
                Ok(head)
            }
            Parsed::Partial => panic!("partial: {}", String::from_utf8_lossy(raw)),
        }
    }

    #[test]
    fn a_plain_request_keeps_the_connection_in_http_1_1_and_closes_it_in_1_0() {
        let head = parsed(b"GET /api/filters HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
        assert_eq!(
            (head.method.as_str(), head.target.as_str()),
            ("GET", "/api/filters")
        );
        assert!(head.keep_alive);
        assert!(
            !parsed(b"GET / HTTP/1.1\r\nConnection: Close\r\n\r\n")
                .unwrap()
                .keep_alive
        );
        assert!(!parsed(b"GET / HTTP/1.0\r\n\r\n").unwrap().keep_alive);
        let kept = parsed(b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n").unwrap();
        assert!(kept.keep_alive);
    }

    #[test]
    fn a_huge_or_broken_content_length_is_refused_from_the_head_alone() {
        let huge = parse_head(b"GET / HTTP/1.1\r\nContent-Length: 30000000000\r\n\r\n");
        assert_eq!(huge.unwrap_err().status(), 413);
        let overflow =
            parse_head(b"GET / HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n");
        assert_eq!(overflow.unwrap_err().status(), 413);
        for bad in [
            &b"GET / HTTP/1.1\r\nContent-Length: -1\r\n\r\n"[..],
            b"GET / HTTP/1.1\r\nContent-Length: 1e3\r\n\r\n",
            b"GET / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
        ] {
            assert_eq!(parse_head(bad).unwrap_err().status(), 400);
        }
        let chunked = parse_head(b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n");
        assert_eq!(chunked.unwrap_err().status(), 411);
        let small = parsed(b"GET / HTTP/1.1\r\nContent-Length: 12\r\n\r\n").unwrap();
        assert_eq!(small.body_bytes, 12);
    }

    #[test]
    fn bytes_that_are_not_http_get_a_status_and_never_a_panic() {
        let cases: [(&[u8], u16); 5] = [
            (b"GET /\xff\xfe HTTP/1.1\r\n\r\n", 400),
            (b"\x00\x01\x02 garbage\r\n\r\n", 400),
            (b"GET / HTTP/1.1\r\nbad header line\r\n\r\n", 400),
            (b"GET / HTTP/1.1\r\nX: \x7f\r\n\r\n", 400),
            (b"GET / HTTP/2.0\r\n\r\n", 505),
        ];
        for (raw, status) in cases {
            let error = parse_head(raw).unwrap_err();
            assert_eq!(
                error.status(),
                status,
                "{}: {error}",
                String::from_utf8_lossy(raw)
            );
        }
        let many: String = (0..=MAX_HEADERS).map(|n| format!("X-{n}: y\r\n")).collect();
        let raw = format!("GET / HTTP/1.1\r\n{many}\r\n");
        assert_eq!(parse_head(raw.as_bytes()).unwrap_err().status(), 431);
        let endless = vec![b'a'; MAX_HEAD_BYTES];
        assert_eq!(parse_head(&endless).unwrap_err().status(), 431);
    }

    #[test]
    fn the_end_of_a_head_is_found_across_reads_with_either_line_ending() {
        let raw = b"GET / HTTP/1.1\r\nHost: x\r\n\r\nnext";
        assert_eq!(head_end(&raw[..20], 0), None);
        assert_eq!(head_end(raw, 20), Some(raw.len() - 4));
        assert_eq!(head_end(raw, 26), Some(raw.len() - 4));
        assert_eq!(head_end(b"GET / HTTP/1.0\n\n", 0), Some(16));
        assert_eq!(parse_head(&raw[..20]).unwrap(), Parsed::Partial);
    }

    #[test]
    fn an_answer_is_one_buffer_and_a_head_answer_has_no_body() {
        let reply = HttpError::Busy.reply();
        let full = String::from_utf8(render(&reply, true, false)).unwrap();
        assert!(
            full.starts_with("HTTP/1.1 503 Service Unavailable\r\n"),
            "{full}"
        );
        assert!(full.contains("\r\nConnection: keep-alive\r\n"), "{full}");
        assert!(full.ends_with("try again in a moment\n"), "{full}");
        let head = String::from_utf8(render(&reply, false, true)).unwrap();
        assert!(head.ends_with("\r\n\r\n") && head.contains("Connection: close"));
        assert!(head.contains(&format!("Content-Length: {}", reply.body.len())));
    }
}
