//! Reports: `vocmine report` regenerates a period's reports from its problems.json over a
//! fixture workspace (mined with the deterministic hashing encoder, so no model is needed);
//! the Markdown is snapshot-tested, the HTML is checked to fetch nothing from any network.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use predicates::str::contains;
use vocmine::config::ModelConfig;
use vocmine::model::hashing::HashingEncoder;
use vocmine::model::{Encoder, ModelError};
use vocmine::pipeline::{mine_with, MineSettings};
use vocmine::problem::{Assignment, Problem, ProblemStatus, ProblemsFile, Quote};
use vocmine::progress::NoProgress;
use vocmine::workspace::Workspace;

use crate::util::{succeed, vocmine};

const INPUT: &str = "id,date,source,product,customer_value,text\n\
    e1,2026-07-03,complaint,car,1200,The brakes make a grinding noise and nobody called me back\n\
    e2,2026-07-20,review,car,300,Quick service and a friendly advisor\n\
    e3,2026-08-02,review,car,800,Noise from the brakes again after the repair\n\
    e4,2026-08-15,complaint,loan,5000,I was charged a late fee twice on my loan statement\n\
    e5,2026-09-01,complaint,loan,4200,The refund of the double fee never arrived\n\
    e6,2026-09-09,review,car,150,Brake squeal came back a week after the service\n\
    z1,2026-09-10,complaint,car,2600,刹车有异响，修了两次还是不好\n\
    z2,2026-09-12,review,car,900,剎車有異響，服務態度也很差\n\
    z3,2026-09-20,review,car,700,服务态度很好，刹车问题一次修好\n\
    u1,,review,app,,The app logs me out every time I open it\n";

/// A workspace with the fixture documents indexed and a hand-built problems.json for 2026-09.
struct Fixture {
    directory: tempfile::TempDir,
}

impl Fixture {
    fn new() -> Fixture {
        let directory = tempfile::tempdir().expect("temporary directory");
        let workspace = Workspace::init(&directory.path().join("ws")).expect("workspace");
        let input = directory.path().join("input.csv");
        std::fs::write(&input, INPUT).expect("input");
        let hashing = |_: &ModelConfig| -> Result<Box<dyn Encoder>, ModelError> {
            Ok(Box::new(HashingEncoder::new(384)))
        };
        let settings = MineSettings {
            inputs: vec![input],
            index_threads: 1,
            period: None,
            fault: Default::default(),
        };
        mine_with(&workspace, &settings, &hashing, &NoProgress).expect("mine");
        let problems = serde_json::to_vec_pretty(&problems()).expect("problems serialise");
        let path = workspace.reports_dir("2026-09").join("problems.json");
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, problems).unwrap();
        Fixture { directory }
    }

    fn workspace(&self) -> PathBuf {
        self.directory.path().join("ws")
    }

    fn reports(&self) -> PathBuf {
        self.workspace().join("reports/2026-09")
    }

    fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.reports().join(name)).expect(name)
    }

    /// Runs `vocmine report` and returns its stdout.
    fn report(&self) -> String {
        let mut command = vocmine();
        command.arg("report").arg(self.workspace());
        String::from_utf8(succeed(command, "report")).expect("utf-8")
    }

    /// Snapshots text with the workspace path replaced.
    fn snapshot(&self, name: &str, text: &str) {
        let workspace = self.workspace().display().to_string();
        let mut settings = insta::Settings::clone_current();
        settings.add_filter(&regex::escape(&workspace), "[WS]");
        settings.bind(|| insta::assert_snapshot!(name, text));
    }
}

fn quote(id: &str, text: &str, date: &str, language: &str) -> Quote {
    Quote {
        id: id.into(),
        text: text.into(),
        date: Some(date.into()),
        language: language.into(),
        start: None,
        end: None,
    }
}

