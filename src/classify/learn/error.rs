//! The error type of head training, prediction and head files.

use std::path::PathBuf;

use thiserror::Error;

/// Anything that can go wrong while training, loading or saving a head.
#[derive(Debug, Error)]
pub enum HeadError {
    /// A flat buffer does not divide into whole rows.
    #[error("a matrix of {length} values cannot have {columns} columns")]
    Shape {
        /// Number of values in the buffer.
        length: usize,
        /// Requested number of columns.
        columns: usize,
    },
    /// Features and labels disagree on the number of rows.
    #[error("{rows} feature rows but {labels} labels: give exactly one label per row")]
    LabelCount {
        /// Rows in the feature matrix.
        rows: usize,
        /// Number of labels.
        labels: usize,
    },
    /// A text head was asked for with another number of texts than labels.
    #[error("{texts} texts but {labels} labels: give exactly one text per row")]
    TextCount {
        /// Number of texts.
        texts: usize,
        /// Number of labels.
        labels: usize,
    },
    /// A label index is not below the number of classes.
    #[error("label index {label} at row {row} is out of range for {class_count} classes")]
    LabelOutOfRange {
        /// Row holding the bad label.
        row: usize,
        /// The label index.
        label: usize,
        /// Number of classes.
        class_count: usize,
    },
    /// Fewer than two classes were given.
    #[error("a head needs at least two classes, got {0}")]
    TooFewClasses(usize),
    /// A class has too few rows to train and validate on.
    #[error("class `{name}` has {rows} training rows; each class needs at least {needed}")]
    SparseClass {
        /// Class name.
        name: String,
        /// Rows of that class.
        rows: usize,
        /// Rows needed.
        needed: usize,
    },
    /// A row has the wrong number of features for this head.
    #[error("the head expects {expected}-dimensional rows, got {actual}")]
    Dimension {
        /// Dimension the head was trained on.
        expected: usize,
        /// Dimension that was given.
        actual: usize,
    },
    /// A setting is outside its valid range.
    #[error("invalid setting `{name}`: {reason}")]
    Setting {
        /// Name of the setting.
        name: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// A head file could not be read or written.
    #[error("cannot access head file {path}")]
    Io {
        /// The head file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A head file is not valid head JSON.
    #[error("head file {path} is not a valid head (written by another version?)")]
    Parse {
        /// The head file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: serde_json::Error,
    },
}
