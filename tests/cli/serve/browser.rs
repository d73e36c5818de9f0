//! The search page in a real browser: headless chromium renders it for an English, a Chinese and
//! a filtered query and a problem page (`--dump-dom` after the script ran), and takes 1280x900
//! screenshots kept as test artifacts under `target/tmp/serve-screenshots/`.

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

/// Runs headless chromium on a URL with extra arguments and returns its stdout.
fn browse(chromium: &Path, url: &str, extra: &[&str]) -> String {
    let profile = tempfile::tempdir().expect("profile directory");
    let output = std::process::Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            "--virtual-time-budget=5000",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(extra)
        .arg(url)
        .output()
        .expect("run chromium");
    assert!(output.status.success(), "chromium failed on {url}");
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Takes a 1280x900 screenshot into the test artifacts and checks it is a real picture.
fn screenshot(chromium: &Path, url: &str, name: &str) -> PathBuf {
    let folder = Path::new(env!("CARGO_TARGET_TMPDIR")).join("serve-screenshots");
    std::fs::create_dir_all(&folder).unwrap();
    let file = folder.join(name);
    let _ = std::fs::remove_file(&file);
    browse(
        chromium,
        url,
        &[
            &format!("--screenshot={}", file.display()),
            "--window-size=1280,900",
        ],
    );
    let png = std::fs::read(&file).unwrap_or_else(|_| panic!("no screenshot {name}"));
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n", "{name} is not a PNG");
    let width = u32::from_be_bytes(png[16..20].try_into().unwrap());
    let height = u32::from_be_bytes(png[20..24].try_into().unwrap());
    assert_eq!((width, height), (1280, 900), "{name}");
    // A blank or near-blank page of this size compresses to a few kilobytes.
    assert!(png.len() > 30_000, "{name} is only {} bytes", png.len());
    file
}

#[test]
fn the_search_page_renders_hits_facets_filters_and_problems_in_a_real_browser() {
    let Some(chromium) = chromium() else {
        return;
    };
    let scratch = mined();
    let reports = scratch.workspace().join("reports/2026-10");
    std::fs::create_dir_all(&reports).unwrap();
    std::fs::write(reports.join("problems.json"), PROBLEMS).unwrap();
    let served = Served::start(&scratch.workspace());

    let english = browse(&chromium, &served.url("/?q=brake"), &["--dump-dom"]);
    assert!(english.contains("3 matching documents"), "{english}");
    assert!(english.contains("<mark>brakes</mark>"), "{english}");
    assert!(english.contains("&lt;script&gt;alert('pwned')&lt;/script&gt;"));
    assert!(
        !english.contains("<script>alert"),
        "a review's markup ran as markup"
    );
    assert!(
        english.contains("data-field=\"source\""),
        "no facets: {english}"
    );
    assert!(
        english.contains("<span class=\"count\">2</span>"),
        "no facet counts"
    );
    assert!(
        english.contains("brake noise after repair"),
        "no problems list"
    );

    let chinese = browse(
        &chromium,
        &served.url("/?q=%E5%88%B9%E8%BD%A6"),
        &["--dump-dom"],
    );
    assert!(chinese.contains("<mark>刹车</mark>"), "{chinese}");
    assert!(
        chinese.contains("<mark>剎車</mark>"),
        "Traditional not highlighted: {chinese}"
    );

    let filtered = browse(
        &chromium,
        &served.url("/?q=brake&source=complaint"),
        &["--dump-dom"],
    );
    assert!(filtered.contains("1 matching document<"), "{filtered}");
    assert!(filtered.contains("href=\"/document/e1\""), "{filtered}");

    let problem = browse(&chromium, &served.url("/problem/P0001"), &["--dump-dom"]);
    assert!(problem.contains("brake noise after repair") && problem.contains("after-sales"));

    screenshot(&chromium, &served.url("/?q=brake"), "search-english.png");
    screenshot(
        &chromium,
        &served.url("/?q=%E5%88%B9%E8%BD%A6"),
        "search-chinese.png",
    );
    screenshot(&chromium, &served.url("/problem/P0001"), "problem.png");
}
