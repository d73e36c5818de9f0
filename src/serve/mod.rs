//! The local search page and its JSON API (`vocmine serve`): a workspace and [`ServeSettings`]
//! in, a [`RunningServer`] out that answers HTTP requests until it is stopped. It reads the index
//! and the `reports/` folder and never writes either, so it can run while `vocmine mine` adds a
//! period: every request searches the last committed state of the index.
//!
//! The pieces: `request` turns a raw request line into a route and checked parameters (every
//! way a request can be wrong ends there or in `filters`, as a 4xx [`RequestError`]); `api`
//! answers the JSON routes; `pages` renders the HTML pages (the search page itself is one
//! self-contained document with inline CSS and script, `assets`); `files` serves the report
//! files read-only; `problems` reads `problems.json` of each period.

mod api;
mod assets;
mod files;
mod filters;
mod html;
mod lookup;
mod pages;
mod problems;
mod request;

use crate::index::{DocumentIndex, IndexError};
use crate::workspace::Workspace;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Instant;
use thiserror::Error;

pub use request::{RequestError, MAX_PER_PAGE, MAX_RESULT_WINDOW, MAX_URL_BYTES};

/// The port `vocmine serve` listens on unless told otherwise ("VOC" on a phone keypad is 862;
/// 8731 is simply unassigned and easy to remember).
pub const DEFAULT_PORT: u16 = 8731;

/// The address `vocmine serve` listens on unless told otherwise: this machine only.
pub const DEFAULT_BIND: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

/// Stack of each worker thread: tantivy's query parser recurses, and a deep stack turns a
/// pathological query into a clean error rather than an overflow (queries are also capped).
const WORKER_STACK_BYTES: usize = 16 * 1024 * 1024;

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
    server: Arc<tiny_http::Server>,
    address: SocketAddr,
    workers: Vec<JoinHandle<()>>,
}

impl RunningServer {
    /// The address it listens on (with the real port when port 0 was asked for).
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// Blocks for as long as the server runs.
    pub fn wait(self) {
        for worker in self.workers {
            let _ = worker.join();
        }
    }

    /// Stops accepting requests, lets the workers finish the one in hand, and joins them.
    pub fn stop(self) {
        for _ in &self.workers {
            self.server.unblock();
        }
        self.wait();
    }
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
    let server = tiny_http::Server::http(address).map_err(|error| ServeError::Bind {
        address: *address,
        message: error.to_string(),
    })?;
    let server = Arc::new(server);
    let bound = server.server_addr().to_ip().unwrap_or(*address);
    let mut workers = Vec::with_capacity(*threads);
    for number in 0..(*threads).max(1) {
        let server = Arc::clone(&server);
        let state = Arc::clone(&state);
        let worker = std::thread::Builder::new()
            .name(format!("serve-{number}"))
            .stack_size(WORKER_STACK_BYTES)
            .spawn(move || work(&server, &state))
            .map_err(ServeError::Thread)?;
        workers.push(worker);
    }
    tracing::info!(address = %bound, threads, "serving");
    Ok(RunningServer {
        server,
        address: bound,
        workers,
    })
}

/// One worker: answers requests until the server is unblocked.
fn work(server: &tiny_http::Server, state: &ServeState) {
    while let Ok(request) = server.recv() {
        let started = Instant::now();
        let method = request.method().clone();
        let url = request.url().to_string();
        let reply = answer(state, &method, &url);
        let status = reply.status;
        if let Err(error) = request.respond(reply.into_response()) {
            tracing::debug!(%error, "client went away before the answer was sent");
        }
        tracing::debug!(
            %method,
            url = %truncated(&url, 200),
            status,
            milliseconds = started.elapsed().as_secs_f64() * 1000.0,
            "request"
        );
    }
}

/// Routes and answers one request; a panic anywhere below becomes a 500, never a dead worker.
fn answer(state: &ServeState, method: &tiny_http::Method, url: &str) -> request::Reply {
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
        Route::DocumentPage(id) => pages::document_page(state, &id),
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
