//! The bundled demo corpus, mined as the quick start mines it (real encoder, demo config): the
//! executive summary and every team's Markdown report are snapshot-tested, with the run id
//! filtered, so a change in what users read first shows up in review; and the answer is the
//! same however the run is done: 1 or 2 libtorch threads, a cold cache or one filled in another
//! order, the input files in either order.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use vocmine::index::{stored_documents, DocumentIndex};
use vocmine::problem::ProblemsFile;
use vocmine::workspace::Workspace;

use crate::util::{vocmine_real, Scratch};

const DEMO: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/corpora/demo");

/// The demo's input files, in the order `mine corpora/demo` reads them.
const FILES: &[&str] = &["complaints.jsonl", "reviews.csv", "reviews_zh.csv"];

fn latest_reports(workspace: &Path) -> PathBuf {
    let mut periods: Vec<PathBuf> = std::fs::read_dir(workspace.join("reports"))
        .expect("reports written")
        .map(|entry| entry.expect("entry").path())
        .filter(|path| path.is_dir())
        .collect();
    periods.sort();
    periods.pop().expect("one period")
}

/// A document's sentiment, the bits of its sentiment score, and its topic.
type Decided = (Option<String>, Option<u64>, Option<String>);

/// A problem's id, title, team and member document ids.
type Found = (String, String, String, Vec<String>);

/// What a run decided, in the terms the issue pins: every document's sentiment (label and
/// score bits) and topic, and every problem's id, title, team and members.
#[derive(Debug, PartialEq)]
struct Outcome {
    documents: BTreeMap<String, Decided>,
    problems: Vec<Found>,
}

impl Outcome {
    fn read(workspace: &Path) -> Outcome {
        let index = DocumentIndex::open(&workspace.join("index")).expect("index");
        let all = tantivy::query::AllQuery;
        let documents = stored_documents(&index.searcher(), index.fields(), &all)
            .expect("documents")
            .into_iter()
            .map(|stored| {
                let enrichment = stored.enrichment;
                let score = enrichment.sentiment_score.map(f64::to_bits);
                (
                    stored.document.id,
                    (enrichment.sentiment, score, enrichment.topic),
                )
            })
            .collect();
        let path = latest_reports(workspace).join("problems.json");
        let file: ProblemsFile =
            serde_json::from_slice(&std::fs::read(path).expect("problems.json")).expect("json");
        let mut members: BTreeMap<&str, Vec<String>> = BTreeMap::new();
        for assignment in &file.assignments {
            let list = members.entry(assignment.problem.as_str()).or_default();
            list.push(assignment.id.clone());
        }
        let problems = file
            .problems
            .iter()
            .map(|problem| {
                let mut documents = members.remove(problem.id.as_str()).unwrap_or_default();
                documents.sort();
                let (id, title) = (problem.id.clone(), problem.title.clone());
                (id, title, problem.team.clone(), documents)
            })
            .collect();
        Outcome {
            documents,
            problems,
        }
    }
}

/// A workspace with the demo config, mined by `command` (which sets threads and cache) from
/// `inputs`.
fn mine_demo(command: assert_cmd::Command, inputs: &[PathBuf]) -> Scratch {
    let config = std::fs::read_to_string(Path::new(DEMO).join("vocmine.toml")).expect("config");
    let scratch = Scratch::with_config(&config);
    let inputs: Vec<&Path> = inputs.iter().map(PathBuf::as_path).collect();
    scratch.mine_with(command, &inputs);
    scratch
}

fn demo_files(order: impl Iterator<Item = &'static &'static str>) -> Vec<PathBuf> {
    order.map(|name| Path::new(DEMO).join(name)).collect()
}

/// The demo as the quick start mines it (the folder), with 1 thread and this test run's cache,
/// cold when the first test asks for it; shared by the tests below.
fn baseline() -> &'static (Scratch, Outcome) {
    static BASELINE: OnceLock<(Scratch, Outcome)> = OnceLock::new();
    BASELINE.get_or_init(|| {
        let scratch = mine_demo(vocmine_real(), &[PathBuf::from(DEMO)]);
        let outcome = Outcome::read(&scratch.workspace());
        (scratch, outcome)
    })
}

#[test]
fn demo_reports_match_their_snapshots() {
    let (scratch, _) = baseline();
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

#[test]
fn the_demo_gives_the_same_answer_however_the_run_is_done() {
    let (_, expected) = baseline();
    assert!(expected.problems.len() >= 5, "{:#?}", expected.problems);

    // (b) two libtorch threads, cold cache.
    let cold = tempfile::tempdir().expect("cache folder");
    let mut command = vocmine_real();
    command
        .env("VOCMINE_THREADS", "2")
        .env("VOCMINE_EMBEDDING_CACHE", cold.path());
    let two_threads = mine_demo(command, &demo_files(FILES.iter()));
    assert_eq!(
        &Outcome::read(&two_threads.workspace()),
        expected,
        "2 threads"
    );

    // (c) a cache filled in another order: file by file, last file first, into another
    // workspace, so every text met other batch neighbours.
    let refilled = tempfile::tempdir().expect("cache folder");
    let scratch = tempfile::tempdir().expect("scratch");
    let config = std::fs::read_to_string(Path::new(DEMO).join("vocmine.toml")).expect("config");
    let other = Workspace::init_with(&scratch.path().join("ws"), &config).expect("workspace");
    for file in demo_files(FILES.iter().rev()) {
        let mut command = vocmine_real();
        command
            .env("VOCMINE_EMBEDDING_CACHE", refilled.path())
            .arg("mine")
            .arg(other.root())
            .arg(&file);
        crate::util::succeed(command, "mine one file");
    }
    let mut command = vocmine_real();
    command.env("VOCMINE_EMBEDDING_CACHE", refilled.path());
    let warm = mine_demo(command, &demo_files(FILES.iter()));
    assert_eq!(
        &Outcome::read(&warm.workspace()),
        expected,
        "a cache filled in another order"
    );

    // (d) the input files listed in reverse order (this test run's warm cache).
    let reversed = mine_demo(vocmine_real(), &demo_files(FILES.iter().rev()));
    assert_eq!(
        &Outcome::read(&reversed.workspace()),
        expected,
        "files in reverse order"
    );
}
