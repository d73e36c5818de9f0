//! End-to-end tests of the `vocmine` binary.

mod demo;
mod ingest;
mod problems;
mod properties;
mod report;
mod search;
mod serve;
mod topics;
mod transaction;
mod util;
mod workspace;
