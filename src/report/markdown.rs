//! The Markdown reports: the same content as the HTML ones, for mail, wikis and diffs, with
//! charts as text sparklines and tables.

use std::fmt::Write;

use crate::problem::Problem;

use super::chart::sparkline;
use super::view::{self, amount, percent, plural, problem_link, status_label, Context, TeamView};
use super::SentimentCounts;

/// Escapes what Markdown would read as markup and folds line breaks, so a quote stays one line
/// of text whatever a customer typed.
pub fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for word in text.split_whitespace() {
        if !escaped.is_empty() {
            escaped.push(' ');
        }
        let characters: Vec<char> = word.chars().collect();
        for (position, &character) in characters.iter().enumerate() {
            if needs_escape(&characters, position) {
                escaped.push('\\');
            }
            escaped.push(character);
        }
    }
    escaped
}

/// Markup characters, except an underscore inside a word (`response_time`), which Markdown
/// never reads as emphasis.
fn needs_escape(characters: &[char], position: usize) -> bool {
    let character = characters[position];
    if character == '_' {
        let alphanumeric = |index: Option<usize>| {
            index
                .and_then(|index| characters.get(index))
                .is_some_and(|neighbour| neighbour.is_alphanumeric())
        };
        return !(alphanumeric(position.checked_sub(1)) && alphanumeric(Some(position + 1)));
    }
    "\\`*[]<>|#~".contains(character)
}

/// One team's report.
pub fn team(context: &Context, team: &TeamView) -> String {
    let mut out = String::new();
    let problems = context.problems;
    let _ = writeln!(
        out,
        "# {}: recurring problems, {}\n",
        escape(team.name),
        problems.period
    );
    let _ = writeln!(
        out,
        "{} with {}, highest impact first (run {}).\n",
        plural(team.active.len() as u64, "problem"),
        plural(team.documents(), "document"),
        problems.run
    );
    themes(&mut out, context, &team.active);
    for (rank, problem) in team.active.iter().enumerate() {
        problem_section(&mut out, context, rank + 1, problem);
    }
    if !team.gone.is_empty() {
        let _ = writeln!(out, "## No longer seen this period\n");
        for problem in &team.gone {
            let _ = writeln!(out, "- {} ({})", escape(&problem.title), problem.id);
        }
        out.push('\n');
    }
    out
}

/// The parent themes of `problems`, each with its problems' titles, e.g. "**Baggage**: lost
/// luggage / damaged bag".
fn themes(out: &mut String, context: &Context, problems: &[&Problem]) {
    let themes = context.themes_of(problems);
    if themes.is_empty() {
        return;
    }
    let _ = writeln!(out, "## Themes\n");
    for (theme, members) in themes {
        let titles: Vec<String> = members
            .iter()
            .map(|problem| format!("{} ({})", escape(&problem.title), problem.id))
            .collect();
        let documents: u64 = members.iter().map(|problem| problem.size).sum();
        let _ = writeln!(
            out,
            "- **{}** ({}): {}",
            escape(&theme.title),
            plural(documents, "document"),
            titles.join(" / ")
        );
    }
    out.push('\n');
}

fn problem_section(out: &mut String, context: &Context, rank: usize, problem: &Problem) {
    let _ = writeln!(
        out,
        "## {rank}. {} ({})\n",
        escape(&problem.title),
        problem.id
    );
    if let Some(theme) = context.theme_of(problem) {
        let _ = writeln!(
            out,
            "Theme: {} › {}\n",
            escape(&theme.title),
            escape(&problem.title)
        );
    }
    if !problem.statement.is_empty() {
        let _ = writeln!(
            out,
            "In a customer's words: “{}”\n",
            escape(&problem.statement)
        );
    }
    let _ = writeln!(out, "- {}", facts(problem));
    let _ = writeln!(out, "- trend {}", trend(problem));
    let keywords: Vec<String> = problem.keywords.iter().map(|word| escape(word)).collect();
    let _ = writeln!(out, "- keywords: {}", keywords.join(", "));
    let _ = writeln!(
        out,
        "- routed here by {} rule: {}",
        escape(&problem.route_rule),
        escape(&problem.route_reason)
    );
    lineage(out, problem);
    out.push('\n');
    for quote in &problem.quotes {
        let date = quote.date.as_deref().unwrap_or("undated");
        let _ = writeln!(
            out,
            "> {}\n>\n> — {}, {date}, {}\n",
            escape(&quote.text),
            quote.id,
            quote.language
        );
    }
    let _ = writeln!(
        out,
        "All its documents: `{}` or [{}]({})\n",
        context.search_command(problem),
        problem.id,
        problem_link(problem)
    );
}

