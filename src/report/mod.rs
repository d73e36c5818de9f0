//! The report stage: one period's [`ProblemsFile`] and the workspace's index in, the files people
//! read out. Every owning team gets a report of its problems ranked by impact (`teams/<team>.md`
//! and `.html`), executives get a one-page summary (`summary.md`, `summary.html`), and analysts
//! get the assignments (`assignments.csv`, `assignments.json`) and the enriched documents
//! (`documents.parquet`) for their own tools. All of it goes to `reports/<period>/`, each file
//! written atomically, and all of it can be regenerated from `problems.json` without any model.
//!
//! A set of reports is finished only when its marker (`.reports.json`, written last) names the
//! problems and the index commit it was written from; [`unfinished_reports`] finds a period
//! whose reports a killed or failed run left half-written or older than the index, so the next
//! run writes them again, and every rewrite first removes the temporary files a killed write
//! left.
//!
//! The HTML is self-contained (inline CSS and SVG, no scripts, no fonts or anything else fetched
//! from a network), so a report can be mailed or opened from a share as it is.

mod chart;
mod export;
mod html;
pub use html::escape_markup;
mod markdown;
mod overview;
mod view;

use std::path::{Path, PathBuf};

use thiserror::Error;

use crate::fault::{Fault, FaultError};
use crate::index::{DocumentIndex, IndexError};
use crate::problem::ProblemsFile;
use crate::progress::Progress;
use crate::workspace::{remove_temporary_files, write_atomically, Workspace, WorkspaceError};
use serde::{Deserialize, Serialize};

pub use overview::{Coverage, Overview, SentimentCounts};

/// File name of a period's problems inside `reports/<period>/`.
pub const PROBLEMS_FILE: &str = "problems.json";

/// File name of the marker a finished set of reports carries inside `reports/<period>/`
/// (hidden, so the server does not list it).
pub const MARKER_FILE: &str = ".reports.json";

/// Where `vocmine serve` shows a problem and its documents; report links use this path so they
/// work when the page serves the reports, without naming any host.
pub const PROBLEM_LINK_PREFIX: &str = "/problem/";

