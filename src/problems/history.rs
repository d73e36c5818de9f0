//! The cluster history of a workspace (`clusters/history.json`): each period's problems with
//! their centroids, so the next run can match its clusters to them and ids stay stable month
//! after month. Re-running a period replaces that period's entry; matching is always against the
//! latest other period.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::problem::Problem;
use crate::workspace::{write_atomically, WorkspaceError};

/// A problem as remembered: the record and its centroid in embedding space.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrackedProblem {
    /// The problem as reported that period.
    pub problem: Problem,
    /// Unit-length centroid of its documents' embeddings.
    pub centroid: Vec<f32>,
    /// The similarity to `centroid` a unit of the next period needs to join it (see
    /// [`super::anchoring`]); absent in histories written before units.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub radius: Option<f32>,
}

/// One period's problems.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PeriodEntry {
    /// `YYYY-MM`.
    pub period: String,
    /// The run that clustered it.
    pub run: String,
    /// The encoder whose embedding space the centroids live in.
    pub model: String,
    /// Documents in the index when it was clustered (a later run with the same count and period
    /// has nothing to redo).
    pub index_documents: u64,
    /// Its problems (not the gone ones).
    pub problems: Vec<TrackedProblem>,
    /// The problem number of every unit in a problem, by [`unit_key`], so the next period keeps
    /// each old unit where it was (kept for the latest two periods only).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub units: BTreeMap<String, u32>,
}

/// Periods whose unit assignments the history keeps (the newest ones: a run is matched
/// against the latest other period).
pub const PERIODS_WITH_UNITS: usize = 2;

/// The key of a unit in [`PeriodEntry::units`]: its document's content hash (first 16
/// characters) and its byte offset.
pub fn unit_key(content_hash: &str, start: usize) -> String {
    let prefix: String = content_hash.chars().take(16).collect();
    format!("{prefix}:{start}")
}

/// Every period clustered so far, oldest first.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ClusterHistory {
    /// The next fresh problem number.
    pub next_id: u32,
    /// Entries by period, ascending.
    pub periods: Vec<PeriodEntry>,
}

/// The history file of a workspace root.
pub fn history_path(root: &Path) -> PathBuf {
    root.join("clusters").join("history.json")
}

impl ClusterHistory {
    /// Reads the history; an absent file is an empty history.
    pub fn load(path: &Path) -> Result<ClusterHistory, WorkspaceError> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                return Ok(ClusterHistory::default())
            }
            Err(error) => return Err(WorkspaceError::io("read", path)(error)),
        };
        serde_json::from_str(&text).map_err(|error| {
            WorkspaceError::io("parse", path)(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                error,
            ))
        })
    }

    /// Writes the history atomically.
    pub fn save(&self, path: &Path) -> Result<(), WorkspaceError> {
        let bytes = serde_json::to_vec(self).expect("history serialises");
        write_atomically(path, &bytes)
    }

    /// The entry the clusters of `period` are matched against: the latest entry of another
    /// period, computed with the same encoder.
    pub fn previous(&self, period: &str, model: &str) -> Option<&PeriodEntry> {
        self.periods
            .iter()
            .rev()
            .find(|entry| entry.period != period && entry.model == model)
    }

    /// True when `period` was clustered over exactly this many documents already.
    pub fn is_current(&self, period: &str, index_documents: u64) -> bool {
        self.periods
            .iter()
            .any(|entry| entry.period == period && entry.index_documents == index_documents)
    }

    /// The latest period clustered, if any.
    pub fn latest_period(&self) -> Option<&str> {
        self.periods.last().map(|entry| entry.period.as_str())
    }

    /// Records `entry`, replacing an earlier entry of the same period, and moves `next_id` past
    /// every id it uses.
    pub fn record(&mut self, entry: PeriodEntry, next_id: u32) {
        self.next_id = self.next_id.max(next_id);
        self.periods.retain(|old| old.period != entry.period);
        let position = self
            .periods
            .partition_point(|old| old.period < entry.period);
        self.periods.insert(position, entry);
        let keep_from = self.periods.len().saturating_sub(PERIODS_WITH_UNITS);
        for old in &mut self.periods[..keep_from] {
            old.units.clear();
        }
    }
}

/// The display id of problem number `number`.
pub fn problem_id(number: u32) -> String {
    format!("P{number:04}")
}

/// The number of a display id made by [`problem_id`].
pub fn problem_number(id: &str) -> Option<u32> {
    id.strip_prefix('P')?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(period: &str, model: &str) -> PeriodEntry {
        PeriodEntry {
            units: BTreeMap::new(),
            period: period.into(),
            run: "run".into(),
            model: model.into(),
            index_documents: 10,
            problems: Vec::new(),
        }
    }

    #[test]
    fn rerunning_a_period_replaces_it_and_matches_the_one_before() {
        let mut history = ClusterHistory::default();
        history.record(entry("2026-09", "e5"), 3);
        history.record(entry("2026-10", "e5"), 5);
        history.record(entry("2026-10", "e5"), 4);
        assert_eq!(history.periods.len(), 2);
        assert_eq!(history.next_id, 5);
        assert_eq!(history.previous("2026-10", "e5").unwrap().period, "2026-09");
        assert_eq!(history.previous("2026-11", "e5").unwrap().period, "2026-10");
        assert!(history.previous("2026-11", "minilm").is_none());
        assert!(history.is_current("2026-10", 10));
        assert!(!history.is_current("2026-10", 11));
    }

    #[test]
    fn saved_history_loads_back_and_absent_is_empty() {
        let directory = tempfile::tempdir().unwrap();
        let path = history_path(directory.path());
        assert_eq!(
            ClusterHistory::load(&path).unwrap(),
            ClusterHistory::default()
        );
        let mut history = ClusterHistory::default();
        history.record(entry("2026-09", "e5"), 2);
        history.save(&path).unwrap();
        assert_eq!(ClusterHistory::load(&path).unwrap(), history);
        assert_eq!(
            (problem_id(7), problem_number("P0007")),
            ("P0007".to_string(), Some(7))
        );
    }
}
