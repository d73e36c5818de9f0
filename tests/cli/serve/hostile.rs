//! Hostile HTTP, sent as raw bytes to `vocmine serve` over a workspace mined with the hashing
//! encoder (no model needed): bodies declared or sent beyond the limit, bytes that are not
//! HTTP, and then the proof that the process is alive and answers an ordinary request, also on
//! a kept-alive connection without the 40 ms of a second write.

use super::{Served, FEEDBACK};
use crate::util::Scratch;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

/// The serve fixture's documents, mined by the binary with the hashing encoder
/// ([`Scratch::mine`]).
fn mined_with_hashing() -> Scratch {
    let scratch = Scratch::new();
    let input = scratch.write("feedback.csv", FEEDBACK.as_bytes());
    scratch.mine(&[&input]);
    scratch
}

fn connect(served: &Served) -> TcpStream {
    let stream = TcpStream::connect(&served.address).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    stream
}

/// Reads one answer off `stream`: its status and body (the length from Content-Length).
fn answer(stream: &mut TcpStream) -> (u16, String) {
    let mut raw = Vec::new();
    let mut byte = [0u8; 1];
    while !raw.ends_with(b"\r\n\r\n") {
        match stream.read(&mut byte) {
            Ok(1) => raw.push(byte[0]),
            other => panic!(
                "the connection ended before an answer ({other:?}) after {:?}",
                String::from_utf8_lossy(&raw)
            ),
        }
    }
    let head = String::from_utf8(raw).expect("an ASCII head");
    let status = head[9..12].parse().expect("a status");
    let length: usize = head
        .lines()
        .find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse().ok())?
        })
        .expect("a Content-Length");
    let mut body = vec![0; length];
    stream.read_exact(&mut body).expect("the body");
    (status, String::from_utf8_lossy(&body).into_owned())
}

/// Sends raw bytes on a fresh connection and reads the answer.
fn send(served: &Served, raw: &[u8]) -> (u16, String) {
    let mut stream = connect(served);
    stream.write_all(raw).expect("send");
    answer(&mut stream)
}

#[test]
fn hostile_bytes_get_a_4xx_without_reading_the_body_and_the_server_lives_on() {
    let scratch = mined_with_hashing();
    let served = Served::start(&scratch.workspace());
    let declared = send(
        &served,
        b"GET /api/filters HTTP/1.1\r\nHost: x\r\nContent-Length: 30000000000\r\n\r\n",
    );
    assert_eq!(declared.0, 413, "{}", declared.1);

    // A body really sent, larger than the limit: refused, and the answer is not lost.
    let mut stream = connect(&served);
    let body = vec![b'x'; 1_000_000];
    write!(
        stream,
        "POST /api/search HTTP/1.1\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .unwrap();
    let mut writer = stream.try_clone().unwrap();
    let sending = std::thread::spawn(move || {
        let _ = writer.write_all(&body);
    });
    let sent = answer(&mut stream);
    assert_eq!(sent.0, 413, "{}", sent.1);
    sending.join().unwrap();

    let long_header = format!("GET / HTTP/1.1\r\nX-Long: {}", "a".repeat(70_000));
    let many_headers: String = (0..100).map(|n| format!("X-{n}: y\r\n")).collect();
    let cases: Vec<(Vec<u8>, u16)> = vec![
        (
            b"GET /api/filters\xff\xfe HTTP/1.1\r\nHost: x\r\n\r\n".to_vec(),
            400,
        ),
        (b"GET /\xc3\x28 HTTP/1.1\r\n\r\n".to_vec(), 400),
        (b"\x00\x01\x02\x03 garbage\r\n\r\n".to_vec(), 400),
        (
            b"GET / HTTP/1.1\r\nthis is not a header\r\n\r\n".to_vec(),
            400,
        ),
        (b"GET / HTTP/1.1\r\n: no name\r\n\r\n".to_vec(), 400),
        (b"GET / HTTP/1.1\r\nX-Bad: \x01\x02\r\n\r\n".to_vec(), 400),
        (
            b"GET / HTTP/1.1\r\nContent-Length: ten\r\n\r\n".to_vec(),
            400,
        ),
        (
            b"GET / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n".to_vec(),
            400,
        ),
        (
            b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec(),
            411,
        ),
        (
            format!("GET / HTTP/1.1\r\n{many_headers}\r\n").into_bytes(),
            431,
        ),
        (long_header.into_bytes(), 431),
        (b"GET / HTTP/7.0\r\n\r\n".to_vec(), 505),
    ];
    for (raw, expected) in &cases {
        let (status, message) = send(&served, raw);
        let shown = String::from_utf8_lossy(&raw[..raw.len().min(60)]);
        assert_eq!(status, *expected, "{shown:?}: {message}");
        assert!(!message.trim().is_empty(), "{shown:?} got no message");
    }

    // A slow client and an idle one hold no worker: a normal request is answered meanwhile.
    let mut slow = connect(&served);
    slow.write_all(b"GET /api/filters HTTP/1.1\r\nHo").unwrap();
    let _idle = connect(&served);
    let (status, body) = send(&served, b"GET /api/filters HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("\"product\""), "{body}");
    slow.write_all(b"st: x\r\n\r\n").unwrap();
    assert_eq!(
        answer(&mut slow).0,
        200,
        "the slow client is answered in the end"
    );
    assert_eq!(served.get("/api/search?q=brake").0, 200, "still serving");
}

#[test]
fn kept_alive_requests_are_answered_without_waiting_for_a_delayed_acknowledgement() {
    let scratch = mined_with_hashing();
    let served = Served::start(&scratch.workspace());
    let mut stream = connect(&served);
    let mut latencies = Vec::new();
    for _ in 0..12 {
        let started = Instant::now();
        stream
            .write_all(b"GET /api/filters HTTP/1.1\r\nHost: x\r\n\r\n")
            .unwrap();
        let (status, body) = answer(&mut stream);
        latencies.push(started.elapsed());
        assert_eq!(status, 200, "{body}");
    }
    // Pipelined: two requests in one write, two answers in order.
    stream
        .write_all(b"GET /api/filters HTTP/1.1\r\n\r\nGET /nothing HTTP/1.1\r\n\r\n")
        .unwrap();
    assert_eq!(answer(&mut stream).0, 200);
    assert_eq!(answer(&mut stream).0, 404);
    latencies.sort();
    let median = latencies[latencies.len() / 2];
    assert!(
        median < Duration::from_millis(30),
        "kept-alive requests take {latencies:?}"
    );
}
