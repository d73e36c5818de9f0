//! Index. PLACEHOLDER: being written.

use thiserror::Error;

/// Errors of the tantivy index.
#[derive(Debug, Error)]
pub enum IndexError {}
