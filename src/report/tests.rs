//! Tests of the report stage over a small index mined with the hashing encoder and a hand-built
//! problems file.

use std::collections::BTreeMap;

use super::*;
use crate::config::ModelConfig;
use crate::fault::Fault;
use crate::model::hashing::HashingEncoder;
use crate::model::{Encoder, ModelError};
use crate::pipeline::{mine_with, MineSettings};
use crate::problem::{Assignment, Problem, ProblemStatus, Quote};
use crate::progress::NoProgress;

const INPUT: &str = "id,date,source,text\n\
    e1,2026-07-03,complaint,The brakes make a grinding noise and nobody called me back\n\
    e2,2026-08-20,review,Quick service and a friendly advisor\n\
    e3,2026-09-02,review,Noise from the brakes again after the repair\n\
    z1,2026-09-10,complaint,刹车有异响，修了两次还是不好\n\
    z2,,review,剎車有異響，服務態度也很差\n";

fn hashing(_: &ModelConfig) -> Result<Box<dyn Encoder>, ModelError> {
    Ok(Box::new(HashingEncoder::new(384)))
}

fn quote(id: &str, text: &str, language: &str) -> Quote {
    Quote {
        id: id.into(),
        text: text.into(),
        date: Some("2026-09-02".into()),
        language: language.into(),
        start: None,
        end: None,
    }
}

fn problem(id: &str, title: &str, team: &str, impact: f64) -> Problem {
    Problem {
        id: id.into(),
        title: title.into(),
        statement: String::new(),
        keywords: title.split(' ').map(String::from).collect(),
        quotes: Vec::new(),
        size: 2,
        units: 2,
        negative_share: 0.5,
        counts: BTreeMap::from([("2026-08".into(), 1), ("2026-09".into(), 1)]),
        status: ProblemStatus::Stable,
        spike: false,
        impact,
        customer_value: None,
        topic: None,
        team: team.into(),
        route_rule: "keyword".into(),
        route_reason: "matched 'brake'".into(),
        merged_from: Vec::new(),
        split_from: None,
        parent: None,
    }
}

fn problems() -> ProblemsFile {
    let mut brakes = problem("P0001", "brake noise repair", "after-sales", 7.5);
    brakes.quotes = vec![
        quote(
            "e3",
            "Noise from the brakes <script>alert(1)</script> see https://t.co/x",
            "en",
        ),
        quote("z1", "刹车有异响，修了两次还是不好", "zh-Hans"),
    ];
    brakes.status = ProblemStatus::Growing;
    brakes.spike = true;
    brakes.customer_value = Some(12_000.0);
    let mut chinese = problem("P0002", "刹车 异响", "售后 团队", 9.0);
    chinese.status = ProblemStatus::New;
    let mut gone = problem("P0003", "late delivery", "after-sales", 0.0);
    gone.status = ProblemStatus::Gone;
    gone.size = 0;
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
        candidates: 4,
        candidate_units: 4,
        unassigned_share: 0.25,
        problems: vec![brakes, chinese, gone],
        assignments: vec![
            assignment("e1", "P0001", "after-sales"),
            assignment("e3", "P0001", "after-sales"),
            assignment("z1", "P0002", "售后 团队"),
        ],
        themes: Vec::new(),
    }
}

fn mined_workspace() -> (tempfile::TempDir, Workspace) {
    let directory = tempfile::tempdir().unwrap();
    let workspace = Workspace::init(&directory.path().join("ws")).unwrap();
    let input = directory.path().join("input.csv");
    std::fs::write(&input, INPUT).unwrap();
    let settings = MineSettings {
        inputs: vec![input],
        index_threads: 1,
        period: None,
        fault: Default::default(),
    };
    mine_with(&workspace, &settings, &hashing, &NoProgress).unwrap();
    (directory, workspace)
}

