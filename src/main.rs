//! The `vocmine` command line: parses arguments, sets up logging, runs the command and maps
//! errors to exit codes (1 for errors, 2 for usage errors reported by clap).

use clap::Parser;
use std::process::ExitCode;
use vocmine::cli::{self, Cli};

fn main() -> ExitCode {
    restore_default_sigpipe();
    // Before any thread exists and before libtorch runs: the same embeddings on every machine.
    vocmine::model::kernels::pin_portable_kernels();
    let arguments = Cli::parse();
    cli::init_logging(&arguments.global);
    match cli::run(arguments) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {}", cli::error_message(&error));
            ExitCode::FAILURE
        }
    }
}

/// `vocmine search ... | head` should end quietly when `head` exits, as other Unix tools do,
/// instead of panicking on the closed pipe (Rust ignores SIGPIPE by default).
fn restore_default_sigpipe() {
    #[cfg(unix)]
    // SAFETY: called first thing in main, before any other thread exists; resetting a signal
    // disposition to its default has no other effect on the program.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}
