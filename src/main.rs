//! The `vocmine` command line.
fn main() {}