#[test]
fn every_report_file_is_written_and_the_html_fetches_nothing() {
    let (_directory, workspace) = mined_workspace();
    let summary = write_reports(&workspace, &problems(), &Fault::none(), &NoProgress).unwrap();
    let names: Vec<String> = summary
        .files
        .iter()
        .map(|path| {
            path.strip_prefix(&summary.directory)
                .unwrap()
                .display()
                .to_string()
        })
        .collect();
    assert_eq!(
        names,
        [
            "teams/after-sales.md",
            "teams/after-sales.html",
            "teams/售后-团队.md",
            "teams/售后-团队.html",
            "summary.md",
            "summary.html",
            "assignments.csv",
            "assignments.json",
            "documents.parquet"
        ]
    );
    assert_eq!((summary.teams, summary.documents), (2, 5));
    for path in summary
        .files
        .iter()
        .filter(|path| path.extension().unwrap() == "html")
    {
        let html = std::fs::read_to_string(path).unwrap();
        assert!(
            !html.contains("http://") && !html.contains("https://"),
            "{}",
            path.display()
        );
        assert!(!html.contains("<script"), "{}", path.display());
    }
}

#[test]
fn a_team_without_problems_in_a_rerun_loses_its_report() {
    let (_directory, workspace) = mined_workspace();
    let mut file = problems();
    let teams = workspace.reports_dir(&file.period).join("teams");
    write_reports(&workspace, &file, &Fault::none(), &NoProgress).unwrap();
    let notes = teams.join("notes.txt");
    std::fs::write(&notes, "kept").unwrap();
    for problem in &mut file.problems {
        problem.team = "after-sales".into();
    }
    write_reports(&workspace, &file, &Fault::none(), &NoProgress).unwrap();
    assert!(teams.join("after-sales.html").is_file());
    assert!(!teams.join("售后-团队.html").exists());
    assert!(!teams.join("售后-团队.md").exists());
    assert!(notes.is_file(), "only reports are removed");
}

#[test]
fn team_reports_rank_by_impact_and_keep_chinese_text() {
    let (_directory, workspace) = mined_workspace();
    let summary = write_reports(&workspace, &problems(), &Fault::none(), &NoProgress).unwrap();
    let team = std::fs::read_to_string(summary.directory.join("teams/after-sales.md")).unwrap();
    assert!(team.contains("## 1. brake noise repair (P0001)"), "{team}");
    assert!(team.contains("status **growing, spike**"), "{team}");
    assert!(team.contains("customer value 12,000"), "{team}");
    assert!(team.contains("> 刹车有异响，修了两次还是不好"), "{team}");
    assert!(team.contains("## No longer seen this period"), "{team}");
    let html = std::fs::read_to_string(summary.directory.join("summary.html")).unwrap();
    let chinese_title = html.find("刹车 异响").unwrap();
    assert!(
        chinese_title < html.find("brake noise repair").unwrap(),
        "ranked by impact"
    );
    assert!(html.contains("Noto Sans CJK SC"));
    assert!(html.contains("href=\"/problem/P0002\""));
}

#[test]
fn problems_show_their_theme_and_statement_and_reports_list_the_themes() {
    let (_directory, workspace) = mined_workspace();
    let mut file = problems();
    file.problems[0].parent = Some("T01".into());
    file.problems[0].statement = "the brakes squeal again".into();
    file.problems[2].parent = Some("T01".into());
    file.themes = vec![crate::problem::Theme {
        id: "T01".into(),
        title: "brakes".into(),
        problems: vec!["P0001".into(), "P0003".into()],
    }];
    let summary = write_reports(&workspace, &file, &Fault::none(), &NoProgress).unwrap();
    let team = std::fs::read_to_string(summary.directory.join("teams/after-sales.md")).unwrap();
    assert!(team.contains("## Themes"), "{team}");
    // The gone problem is not listed under the theme.
    assert!(
        team.contains("- **brakes** (2 documents): brake noise repair (P0001)\n"),
        "{team}"
    );
    assert!(
        team.contains("Theme: brakes › brake noise repair"),
        "{team}"
    );
    assert!(
        team.contains("In a customer's words: “the brakes squeal again”"),
        "{team}"
    );
    let html = std::fs::read_to_string(summary.directory.join("summary.html")).unwrap();
    assert!(
        html.contains("<a href=\"teams/after-sales.html#P0001\">brake noise repair</a>"),
        "{html}"
    );
    let other = std::fs::read_to_string(summary.directory.join("teams/售后-团队.md")).unwrap();
    assert!(!other.contains("## Themes"), "{other}");
}