/// Status, impact, size, negativity, customer value and topic on one line.
fn facts(problem: &Problem) -> String {
    let mut facts = vec![
        format!("status **{}**", status_label(problem)),
        format!("impact {:.1}", problem.impact),
        plural(problem.size, "document"),
        format!("{} negative", percent(problem.negative_share)),
    ];
    if let Some(value) = problem.customer_value {
        facts.push(format!("customer value {}", amount(value)));
    }
    if let Some(topic) = &problem.topic {
        facts.push(format!("topic {}", escape(topic)));
    }
    facts.join(" · ")
}

/// Counts per period as a sparkline followed by the numbers.
fn trend(problem: &Problem) -> String {
    let counts: Vec<u64> = problem.counts.values().copied().collect();
    let periods: Vec<String> = problem
        .counts
        .iter()
        .map(|(period, count)| format!("{period} {count}"))
        .collect();
    format!("{} ({})", sparkline(&counts), periods.join(", "))
}

fn lineage(out: &mut String, problem: &Problem) {
    if !problem.merged_from.is_empty() {
        let _ = writeln!(out, "- merged from {}", problem.merged_from.join(", "));
    }
    if let Some(parent) = &problem.split_from {
        let _ = writeln!(out, "- split from {parent}");
    }
}

/// The executive summary.
pub fn summary(context: &Context) -> String {
    let mut out = String::new();
    let problems = context.problems;
    let _ = writeln!(out, "# Voice of the customer: {}\n", problems.period);
    let _ = writeln!(
        out,
        "{} among {} negative or complaint documents ({} in no problem), run {}.\n",
        plural(context.ranked().len() as u64, "recurring problem"),
        problems.candidates,
        percent(problems.unassigned_share),
        problems.run
    );
    costliest(&mut out, context);
    themes(&mut out, context, &context.ranked());
    sentiment_over_time(&mut out, context);
    new_and_spiking(&mut out, context);
    topics(&mut out, context);
    team_load(&mut out, context);
    coverage(&mut out, context);
    out
}

fn costliest(out: &mut String, context: &Context) {
    let _ = writeln!(out, "## What costs the most\n");
    let top: Vec<&Problem> = context
        .ranked()
        .into_iter()
        .take(view::TOP_PROBLEMS)
        .collect();
    if top.is_empty() {
        let _ = writeln!(out, "No recurring problems this period.\n");
        return;
    }
    let with_value = top.iter().any(|problem| problem.customer_value.is_some());
    let value_header = if with_value { " Customer value |" } else { "" };
    let _ = writeln!(
        out,
        "| # | Problem | Team | Status | Documents | Negative |{value_header} Impact |"
    );
    let _ = writeln!(
        out,
        "|---|---|---|---|---:|---:|{}---:|",
        if with_value { "---:|" } else { "" }
    );
    for (rank, problem) in top.iter().enumerate() {
        let value = match (with_value, problem.customer_value) {
            (false, _) => String::new(),
            (true, Some(value)) => format!(" {} |", amount(value)),
            (true, None) => " |".to_string(),
        };
        let _ = writeln!(
            out,
            "| {} | {} ({}) | {} | {} | {} | {} |{value} {:.1} |",
            rank + 1,
            escape(&problem.title),
            problem.id,
            escape(&problem.team),
            status_label(problem),
            problem.size,
            percent(problem.negative_share),
            problem.impact
        );
    }
    out.push('\n');
}

