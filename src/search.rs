//! Search. PLACEHOLDER: being written.

use thiserror::Error;

/// Errors of a search request.
#[derive(Debug, Error)]
pub enum SearchError {}
