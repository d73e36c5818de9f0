//! The problem stages through `mine_with` and a small deterministic encoder: clusters become
//! problems with stable ids across periods, every clustered document carries its problem and
//! team in the index, and a re-run with nothing new redoes nothing.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use vocmine::config::ModelConfig;
use vocmine::index::{stored_documents, DocumentIndex};
use vocmine::model::hashing::HashingEncoder;
use vocmine::model::{Encoder, ModelError};
use vocmine::pipeline::{mine_with, MineReport, MineSettings};
use vocmine::problem::{ProblemStatus, ProblemsFile};
use vocmine::progress::NoProgress;
use vocmine::workspace::Workspace;

pub(crate) const CONFIG: &str = r#"
[[team]]
name = "service"
keywords = ["brake"]

[[team]]
name = "billing"
keywords = ["invoice"]
"#;

/// Three problems with their own vocabularies; every text mixes a few of its group's words.
const GROUPS: &[&[&str]] = &[
    &[
        "brake", "squeal", "grinding", "pedal", "rotor", "pads", "noise", "wheel",
    ],
    &[
        "invoice",
        "charged",
        "twice",
        "refund",
        "fee",
        "billing",
        "statement",
        "overcharge",
    ],
    &[
        "app", "login", "crash", "password", "update", "screen", "freezes", "website",
    ],
];

pub(crate) fn corpus(month: &str, per_group: usize, seed: usize) -> String {
    let mut lines = vec!["id,date,source,text".to_string()];
    for (group, words) in GROUPS.iter().enumerate() {
        for item in 0..per_group {
            let pick = |k: usize| words[(item * 7 + k * 3 + seed) % words.len()];
            let text = format!("{} {} {} {} again", pick(0), pick(1), pick(2), pick(5));
            let day = 1 + item % 27;
            lines.push(format!(
                "{month}-{group}-{item},{month}-{day:02},complaint,\"{text} case {seed}{item}\""
            ));
        }
    }
    lines.join("\n")
}

fn mine(workspace: &Workspace, input: &Path) -> MineReport {
    let hashing = |_: &ModelConfig| -> Result<Box<dyn Encoder>, ModelError> {
        Ok(Box::new(HashingEncoder::new(384)))
    };
    let settings = MineSettings {
        inputs: vec![input.to_path_buf()],
        index_threads: 1,
        period: None,
        fault: Default::default(),
    };
    mine_with(workspace, &settings, &hashing, &NoProgress).unwrap()
}