fn sentiment_over_time(out: &mut String, context: &Context) {
    let overview = context.overview;
    let _ = writeln!(out, "## Sentiment over time\n");
    let negative: Vec<u64> = overview
        .sentiment_by_period
        .values()
        .map(|c| c.negative)
        .collect();
    let shares: Vec<u64> = overview
        .sentiment_by_period
        .values()
        .map(|counts| (counts.negative_share() * 100.0).round() as u64)
        .collect();
    let _ = writeln!(
        out,
        "Negative documents {} · negative share {}\n",
        sparkline(&negative),
        sparkline(&shares)
    );
    let rows = overview
        .sentiment_by_period
        .iter()
        .map(|(period, counts)| (period.clone(), *counts));
    sentiment_table(out, "Month", rows);
    if overview.undated > 0 {
        let _ = writeln!(
            out,
            "Not in this table: {} without a date.\n",
            plural(overview.undated, "document")
        );
    }
}

fn sentiment_table(
    out: &mut String,
    first: &str,
    rows: impl Iterator<Item = (String, SentimentCounts)>,
) {
    let _ = writeln!(
        out,
        "| {first} | Documents | Negative | Neutral | Positive | Negative share |"
    );
    let _ = writeln!(out, "|---|---:|---:|---:|---:|---:|");
    for (label, counts) in rows {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} |",
            escape(&label),
            counts.total(),
            counts.negative,
            counts.neutral,
            counts.positive,
            percent(counts.negative_share())
        );
    }
    out.push('\n');
}

fn new_and_spiking(out: &mut String, context: &Context) {
    let _ = writeln!(out, "## New and spiking problems\n");
    let problems = context.new_or_spiking();
    if problems.is_empty() {
        let _ = writeln!(out, "None this period.\n");
        return;
    }
    for problem in problems {
        let _ = writeln!(
            out,
            "- **{}** ({}, {}): {}, {}",
            escape(&problem.title),
            problem.id,
            escape(&problem.team),
            status_label(problem),
            plural(problem.size, "document")
        );
    }
    out.push('\n');
}

fn topics(out: &mut String, context: &Context) {
    let _ = writeln!(out, "## Topics by sentiment\n");
    let rows = context.overview.topic_sentiment.iter().cloned();
    sentiment_table(out, "Topic", rows);
}

fn team_load(out: &mut String, context: &Context) {
    let _ = writeln!(out, "## Each team's load\n");
    let _ = writeln!(
        out,
        "| Team | Problems | Documents | New | Spiking | Report |"
    );
    let _ = writeln!(out, "|---|---:|---:|---:|---:|---|");
    for team in context.teams_by_load() {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | [{}]({}) |",
            escape(team.name),
            team.active.len(),
            team.documents(),
            team.count_status(crate::problem::ProblemStatus::New),
            team.spikes(),
            team.report_path("md"),
            team.report_path("md")
        );
    }
    out.push('\n');
}

fn coverage(out: &mut String, context: &Context) {
    let overview = context.overview;
    let coverage = &overview.coverage;
    let _ = writeln!(out, "## Data coverage\n");
    let _ = writeln!(out, "- documents in the archive: {}", overview.documents);
    let _ = writeln!(
        out,
        "- rows read over {}: {} ({} accepted, {} duplicate, {} rejected)",
        plural(coverage.runs, "run"),
        coverage.read,
        coverage.accepted,
        coverage.duplicate,
        coverage.rejected
    );
    let _ = writeln!(out, "- languages: {}", counts_line(&overview.languages));
    let _ = writeln!(out, "- sources: {}", counts_line(&overview.sources));
}

fn counts_line(counts: &[(String, u64)]) -> String {
    if counts.is_empty() {
        return "none recorded".to_string();
    }
    counts
        .iter()
        .map(|(label, count)| format!("{} {count}", escape(label)))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_keeps_text_on_one_line_and_markup_inert() {
        assert_eq!(escape("a | b\n<script> *x*"), r"a \| b \<script\> \*x\*");
        assert_eq!(escape("刹车  异响"), "刹车 异响");
        assert_eq!(escape("response_time _x_"), r"response_time \_x\_");
    }
}
