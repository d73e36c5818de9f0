//! Fault injection for tests: a named step in, a run that stops there out. A [`Fault`] names one
//! step of a `mine` run ([`STEPS`]); when the run reaches it, [`Fault::check`] either fails the
//! run with a [`FaultError`] (destructors run, as after an ordinary error) or kills the process
//! on the spot (SIGKILL: nothing runs, as after `kill -9`). Tests use it to stop a run at an exact moment
//! and check that the previous state stays readable and that the next run completes, instead of
//! killing a process after a guessed delay. The CLI reads [`FAULT_VARIABLE`] once; nothing else
//! reads the environment, and with the variable unset no step is ever stopped.

use thiserror::Error;

/// The environment variable `vocmine mine` reads its fault from: `STEP` fails the run at that
/// step, `STEP:kill` kills the process there.
pub const FAULT_VARIABLE: &str = "VOCMINE_FAULT";

/// The steps a fault can name, in the order a run reaches them. `report-documents` stops with
/// `documents.parquet` written into its temporary file and not yet renamed.
pub const STEPS: &[&str] = &[
    "ingest",
    "encode",
    "index",
    "commit",
    "problems",
    "history",
    "rejects",
    "run-log",
    "report-teams",
    "report-summary",
    "report-assignments",
    "report-documents",
    "report-marker",
];

/// Where (if anywhere) a run stops, and how.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Fault {
    step: Option<&'static str>,
    kill: bool,
}

/// A run stopped on purpose by a [`Fault`].
#[derive(Debug, Error, PartialEq, Eq)]
pub enum FaultError {
    /// The run reached the fault's step.
    #[error("stopped at step '{0}' by {FAULT_VARIABLE} (a hook for tests)")]
    Injected(&'static str),
    /// The variable names no step.
    #[error("{FAULT_VARIABLE}='{0}' names no step; the steps are {steps}, each optionally followed by ':kill'", steps = STEPS.join(", "))]
    UnknownStep(String),
}

impl Fault {
    /// No fault: every step runs.
    pub fn none() -> Fault {
        Fault::default()
    }

    /// Fails the run with [`FaultError::Injected`] at `step`.
    pub fn fail_at(step: &str) -> Result<Fault, FaultError> {
        Ok(Fault {
            step: Some(known(step)?),
            kill: false,
        })
    }

    /// Parses the value of [`FAULT_VARIABLE`]: `STEP` or `STEP:kill`; empty means no fault.
    pub fn parse(value: &str) -> Result<Fault, FaultError> {
        let value = value.trim();
        if value.is_empty() {
            return Ok(Fault::none());
        }
        let (step, kill) = match value.strip_suffix(":kill") {
            Some(step) => (step, true),
            None => (value, false),
        };
        Ok(Fault {
            step: Some(known(step)?),
            kill,
        })
    }

    /// Stops the run here when the fault names `step`.
    pub fn check(&self, step: &'static str) -> Result<(), FaultError> {
        debug_assert!(STEPS.contains(&step), "'{step}' is not in fault::STEPS");
        if self.step != Some(step) {
            return Ok(());
        }
        if self.kill {
            tracing::warn!(step, "killing the process at the fault's step");
            kill_this_process();
        }
        Err(FaultError::Injected(step))
    }
}

/// Ends the process as `kill -9` would: no destructor, no flush, no core dump.
fn kill_this_process() -> ! {
    #[cfg(unix)]
    // SAFETY: getpid cannot fail, and SIGKILL ends the process before kill returns; nothing of
    // this process runs after it, so no state can be observed half-updated.
    unsafe {
        libc::kill(libc::getpid(), libc::SIGKILL);
    }
    std::process::abort()
}

fn known(step: &str) -> Result<&'static str, FaultError> {
    STEPS
        .iter()
        .copied()
        .find(|known| *known == step)
        .ok_or_else(|| FaultError::UnknownStep(step.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fault_stops_only_its_own_step() {
        let fault = Fault::fail_at("commit").unwrap();
        assert_eq!(fault.check("index"), Ok(()));
        assert_eq!(fault.check("commit"), Err(FaultError::Injected("commit")));
        assert_eq!(Fault::none().check("commit"), Ok(()));
    }

    #[test]
    fn the_variable_names_a_known_step_optionally_to_kill() {
        assert_eq!(Fault::parse("").unwrap(), Fault::none());
        let kill = Fault::parse("report-documents:kill").unwrap();
        assert_eq!(kill.step, Some("report-documents"));
        assert!(kill.kill);
        let message = Fault::parse("reports").unwrap_err().to_string();
        assert!(message.contains("report-summary"), "{message}");
    }
}
