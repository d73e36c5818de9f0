//! One client connection, from accept to close: a TCP stream in, answers out, for as many
//! requests as the client keeps it open. Heads are read into one buffer that never grows past
//! [`http::MAX_HEAD_BYTES`]; every read has a deadline ([`HEAD_TIMEOUT`] for a head once it has
//! started, [`IDLE_TIMEOUT`] between requests), so a client that sends slowly or not at all
//! holds a connection thread for a bounded time only; a small body is read into a fixed scratch
//! buffer and dropped. Answers come from the worker pool through [`Answer`], and each leaves in
//! one write on a socket with `TCP_NODELAY` (two writes without it cost a keep-alive request
//! the 40 ms of delayed acknowledgement).

use super::http::{self, Head, HttpError, Parsed};
use super::request::Reply;
use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::time::{Duration, Instant};

/// Longest wait for the rest of a head (or of a body) once its first byte has arrived.
pub const HEAD_TIMEOUT: Duration = Duration::from_secs(10);

/// Longest wait for the first byte of the next request on a kept-alive connection.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(30);

/// Longest wait for a client to take an answer.
pub const WRITE_TIMEOUT: Duration = Duration::from_secs(30);

/// After an error answer, how long and how much of what the client still sends is read and
/// dropped before closing, so the answer is not lost to a reset (the "lingering close").
const LINGER: Duration = Duration::from_secs(2);
const LINGER_BYTES: usize = 1024 * 1024;

/// Bytes read from the socket at a time.
const READ_BYTES: usize = 8192;

/// Computes the answer to a request (method and target as sent).
pub type Answer<'a> = &'a dyn Fn(&str, &str) -> Reply;

/// Serves requests on `stream` until the client closes it, asks to, times out, or sends
/// something that is not a request this server takes (answered with its 4xx first).
pub fn serve(mut stream: TcpStream, answer: Answer<'_>) {
    if let Err(error) = prepare(&stream) {
        tracing::debug!(%error, "cannot set up a connection");
        return;
    }
    let mut received = Vec::with_capacity(READ_BYTES);
    loop {
        let outcome = next_request(&mut stream, &mut received);
        let head = match outcome {
            Ok(Some(head)) => head,
            Ok(None) => return,
            Err(error) => return refuse(stream, &error),
        };
        let reply = answer(&head.method, &head.target);
        let bytes = http::render(&reply, head.keep_alive, head.method == "HEAD");
        if let Err(error) = stream.write_all(&bytes) {
            tracing::debug!(%error, "client went away before the answer was sent");
            return;
        }
        if !head.keep_alive {
            let _ = stream.shutdown(Shutdown::Write);
            return;
        }
    }
}

/// Answers a connection the server has no room for with a 503, without reading from it.
pub fn turn_away(mut stream: TcpStream) {
    let _ = stream.set_write_timeout(Some(Duration::from_secs(1)));
    let _ = stream.write_all(&http::render(&HttpError::Busy.reply(), false, false));
    let _ = stream.shutdown(Shutdown::Write);
}

fn prepare(stream: &TcpStream) -> std::io::Result<()> {
    stream.set_nodelay(true)?;
    stream.set_write_timeout(Some(WRITE_TIMEOUT))
}

/// Reads the next request's head and its body (dropped), leaving any bytes after them (a
/// pipelined request) in `received`. `None`: the client closed the connection or went idle.
fn next_request(stream: &mut TcpStream, received: &mut Vec<u8>) -> Result<Option<Head>, HttpError> {
    let Some((head, length)) = read_head(stream, received)? else {
        return Ok(None);
    };
    received.drain(..length);
    let buffered = (received.len() as u64).min(head.body_bytes);
    received.drain(..buffered as usize);
    let mut remaining = head.body_bytes - buffered;
    if remaining > 0 && head.expects_continue {
        let _ = stream.write_all(b"HTTP/1.1 100 Continue\r\n\r\n");
    }
    let deadline = Instant::now() + HEAD_TIMEOUT;
    let mut scratch = [0u8; READ_BYTES];
    while remaining > 0 {
        let wanted = scratch.len().min(remaining as usize);
        match read_before(stream, &mut scratch[..wanted], deadline) {
            Ok(0) => return Ok(None),
            Ok(read) => remaining -= read as u64,
            Err(error) if is_timeout(&error) => return Err(HttpError::Timeout),
            Err(_) => return Ok(None),
        }
    }
    Ok(Some(head))
}

/// Reads until `received` starts with a whole head; returns it with its length.
fn read_head(
    stream: &mut TcpStream,
    received: &mut Vec<u8>,
) -> Result<Option<(Head, usize)>, HttpError> {
    let mut searched = 0;
    let wait = if received.is_empty() {
        IDLE_TIMEOUT
    } else {
        HEAD_TIMEOUT
    };
    let mut deadline = Instant::now() + wait;
    let mut scratch = [0u8; READ_BYTES];
    loop {
        let complete = http::head_end(received, searched).is_some();
        if complete || received.len() >= http::MAX_HEAD_BYTES {
            if let Parsed::Complete { head, length } = http::parse_head(received)? {
                return Ok(Some((head, length)));
            }
        }
        searched = received.len();
        let room = http::MAX_HEAD_BYTES - received.len().min(http::MAX_HEAD_BYTES);
        let wanted = scratch.len().min(room.max(1));
        match read_before(stream, &mut scratch[..wanted], deadline) {
            Ok(0) if received.is_empty() => return Ok(None),
            Ok(0) => return Err(HttpError::Malformed("the head ends early".into())),
            Ok(read) => {
                if received.is_empty() {
                    deadline = Instant::now() + HEAD_TIMEOUT;
                }
                received.extend_from_slice(&scratch[..read]);
            }
            Err(error) if is_timeout(&error) && received.is_empty() => return Ok(None),
            Err(error) if is_timeout(&error) => return Err(HttpError::Timeout),
            Err(_) => return Ok(None),
        }
    }
}

/// One read that gives up at `deadline`.
fn read_before(
    stream: &mut TcpStream,
    buffer: &mut [u8],
    deadline: Instant,
) -> std::io::Result<usize> {
    let left = deadline.saturating_duration_since(Instant::now());
    if left.is_zero() {
        return Err(ErrorKind::TimedOut.into());
    }
    stream.set_read_timeout(Some(left))?;
    loop {
        match stream.read(buffer) {
            Err(error) if error.kind() == ErrorKind::Interrupted => continue,
            result => return result,
        }
    }
}

fn is_timeout(error: &std::io::Error) -> bool {
    matches!(error.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut)
}

/// Answers a request that cannot be taken, then closes the connection after reading (and
/// dropping) a bounded amount of what the client is still sending.
fn refuse(mut stream: TcpStream, error: &HttpError) {
    tracing::debug!(status = error.status(), %error, "request refused");
    if stream
        .write_all(&http::render(&error.reply(), false, false))
        .is_err()
    {
        return;
    }
    let _ = stream.shutdown(Shutdown::Write);
    let deadline = Instant::now() + LINGER;
    let mut scratch = [0u8; READ_BYTES];
    let mut dropped = 0;
    while dropped < LINGER_BYTES {
        match read_before(&mut stream, &mut scratch, deadline) {
            Ok(0) | Err(_) => break,
            Ok(read) => dropped += read,
        }
    }
}
