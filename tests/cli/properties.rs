//! Property: every row of an arbitrary input ends up indexed, counted as a duplicate of an
//! earlier row, or in the rejects file; none is lost and the counts add up.

use proptest::prelude::*;
use std::collections::{BTreeSet, HashSet};
use vocmine::config::ModelConfig;
use vocmine::index::DocumentIndex;
use vocmine::model::hashing::HashingEncoder;
use vocmine::model::{Encoder, ModelError};
use vocmine::pipeline::{mine_with, MineSettings};
use vocmine::progress::NoProgress;
use vocmine::workspace::Workspace;

fn indexed_ids(workspace: &Workspace) -> BTreeSet<String> {
    let index = DocumentIndex::open(&workspace.index_dir()).unwrap();
    let searcher = index.searcher();
    let top = tantivy::collector::TopDocs::with_limit(10_000);
    searcher
        .search(&tantivy::query::AllQuery, &top)
        .unwrap()
        .into_iter()
        .map(|(_, address)| {
            use tantivy::schema::Value;
            let document: tantivy::TantivyDocument = searcher.doc(address).unwrap();
            document
                .get_first(index.fields().id)
                .and_then(|value| value.as_str())
                .unwrap()
                .to_string()
        })
        .collect()
}

fn rejected_lines(workspace: &Workspace) -> BTreeSet<u64> {
    let Ok(entries) = std::fs::read_dir(workspace.rejects_dir()) else {
        return BTreeSet::new();
    };
    entries
        .flat_map(|entry| {
            csv::Reader::from_path(entry.unwrap().path())
                .unwrap()
                .into_records()
                .map(|record| record.unwrap()[1].parse::<u64>().unwrap())
                .collect::<Vec<_>>()
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn every_row_is_indexed_duplicate_or_rejected(
        rows in prop::collection::vec(("\\PC{0,40}", "[0-9a-z /.-]{0,8}", "[0-9★]{0,2}"), 1..40)
    ) {
        let directory = tempfile::tempdir().unwrap();
        let workspace = Workspace::init(&directory.path().join("ws")).unwrap();
        let mut writer = csv::WriterBuilder::new().from_writer(Vec::new());
        writer.write_record(["id", "date", "rating", "text"]).unwrap();
        let mut line_of = Vec::new();
        let mut line = 2u64;
        for (position, (text, date, rating)) in rows.iter().enumerate() {
            writer.write_record([format!("r{position}").as_str(), date, rating, text]).unwrap();
            line_of.push(line);
            line += 1 + text.matches('\n').count() as u64 + text.matches('\r').count() as u64;
        }
        let input = directory.path().join("input.csv");
        std::fs::write(&input, writer.into_inner().unwrap()).unwrap();
        // Row accounting does not depend on the model: a small deterministic encoder (of the
        // shipped heads' width) keeps the 24 cases fast.
        let hashing = |_: &ModelConfig| -> Result<Box<dyn Encoder>, ModelError> {
            Ok(Box::new(HashingEncoder::new(384)))
        };
        let settings = MineSettings { inputs: vec![input], index_threads: 1, period: None, fault: Default::default() };
        let report = mine_with(&workspace, &settings, &hashing, &NoProgress).unwrap();
        let totals = report.totals();
        prop_assert_eq!(totals.read, rows.len() as u64);
        prop_assert_eq!(totals.read, totals.accepted + totals.duplicate + totals.rejected);
        let indexed = indexed_ids(&workspace);
        let rejected = rejected_lines(&workspace);
        prop_assert_eq!(indexed.len() as u64, totals.accepted);
        prop_assert_eq!(rejected.len() as u64, totals.rejected);
        let mut seen_hashes = HashSet::new();
        for (position, (text, _, _)) in rows.iter().enumerate() {
            let id = format!("r{position}");
            let hash = vocmine::normalise::normalise(vocmine::document::Feedback {
                text: text.clone(),
                metadata: Default::default(),
                origin: vocmine::document::Origin { file: String::new(), line: 0 },
            })
            .content_hash;
            let accounted = indexed.contains(&id)
                || rejected.contains(&line_of[position])
                || seen_hashes.contains(&hash);
            prop_assert!(accounted, "row {} ({:?}) is neither indexed, rejected nor a duplicate", position, text);
            if indexed.contains(&id) {
                seen_hashes.insert(hash);
            }
        }
    }
}
