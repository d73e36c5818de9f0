//! The local search page and its JSON API (`vocmine serve`): a workspace and [`ServeSettings`]
//! in, a [`RunningServer`] out that answers HTTP requests until it is stopped. It reads the index
//! and the `reports/` folder and never writes either, so it can run while `vocmine mine` adds a
//! period: every request searches the last committed state of the index.
//!
//! The pieces: `connection` reads requests off a client connection and writes the answers,
//! with the framing, limits and timeouts of `http` (hostile input ends there, as a 4xx, before a
//! route is looked at); `request` turns a request line into a route and checked parameters
//! (every way a request can be wrong ends there or in `filters`, as a 4xx [`RequestError`]);
//! `api` answers the JSON routes; `pages` renders the HTML pages (the search page itself is one
//! self-contained document with inline CSS and script, `assets`); `files` serves the report
//! files read-only; `problems` reads `problems.json` of each period.
//!
//! Threads: one acceptor; one small thread per open connection (at most [`MAX_CONNECTIONS`]),
//! which only reads and writes; and a fixed pool of workers with deep stacks that compute the
//! answers, so slow or idle clients never hold a worker.

mod api;
mod assets;
mod connection;
mod files;
mod filters;
mod html;
mod http;
mod lookup;
mod pages;
mod problems;
mod request;

use crate::index::{DocumentIndex, IndexError};
use crate::workspace::Workspace;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener, TcpStream};
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use thiserror::Error;

pub use connection::{HEAD_TIMEOUT, IDLE_TIMEOUT};
pub use http::{MAX_BODY_BYTES, MAX_HEADERS, MAX_HEAD_BYTES};
pub use request::{RequestError, MAX_PER_PAGE, MAX_RESULT_WINDOW, MAX_URL_BYTES};

/// The port `vocmine serve` listens on unless told otherwise ("VOC" on a phone keypad is 862;
/// 8731 is simply unassigned and easy to remember).
pub const DEFAULT_PORT: u16 = 8731;

/// The address `vocmine serve` listens on unless told otherwise: this machine only.
pub const DEFAULT_BIND: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

/// Stack of each worker thread: tantivy's query parser recurses, and a deep stack turns a
/// pathological query into a clean error rather than an overflow (queries are also capped).
const WORKER_STACK_BYTES: usize = 16 * 1024 * 1024;

/// Stack of each connection thread: it only parses heads and copies bytes.
const CONNECTION_STACK_BYTES: usize = 256 * 1024;

/// Most connections open at once; the next one gets a 503 and is closed. Idle connections
/// close after [`IDLE_TIMEOUT`], so a crowd of them clears by itself.
pub const MAX_CONNECTIONS: usize = 512;

/// How often an idle worker looks whether the server is stopping.
const STOP_POLL: Duration = Duration::from_millis(100);

