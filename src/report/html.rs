//! The HTML reports: self-contained pages (inline CSS, inline SVG charts, no scripts, nothing
//! fetched from a network) that a team can open from a mail or a file share. Every text from the
//! data is escaped, so a review containing markup shows as text.

use std::fmt::Write;

use crate::problem::{Problem, ProblemStatus, Quote};

use super::chart::{self, FONT_FAMILY};
use super::view::{self, amount, noun, percent, plural, problem_link, Context, TeamView};
use super::{ReportError, SentimentCounts};

const STYLE: &str = "
body { margin: 0; background: #f6f7f9; color: #1d2733; line-height: 1.5; }
main { max-width: 60rem; margin: 0 auto; padding: 1.5rem; }
h1 { font-size: 1.6rem; margin-bottom: 0.2rem; }
h2 { font-size: 1.2rem; margin-top: 2rem; }
section.problem { background: #fff; border: 1px solid #dde1e6; border-radius: 6px; padding: 0.5rem 1.2rem 1rem; margin: 1rem 0; }
section.problem h2 { margin-top: 0.6rem; }
.id, .muted { color: #5f6b7a; font-weight: normal; }
.badge { display: inline-block; font-size: 0.8rem; padding: 0 0.45rem; border-radius: 0.6rem; background: #e6ebf1; margin-left: 0.3rem; vertical-align: middle; }
.badge.new { background: #dcecff; } .badge.growing { background: #ffe9cc; } .badge.spike { background: #c0392b; color: #fff; }
.facts span { margin-right: 1.2rem; white-space: nowrap; }
.keyword { display: inline-block; background: #eef1f4; border-radius: 3px; padding: 0 0.35rem; margin: 0 0.2rem 0.2rem 0; }
blockquote { margin: 0.6rem 0; padding: 0.3rem 0.9rem; border-left: 3px solid #9aa5b1; background: #fafbfc; }
blockquote footer { color: #5f6b7a; font-size: 0.85rem; }
table { border-collapse: collapse; background: #fff; margin: 0.5rem 0 1rem; }
th, td { border: 1px solid #dde1e6; padding: 0.25rem 0.6rem; text-align: left; }
td.number, th.number { text-align: right; }
figure { margin: 0.5rem 0; } svg { max-width: 100%; height: auto; }
code { background: #eef1f4; padding: 0 0.3rem; border-radius: 3px; }
";

/// Escapes text for HTML element content and double- or single-quoted attribute values.
pub fn escape_markup(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len() + text.len() / 8);
    for character in text.chars() {
        match character {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            other => escaped.push(other),
        }
    }
    escaped
}

/// [`escape_markup`], and a URL that a customer wrote gets its `://` colon as a character
/// reference: it reads the same, and the page holds no text a check for network references
/// could mistake for one.
pub fn escape(text: &str) -> String {
    escape_markup(text).replace("://", "&#58;//")
}

fn page(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{}</title>\n<style>\nbody {{ font-family: {FONT_FAMILY}; }}{STYLE}</style>\n\
         </head>\n<body>\n<main>\n{body}</main>\n</body>\n</html>\n",
        escape(title)
    )
}

/// One team's report.
pub fn team(context: &Context, team: &TeamView) -> Result<String, ReportError> {
    let problems = context.problems;
    let title = format!("{}: recurring problems, {}", team.name, problems.period);
    let mut body = format!("<h1>{}</h1>\n", escape(&title));
    let _ = writeln!(
        body,
        "<p class=\"muted\">{} with {}, highest impact first (run {}).</p>",
        plural(team.active.len() as u64, "problem"),
        plural(team.documents(), "document"),
        escape(&problems.run)
    );
    body.push_str(&themes(context, &team.active, Some("")));
    for (rank, problem) in team.active.iter().enumerate() {
        body.push_str(&problem_section(context, rank + 1, problem)?);
    }
    if !team.gone.is_empty() {
        body.push_str("<h2>No longer seen this period</h2>\n<ul>\n");
        for problem in &team.gone {
            let _ = writeln!(
                body,
                "<li>{} <span class=\"id\">{}</span></li>",
                escape(&problem.title),
                escape(&problem.id)
            );
        }
        body.push_str("</ul>\n");
    }
    Ok(page(&title, &body))
}

/// The parent themes of `problems`, each with its problems' titles linked to their sections
/// (in the team report at `page`, or in each problem's team report when `page` is `None`),
/// e.g. "Baggage: lost luggage / damaged bag".
fn themes(context: &Context, problems: &[&Problem], page: Option<&str>) -> String {
    let themes = context.themes_of(problems);
    if themes.is_empty() {
        return String::new();
    }
    let mut out = String::from("<h2>Themes</h2>\n<ul class=\"themes\">\n");
    for (theme, members) in themes {
        let titles: Vec<String> = members
            .iter()
            .map(|problem| {
                let page = match page {
                    Some(page) => page.to_string(),
                    None => context
                        .teams
                        .iter()
                        .find(|team| team.name == problem.team)
                        .map(|team| team.report_path("html"))
                        .unwrap_or_default(),
                };
                format!(
                    "<a href=\"{}#{}\">{}</a>",
                    escape(&page),
                    escape(&problem.id),
                    escape(&problem.title)
                )
            })
            .collect();
        let documents: u64 = members.iter().map(|problem| problem.size).sum();
        let _ = writeln!(
            out,
            "<li><b>{}</b> <span class=\"muted\">{}</span>: {}</li>",
            escape(&theme.title),
            plural(documents, "document"),
            titles.join(" / ")
        );
    }
    out.push_str("</ul>\n");
    out
}

fn badges(problem: &Problem) -> String {
    let status = problem.status.name();
    let mut badges = format!("<span class=\"badge {status}\">{status}</span>");
    if problem.spike {
        badges.push_str("<span class=\"badge spike\">spike</span>");
    }
    badges
}

fn problem_section(
    context: &Context,
    rank: usize,
    problem: &Problem,
) -> Result<String, ReportError> {
    let id = escape(&problem.id);
    let mut section = format!("<section class=\"problem\" id=\"{id}\">\n");
    let _ = writeln!(
        section,
        "<h2>{rank}. {} <span class=\"id\">{id}</span>{}</h2>",
        escape(&problem.title),
        badges(problem)
    );
    if let Some(theme) = context.theme_of(problem) {
        let _ = writeln!(
            section,
            "<p class=\"muted\">Theme: {} › {}</p>",
            escape(&theme.title),
            escape(&problem.title)
        );
    }
    if !problem.statement.is_empty() {
        let _ = writeln!(
            section,
            "<p class=\"statement\">In a customer's words: “{}”</p>",
            escape(&problem.statement)
        );
    }
    let _ = writeln!(section, "<p class=\"facts\">{}</p>", facts(problem));
    let _ = writeln!(
        section,
        "<figure>{}<figcaption class=\"muted\">documents per month</figcaption></figure>",
        chart::period_bars(&problem.counts)?
    );
    let keywords: Vec<String> = problem
        .keywords
        .iter()
        .map(|word| format!("<span class=\"keyword\">{}</span>", escape(word)))
        .collect();
    let _ = writeln!(section, "<p>Keywords: {}</p>", keywords.join(""));
    let _ = writeln!(
        section,
        "<p>Routed here by the <b>{}</b> rule: {}</p>",
        escape(&problem.route_rule),
        escape(&problem.route_reason)
    );
    section.push_str(&lineage(problem));
    problem
        .quotes
        .iter()
        .for_each(|quote| section.push_str(&blockquote(quote)));
    let _ = writeln!(
        section,
        "<p>All its documents: <a href=\"{}\">open {id} in vocmine serve</a> or <code>{}</code></p>\n</section>",
        escape(&problem_link(problem)),
        escape(&context.search_command(problem))
    );
    Ok(section)
}

/// Impact, size, negativity, customer value and topic, as one line of spans.
fn facts(problem: &Problem) -> String {
    let mut facts = vec![
        format!("impact <b>{:.1}</b>", problem.impact),
        format!("<b>{}</b> {}", problem.size, noun(problem.size, "document")),
        format!("<b>{}</b> negative", percent(problem.negative_share)),
    ];
    if let Some(value) = problem.customer_value {
        facts.push(format!("customer value <b>{}</b>", amount(value)));
    }
    if let Some(topic) = &problem.topic {
        facts.push(format!("topic {}", escape(topic)));
    }
    facts
        .iter()
        .map(|fact| format!("<span>{fact}</span>"))
        .collect()
}

/// A quote in its language (so the browser picks fitting glyphs), with id and date.
fn blockquote(quote: &Quote) -> String {
    let language = match quote.language.as_str() {
        "" | "other" => String::new(),
        code => format!(" lang=\"{}\"", escape(code)),
    };
    format!(
        "<blockquote{language}>{}<footer>{}, {}, {}</footer></blockquote>\n",
        escape(&quote.text),
        escape(&quote.id),
        escape(quote.date.as_deref().unwrap_or("undated")),
        escape(&quote.language)
    )
}

fn lineage(problem: &Problem) -> String {
    let mut lines = String::new();
    if !problem.merged_from.is_empty() {
        let _ = writeln!(
            lines,
            "<p class=\"muted\">Merged from {}.</p>",
            escape(&problem.merged_from.join(", "))
        );
    }
    if let Some(parent) = &problem.split_from {
        let _ = writeln!(
            lines,
            "<p class=\"muted\">Split from {}.</p>",
            escape(parent)
        );
    }
    lines
}

/// The executive summary.
pub fn summary(context: &Context) -> Result<String, ReportError> {
    let problems = context.problems;
    let title = format!("Voice of the customer: {}", problems.period);
    let mut body = format!("<h1>{}</h1>\n", escape(&title));
    let _ = writeln!(
        body,
        "<p class=\"muted\">{} among {} negative or complaint documents ({} in no problem), run {}.</p>",
        plural(context.ranked().len() as u64, "recurring problem"),
        problems.candidates,
        percent(problems.unassigned_share),
        escape(&problems.run)
    );
    body.push_str(&costliest(context)?);
    body.push_str(&themes(context, &context.ranked(), None));
    body.push_str(&sentiment_over_time(context)?);
    body.push_str(&new_and_spiking(context));
    body.push_str("<h2>Topics by sentiment</h2>\n");
    body.push_str(&sentiment_table(
        "Topic",
        context.overview.topic_sentiment.iter().cloned(),
    ));
    body.push_str(&team_load(context)?);
    body.push_str(&coverage(context));
    Ok(page(&title, &body))
}

fn costliest(context: &Context) -> Result<String, ReportError> {
    let mut html = String::from("<h2>What costs the most</h2>\n");
    let top: Vec<&Problem> = context
        .ranked()
        .into_iter()
        .take(view::TOP_PROBLEMS)
        .collect();
    if top.is_empty() {
        html.push_str("<p>No recurring problems this period.</p>\n");
        return Ok(html);
    }
    let bars: Vec<(String, f64)> = top
        .iter()
        .map(|problem| (problem.title.clone(), problem.impact))
        .collect();
    let _ = writeln!(
        html,
        "<figure>{}<figcaption class=\"muted\">impact</figcaption></figure>",
        chart::labelled_bars(&bars, |value| format!("{value:.1}"))?
    );
    html.push_str(&costliest_table(&top));
    Ok(html)
}

/// The costliest problems as a table; the customer value column only when any has one.
fn costliest_table(top: &[&Problem]) -> String {
    let with_value = top.iter().any(|problem| problem.customer_value.is_some());
    let mut html = String::from("<table>\n<tr><th>#</th><th>Problem</th><th>Team</th><th>Status</th><th class=\"number\">Documents</th><th class=\"number\">Negative</th>");
    if with_value {
        html.push_str("<th class=\"number\">Customer value</th>");
    }
    html.push_str("<th class=\"number\">Impact</th></tr>\n");
    for (rank, problem) in top.iter().enumerate() {
        let value = match (with_value, problem.customer_value) {
            (false, _) => String::new(),
            (true, value) => format!(
                "<td class=\"number\">{}</td>",
                value.map(amount).unwrap_or_default()
            ),
        };
        let _ = writeln!(
            html,
            "<tr><td>{}</td><td><a href=\"{}\">{}</a> <span class=\"id\">{}</span></td><td>{}</td><td>{}</td><td class=\"number\">{}</td><td class=\"number\">{}</td>{value}<td class=\"number\">{:.1}</td></tr>",
            rank + 1,
            escape(&problem_link(problem)),
            escape(&problem.title),
            escape(&problem.id),
            escape(&problem.team),
            badges(problem),
            problem.size,
            percent(problem.negative_share),
            problem.impact
        );
    }
    html.push_str("</table>\n");
    html
}

fn sentiment_over_time(context: &Context) -> Result<String, ReportError> {
    let overview = context.overview;
    let mut html = String::from("<h2>Sentiment over time</h2>\n");
    let _ = writeln!(html, "<figure>{}<figcaption class=\"muted\">documents per month by sentiment</figcaption></figure>", chart::sentiment_lines(&overview.sentiment_by_period)?);
    let rows = overview
        .sentiment_by_period
        .iter()
        .map(|(period, counts)| (period.clone(), *counts));
    html.push_str(&sentiment_table("Month", rows));
    if overview.undated > 0 {
        let _ = writeln!(
            html,
            "<p class=\"muted\">Not in this chart: {} without a date.</p>",
            plural(overview.undated, "document")
        );
    }
    Ok(html)
}

fn sentiment_table(first: &str, rows: impl Iterator<Item = (String, SentimentCounts)>) -> String {
    let mut html = format!(
        "<table>\n<tr><th>{first}</th><th class=\"number\">Documents</th><th class=\"number\">Negative</th><th class=\"number\">Neutral</th><th class=\"number\">Positive</th><th class=\"number\">Negative share</th></tr>\n"
    );
    for (label, counts) in rows {
        let _ = writeln!(
            html,
            "<tr><td>{}</td><td class=\"number\">{}</td><td class=\"number\">{}</td><td class=\"number\">{}</td><td class=\"number\">{}</td><td class=\"number\">{}</td></tr>",
            escape(&label),
            counts.total(),
            counts.negative,
            counts.neutral,
            counts.positive,
            percent(counts.negative_share())
        );
    }
    html.push_str("</table>\n");
    html
}

fn new_and_spiking(context: &Context) -> String {
    let mut html = String::from("<h2>New and spiking problems</h2>\n");
    let problems = context.new_or_spiking();
    if problems.is_empty() {
        html.push_str("<p>None this period.</p>\n");
        return html;
    }
    html.push_str("<ul>\n");
    for problem in problems {
        let _ = writeln!(
            html,
            "<li><a href=\"{}\">{}</a> <span class=\"id\">{}, {}</span>{}: {}</li>",
            escape(&problem_link(problem)),
            escape(&problem.title),
            escape(&problem.id),
            escape(&problem.team),
            badges(problem),
            plural(problem.size, "document")
        );
    }
    html.push_str("</ul>\n");
    html
}

fn team_load(context: &Context) -> Result<String, ReportError> {
    let teams = context.teams_by_load();
    let mut html = String::from("<h2>Each team's load</h2>\n");
    let bars: Vec<(String, f64)> = teams
        .iter()
        .map(|team| (team.name.to_string(), team.documents() as f64))
        .collect();
    let _ = writeln!(html, "<figure>{}<figcaption class=\"muted\">documents in each team's problems</figcaption></figure>", chart::labelled_bars(&bars, |value| format!("{value:.0}"))?);
    html.push_str("<table>\n<tr><th>Team</th><th class=\"number\">Problems</th><th class=\"number\">Documents</th><th class=\"number\">New</th><th class=\"number\">Spiking</th></tr>\n");
    for team in teams {
        let _ = writeln!(
            html,
            "<tr><td><a href=\"{}\">{}</a></td><td class=\"number\">{}</td><td class=\"number\">{}</td><td class=\"number\">{}</td><td class=\"number\">{}</td></tr>",
            escape(&team.report_path("html")),
            escape(team.name),
            team.active.len(),
            team.documents(),
            team.count_status(ProblemStatus::New),
            team.spikes()
        );
    }
    html.push_str("</table>\n");
    Ok(html)
}

fn coverage(context: &Context) -> String {
    let overview = context.overview;
    let coverage = &overview.coverage;
    let counts = |counts: &[(String, u64)]| -> String {
        if counts.is_empty() {
            return "none recorded".to_string();
        }
        let parts: Vec<String> = counts
            .iter()
            .map(|(label, count)| format!("{} {count}", escape(label)))
            .collect();
        parts.join(", ")
    };
    format!(
        "<h2>Data coverage</h2>\n<ul>\n<li>documents in the archive: {}</li>\n\
         <li>rows read over {}: {} ({} accepted, {} duplicate, {} rejected)</li>\n\
         <li>languages: {}</li>\n<li>sources: {}</li>\n</ul>\n",
        overview.documents,
        plural(coverage.runs, "run"),
        coverage.read,
        coverage.accepted,
        coverage.duplicate,
        coverage.rejected,
        counts(&overview.languages),
        counts(&overview.sources)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_in_data_is_shown_as_text() {
        assert_eq!(
            escape("<script>alert('x')</script> & \"q\""),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;"
        );
        assert_eq!(escape("see https://t.co/x"), "see https&#58;//t.co/x");
    }
}
