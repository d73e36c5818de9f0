//! The recurring problems the server shows: `reports/<period>/problems.json` (a
//! [`ProblemsFile`], written by `vocmine mine`) read on demand and kept parsed until the file
//! changes. A workspace without any is normal (no `mine` run has clustered yet): the listing is
//! then empty and the pages say so.

use super::request::{bad, RequestError};
use crate::problem::{Problem, ProblemsFile};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

/// File name of a period's problems.
pub const PROBLEMS_FILE: &str = "problems.json";

/// Checks that a period names a plain folder (`2026-10`, letters, digits, `-`, `_`, `.`).
pub fn check_period(period: &str) -> Result<&str, RequestError> {
    let plain = !period.is_empty()
        && period.len() <= 32
        && !period.starts_with('.')
        && period
            .chars()
            .all(|character| character.is_ascii_alphanumeric() || "-_.".contains(character));
    if plain {
        Ok(period)
    } else {
        Err(bad(format!(
            "'{}' is not a period; periods look like 2026-10",
            super::request::truncate_for_message(period)
        )))
    }
}

/// Parsed problems files, keyed by period and checked against the file's modification time and
/// length on every use, so a new `mine` run is picked up without a restart.
#[derive(Default)]
pub struct ProblemsCache {
    entries: Mutex<HashMap<String, CachedFile>>,
}

struct CachedFile {
    modified: Option<SystemTime>,
    length: u64,
    file: Arc<ProblemsFile>,
}

/// The periods that have a problems file, oldest first.
pub fn periods(reports_root: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(reports_root) else {
        return Vec::new();
    };
    let mut periods: Vec<String> = entries
        .filter_map(Result::ok)
        .filter(|entry| entry.path().join(PROBLEMS_FILE).is_file())
        .filter_map(|entry| entry.file_name().into_string().ok())
        .filter(|name| check_period(name).is_ok())
        .collect();
    periods.sort();
    periods
}

impl ProblemsCache {
    /// The problems of `period`, or `None` when that period has no problems file.
    pub fn load(
        &self,
        reports_root: &Path,
        period: &str,
    ) -> Result<Option<Arc<ProblemsFile>>, RequestError> {
        let path: PathBuf = reports_root.join(check_period(period)?).join(PROBLEMS_FILE);
        let Ok(metadata) = std::fs::metadata(&path) else {
            return Ok(None);
        };
        let (modified, length) = (metadata.modified().ok(), metadata.len());
        let mut entries = self
            .entries
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        if let Some(cached) = entries.get(period) {
            if cached.modified == modified && cached.length == length {
                return Ok(Some(Arc::clone(&cached.file)));
            }
        }
        let file = Arc::new(read(&path)?);
        entries.insert(
            period.to_string(),
            CachedFile {
                modified,
                length,
                file: Arc::clone(&file),
            },
        );
        Ok(Some(file))
    }

    /// The problems of the given period, or of the newest one when none is given; `None` when
    /// there are none.
    pub fn period_or_newest(
        &self,
        reports_root: &Path,
        period: Option<&str>,
    ) -> Result<Option<Arc<ProblemsFile>>, RequestError> {
        match period {
            Some(period) => match self.load(reports_root, period)? {
                Some(file) => Ok(Some(file)),
                None => Err(RequestError::NotFound(format!(
                    "no problems for period {period}; periods with problems: {}",
                    listing(&periods(reports_root))
                ))),
            },
            None => match periods(reports_root).last() {
                Some(newest) => self.load(reports_root, newest),
                None => Ok(None),
            },
        }
    }

    /// A problem by id, from the given period or else the newest period that has it.
    pub fn find(
        &self,
        reports_root: &Path,
        id: &str,
        period: Option<&str>,
    ) -> Result<(Arc<ProblemsFile>, usize), RequestError> {
        let candidates = match period {
            Some(period) => vec![period.to_string()],
            None => periods(reports_root).into_iter().rev().collect(),
        };
        for candidate in &candidates {
            let Some(file) = self.load(reports_root, candidate)? else {
                continue;
            };
            if let Some(position) = file.problems.iter().position(|problem| problem.id == id) {
                return Ok((file, position));
            }
        }
        Err(RequestError::NotFound(format!(
            "no problem '{}' in {}",
            super::request::truncate_for_message(id),
            if candidates.is_empty() {
                "this workspace yet: no `vocmine mine` run has written problems.json".to_string()
            } else {
                format!("period(s) {}", listing(&candidates))
            }
        )))
    }
}

fn read(path: &Path) -> Result<ProblemsFile, RequestError> {
    let text = std::fs::read(path).map_err(|error| {
        RequestError::Internal(format!("cannot read {}: {error}", path.display()))
    })?;
    serde_json::from_slice(&text).map_err(|error| {
        RequestError::Internal(format!(
            "{} is not a problems file this version can read: {error}",
            path.display()
        ))
    })
}

fn listing(periods: &[String]) -> String {
    if periods.is_empty() {
        "none".to_string()
    } else {
        periods.join(", ")
    }
}

/// Ids of the documents assigned to a problem, at most `limit`.
pub fn assigned_documents(file: &ProblemsFile, problem: &Problem, limit: usize) -> Vec<String> {
    file.assignments
        .iter()
        .filter(|assignment| assignment.problem == problem.id)
        .take(limit)
        .map(|assignment| assignment.id.clone())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_are_plain_names() {
        assert!(check_period("2026-10").is_ok());
        for hostile in ["..", "../x", "a/b", "", ".hidden", "x\0"] {
            assert!(check_period(hostile).is_err(), "{hostile:?}");
        }
    }

    #[test]
    fn a_workspace_without_problems_lists_none_and_finds_nothing() {
        let directory = tempfile::tempdir().unwrap();
        let cache = ProblemsCache::default();
        assert!(periods(directory.path()).is_empty());
        assert!(cache
            .period_or_newest(directory.path(), None)
            .unwrap()
            .is_none());
        let error = cache.find(directory.path(), "P0001", None).unwrap_err();
        assert_eq!(error.status(), 404);
    }
}