fn problems(workspace: &Workspace, period: &str) -> ProblemsFile {
    let path = workspace.reports_dir(period).join("problems.json");
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

/// Problem and team of every indexed document that has one.
fn indexed_placements(workspace: &Workspace) -> BTreeMap<String, (String, String)> {
    let index = DocumentIndex::open(&workspace.index_dir()).unwrap();
    let all = tantivy::query::AllQuery;
    stored_documents(&index.searcher(), index.fields(), &all)
        .unwrap()
        .into_iter()
        .filter_map(|stored| {
            let enrichment = stored.enrichment;
            Some((stored.document.id, (enrichment.cluster?, enrichment.team?)))
        })
        .collect()
}

#[test]
fn problems_keep_their_ids_across_periods_and_the_index_agrees() {
    let directory = tempfile::tempdir().unwrap();
    let workspace = Workspace::init_with(&directory.path().join("ws"), CONFIG).unwrap();
    let september = directory.path().join("september.csv");
    std::fs::write(&september, corpus("2026-09", 40, 1)).unwrap();
    let first = mine(&workspace, &september);
    let summary = first.problems.expect("problems ran");
    assert_eq!(summary.period, "2026-09");
    let before = problems(&workspace, "2026-09");
    assert!(before.problems.len() >= 3, "{:#?}", before.problems);
    let teams: BTreeSet<&str> = before.problems.iter().map(|p| p.team.as_str()).collect();
    assert!(
        teams.contains("service") && teams.contains("billing"),
        "{teams:?}"
    );
    let csv = std::fs::read_to_string(workspace.reports_dir("2026-09").join("assignments.csv"));
    let csv = csv.unwrap();
    assert!(csv.starts_with("problem,status,spike,title,keywords,size,trend,impact,team,rule,"));
    assert_eq!(csv.lines().count(), before.problems.len() + 1);
    let placed = indexed_placements(&workspace);
    assert_eq!(placed.len(), before.assignments.len());
    for assignment in &before.assignments {
        assert_eq!(
            placed[&assignment.id],
            (assignment.problem.clone(), assignment.team.clone())
        );
    }

    let october = directory.path().join("october.csv");
    std::fs::write(&october, corpus("2026-10", 40, 2)).unwrap();
    mine(&workspace, &october);
    let after = problems(&workspace, "2026-10");
    let old_ids: BTreeSet<&str> = before.problems.iter().map(|p| p.id.as_str()).collect();
    let kept = after
        .problems
        .iter()
        .filter(|problem| old_ids.contains(problem.id.as_str()))
        .count();
    assert!(kept >= 3, "ids were not kept: {:#?}", after.problems);
    for problem in after
        .problems
        .iter()
        .filter(|p| old_ids.contains(p.id.as_str()))
    {
        assert_ne!(problem.status, ProblemStatus::New, "{problem:#?}");
        assert!(problem.counts.contains_key("2026-09") && problem.counts.contains_key("2026-10"));
    }
    let placed = indexed_placements(&workspace);
    for assignment in &after.assignments {
        assert_eq!(placed[&assignment.id].0, assignment.problem);
    }

    let again = mine(&workspace, &october);
    assert_eq!(again.totals().accepted, 0);
    assert!(again.problems.is_none(), "nothing new, nothing to redo");
}

/// `eval --task problems` on the hand-labelled airline complaints, with the real encoders: the
/// four methods side by side, the stage brand-blind and placing nearly every complaint, each
/// problem named and measured against its majority reason.
#[test]
fn eval_problems_measures_the_stage_against_the_hand_read_reasons() {
    let labels =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("corpora/problems/en_airline_reasons.csv");
    let mut command = crate::util::vocmine_real();
    command.args(["eval", "--task", "problems", "--labels"]);
    command.arg(&labels).args([
        "--text-column",
        "text",
        "--label-column",
        "reason",
        "--second-column",
        "airline",
        "--format",
        "json",
    ]);
    let output = crate::util::succeed(command, "eval --task problems");
    let report: serde_json::Value = serde_json::from_slice(&output).unwrap();
    assert_eq!(report["rows"], 274);
    let methods = report["methods"].as_array().unwrap();
    assert_eq!(methods.len(), 4, "{methods:#?}");
    let stage = &methods[0];
    let documents_kmeans = &methods[2];
    let ami = |method: &serde_json::Value, key: &str| method[key].as_f64().unwrap();
    // Brand-blind: the airline explains almost none of the stage's grouping, while k-means on
    // the whole tweets' embeddings groups by airline.
    assert!(ami(stage, "ami_second") < 0.1, "{stage:#}");
    assert!(
        ami(documents_kmeans, "ami_second") > 0.5,
        "{documents_kmeans:#}"
    );
    assert!(
        ami(stage, "ami") > ami(documents_kmeans, "ami"),
        "{methods:#?}"
    );
    assert!(ami(stage, "unassigned_share") <= 0.10, "{stage:#}");
    let problems = report["problems"].as_array().unwrap();
    assert!(problems.len() >= 3, "{problems:#?}");
    for problem in problems {
        assert!(
            !problem["title"].as_str().unwrap().is_empty(),
            "{problem:#}"
        );
        assert!(
            problem["reason_share"].as_f64().unwrap() > 0.0,
            "{problem:#}"
        );
    }
}
