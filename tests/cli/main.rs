//! End-to-end tests of the `vocmine` binary.

mod ingest;
mod properties;
mod search;
mod serve;
mod transaction;
mod util;
mod workspace;
