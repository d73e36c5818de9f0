//! The search page's static parts, compiled into the binary: the HTML skeleton, its stylesheet
//! and its script, put together into one self-contained document (nothing is fetched from any
//! network; the script talks only to this server's API).

/// The stylesheet shared by every page.
pub const STYLE: &str = include_str!("assets/style.css");

/// The search page's script.
pub const SCRIPT: &str = include_str!("assets/search.js");

const SKELETON: &str = include_str!("assets/search.html");

/// The search page with its stylesheet and script inlined.
pub fn search_page() -> String {
    SKELETON
        .replacen("{{STYLE}}", STYLE, 1)
        .replacen("{{SCRIPT}}", SCRIPT, 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_is_self_contained_and_inserts_no_markup() {
        let page = search_page();
        assert!(!page.contains("{{"), "a placeholder was left");
        for remote in ["http://", "https://", "//cdn", "@import", "url("] {
            assert!(!page.contains(remote), "the page references {remote}");
        }
        assert!(!SCRIPT.contains("innerHTML") && !SCRIPT.contains("insertAdjacentHTML"));
        assert!(!SCRIPT.contains("document.write"));
    }
}
