//! Progress reporting seam: stages report what they do through [`Progress`]; the CLI implements it
//! with indicatif bars, tests and library users get [`NoProgress`].

/// Receives progress from a long-running stage.
pub trait Progress: Sync {
    /// A stage starts; `total` is the amount of work when known (rows, documents, bytes).
    fn start(&self, stage: &str, total: Option<u64>);
    /// `amount` more units of the current stage are done.
    fn advance(&self, amount: u64);
    /// The current stage is finished.
    fn finish(&self);
}

/// A [`Progress`] that ignores everything.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoProgress;

impl Progress for NoProgress {
    fn start(&self, _stage: &str, _total: Option<u64>) {}
    fn advance(&self, _amount: u64) {}
    fn finish(&self) {}
}
