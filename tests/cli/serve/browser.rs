//! The search page in a real browser, used as a person uses it: headless chromium, driven over
//! the DevTools protocol ([`super::devtools`]), clicks into the search box, types an English
//! query key by key and presses Enter, clears it and enters a Chinese one as an input method
//! does, narrows the results with a facet, and opens a recurring problem from the side list. It
//! checks what the page shows after each step and keeps 1280x900 screenshots as test artifacts
//! under `target/tmp/serve-screenshots/`.

use super::devtools::Browser;
use super::{mined, Served, PROBLEMS};
use std::path::{Path, PathBuf};

/// chromium, or `None` when it is missing and the browser test may be skipped.
fn chromium() -> Option<PathBuf> {
    let path = PathBuf::from(
        std::env::var_os("VOCMINE_CHROMIUM").unwrap_or_else(|| "/usr/bin/chromium".into()),
    );
    if path.is_file() {
        return Some(path);
    }
    if std::env::var("VOCMINE_SKIP_BROWSER").as_deref() == Ok("1") {
        eprintln!(
            "SKIPPED the browser test: {} is missing and VOCMINE_SKIP_BROWSER=1",
            path.display()
        );
        return None;
    }
    panic!(
        "{} is missing: run scripts/install-browser (scripts/test does), or set \
         VOCMINE_SKIP_BROWSER=1 to skip the browser test",
        path.display()
    );
}

/// Saves a screenshot into the test artifacts and checks it is a real picture of the page.
fn screenshot(browser: &mut Browser, name: &str) -> PathBuf {
    let folder = Path::new(env!("CARGO_TARGET_TMPDIR")).join("serve-screenshots");
    std::fs::create_dir_all(&folder).unwrap();
    let file = folder.join(name);
    let png = browser.screenshot();
    std::fs::write(&file, &png).unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n", "{name} is not a PNG");
    let width = u32::from_be_bytes(png[16..20].try_into().unwrap());
    let height = u32::from_be_bytes(png[20..24].try_into().unwrap());
    assert_eq!((width, height), (1280, 900), "{name}");
    // A blank or near-blank page of this size compresses to a few kilobytes.
    assert!(png.len() > 30_000, "{name} is only {} bytes", png.len());
    file
}

/// Text of the element `id`, as a JavaScript expression.
fn text_of(id: &str) -> String {
    format!("document.getElementById('{id}').textContent")
}

/// Clicks into the search box, types `brake` key by key, presses Enter and waits for its three
/// hits.
fn search_brake_by_typing(browser: &mut Browser) {
    browser.click("#q");
    browser.type_keys("brake");
    browser.press("Enter", 13);
    browser.wait_until(
        &format!("{} === '3 matching documents'", text_of("summary")),
        "three hits for brake",
    );
}

#[test]
fn a_person_can_search_filter_and_open_a_problem_in_a_real_browser() {
    let Some(chromium) = chromium() else {
        return;
    };
    let scratch = mined();
    let reports = scratch.workspace().join("reports/2026-10");
    std::fs::create_dir_all(&reports).unwrap();
    std::fs::write(reports.join("problems.json"), PROBLEMS).unwrap();
    let served = Served::start(&scratch.workspace());
    let mut browser = Browser::start(&chromium);

    browser.navigate(&served.url("/"));
    browser.wait_until(
        &format!("{} !== 'Searching…'", text_of("summary")),
        "the first, empty search",
    );
    browser.wait_until(
        &format!(
            "{}.includes('brake noise after repair')",
            text_of("problems")
        ),
        "the problems list",
    );

    // English, typed key by key and sent with Enter.
    search_brake_by_typing(&mut browser);
    assert_eq!(browser.evaluate("location.search"), "?q=brake");
    let english = browser.html();
    assert!(english.contains("<mark>brakes</mark>"), "{english}");
    assert!(english.contains("&lt;script&gt;alert('pwned')&lt;/script&gt;"));
    assert!(
        !english.contains("<script>alert"),
        "a review's markup ran as markup"
    );
    assert!(
        english.contains("<span class=\"count\">2</span>"),
        "no facet counts"
    );
    screenshot(&mut browser, "search-english.png");

    // Chinese, committed as an input method commits it, after clearing the box.
    browser.click("#clear");
    browser.wait_until(
        "document.getElementById('q').value === '' && location.search === ''",
        "the cleared search",
    );
    browser.click("#q");
    browser.type_composed("刹车");
    browser.press("Enter", 13);
    browser.wait_until(
        "document.getElementById('hits').innerHTML.includes('<mark>剎車</mark>')",
        "Traditional hits for a Simplified query",
    );
    let chinese = browser.html();
    assert!(chinese.contains("<mark>刹车</mark>"), "{chinese}");
    screenshot(&mut browser, "search-chinese.png");

    // A facet narrows the English results and sets the matching filter.
    browser.click("#clear");
    browser.wait_until("location.search === ''", "the cleared search");
    search_brake_by_typing(&mut browser);
    browser.click("[data-field=source] button[title='Only source complaint']");
    browser.wait_until(
        &format!("{} === '1 matching document'", text_of("summary")),
        "one complaint about brakes",
    );
    assert_eq!(
        browser.evaluate("document.getElementById('source').value"),
        "complaint"
    );
    assert!(browser.html().contains("href=\"/document/e1\""));
    screenshot(&mut browser, "search-filtered.png");

    // The problem page, opened from the side list.
    browser.click("#problems a");
    browser.wait_until(
        "location.pathname === '/problem/P0001' && document.body.innerText.includes('after-sales')",
        "the problem page",
    );
    assert!(browser.html().contains("brake noise after repair"));
    screenshot(&mut browser, "problem.png");
}
