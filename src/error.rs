//! The crate error: one variant per stage, each wrapping that stage's own error type.

use thiserror::Error;

/// Result with the crate [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Any error vocmine reports.
#[derive(Debug, Error)]
pub enum Error {
    /// Reading or validating the workspace or its configuration failed.
    #[error(transparent)]
    Workspace(#[from] crate::workspace::WorkspaceError),
    /// Reading an input file failed (as a whole; bad rows are rejects, not errors).
    #[error(transparent)]
    Ingest(#[from] crate::ingest::IngestError),
    /// The tantivy index failed.
    #[error(transparent)]
    Index(#[from] crate::index::IndexError),
    /// A model could not be found, loaded or run.
    #[error(transparent)]
    Model(#[from] crate::model::ModelError),
    /// Encoding texts or using the embedding cache failed.
    #[error(transparent)]
    Encode(#[from] crate::encode::EncodeError),
    /// Training or evaluating a classifier head failed, or a labelled file is wrong.
    #[error(transparent)]
    Classify(#[from] crate::classify::ClassifyError),
    /// A search request was invalid or failed.
    #[error(transparent)]
    Search(#[from] crate::search::SearchError),
    /// Writing the reports of a period failed, or there is nothing to report yet.
    #[error(transparent)]
    Report(#[from] crate::report::ReportError),
    /// A test's fault hook stopped the run on purpose.
    #[error(transparent)]
    Fault(#[from] crate::fault::FaultError),
    /// The search page server could not start.
    #[error(transparent)]
    Serve(#[from] crate::serve::ServeError),
}
