//! The bundled demo corpus, mined as the quick start mines it (real encoder, demo config): the
//! executive summary and every team's Markdown report are snapshot-tested, with the run id
//! filtered, so a change in what users read first shows up in review.

use std::path::{Path, PathBuf};

use crate::util::Scratch;

const DEMO: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/corpora/demo");

fn latest_reports(workspace: &Path) -> PathBuf {
    let mut periods: Vec<PathBuf> = std::fs::read_dir(workspace.join("reports"))
        .expect("reports written")
        .map(|entry| entry.expect("entry").path())
        .filter(|path| path.is_dir())
        .collect();
    periods.sort();
    periods.pop().expect("one period")
}

#[test]
fn demo_reports_match_their_snapshots() {
    let config = std::fs::read_to_string(Path::new(DEMO).join("vocmine.toml")).expect("config");
    let scratch = Scratch::with_config(&config);
    scratch.mine(&[Path::new(DEMO)]);
    let reports = latest_reports(&scratch.workspace());
    let mut names = vec!["summary.md".to_string()];
    let mut teams: Vec<String> = std::fs::read_dir(reports.join("teams"))
        .expect("team reports")
        .map(|entry| {
            entry
                .expect("entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .filter(|name| name.ends_with(".md"))
        .map(|name| format!("teams/{name}"))
        .collect();
    teams.sort();
    assert!(teams.len() >= 3, "{teams:?}");
    names.extend(teams);
    let mut settings = insta::Settings::clone_current();
    settings.add_filter(r"\d{8}T\d{6}\.\d{3}Z", "[RUN]");
    settings.add_filter(
        &regex::escape(&scratch.workspace().display().to_string()),
        "[WS]",
    );
    for name in names {
        let text = std::fs::read_to_string(reports.join(&name)).expect("report");
        let snapshot = name.trim_end_matches(".md").replace(['/', '-'], "_");
        settings.bind(|| insta::assert_snapshot!(snapshot, text));
    }
}
