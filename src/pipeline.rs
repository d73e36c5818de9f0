//! Pipeline. PLACEHOLDER: being written.
