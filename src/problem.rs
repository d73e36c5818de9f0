//! Recurring problems: what the cluster, label and route stages make of one period's documents,
//! and what the report stage and the search page read. A [`ProblemsFile`] is written by every
//! `mine` run as `reports/<period>/problems.json` (and its rows as `assignments.csv`); reports
//! are regenerated from it without running any model.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Where a problem stands compared with earlier periods.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProblemStatus {
    /// Not matched to any cluster of the previous run.
    New,
    /// This period's count is clearly above the previous period's.
    Growing,
    /// About the same as the previous period.
    Stable,
    /// Clearly below the previous period.
    Shrinking,
    /// A cluster of the previous run that nothing in this run matched.
    Gone,
}

impl ProblemStatus {
    /// The lowercase name used in files and reports.
    pub fn name(self) -> &'static str {
        match self {
            ProblemStatus::New => "new",
            ProblemStatus::Growing => "growing",
            ProblemStatus::Stable => "stable",
            ProblemStatus::Shrinking => "shrinking",
            ProblemStatus::Gone => "gone",
        }
    }
}

/// A representative document of a problem.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Quote {
    /// The document's id in the index.
    pub id: String,
    /// Its display text (PII-masked on ingest).
    pub text: String,
    /// Its date, `YYYY-MM-DD`, when known.
    pub date: Option<String>,
    /// Its language code.
    pub language: String,
    /// Byte offset of the quoted unit in the document's text (`None` in files written before
    /// problems were found in units).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<usize>,
    /// Byte offset just past the quoted unit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<usize>,
}

/// One recurring problem (a cluster), labelled, trended and routed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Problem {
    /// Stable id across periods, `P0001`, ...
    pub id: String,
    /// A short title: the problem's key phrase.
    pub title: String,
    /// One line saying the problem: its most central short complaint unit (PII-masked).
    #[serde(default)]
    pub statement: String,
    /// Keywords, most distinctive first.
    pub keywords: Vec<String>,
    /// 3 to 5 representative quotes, near the centroid and different from each other.
    pub quotes: Vec<Quote>,
    /// Documents in the cluster (all periods); a document counts once however many of its
    /// units are in it.
    pub size: u64,
    /// Complaint units in the cluster.
    #[serde(default)]
    pub units: u64,
    /// Share of its documents classified negative.
    pub negative_share: f64,
    /// Documents per period (`YYYY-MM`), ascending; documents without a date count in the
    /// period of the run that added them.
    pub counts: BTreeMap<String, u64>,
    /// Compared with the previous period.
    pub status: ProblemStatus,
    /// This period is above mean + 2 standard deviations of at least 3 earlier periods.
    pub spike: bool,
    /// Impact score (size x negativity x recency x customer value); higher is worse.
    pub impact: f64,
    /// Sum of the customer value column over its documents, when the input has one.
    pub customer_value: Option<f64>,
    /// The most common topic among its documents.
    pub topic: Option<String>,
    /// Owning team.
    pub team: String,
    /// Which kind of rule routed it (`keyword`, `topic`, `source`, ... or `triage`).
    pub route_rule: String,
    /// Why, in a sentence a person can check.
    pub route_reason: String,
    /// Ids of earlier problems merged into this one in this period.
    pub merged_from: Vec<String>,
    /// The earlier problem this one split from, if any.
    pub split_from: Option<String>,
    /// The parent theme (`T01`, ...) when the problem shares one with related problems.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
}

/// A parent theme: related problems grouped by their centroids, named the same way.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Theme {
    /// `T01`, ... in order of the summed impact of its problems.
    pub id: String,
    /// Its key phrase.
    pub title: String,
    /// Its problems' ids, highest impact first.
    pub problems: Vec<String>,
}

/// A complaint unit's place in the problems of a period.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Assignment {
    /// Document id.
    pub id: String,
    /// Problem id.
    pub problem: String,
    /// Owning team.
    pub team: String,
    /// Byte offset of the unit in the document's text (`None` in older files: the document).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<usize>,
    /// Byte offset just past the unit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<usize>,
}

/// Everything the report stage needs about one period's problems.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProblemsFile {
    /// The period, `YYYY-MM`.
    pub period: String,
    /// The run that wrote it.
    pub run: String,
    /// Documents that were candidates for clustering (negative or complaint).
    pub candidates: u64,
    /// Their complaint units that were clustered.
    #[serde(default)]
    pub candidate_units: u64,
    /// Share of candidate documents none of whose units is in a problem.
    pub unassigned_share: f64,
    /// Problems, highest impact first; includes `gone` ones with size 0 this run.
    pub problems: Vec<Problem>,
    /// One row per clustered unit.
    pub assignments: Vec<Assignment>,
    /// Parent themes of related problems.
    #[serde(default)]
    pub themes: Vec<Theme>,
}

/// One row of `assignments.csv` / `assignments.json`: a problem, its owner and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AssignmentRow {
    /// Problem id.
    pub problem: String,
    /// `new`, `growing`, `stable`, `shrinking` or `gone`.
    pub status: String,
    /// Spiking this period.
    pub spike: bool,
    /// Short title.
    pub title: String,
    /// Keywords, `; `-separated.
    pub keywords: String,
    /// Documents.
    pub size: u64,
    /// Documents per period, `YYYY-MM:count` separated by spaces.
    pub trend: String,
    /// Impact score.
    pub impact: f64,
    /// Owning team.
    pub team: String,
    /// Rule kind that routed it.
    pub rule: String,
    /// Why.
    pub reason: String,
    /// Ids of the representative documents, `; `-separated.
    pub representatives: String,
}

impl From<&Problem> for AssignmentRow {
    fn from(problem: &Problem) -> Self {
        let trend: Vec<String> = problem
            .counts
            .iter()
            .map(|(period, count)| format!("{period}:{count}"))
            .collect();
        let representatives: Vec<&str> = problem
            .quotes
            .iter()
            .map(|quote| quote.id.as_str())
            .collect();
        AssignmentRow {
            problem: problem.id.clone(),
            status: problem.status.name().to_string(),
            spike: problem.spike,
            title: problem.title.clone(),
            keywords: problem.keywords.join("; "),
            size: problem.size,
            trend: trend.join(" "),
            impact: (problem.impact * 1000.0).round() / 1000.0,
            team: problem.team.clone(),
            rule: problem.route_rule.clone(),
            reason: problem.route_reason.clone(),
            representatives: representatives.join("; "),
        }
    }
}

/// `assignments.csv` and `assignments.json` of a period: one row per problem, highest impact
/// first, as (file name, contents).
pub fn assignment_files(file: &ProblemsFile) -> [(&'static str, Vec<u8>); 2] {
    let rows: Vec<AssignmentRow> = file.problems.iter().map(AssignmentRow::from).collect();
    let mut writer = csv::Writer::from_writer(Vec::new());
    for row in &rows {
        writer.serialize(row).expect("rows serialise to memory");
    }
    let csv = writer.into_inner().expect("memory writer flushes");
    let json = serde_json::to_vec_pretty(&rows).expect("rows serialise");
    [("assignments.csv", csv), ("assignments.json", json)]
}
