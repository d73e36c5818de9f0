//! The `vocmine` command line: parses arguments, sets up logging, runs the command and maps
//! errors to exit codes (1 for errors, 2 for usage errors reported by clap).

use clap::Parser;
use std::process::ExitCode;
use vocmine::cli::{self, Cli};

fn main() -> ExitCode {
    let arguments = Cli::parse();
    cli::init_logging(&arguments.global);
    match cli::run(arguments) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}
