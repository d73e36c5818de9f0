//! `vocmine serve`: arguments in, a running search page out. Resolves the listening address,
//! warns when it is reachable from other machines, prints the address, and blocks until the
//! process is stopped.

use super::output;
use crate::serve::{self, ServeSettings, DEFAULT_BIND, DEFAULT_PORT};
use crate::workspace::Workspace;
use anyhow::Result;
use clap::Args;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;

/// Arguments of `vocmine serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The workspace whose index and reports to serve (read-only).
    pub workspace: PathBuf,
    /// Port to listen on; 0 picks a free one (the address is printed).
    #[arg(long, default_value_t = DEFAULT_PORT)]
    pub port: u16,
    /// Address to listen on. Anything but a loopback address makes the page reachable from
    /// other machines, without any authentication: vocmine warns when you do that.
    #[arg(long, default_value_t = DEFAULT_BIND)]
    pub bind: IpAddr,
    /// Worker threads answering requests.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub threads: u16,
}

/// Runs `vocmine serve` until the process is stopped.
pub fn run(arguments: ServeArgs) -> Result<()> {
    let ServeArgs {
        workspace,
        port,
        bind,
        threads,
    } = arguments;
    ignore_broken_pipes();
    let workspace = Workspace::open(&workspace)?;
    let settings = ServeSettings {
        address: SocketAddr::new(bind, port),
        threads: usize::from(threads),
    };
    if !serve::is_loopback(&settings.address) {
        output::print_exposed_warning(&settings.address);
    }
    let server = serve::start(&workspace, &settings).map_err(crate::Error::from)?;
    output::print_serving(workspace.root(), &server.address());
    server.wait();
    Ok(())
}

/// `main` restores the default SIGPIPE so `vocmine search | head` ends quietly; a server must not
/// die when a browser closes a connection mid-answer, or when whoever started it stops reading
/// its output.
fn ignore_broken_pipes() {
    #[cfg(unix)]
    // SAFETY: setting a signal's disposition to "ignore" is process-wide and async-signal-safe;
    // no handler code runs, so nothing can observe a half-updated state.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_IGN);
    }
}