fn problem(id: &str, title: &str, team: &str, counts: &[(&str, u64)]) -> Problem {
    Problem {
        id: id.into(),
        title: title.into(),
        statement: String::new(),
        keywords: title.split(" · ").map(String::from).collect(),
        quotes: Vec::new(),
        size: counts.iter().map(|(_, count)| count).sum(),
        units: counts.iter().map(|(_, count)| count).sum(),
        negative_share: 1.0,
        counts: counts
            .iter()
            .map(|(period, count)| (period.to_string(), *count))
            .collect::<BTreeMap<_, _>>(),
        status: ProblemStatus::Stable,
        spike: false,
        impact: 1.0,
        customer_value: None,
        topic: None,
        team: team.into(),
        route_rule: "keyword".into(),
        route_reason: format!(
            "keyword '{}' in every document",
            title.split(" · ").next().unwrap()
        ),
        merged_from: Vec::new(),
        split_from: None,
        parent: None,
    }
}

fn problems() -> ProblemsFile {
    let mut brakes = problem(
        "P0001",
        "brake · noise · repair",
        "after-sales",
        &[("2026-07", 1), ("2026-08", 1), ("2026-09", 1)],
    );
    brakes.impact = 6.25;
    brakes.negative_share = 0.6667;
    brakes.customer_value = Some(2150.0);
    brakes.topic = Some("repair_maintenance".into());
    brakes.merged_from = vec!["P0004".into()];
    brakes.quotes = vec![
        quote(
            "e1",
            "The brakes make a grinding noise and nobody called me back",
            "2026-07-03",
            "en",
        ),
        quote(
            "e3",
            "Noise from the brakes again after the repair",
            "2026-08-02",
            "en",
        ),
        quote(
            "e6",
            "Brake squeal came back a week after the service",
            "2026-09-09",
            "en",
        ),
    ];
    let mut chinese = problem("P0002", "刹车 · 异响 · 维修", "售后服务", &[("2026-09", 2)]);
    chinese.status = ProblemStatus::New;
    chinese.impact = 8.5;
    chinese.customer_value = Some(3500.0);
    chinese.route_rule = "topic".into();
    chinese.route_reason = "主题 repair_maintenance 占 100%".into();
    chinese.quotes = vec![
        quote(
            "z1",
            "刹车有异响，修了两次还是不好",
            "2026-09-10",
            "zh-Hans",
        ),
        quote("z2", "剎車有異響，服務態度也很差", "2026-09-12", "zh-Hant"),
    ];
    let mut fees = problem(
        "P0003",
        "fee · refund · charged",
        "billing-and-refunds",
        &[
            ("2026-06", 0),
            ("2026-07", 0),
            ("2026-08", 1),
            ("2026-09", 1),
        ],
    );
    fees.status = ProblemStatus::Growing;
    fees.spike = true;
    fees.impact = 4.0;
    fees.split_from = Some("P0001".into());
    fees.quotes = vec![quote(
        "e5",
        "The refund of the <b>double</b> fee never arrived | see https://bank.example/faq",
        "2026-09-01",
        "en",
    )];
    let mut gone = problem("P0005", "gate · delay", "after-sales", &[("2026-08", 2)]);
    gone.status = ProblemStatus::Gone;
    gone.size = 0;
    gone.impact = 0.0;
    let assignment = |id: &str, problem: &str, team: &str| Assignment {
        id: id.into(),
        problem: problem.into(),
        team: team.into(),
        start: None,
        end: None,
    };
    ProblemsFile {
        period: "2026-09".into(),
        run: "20260930T120000.000Z".into(),
        candidates: 7,
        candidate_units: 7,
        unassigned_share: 0.1429,
        problems: vec![chinese, brakes, fees, gone],
        assignments: vec![
            assignment("e1", "P0001", "after-sales"),
            assignment("e3", "P0001", "after-sales"),
            assignment("e6", "P0001", "after-sales"),
            assignment("z1", "P0002", "售后服务"),
            assignment("z2", "P0002", "售后服务"),
            assignment("e4", "P0003", "billing-and-refunds"),
            assignment("e5", "P0003", "billing-and-refunds"),
        ],
        themes: Vec::new(),
    }
}

