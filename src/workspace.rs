//! The workspace on disk. PLACEHOLDER: being written.

use thiserror::Error;

/// Errors about the workspace directory and its configuration.
#[derive(Debug, Error)]
pub enum WorkspaceError {}
