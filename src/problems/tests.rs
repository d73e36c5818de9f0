//! The stage over plain data: a second period starts from the first one's problems.

use std::collections::{BTreeMap, BTreeSet};

use super::history::ClusterHistory;
use super::*;
use crate::cluster::random::Random;
use crate::document::{Feedback, Metadata, Origin};
use crate::problem::ProblemStatus;
use crate::progress::NoProgress;

const DIMENSION: usize = 16;

/// `count` unit embeddings around `centre` (unit length), noise 0.05 per coordinate.
fn around(centre: &[f32], count: usize, random: &mut Random) -> Vec<Vec<f32>> {
    (0..count)
        .map(|_| {
            let mut row: Vec<f32> = centre
                .iter()
                .map(|value| value + 0.05 * random.normal() as f32)
                .collect();
            crate::model::l2_normalise(&mut row);
            row
        })
        .collect()
}

fn axis(index: usize) -> Vec<f32> {
    let mut row = vec![0.0; DIMENSION];
    row[index] = 1.0;
    row
}

fn document(id: &str, month: u32) -> Document {
    let mut document = crate::normalise::normalise(Feedback {
        text: format!("complaint number {id} about the same thing again"),
        metadata: Metadata {
            date: chrono::NaiveDate::from_ymd_opt(2026, month, 1),
            ..Metadata::default()
        },
        origin: Origin {
            file: "test.csv".into(),
            line: 1,
        },
    });
    document.id = id.into();
    document
}

/// Runs the stage over one unit per document.
fn run(
    documents: &[Document],
    embeddings: &[Vec<f32>],
    history: &ClusterHistory,
    period: &str,
) -> FoundProblems {
    let enrichment = Enrichment::default();
    let candidates: Vec<Candidate<'_>> = documents
        .iter()
        .map(|document| Candidate {
            document,
            enrichment: &enrichment,
            run: "run",
        })
        .collect();
    let units: Vec<ProblemUnit<'_>> = embeddings
        .iter()
        .enumerate()
        .map(|(row, embedding)| ProblemUnit {
            candidate: row,
            start: 0,
            end: documents[row].text.len(),
            negative: true,
            embedding,
            space: 0,
        })
        .collect();
    let config = Config::parse(crate::config::DEFAULT_CONFIG).unwrap();
    let context = ProblemContext {
        period: period.into(),
        run: format!("run-{period}"),
        model: "test".into(),
    };
    find_problems(
        &candidates,
        &units,
        &[],
        &config,
        history,
        &context,
        &NoProgress,
    )
}

fn members(documents: &[Document], found: &FoundProblems) -> BTreeMap<String, BTreeSet<String>> {
    let mut groups: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (document, placement) in documents.iter().zip(&found.placements) {
        if let Some((problem, _)) = placement {
            groups
                .entry(problem.clone())
                .or_default()
                .insert(document.id.clone());
        }
    }
    groups
}

#[test]
fn a_new_period_keeps_the_previous_problems_and_their_members_and_adds_new_ones() {
    let mut random = Random::new(5);
    let mut embeddings = Vec::new();
    for group in 0..3 {
        embeddings.extend(around(&axis(group), 30, &mut random));
    }
    let mut documents: Vec<Document> = (0..embeddings.len())
        .map(|row| document(&format!("s{row}"), 9))
        .collect();
    let first = run(
        &documents,
        &embeddings,
        &ClusterHistory::default(),
        "2026-09",
    );
    let before = members(&documents, &first);
    assert!(!before.is_empty());
    assert!(first
        .entry
        .problems
        .iter()
        .all(|tracked| tracked.radius.is_some()));
    let mut history = ClusterHistory::default();
    history.record(first.entry.clone(), first.next_id);

    // October: ten more of each old problem, and a new problem between the first two.
    let mut bridge: Vec<f32> = axis(0).iter().zip(axis(3)).map(|(a, b)| a + b).collect();
    crate::model::l2_normalise(&mut bridge);
    for group in 0..3 {
        embeddings.extend(around(&axis(group), 10, &mut random));
    }
    embeddings.extend(around(&bridge, 12, &mut random));
    documents
        .extend((documents.len()..embeddings.len()).map(|row| document(&format!("o{row}"), 10)));
    let second = run(&documents, &embeddings, &history, "2026-10");
    let after = members(&documents, &second);
    for (id, old) in &before {
        let now: BTreeSet<&String> = after
            .get(id)
            .map(|group| {
                group
                    .iter()
                    .filter(|member| member.starts_with('s'))
                    .collect()
            })
            .unwrap_or_default();
        let shared = old.iter().filter(|member| now.contains(member)).count();
        let jaccard = shared as f64 / (old.len() + now.len() - shared) as f64;
        assert!(jaccard >= 0.9, "{id}: Jaccard {jaccard} {old:?} {now:?}");
    }
    // The bridge documents form problems of their own, new this period.
    let bridge_ids: BTreeSet<String> = (documents.len() - 12..documents.len())
        .map(|row| documents[row].id.clone())
        .collect();
    for (id, group) in &after {
        let bridged = group
            .iter()
            .filter(|member| bridge_ids.contains(*member))
            .count();
        let status = second
            .file
            .problems
            .iter()
            .find(|problem| &problem.id == id)
            .map(|problem| problem.status);
        if bridged * 2 > group.len() {
            assert_eq!(status, Some(ProblemStatus::New), "{id}: {group:?}");
            assert!(!before.contains_key(id));
        } else {
            assert!(
                before.contains_key(id),
                "{id} is new but holds no bridge: {group:?}"
            );
        }
    }
    assert!(second
        .file
        .problems
        .iter()
        .all(|problem| problem.merged_from.is_empty()));
    let gone: Vec<(&String, u64)> = second
        .file
        .problems
        .iter()
        .filter(|problem| problem.status == ProblemStatus::Gone)
        .map(|problem| (&problem.id, problem.size))
        .collect();
    assert!(gone.is_empty(), "{gone:?} {before:?} {after:?}");
    assert!(after.keys().any(|id| !before.contains_key(id)), "{after:?}");
}
