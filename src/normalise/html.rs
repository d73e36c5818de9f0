//! HTML remnants in exported feedback: tags from web forms (`<br>`, `<p>`, `<b>`), comments, and
//! character entities (`&amp;`, `&#39;`, `&nbsp;`). Only known tag names with `name=value`
//! attributes are removed, so text such as `price < 5 and x>3` or `a<b and c>d` survives; block
//! tags become a space so words on either side stay apart. Entities are decoded after the tags
//! are gone, so an escaped `&lt;b&gt;` stays visible text; doubly escaped entities (`&amp;amp;`,
//! common in spreadsheet exports) are decoded twice.

use regex::{Captures, Regex};
use std::borrow::Cow;
use std::sync::LazyLock;

/// Tags, by name, that web forms and exports leave behind, and HTML comments.
static TAG: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r#"(?xi)
        <!--.*?-->
        | </?
          (a|abbr|b|big|blockquote|body|br|center|code|dd|del|div|dl|dt|em|font|h[1-6]|head|hr
          |html|i|img|ins|label|li|mark|ol|p|pre|q|s|small|span|strike|strong|sub|sup|table
          |tbody|td|tfoot|th|thead|tr|tt|u|ul)
          (?:\s+[a-z_:][-a-z0-9_:.]*\s*=\s*(?:"[^"<>]*"|'[^'<>]*'|[^\s"'<>]+))*
          \s*/?>"#,
    )
    .expect("valid tag regex")
});

/// Tags after which the next word starts a new line or block.
const BLOCK_TAGS: &[&str] = &[
    "blockquote",
    "body",
    "br",
    "dd",
    "div",
    "dl",
    "dt",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "li",
    "ol",
    "p",
    "pre",
    "table",
    "td",
    "th",
    "tr",
    "ul",
];

static ENTITY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"&(?:#([0-9]{1,7})|#[xX]([0-9a-fA-F]{1,6})|([a-zA-Z][a-zA-Z0-9]{1,7}));")
        .expect("valid entity regex")
});

/// Removes tags and decodes entities; returns the input untouched (borrowed) when it has
/// neither.
pub(super) fn strip_html(text: &str) -> Cow<'_, str> {
    let mut text = Cow::Borrowed(text);
    if text.contains('<') {
        text = Cow::Owned(TAG.replace_all(&text, replace_tag).into_owned());
    }
    for _ in 0..2 {
        if !text.contains('&') {
            break;
        }
        match ENTITY.replace_all(&text, decode_entity) {
            Cow::Borrowed(_) => break,
            Cow::Owned(decoded) => text = Cow::Owned(decoded),
        }
    }
    text
}

fn replace_tag(captures: &Captures) -> &'static str {
    let name = captures.get(1).map_or("", |m| m.as_str());
    if BLOCK_TAGS.iter().any(|tag| tag.eq_ignore_ascii_case(name)) {
        " "
    } else {
        ""
    }
}

fn decode_entity(captures: &Captures) -> String {
    let whole = &captures[0];
    let code = if let Some(decimal) = captures.get(1) {
        decimal.as_str().parse::<u32>().ok()
    } else if let Some(hex) = captures.get(2) {
        u32::from_str_radix(hex.as_str(), 16).ok()
    } else {
        return named_entity(&captures[3]).map_or_else(|| whole.to_string(), String::from);
    };
    match code.and_then(char::from_u32) {
        Some('\0') | None => whole.to_string(),
        Some(c) => c.to_string(),
    }
}

/// The named entities that occur in exported text; unknown names are left as written.
fn named_entity(name: &str) -> Option<&'static str> {
    Some(match name {
        "amp" | "AMP" => "&",
        "lt" | "LT" => "<",
        "gt" | "GT" => ">",
        "quot" | "QUOT" => "\"",
        "apos" => "'",
        "nbsp" | "ensp" | "emsp" | "thinsp" => " ",
        "shy" | "zwnj" | "zwj" | "lrm" | "rlm" => "",
        "copy" => "©",
        "reg" => "®",
        "trade" => "™",
        "hellip" => "…",
        "mdash" => "—",
        "ndash" => "–",
        "lsquo" => "‘",
        "rsquo" => "’",
        "ldquo" => "“",
        "rdquo" => "”",
        "laquo" => "«",
        "raquo" => "»",
        "middot" => "·",
        "bull" => "•",
        "deg" => "°",
        "times" => "×",
        "divide" => "÷",
        "yen" => "¥",
        "euro" => "€",
        "pound" => "£",
        "cent" => "¢",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::strip_html;

    #[test]
    fn strips_known_tags_only() {
        assert_eq!(strip_html("a<br />b"), "a b");
        assert_eq!(strip_html("<div class=\"x\">hi</div>"), " hi ");
        assert_eq!(strip_html("x<!-- note -->y"), "xy");
        assert_eq!(strip_html("<span style='a'>in</span>line"), "inline");
        assert_eq!(strip_html("a <foo> b"), "a <foo> b");
        assert_eq!(strip_html("if a<b and c>d"), "if a<b and c>d");
    }

    #[test]
    fn decodes_entities() {
        assert_eq!(
            strip_html("&lt;&gt;&amp;&quot;&#39;&#x27;&apos;"),
            "<>&\"'''"
        );
        assert_eq!(
            strip_html("&unknown; &#0; &#xFFFFFF;"),
            "&unknown; &#0; &#xFFFFFF;"
        );
        assert_eq!(strip_html("&amp;lt;"), "<");
    }
}