fn html_files(directory: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in walk(directory) {
        if entry
            .extension()
            .is_some_and(|extension| extension == "html")
        {
            files.push(entry);
        }
    }
    files.sort();
    files
}

fn walk(directory: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(directory)
        .unwrap()
        .flat_map(|entry| {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path)
            } else {
                vec![path]
            }
        })
        .collect()
}

#[test]
fn report_regenerates_every_file_and_the_markdown_matches_the_snapshots() {
    let fixture = Fixture::new();
    let printed = fixture.report();
    for name in [
        "teams/after-sales.md",
        "teams/售后服务.html",
        "teams/billing-and-refunds.html",
        "summary.md",
        "summary.html",
        "assignments.csv",
        "assignments.json",
        "documents.parquet",
    ] {
        assert!(fixture.reports().join(name).is_file(), "{name} missing");
        assert!(printed.contains(name), "{name} not listed in {printed}");
    }
    fixture.snapshot("summary_md", &fixture.read("summary.md"));
    fixture.snapshot("team_after_sales_md", &fixture.read("teams/after-sales.md"));
    fixture.snapshot("team_chinese_md", &fixture.read("teams/售后服务.md"));
    fixture.snapshot(
        "team_billing_md",
        &fixture.read("teams/billing-and-refunds.md"),
    );
}

#[test]
fn html_reports_reference_nothing_on_a_network_and_escape_customer_text() {
    let fixture = Fixture::new();
    fixture.report();
    let files = html_files(&fixture.reports());
    assert_eq!(files.len(), 4, "{files:?}");
    for path in files {
        let html = std::fs::read_to_string(&path).unwrap();
        for forbidden in ["http://", "https://", "<script", "<link", "@import", "url("] {
            assert!(
                !html.contains(forbidden),
                "{} contains {forbidden}",
                path.display()
            );
        }
    }
    let billing = fixture.read("teams/billing-and-refunds.html");
    assert!(billing.contains("&lt;b&gt;double&lt;/b&gt;"), "{billing}");
}

#[test]
fn chinese_titles_keywords_and_team_names_render_with_a_cjk_font() {
    let fixture = Fixture::new();
    fixture.report();
    let team = fixture.read("teams/售后服务.html");
    assert!(
        team.contains("<h1>售后服务: recurring problems, 2026-09</h1>"),
        "{team}"
    );
    assert!(
        team.contains("<span class=\"keyword\">异响</span>"),
        "{team}"
    );
    assert!(
        team.contains("<blockquote lang=\"zh-Hant\">剎車有異響"),
        "{team}"
    );
    let summary = fixture.read("summary.html");
    assert!(
        summary.contains("font-family: Noto Sans CJK SC"),
        "page font"
    );
    let chart_label = summary
        .find(">\n刹车 · 异响 · 维修\n</text>")
        .expect("the costliest-problems chart labels the Chinese title");
    let chart_font = summary[..chart_label]
        .rfind("font-family=\"Noto Sans CJK SC")
        .unwrap();
    assert!(
        chart_label - chart_font < 300,
        "the label's text element names the font"
    );
}

#[test]
fn report_without_problems_says_to_mine_first() {
    let directory = tempfile::tempdir().unwrap();
    let workspace = directory.path().join("ws");
    vocmine().arg("init").arg(&workspace).assert().success();
    vocmine()
        .arg("report")
        .arg(&workspace)
        .assert()
        .failure()
        .stderr(contains("run `vocmine mine`"));
    vocmine()
        .arg("report")
        .arg(&workspace)
        .args(["--period", "2026-01"])
        .assert()
        .failure()
        .stderr(contains("2026-01/problems.json"));
}

#[test]
fn report_help_explains_the_outputs() {
    let output = vocmine().args(["report", "--help"]).output().unwrap();
    insta::assert_snapshot!("report_help", String::from_utf8(output.stdout).unwrap());
}