/// Errors of the report stage.
#[derive(Debug, Error)]
pub enum ReportError {
    /// The period has no problems file.
    #[error("no problems file at {}; run `vocmine mine` on the workspace first", .0.display())]
    MissingProblems(PathBuf),
    /// No period has a problems file yet.
    #[error("no reports in {} yet (no <period>/{PROBLEMS_FILE}); run `vocmine mine` on the workspace first", .0.display())]
    NoPeriods(PathBuf),
    /// A period that is not a plain directory name (`YYYY-MM`).
    #[error("'{0}' is not a period; periods look like 2026-09")]
    InvalidPeriod(String),
    /// The problems file does not parse.
    #[error("cannot read the problems file {}: {source}", path.display())]
    InvalidProblems {
        /// The file.
        path: PathBuf,
        /// What the JSON parser found.
        #[source]
        source: serde_json::Error,
    },
    /// Reading the workspace or writing a report file failed.
    #[error(transparent)]
    Workspace(#[from] WorkspaceError),
    /// The index cannot be opened.
    #[error(transparent)]
    Index(#[from] IndexError),
    /// Counting or reading documents in the index failed.
    #[error("cannot read the index for the report: {0}")]
    Engine(#[from] tantivy::TantivyError),
    /// Drawing a chart failed.
    #[error("cannot draw a chart: {0}")]
    Chart(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// A test's fault hook stopped the run.
    #[error(transparent)]
    Fault(#[from] FaultError),
    /// Writing the Parquet export failed.
    #[error("cannot write {}: {source}", path.display())]
    Parquet {
        /// The file being written.
        path: PathBuf,
        /// The Parquet writer's error.
        #[source]
        source: parquet::errors::ParquetError,
    },
}

/// What [`write_reports`] wrote.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportSummary {
    /// The period reported.
    pub period: String,
    /// The directory the files went to.
    pub directory: PathBuf,
    /// Every file written, in the order written.
    pub files: Vec<PathBuf>,
    /// Teams that got a report.
    pub teams: usize,
    /// Documents in `documents.parquet`.
    pub documents: u64,
}

/// Reads the problems of `period`, or of the latest period that has any when `None`.
pub fn load_problems(
    workspace: &Workspace,
    period: Option<&str>,
) -> Result<ProblemsFile, ReportError> {
    let path = match period {
        Some(period) => reports_dir(workspace, period)?.join(PROBLEMS_FILE),
        None => latest_problems_file(workspace)?,
    };
    let text = match std::fs::read(&path) {
        Ok(text) => text,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            return Err(ReportError::MissingProblems(path))
        }
        Err(error) => return Err(WorkspaceError::io("read", &path)(error).into()),
    };
    serde_json::from_slice(&text).map_err(|source| ReportError::InvalidProblems { path, source })
}

/// The reports directory of a period, refusing names that would lead out of `reports/`.
fn reports_dir(workspace: &Workspace, period: &str) -> Result<PathBuf, ReportError> {
    let plain = !period.is_empty()
        && period != "."
        && period != ".."
        && !period.contains(['/', '\\'])
        && !period.chars().any(char::is_control);
    if plain {
        Ok(workspace.reports_dir(period))
    } else {
        Err(ReportError::InvalidPeriod(period.to_string()))
    }
}

/// The problems file of the latest period (periods are `YYYY-MM`, so their names sort by time).
fn latest_problems_file(workspace: &Workspace) -> Result<PathBuf, ReportError> {
    let reports = workspace.root().join("reports");
    let entries = match std::fs::read_dir(&reports) {
        Ok(entries) => entries,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            return Err(ReportError::NoPeriods(reports))
        }
        Err(error) => return Err(WorkspaceError::io("read", &reports)(error).into()),
    };
    entries
        .filter_map(|entry| entry.ok().map(|entry| entry.path().join(PROBLEMS_FILE)))
        .filter(|path| path.is_file())
        .max()
        .ok_or(ReportError::NoPeriods(reports))
}

/// What a finished set of reports was written from: the problems (a digest of their JSON) and
/// the index commit (its opstamp).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct ReportsMarker {
    problems_sha256: String,
    index_opstamp: u64,
}

impl ReportsMarker {
    fn of(problems: &ProblemsFile, index: &DocumentIndex) -> Result<ReportsMarker, ReportError> {
        use sha2::{Digest, Sha256};
        let json = serde_json::to_vec(problems).expect("problems serialise");
        Ok(ReportsMarker {
            problems_sha256: hex::encode(Sha256::digest(&json)),
            index_opstamp: index.opstamp()?,
        })
    }

