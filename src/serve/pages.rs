//! The HTML pages: the search page (static; its script calls the API), and the document and
//! problem pages, rendered here with every value escaped. A workspace without problems files
//! still has working document pages, and problem pages say why they are empty.

use super::html::{self, escape, url_component};
use super::request::{Reply, RequestError, POLICY_SCRIPT, POLICY_STATIC};
use super::{api, assets, lookup, problems, ServeState};
use crate::problem::{Problem, ProblemsFile};
use std::fmt::Write;

/// Assigned document ids linked from a problem page.
const PROBLEM_PAGE_DOCUMENTS: usize = 20;

/// Longest quote shown on a problem page, in characters (complaint narratives run to pages);
/// the quote's document page has the whole text.
const QUOTE_CHARS: usize = 500;

/// `GET /`.
pub fn search_page() -> Reply {
    Reply::html(200, assets::search_page(), POLICY_SCRIPT)
}

/// `GET /document/<id>[?unit=START-END]`.
pub fn document_page(
    state: &ServeState,
    id: &str,
    unit: Option<(usize, usize)>,
) -> Result<Reply, RequestError> {
    let document = lookup::find_document(&state.index, id)?.ok_or_else(|| api::no_document(id))?;
    let rating = document.rating.map(|rating| rating.to_string());
    let score = document.sentiment_score.map(|score| format!("{score:.2}"));
    let sentiment = match (&document.sentiment, score) {
        (Some(label), Some(score)) => Some(format!("{label} ({score})")),
        (label, _) => label.clone(),
    };
    let mut body = format!(
        "<h1>Document {}</h1><blockquote class=\"text\" lang=\"{}\">{}</blockquote>",
        escape(&document.id),
        escape(document.language.as_deref().unwrap_or("")),
        highlighted(&document.text, unit)
    );
    body.push_str(&html::details(&[
        ("Date", document.date.clone()),
        ("Rating", rating),
        ("Source", document.source.clone()),
        ("Channel", document.channel.clone()),
        ("Location", document.location.clone()),
        ("Product", document.product.clone()),
        ("Language", document.language.clone()),
        ("Sentiment", sentiment),
        ("Topic", document.topic.clone()),
        ("Team", document.team.clone()),
        ("Problem", document.cluster.clone()),
        ("Added by run", document.run.clone()),
        ("Input", document.origin.clone()),
    ]));
    body.push_str("<p class=\"links\">");
    if let Some(cluster) = &document.cluster {
        let _ = write!(
            body,
            "<a href=\"/problem/{}\">Problem {}</a> · <a href=\"/?q={}\">Its documents</a> · ",
            url_component(cluster),
            escape(cluster),
            url_component(&format!("cluster:{cluster}"))
        );
    }
    body.push_str("<a href=\"/\">Back to search</a></p>");
    Ok(Reply::html(
        200,
        html::page(&format!("Document {}", document.id), &body),
        POLICY_STATIC,
    ))
}

/// The escaped text with `text[start..end]` in a `<mark>`, when those offsets are a unit of it
/// (on character boundaries); otherwise the whole text plain.
fn highlighted(text: &str, unit: Option<(usize, usize)>) -> String {
    match unit {
        Some((start, end))
            if end <= text.len() && text.is_char_boundary(start) && text.is_char_boundary(end) =>
        {
            format!(
                "{}<mark>{}</mark>{}",
                escape(&text[..start]),
                escape(&text[start..end]),
                escape(&text[end..])
            )
        }
        _ => escape(text),
    }
}

/// `GET /problem/<id>[?period=]`.
pub fn problem_page(
    state: &ServeState,
    id: &str,
    period: Option<&str>,
) -> Result<Reply, RequestError> {
    let (file, position) = state.problems.find(&state.reports_root(), id, period)?;
    let problem = &file.problems[position];
    let mut body = problem_header(&file, problem);
    body.push_str("<h2>Trend</h2>");
    body.push_str(&html::trend_chart(&problem.counts));
    body.push_str(&keyword_links(problem));
    body.push_str(&quotes(problem));
    body.push_str(&documents(&file, problem));
    Ok(Reply::html(
        200,
        html::page(&format!("{} {}", problem.id, problem.title), &body),
        POLICY_STATIC,
    ))
}