/// Errors of starting the server.
#[derive(Debug, Error)]
pub enum ServeError {
    /// The workspace has no index yet, or it cannot be opened.
    #[error(transparent)]
    Index(#[from] IndexError),
    /// The address is taken or not ours to listen on.
    #[error("cannot listen on {address}: {message}; pick another port with --port, or stop the program that holds it")]
    Bind {
        /// The address asked for.
        address: SocketAddr,
        /// What the operating system said.
        message: String,
    },
    /// A worker thread could not be started.
    #[error("cannot start a worker thread: {0}")]
    Thread(#[source] std::io::Error),
}

/// How to serve, resolved from the command line.
#[derive(Debug, Clone, PartialEq)]
pub struct ServeSettings {
    /// Address and port to listen on (port 0 picks a free one).
    pub address: SocketAddr,
    /// Worker threads answering requests.
    pub threads: usize,
}

impl Default for ServeSettings {
    fn default() -> Self {
        ServeSettings {
            address: SocketAddr::new(DEFAULT_BIND, DEFAULT_PORT),
            threads: 4,
        }
    }
}

/// What every request handler reads: the workspace, its index, and the parsed problems files.
pub(crate) struct ServeState {
    workspace: Workspace,
    index: DocumentIndex,
    problems: problems::ProblemsCache,
}

impl ServeState {
    /// `WS/reports`, where each period's reports and `problems.json` live.
    fn reports_root(&self) -> std::path::PathBuf {
        self.workspace.root().join("reports")
    }
}

/// A server that is listening; dropping it does not stop it, [`RunningServer::stop`] does.
pub struct RunningServer {
    address: SocketAddr,
    stopping: Arc<AtomicBool>,
    acceptor: JoinHandle<()>,
    workers: Vec<JoinHandle<()>>,
}

impl RunningServer {
    /// The address it listens on (with the real port when port 0 was asked for).
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// Blocks for as long as the server runs.
    pub fn wait(self) {
        let _ = self.acceptor.join();
        for worker in self.workers {
            let _ = worker.join();
        }
    }

    /// Stops accepting connections, lets the workers finish the request in hand, and joins them.
    pub fn stop(self) {
        self.stopping.store(true, Ordering::SeqCst);
        // Wake the acceptor, blocked in accept(), with a connection of our own.
        let _ = TcpStream::connect_timeout(&reachable(self.address), Duration::from_secs(1));
        self.wait();
    }
}

/// The address a local client reaches a server listening on `address` by.
fn reachable(address: SocketAddr) -> SocketAddr {
    let ip = match address.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    SocketAddr::new(ip, address.port())
}

/// A request handed to the workers, with where its answer goes.
struct Job {
    method: String,
    target: String,
    answer: SyncSender<request::Reply>,
}

/// Opens the workspace's index read-only and starts answering requests on `settings.address`.
pub fn start(workspace: &Workspace, settings: &ServeSettings) -> Result<RunningServer, ServeError> {
    let ServeSettings { address, threads } = settings;
    let index = DocumentIndex::open(&workspace.index_dir())?;
    let state = Arc::new(ServeState {
        workspace: workspace.clone(),
        index,
        problems: problems::ProblemsCache::default(),
    });
    let listener = TcpListener::bind(address).map_err(|error| ServeError::Bind {
        address: *address,
        message: error.to_string(),
    })?;
    let bound = listener.local_addr().unwrap_or(*address);
    let threads = (*threads).max(1);
    let stopping = Arc::new(AtomicBool::new(false));
    let (jobs, queue) = mpsc::sync_channel::<Job>(threads * 4);
    let queue = Arc::new(Mutex::new(queue));
    let mut workers = Vec::with_capacity(threads);
    for number in 0..threads {
        let queue = Arc::clone(&queue);
        let state = Arc::clone(&state);
        let stopping = Arc::clone(&stopping);
        let worker = std::thread::Builder::new()
            .name(format!("serve-{number}"))
            .stack_size(WORKER_STACK_BYTES)
            .spawn(move || work(&queue, &state, &stopping))
            .map_err(ServeError::Thread)?;
        workers.push(worker);
    }
    let acceptor = {
        let stopping = Arc::clone(&stopping);
        std::thread::Builder::new()
            .name("serve-accept".into())
            .spawn(move || accept(&listener, &jobs, &stopping))
            .map_err(ServeError::Thread)?
    };
    tracing::info!(address = %bound, threads, "serving");
    Ok(RunningServer {
        address: bound,
        stopping,
        acceptor,
        workers,
    })
}

/// The acceptor: gives each connection its own thread, or a 503 when there are too many.
fn accept(listener: &TcpListener, jobs: &SyncSender<Job>, stopping: &AtomicBool) {
    let open = Arc::new(AtomicUsize::new(0));
    for stream in listener.incoming() {
        if stopping.load(Ordering::SeqCst) {
            return;
        }
        let stream = match stream {
            Ok(stream) => stream,
            Err(error) => {
                // Out of file descriptors, or a connection reset before it was accepted: wait
                // a little rather than spin.
                tracing::debug!(%error, "accept failed");
                std::thread::sleep(Duration::from_millis(10));
                continue;
            }
        };
        if open.fetch_add(1, Ordering::SeqCst) >= MAX_CONNECTIONS {
            open.fetch_sub(1, Ordering::SeqCst);
            connection::turn_away(stream);
            continue;
        }
        let jobs = jobs.clone();
        let count = Arc::clone(&open);
        let spawned = std::thread::Builder::new()
            .name("serve-connection".into())
            .stack_size(CONNECTION_STACK_BYTES)
            .spawn(move || {
                connection::serve(stream, &|method, target| ask(&jobs, method, target));
                count.fetch_sub(1, Ordering::SeqCst);
            });
        if let Err(error) = spawned {
            open.fetch_sub(1, Ordering::SeqCst);
            tracing::warn!(%error, "cannot start a connection thread");
        }
    }
}

/// Hands a request to the workers and waits for its answer.
fn ask(jobs: &SyncSender<Job>, method: &str, target: &str) -> request::Reply {
    let (answer, answered) = mpsc::sync_channel(1);
    let job = Job {
        method: method.to_string(),
        target: target.to_string(),
        answer,
    };
    let reply = jobs.send(job).ok().and_then(|()| answered.recv().ok());
    reply.unwrap_or_else(|| {
        let error = RequestError::Internal("the server is stopping".into());
        request::Reply::error(&error, request::is_api(target))
    })
}

/// One worker: answers requests until the server stops.
fn work(queue: &Mutex<Receiver<Job>>, state: &ServeState, stopping: &AtomicBool) {
    loop {
        let next = match queue.lock() {
            Ok(queue) => queue.recv_timeout(STOP_POLL),
            Err(_) => return,
        };
        let job = match next {
            Ok(job) => job,
            Err(RecvTimeoutError::Timeout) if !stopping.load(Ordering::SeqCst) => continue,
            Err(_) => return,
        };
        let started = Instant::now();
        let reply = answer(state, &job.method, &job.target);
        tracing::debug!(
            method = %truncated(&job.method, 20),
            url = %truncated(&job.target, 200),
            status = reply.status,
            milliseconds = started.elapsed().as_secs_f64() * 1000.0,
            "request"
        );
        let _ = job.answer.send(reply);
    }
}

/// Routes and answers one request; a panic anywhere below becomes a 500, never a dead worker.
fn answer(state: &ServeState, method: &str, url: &str) -> request::Reply {
    let outcome = std::panic::catch_unwind(AssertUnwindSafe(|| {
        let route = request::Route::parse(method, url)?;
        dispatch(state, route)
    }));
    let api = request::is_api(url);
    match outcome {
        Ok(Ok(reply)) => reply,
        Ok(Err(error)) => request::Reply::error(&error, api),
        Err(_) => {
            tracing::error!(url = %truncated(url, 200), "a request handler panicked");
            let error =
                RequestError::Internal("the server hit a bug answering this request".into());
            request::Reply::error(&error, api)
        }
    }
}

fn dispatch(state: &ServeState, route: request::Route) -> Result<request::Reply, RequestError> {
    use request::Route;
    match route {
        Route::SearchPage => Ok(pages::search_page()),
        Route::DocumentPage { id, unit } => pages::document_page(state, &id, unit),
        Route::ProblemPage { id, period } => pages::problem_page(state, &id, period.as_deref()),
        Route::Report(segments) => files::report_file(&state.reports_root(), &segments),
        Route::ApiSearch(parameters) => api::search(state, &parameters),
        Route::ApiDocument(id) => api::document(state, &id),
        Route::ApiProblems { period } => api::problems(state, period.as_deref()),
        Route::ApiProblem { id, period } => api::problem(state, &id, period.as_deref()),
        Route::ApiFilters => api::filters(state),
        Route::ApiReports => api::reports(state),
    }
}

fn truncated(text: &str, limit: usize) -> &str {
    let mut end = text.len().min(limit);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// True when `address` only accepts connections from this machine.
pub fn is_loopback(address: &SocketAddr) -> bool {
    address.ip().is_loopback()
}