    /// The marker in `directory`, if there is a readable one.
    fn read(directory: &Path) -> Option<ReportsMarker> {
        let bytes = std::fs::read(directory.join(MARKER_FILE)).ok()?;
        serde_json::from_slice(&bytes).ok()
    }
}

/// The problems of `period` when its reports are not finished for them and for the index as
/// committed now (a run was killed or failed while writing them, or before): the caller writes
/// them again. `None` when the period has no problems file, or its reports are finished.
pub fn unfinished_reports(
    workspace: &Workspace,
    period: &str,
) -> Result<Option<ProblemsFile>, ReportError> {
    let directory = reports_dir(workspace, period)?;
    if !directory.join(PROBLEMS_FILE).is_file() {
        return Ok(None);
    }
    let problems = load_problems(workspace, Some(period))?;
    let index = DocumentIndex::open(&workspace.index_dir())?;
    let current = ReportsMarker::of(&problems, &index)?;
    if ReportsMarker::read(&directory).as_ref() == Some(&current) {
        return Ok(None);
    }
    Ok(Some(problems))
}

/// Writes every report of `problems.period` into `workspace.reports_dir(&problems.period)`, and
/// last the marker that says they are finished. `fault` stops it between files (tests only).
pub fn write_reports(
    workspace: &Workspace,
    problems: &ProblemsFile,
    fault: &Fault,
    progress: &dyn Progress,
) -> Result<ReportSummary, ReportError> {
    let directory = reports_dir(workspace, &problems.period)?;
    let index = DocumentIndex::open(&workspace.index_dir())?;
    let marker = ReportsMarker::of(problems, &index)?;
    start_rewrite(&directory)?;
    let teams = view::teams(problems);
    progress.start("report", Some(teams.len() as u64 + 3));
    let overview = Overview::read(&index, &workspace.runs_dir())?;
    let context = view::Context::new(workspace.root(), problems, &overview, &teams);
    let mut written = Written::new(&directory);
    for team in &teams {
        let stem = format!("teams/{}", team.slug);
        written.write(&format!("{stem}.md"), markdown::team(&context, team))?;
        written.write(&format!("{stem}.html"), html::team(&context, team)?)?;
        progress.advance(1);
    }
    fault.check("report-teams")?;
    written.write("summary.md", markdown::summary(&context))?;
    written.write("summary.html", html::summary(&context)?)?;
    progress.advance(1);
    fault.check("report-summary")?;
    for (name, contents) in crate::problem::assignment_files(problems) {
        written.write(name, contents)?;
    }
    progress.advance(1);
    fault.check("report-assignments")?;
    let parquet = directory.join(export::DOCUMENTS_FILE);
    let documents = export::documents_parquet(&index, problems, &parquet, fault)?;
    written.files.push(parquet);
    progress.advance(1);
    progress.finish();
    let files = written.files;
    remove_stale_team_reports(&directory.join("teams"), &files);
    fault.check("report-marker")?;
    let marker = serde_json::to_vec_pretty(&marker).expect("the marker serialises");
    write_atomically(&directory.join(MARKER_FILE), &marker)?;
    Ok(ReportSummary {
        period: problems.period.clone(),
        directory,
        files,
        teams: teams.len(),
        documents,
    })
}

/// Before any report of a folder is rewritten: its marker goes (until the last file is written,
/// the folder's reports are not finished) and so do the temporary files of a killed write.
fn start_rewrite(directory: &Path) -> Result<(), ReportError> {
    let marker = directory.join(MARKER_FILE);
    match std::fs::remove_file(&marker) {
        Ok(()) => {}
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
        Err(error) => return Err(WorkspaceError::io("remove", &marker)(error).into()),
    }
    remove_temporary_files(directory);
    remove_temporary_files(&directory.join("teams"));
    Ok(())
}

/// A team that owned problems in an earlier run of the same period but owns none now must not
/// keep a report that looks current. Only `.md` and `.html` files in `teams/` are considered;
/// failing to remove one is logged, not fatal.
fn remove_stale_team_reports(teams: &Path, written: &[PathBuf]) {
    let Ok(entries) = std::fs::read_dir(teams) else {
        return;
    };
    for path in entries.filter_map(|entry| entry.ok().map(|entry| entry.path())) {
        let report = path
            .extension()
            .is_some_and(|extension| extension == "md" || extension == "html");
        if report && !written.contains(&path) {
            if let Err(error) = std::fs::remove_file(&path) {
                tracing::warn!("cannot remove the stale report {}: {error}", path.display());
            }
        }
    }
}

/// The files written so far into one directory.
struct Written<'a> {
    directory: &'a Path,
    files: Vec<PathBuf>,
}

impl<'a> Written<'a> {
    fn new(directory: &'a Path) -> Self {
        Written {
            directory,
            files: Vec::new(),
        }
    }

    fn write(&mut self, name: &str, contents: impl AsRef<[u8]>) -> Result<(), ReportError> {
        let path = self.directory.join(name);
        write_atomically(&path, contents.as_ref())?;
        self.files.push(path);
        Ok(())
    }
}

#[cfg(test)]
mod tests;
