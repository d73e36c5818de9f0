//! The workspace configuration `vocmine.toml`: sources and column mapping, taxonomy, teams and
//! model choice. PLACEHOLDER: being written.
