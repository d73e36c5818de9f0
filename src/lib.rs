//! vocmine mines the voice of the customer: reviews, complaints and survey comments in English,
//! Simplified and Traditional Chinese go in; a searchable tantivy archive, enrichments and
//! per-team reports of recurring problems come out.
//!
//! The modules follow the flow in `DESIGN.md`: [`ingest`] parses input files into
//! [`document::Feedback`] records, [`normalise`] cleans them into [`document::Document`]s,
//! [`tokenise`] is the one analyzer shared by the index and keyword extraction, [`index`] keeps the
//! tantivy index in the [`workspace`], and [`search`] answers queries over it. [`pipeline`] is the
//! only module that sequences the stages.
#![warn(missing_docs)]

pub mod classify;
pub mod cli;
pub mod cluster;
pub mod config;
pub mod document;
pub mod encode;
pub mod error;
pub mod fault;
pub mod index;
pub mod ingest;
pub mod label;
pub mod model;
pub mod normalise;
pub mod pipeline;
pub mod problem;
pub mod problems;
pub mod progress;
pub mod report;
pub mod route;
pub mod search;
pub mod serve;
pub mod tokenise;
pub mod unit;
pub mod workspace;

pub use error::{Error, Result};
