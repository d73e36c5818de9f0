//! What the commands print: the run summary of `mine` and the results of `search` as a table,
//! JSON or CSV.

use super::OutputFormat;
use crate::pipeline::{FileSummary, MineReport};
use crate::search::SearchResults;
use anyhow::Result;
use std::io::Write;

/// Prints the per-file counts and where the rejects went.
pub fn print_mine_report(report: &MineReport) {
    println!("run {}", report.run);
    println!(
        "{:<44} {:>8} {:>9} {:>10} {:>9}  format",
        "file", "read", "accepted", "duplicate", "rejected"
    );
    let row = |summary: &FileSummary| {
        println!(
            "{:<44} {:>8} {:>9} {:>10} {:>9}  {}",
            shorten(&summary.file, 44),
            summary.read,
            summary.accepted,
            summary.duplicate,
            summary.rejected,
            summary.format
        );
    };
    report.files.iter().for_each(row);
    row(&report.totals());
    let languages: Vec<String> = report
        .languages
        .iter()
        .map(|(language, count)| format!("{language} {count}"))
        .collect();
    if !languages.is_empty() {
        println!("new documents by language: {}", languages.join(", "));
    }
    let encode = &report.encode;
    if encode.texts > 0 {
        println!(
            "encoded {} texts ({} more from the embedding cache), {} cut at the token limit",
            encode.encoded, encode.cached, encode.truncated
        );
    }
    print_counts("sentiment of new documents", &report.classify.sentiment);
    print_counts("topics of new documents", &report.classify.topic);
    println!("documents in the index: {}", report.index_documents);
    if let Some(problems) = &report.problems {
        print_problems(problems);
    }
    if let Some(path) = &report.rejects_file {
        println!(
            "rejected rows (file, line, reason, raw): {}",
            path.display()
        );
    }
    if let Some(seconds) = report.seconds.get("total") {
        println!("took {seconds:.1} s");
    }
}

fn print_problems(problems: &crate::pipeline::ProblemsSummary) {
    println!(
        "recurring problems {}: {} among {} negative or complaint documents ({:.1}% in none)",
        problems.period,
        problems.problems,
        problems.candidates,
        problems.unassigned_share * 100.0
    );
    let units = &problems.units;
    println!(
        "complaint units: {} from {} documents, {} clustered, {} left out (positive, or neutral \
         outside complaint sources), {} documents counted by their most negative unit, {} \
         documents without any unit, {} units cut from over-long text, {} encoded now",
        units.units,
        units.documents,
        units.chosen,
        units.left_out,
        units.most_negative_only,
        units.without_units,
        units.cut,
        units.encoded
    );
    let per_document: std::collections::BTreeMap<String, u64> = units
        .units_per_document
        .iter()
        .map(|(count, documents)| (format!("{count} units:"), *documents as u64))
        .collect();
    print_counts("documents by number of units", &per_document);
    let as_u64 = |counts: &std::collections::BTreeMap<String, usize>| {
        counts
            .iter()
            .map(|(key, &count)| (key.clone(), count as u64))
            .collect()
    };
    print_counts("problems by status", &as_u64(&problems.statuses));
    print_counts("problems by team", &as_u64(&problems.teams));
    println!("problems file: {}", problems.file.display());
    println!(
        "reports: {} and teams/<team>.html",
        problems.file.with_file_name("summary.html").display()
    );
}

/// One line of label counts, largest first.
fn print_counts(title: &str, counts: &std::collections::BTreeMap<String, u64>) {
    if counts.is_empty() {
        return;
    }
    let mut ordered: Vec<(&String, &u64)> = counts.iter().collect();
    ordered.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    let parts: Vec<String> = ordered
        .iter()
        .map(|(label, count)| format!("{label} {count}"))
        .collect();
    println!("{title}: {}", parts.join(", "));
}

fn shorten(text: &str, width: usize) -> String {
    let count = text.chars().count();
    if count <= width {
        return text.to_string();
    }
    let tail: String = text.chars().skip(count - (width - 1)).collect();
    format!("…{tail}")
}

/// Prints search results in the chosen format.
pub fn print_search_results(results: &SearchResults, format: OutputFormat) -> Result<()> {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    match format {
        OutputFormat::Json => {
            serde_json::to_writer_pretty(&mut out, results)?;
            writeln!(out)?;
        }
        OutputFormat::Csv => {
            let mut writer = csv::Writer::from_writer(out);
            writer.write_record([
                "id",
                "score",
                "date",
                "source",
                "language",
                "rating",
                "sentiment",
                "topic",
                "team",
                "cluster",
                "snippet",
            ])?;
            for hit in &results.hits {
                writer.write_record([
                    hit.id.clone(),
                    format!("{:.3}", hit.score),
                    hit.date.map(|date| date.to_string()).unwrap_or_default(),
                    hit.source.clone().unwrap_or_default(),
                    hit.language.clone().unwrap_or_default(),
                    hit.rating
                        .map(|rating| rating.to_string())
                        .unwrap_or_default(),
                    hit.sentiment.clone().unwrap_or_default(),
                    hit.topic.clone().unwrap_or_default(),
                    hit.team.clone().unwrap_or_default(),
                    hit.cluster.clone().unwrap_or_default(),
                    hit.snippet.marked("[", "]"),
                ])?;
            }
            writer.flush()?;
        }
        OutputFormat::Table => print_table(&mut out, results)?,
    }
    Ok(())
}

