//! Ingest. PLACEHOLDER: being written.

use thiserror::Error;

/// Errors reading an input file as a whole.
#[derive(Debug, Error)]
pub enum IngestError {}
