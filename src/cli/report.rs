//! `vocmine report`: regenerates a period's reports from its `problems.json` and the index,
//! without loading any model.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;

use super::progress::Bars;
use super::GlobalArgs;
use crate::fault::Fault;
use crate::report::{self, ReportSummary};
use crate::workspace::Workspace;

/// Arguments of `vocmine report`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// The workspace.
    pub workspace: PathBuf,
    /// The period to report, YYYY-MM (default: the latest period with a problems.json).
    #[arg(long)]
    pub period: Option<String>,
}

/// Writes the reports and lists what was written.
pub fn run(arguments: ReportArgs, global: &GlobalArgs) -> Result<()> {
    let ReportArgs { workspace, period } = arguments;
    let workspace = Workspace::open(&workspace)?;
    let problems = report::load_problems(&workspace, period.as_deref())?;
    let bars = Bars::new(global.quiet);
    let summary = report::write_reports(&workspace, &problems, &Fault::none(), &bars)?;
    drop(bars);
    print_summary(&summary);
    Ok(())
}

fn print_summary(summary: &ReportSummary) {
    println!(
        "reports for {} in {}: {} team reports, the summary, assignments and {} documents",
        summary.period,
        summary.directory.display(),
        summary.teams,
        summary.documents
    );
    for path in &summary.files {
        let shown = path.strip_prefix(&summary.directory).unwrap_or(path);
        println!("  {}", shown.display());
    }
}
