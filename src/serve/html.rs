//! HTML building blocks for the server-rendered pages: escaping (every value that came from a
//! document, a file or a request goes through [`escape`]), the shared page frame with its inline
//! stylesheet, and a small inline SVG bar chart for a problem's trend. Nothing here fetches
//! anything: pages are self-contained.

use std::collections::BTreeMap;
use std::fmt::Write;

/// Escapes text for HTML element content and quoted attribute values (the reports' escaping,
/// without their rewriting of `://`).
pub use crate::report::escape_markup as escape;

/// Characters left as they are in a link component: RFC 3986's unreserved set.
const UNRESERVED: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Percent-encodes text for one path segment or query value of a link.
pub fn url_component(text: &str) -> String {
    percent_encoding::utf8_percent_encode(text, UNRESERVED).to_string()
}

/// A complete page: the shared header with a link back to search, then `body` (already HTML).
pub fn page(title: &str, body: &str) -> String {
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title} · vocmine</title><style>{style}</style></head>\
         <body><header class=\"top\"><a class=\"brand\" href=\"/\">vocmine</a>\
         <span class=\"tagline\">voice of the customer</span></header>\
         <main>{body}</main></body></html>\n",
        title = escape(title),
        style = super::assets::STYLE,
    )
}

/// The page shown for an error outside the API.
pub fn error_page(status: u16, message: &str) -> String {
    page(
        &format!("Error {status}"),
        &format!(
            "<h1>Error {status}</h1><p class=\"error\">{}</p><p><a href=\"/\">Back to search</a></p>",
            escape(message)
        ),
    )
}

/// A definition list of label / value rows; values are escaped, empty ones left out.
pub fn details(rows: &[(&str, Option<String>)]) -> String {
    let mut list = String::from("<dl class=\"details\">");
    for (label, value) in rows {
        if let Some(value) = value.as_deref().filter(|value| !value.is_empty()) {
            let _ = write!(list, "<dt>{}</dt><dd>{}</dd>", escape(label), escape(value));
        }
    }
    list.push_str("</dl>");
    list
}

/// An inline SVG bar chart of counts per period, with each count and period as text.
pub fn trend_chart(counts: &BTreeMap<String, u64>) -> String {
    if counts.is_empty() {
        return "<p class=\"muted\">No counts per period yet.</p>".to_string();
    }
    const BAR: usize = 64;
    const HEIGHT: f64 = 120.0;
    let largest = counts.values().copied().max().unwrap_or(1).max(1) as f64;
    let width = counts.len() * BAR + 10;
    let mut svg = format!(
        "<svg class=\"trend\" role=\"img\" aria-label=\"documents per period\" \
         width=\"{width}\" height=\"160\" viewBox=\"0 0 {width} 160\">"
    );
    for (position, (period, count)) in counts.iter().enumerate() {
        let height = (*count as f64 / largest * HEIGHT).max(1.0);
        let x = 5 + position * BAR;
        let top = 10.0 + HEIGHT - height;
        let _ = write!(
            svg,
            "<rect x=\"{x}\" y=\"{top:.1}\" width=\"{}\" height=\"{height:.1}\"></rect>\
             <text x=\"{}\" y=\"{:.1}\" class=\"count\">{count}</text>\
             <text x=\"{}\" y=\"155\" class=\"period\">{}</text>",
            BAR - 16,
            x + (BAR - 16) / 2,
            (top - 2.0).max(9.0),
            x + (BAR - 16) / 2,
            escape(period)
        );
    }
    svg.push_str("</svg>");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_neutralises_markup_and_quotes() {
        assert_eq!(
            escape("<script>alert('x')</script> & \"y\""),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;y&quot;"
        );
        assert_eq!(escape("刹车异响"), "刹车异响");
    }

    #[test]
    fn links_encode_every_special_character() {
        assert_eq!(url_component("a/b ?&#"), "a%2Fb%20%3F%26%23");
        assert_eq!(url_component("2026-10.html"), "2026-10.html");
    }

    #[test]
    fn the_trend_chart_has_one_bar_per_period_and_escapes_labels() {
        let counts = BTreeMap::from([("2026-09".to_string(), 3), ("<x>".to_string(), 6)]);
        let svg = trend_chart(&counts);
        assert_eq!(svg.matches("<rect").count(), 2);
        assert!(svg.contains("&lt;x&gt;") && !svg.contains("<x>"), "{svg}");
    }
}