#[test]
fn summary_counts_come_from_the_index_and_the_run_log() {
    let (_directory, workspace) = mined_workspace();
    let summary = write_reports(&workspace, &problems(), &Fault::none(), &NoProgress).unwrap();
    let text = std::fs::read_to_string(summary.directory.join("summary.md")).unwrap();
    assert!(text.contains("- documents in the archive: 5"), "{text}");
    assert!(
        text.contains("rows read over 1 run: 5 (5 accepted, 0 duplicate, 0 rejected)"),
        "{text}"
    );
    assert!(text.contains("| 2026-07 | 1 |"), "{text}");
    assert!(
        text.contains("Not in this table: 1 document without a date."),
        "{text}"
    );
    assert!(text.contains("sources: review 3, complaint 2"), "{text}");
}

#[test]
fn assignments_carry_the_problem_title() {
    let (_directory, workspace) = mined_workspace();
    let summary = write_reports(&workspace, &problems(), &Fault::none(), &NoProgress).unwrap();
    let csv = std::fs::read_to_string(summary.directory.join("assignments.csv")).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 4, "{csv}");
    assert!(lines[0].starts_with("problem,status,spike,title,keywords,size,trend,impact,team"));
    assert!(lines
        .iter()
        .any(|line| line.starts_with("P0002,") && line.contains("刹车 异响")));
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(summary.directory.join("assignments.json")).unwrap())
            .unwrap();
    assert!(json
        .as_array()
        .unwrap()
        .iter()
        .any(|row| row["title"] == "刹车 异响"));
}

#[test]
fn documents_parquet_holds_every_document_with_its_enrichments() {
    use parquet::file::reader::{FileReader, SerializedFileReader};
    use parquet::record::Field;
    let (_directory, workspace) = mined_workspace();
    let summary = write_reports(&workspace, &problems(), &Fault::none(), &NoProgress).unwrap();
    let file = std::fs::File::open(summary.directory.join("documents.parquet")).unwrap();
    let reader = SerializedFileReader::new(file).unwrap();
    let mut rows = BTreeMap::new();
    for row in reader.get_row_iter(None).unwrap() {
        let row = row.unwrap();
        let columns: BTreeMap<String, Field> = row
            .get_column_iter()
            .map(|(name, field)| (name.clone(), field.clone()))
            .collect();
        rows.insert(columns["id"].to_string(), columns);
    }
    assert_eq!(rows.len(), 5);
    let z1 = &rows["\"z1\""];
    assert_eq!(z1["cluster"].to_string(), "\"P0002\"");
    assert_eq!(z1["team"].to_string(), "\"售后 团队\"");
    assert_eq!(z1["language"].to_string(), "\"zh-Hans\"");
    assert!(matches!(z1["sentiment"], Field::Str(_)));
    assert!(matches!(z1["sentiment_score"], Field::Double(_)));
    assert!(matches!(z1["date"], Field::Date(_)));
    assert!(matches!(rows["\"z2\""]["date"], Field::Null));
}

#[test]
fn loading_problems_names_the_missing_file_and_finds_the_latest_period() {
    let (_directory, workspace) = mined_workspace();
    // mine writes the period's problems; start from a workspace that has none.
    let _ = std::fs::remove_dir_all(workspace.root().join("reports"));
    let message = load_problems(&workspace, None).unwrap_err().to_string();
    assert!(message.contains("vocmine mine"), "{message}");
    let message = load_problems(&workspace, Some("2026-01"))
        .unwrap_err()
        .to_string();
    assert!(message.contains("2026-01/problems.json"), "{message}");
    for bad in ["../../etc", "..", "a/b", ""] {
        let error = load_problems(&workspace, Some(bad)).unwrap_err();
        assert!(
            matches!(error, ReportError::InvalidPeriod(_)),
            "{bad}: {error}"
        );
    }
    for period in ["2026-08", "2026-09"] {
        let mut file = problems();
        file.period = period.into();
        let path = workspace.reports_dir(period).join(PROBLEMS_FILE);
        write_atomically(&path, &serde_json::to_vec(&file).unwrap()).unwrap();
    }
    assert_eq!(load_problems(&workspace, None).unwrap().period, "2026-09");
    assert_eq!(
        load_problems(&workspace, Some("2026-08")).unwrap().period,
        "2026-08"
    );
    std::fs::write(workspace.reports_dir("2026-08").join(PROBLEMS_FILE), "{").unwrap();
    let error = load_problems(&workspace, Some("2026-08")).unwrap_err();
    assert!(
        matches!(error, ReportError::InvalidProblems { .. }),
        "{error}"
    );
}