fn print_table(out: &mut impl Write, results: &SearchResults) -> Result<()> {
    writeln!(out, "{} matching documents", results.total)?;
    for (rank, hit) in results.hits.iter().enumerate() {
        let details: Vec<String> = [
            hit.date.map(|date| date.to_string()),
            hit.source.clone(),
            hit.language.clone(),
            hit.rating.map(|rating| format!("rating {rating}")),
            hit.location.clone(),
            hit.sentiment.clone(),
            hit.topic.clone(),
            hit.team.clone().map(|team| format!("team {team}")),
        ]
        .into_iter()
        .flatten()
        .collect();
        writeln!(
            out,
            "\n{:>3}. {}  ({})  score {:.2}",
            rank + 1,
            hit.id,
            details.join(", "),
            hit.score
        )?;
        writeln!(out, "     {}", hit.snippet.marked("[", "]"))?;
    }
    let facets: Vec<String> = results
        .facets
        .iter()
        .filter(|facet| !facet.counts.is_empty())
        .map(|facet| {
            let counts: Vec<String> = facet
                .counts
                .iter()
                .map(|(value, count)| format!("{value} {count}"))
                .collect();
            format!("  {:<10} {}", facet.field, counts.join(" | "))
        })
        .collect();
    if !facets.is_empty() {
        writeln!(out, "\nfacets over all {} matches:", results.total)?;
        for line in facets {
            writeln!(out, "{line}")?;
        }
    }
    Ok(())
}

/// Says where the search page is; the address line is what scripts and tests read. Written
/// without panicking when nobody reads stdout any more: the server keeps running regardless.
pub fn print_serving(workspace: &std::path::Path, address: &std::net::SocketAddr) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(
        out,
        "serving {} at http://{address}/ (Ctrl-C to stop)",
        workspace.display()
    );
    let _ = out.flush();
}

/// Warns that the page is reachable from other machines.
pub fn print_exposed_warning(address: &std::net::SocketAddr) {
    eprintln!(
        "warning: listening on {address} makes the search page and every document in the index \
         reachable from other machines, with no authentication; use --bind 127.0.0.1 to keep it \
         on this machine"
    );
}

/// The error line for the terminal: the error and each cause it wraps, joined by `: `, leaving
/// out a cause whose text the message so far ends with (several errors end their own message
/// with their source, which `{:#}` would print a second time).
pub fn error_message(error: &anyhow::Error) -> String {
    let mut message = String::new();
    for cause in error.chain() {
        let text = cause.to_string();
        if !message.is_empty() && message.ends_with(&text) {
            continue;
        }
        if !message.is_empty() {
            message.push_str(": ");
        }
        message.push_str(&text);
    }
    message
}

/// `eval --task problems` as a table: the methods side by side, then the stage's problems.
pub fn problem_eval_table(report: &crate::pipeline::ProblemEvalReport) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let units = &report.units;
    let _ = writeln!(
        out,
        "{} documents, {} reasons; {} complaint units, {} clustered, {} documents without a unit",
        report.rows, report.reasons, units.units, units.chosen, units.without_units
    );
    let _ = writeln!(
        out,
        "{:<36} {:>8} {:>10} {:>6} {:>6} {:>7} {:>10} {:>8}",
        "method", "problems", "unassigned", "NMI", "AMI", "purity", "AMI brand", "seconds"
    );
    for method in &report.methods {
        let second = method
            .ami_second
            .map_or_else(|| "-".to_string(), |ami| format!("{ami:.3}"));
        let _ = writeln!(
            out,
            "{:<36} {:>8} {:>9.1}% {:>6.3} {:>6.3} {:>7.3} {:>10} {:>8.2}",
            method.method,
            method.problems,
            method.unassigned_share * 100.0,
            method.nmi,
            method.ami,
            method.purity,
            second,
            method.seconds
        );
    }
    let _ = writeln!(
        out,
        "\nproblems of the stage (documents, majority reason and its share):"
    );
    for problem in &report.problems {
        let _ = writeln!(
            out,
            "{} {:>4}  {:<40} {} {:.0}%  | {}",
            problem.id,
            problem.documents,
            problem.title,
            problem.reason,
            problem.reason_share * 100.0,
            problem.statement.replace('\n', " ")
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("cannot read input file data.csv: {source}")]
    struct Unreadable {
        #[source]
        source: std::io::Error,
    }

    #[test]
    fn a_cause_already_quoted_is_not_repeated_and_others_are_kept() {
        let io = std::io::Error::new(std::io::ErrorKind::NotFound, "No such file or directory");
        let error = anyhow::Error::new(Unreadable { source: io }).context("mine failed");
        assert_eq!(
            error_message(&error),
            "mine failed: cannot read input file data.csv: No such file or directory"
        );
        let plain = anyhow::anyhow!("no rows").context("the labels are empty");
        assert_eq!(error_message(&plain), "the labels are empty: no rows");
        // A cause that only appears inside the outer message is still printed.
        let inside = anyhow::anyhow!("rows").context("no rows were read");
        assert_eq!(error_message(&inside), "no rows were read: rows");
    }
}