fn problem_header(file: &ProblemsFile, problem: &Problem) -> String {
    let spike = if problem.spike {
        " <span class=\"badge spike\">spike</span>"
    } else {
        ""
    };
    let theme = problem
        .parent
        .as_ref()
        .and_then(|parent| file.themes.iter().find(|theme| &theme.id == parent))
        .map(|theme| format!(" › {}", escape(&theme.title)))
        .unwrap_or_default();
    let mut header = format!(
        "<p class=\"crumbs\"><a href=\"/\">Search</a> › problems of {}{theme}</p>\
         <h1>{} <span class=\"muted\">{}</span></h1>\
         <p class=\"statement\">{}</p>\
         <p><span class=\"badge status-{}\">{}</span>{spike}</p>",
        escape(&file.period),
        escape(&problem.title),
        escape(&problem.id),
        escape(&problem.statement),
        problem.status.name(),
        problem.status.name(),
    );
    header.push_str(&html::details(&[
        ("Owning team", Some(problem.team.clone())),
        ("Why this team", Some(problem.route_reason.clone())),
        ("Topic", problem.topic.clone()),
        ("Documents", Some(problem.size.to_string())),
        ("Complaint units", Some(problem.units.to_string())),
        (
            "Negative",
            Some(format!("{:.0}%", problem.negative_share * 100.0)),
        ),
        ("Impact", Some(format!("{:.2}", problem.impact))),
        (
            "Customer value",
            problem.customer_value.map(|value| format!("{value:.0}")),
        ),
        ("Merged from", Some(problem.merged_from.join(", "))),
        ("Split from", problem.split_from.clone()),
    ]));
    header
}

fn keyword_links(problem: &Problem) -> String {
    let mut section = String::from("<h2>Keywords</h2><p class=\"chips\">");
    for keyword in &problem.keywords {
        let _ = write!(
            section,
            "<a class=\"chip\" href=\"/?q={}\">{}</a> ",
            url_component(&format!("\"{keyword}\"")),
            escape(keyword)
        );
    }
    section.push_str("</p>");
    section
}

/// `?unit=START-END` for a quote of a complaint unit, else nothing.
fn unit_query(quote: &crate::problem::Quote) -> String {
    match (quote.start, quote.end) {
        (Some(start), Some(end)) => format!("?unit={start}-{end}"),
        _ => String::new(),
    }
}

fn quotes(problem: &Problem) -> String {
    let mut section = String::from("<h2>What customers say</h2>");
    if problem.quotes.is_empty() {
        section.push_str("<p class=\"muted\">No representative quotes.</p>");
    }
    for quote in &problem.quotes {
        let _ = write!(
            section,
            "<blockquote class=\"quote\" lang=\"{}\">{}<footer><a href=\"/document/{}{}\">{}</a> {}</footer></blockquote>",
            escape(&quote.language),
            escape(&shortened(&quote.text, QUOTE_CHARS)),
            url_component(&quote.id),
            unit_query(quote),
            escape(&quote.id),
            escape(quote.date.as_deref().unwrap_or("")),
        );
    }
    section
}

/// The text cut at `limit` characters, with an ellipsis when cut.
fn shortened(text: &str, limit: usize) -> String {
    match text.char_indices().nth(limit) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_string(),
    }
}

fn documents(file: &ProblemsFile, problem: &Problem) -> String {
    let mut section = format!(
        "<h2>Documents</h2><p><a class=\"button\" href=\"/?q={}\">Search all documents of {}</a></p>",
        url_component(&format!("cluster:{}", problem.id)),
        escape(&problem.id),
    );
    let assigned = problems::assigned_documents(file, problem, PROBLEM_PAGE_DOCUMENTS);
    if !assigned.is_empty() {
        section.push_str("<ul class=\"documents\">");
        for id in &assigned {
            let _ = write!(
                section,
                "<li><a href=\"/document/{}\">{}</a></li>",
                url_component(id),
                escape(id)
            );
        }
        section.push_str("</ul>");
    }
    section
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_quotes_are_cut_on_a_character_boundary() {
        assert_eq!(shortened("刹车有异响", 2), "刹车…");
        assert_eq!(shortened("short", 10), "short");
    }
}
