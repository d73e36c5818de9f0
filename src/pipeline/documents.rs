//! Reading whole files into normalised documents, in input order and without deduplication, for
//! the commands that work on a file rather than on the workspace (`embed`, `train`, `eval`).
//! Rows that cannot be read are returned as rejects, never dropped.

use std::path::PathBuf;

use rayon::prelude::*;

use super::{expand_inputs, normalised, FileSummary};
use crate::classify::learn::split::is_test;
use crate::document::Document;
use crate::ingest::{IngestError, IngestSettings, InputFile, Reject};
use crate::progress::Progress;
use crate::Result;

/// Documents read from files, with what could not be read.
#[derive(Debug, Default)]
pub struct ReadDocuments {
    /// Accepted documents, in input order.
    pub documents: Vec<Document>,
    /// For each document: whether its raw text falls in the test split of labelled data
    /// (first byte of sha256 below 0x33, the rule in DESIGN.md).
    pub in_test_split: Vec<bool>,
    /// Rejected rows, with file, line and reason.
    pub rejects: Vec<Reject>,
    /// Counts per file (duplicates are not looked for, so `duplicate` is 0).
    pub files: Vec<FileSummary>,
}

/// Reads and normalises every row of `inputs` (files or directories).
pub fn read_documents(
    inputs: &[PathBuf],
    settings: &IngestSettings,
    progress: &dyn Progress,
) -> Result<ReadDocuments> {
    let paths = expand_inputs(inputs).map_err(|source| IngestError::Unreadable {
        path: inputs.first().cloned().unwrap_or_default(),
        source,
    })?;
    let mut read = ReadDocuments::default();
    for path in &paths {
        let input = InputFile::open(path, settings)?;
        let mut summary = FileSummary {
            file: input.path().display().to_string(),
            format: format!("{} {}", input.format(), input.encoding_name()),
            ..FileSummary::default()
        };
        progress.start(&format!("read {}", path.display()), Some(input.size()));
        let rows: Vec<_> = input.rows(settings)?.collect();
        summary.read = rows.len() as u64;
        let outcomes: Vec<_> = rows
            .into_par_iter()
            .map(|row| {
                row.and_then(|feedback| {
                    let test = is_test(&feedback.text);
                    normalised(feedback).map(|document| (document, test))
                })
            })
            .collect();
        for outcome in outcomes {
            match outcome {
                Ok((document, test)) => {
                    read.documents.push(document);
                    read.in_test_split.push(test);
                }
                Err(reject) => read.rejects.push(reject),
            }
        }
        summary.rejected =
            (read.rejects.len() as u64) - read.files.iter().map(|file| file.rejected).sum::<u64>();
        summary.accepted = summary.read - summary.rejected;
        progress.advance(input.size());
        progress.finish();
        read.files.push(summary);
    }
    Ok(read)
}
