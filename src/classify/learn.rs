//! The learning core of the classify stage: classifier heads over sentence embeddings. A labelled
//! row-major `f32` matrix goes in; a [`Head`] comes out, a small JSON-serialisable model whose
//! [`Head::predict`] returns calibrated class probabilities. Two head kinds share one interface:
//! multinomial logistic regression ([`linear`], fitted by L-BFGS) and a one-hidden-layer
//! perceptron ([`mlp`]). A sentiment head can carry a text head beside it ([`text_head`]): a
//! logistic regression over character n-grams whose probabilities are mixed into the embedding
//! head's. [`train`] carves a validation split out of the training rows, chooses
//! regularisation on it, and calibrates probabilities by temperature scaling ([`calibration`]).
//! Training is deterministic: the same data, settings and seed give a byte-identical head file,
//! so `vocmine train` reproduces the heads shipped in `models/`.

pub mod calibration;
pub mod error;
pub mod head;
pub mod lbfgs;
pub mod linear;
pub mod matrix;
pub mod metrics;
pub mod mlp;
pub mod ngrams;
pub mod random;
pub mod softmax;
pub mod sparse;
pub mod split;
pub mod standardise;
#[cfg(test)]
pub mod synthetic;
pub mod text_head;
pub mod three_class;
pub mod train;

pub use error::HeadError;
pub use head::{Head, HeadModel};
pub use matrix::{Matrix, MatrixView};
pub use metrics::ClassificationReport;
pub use train::{train_head, TrainingData, TrainingSettings};
