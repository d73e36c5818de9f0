//! A run is a transaction: killed midway, it leaves the previous index intact and searchable,
//! and running it again completes the work.

use crate::util::{vocmine, Scratch};
use std::time::{Duration, Instant};

/// Rows of the run that is killed: enough to keep the encoder busy for several seconds.
const ROWS: u64 = 1_500;

#[test]
fn a_run_killed_midway_leaves_the_previous_index_and_a_rerun_completes() {
    let scratch = Scratch::new();
    let first = scratch.write(
        "first.csv",
        b"id,text\np1,the previous month's complaint about paint\n",
    );
    scratch.mine(&[&first]);
    // Texts new to the shared embedding cache, so the run is still encoding when it is killed.
    let nonce = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let mut big = b"id,text\n".to_vec();
    for row in 0..ROWS {
        big.extend_from_slice(
            format!(
                "n{row},customer {nonce}-{row} waited {} minutes for the loaner car\n",
                row % 97
            )
            .as_bytes(),
        );
    }
    let big = scratch.write("big.csv", &big);
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("vocmine"))
        .args(["--quiet", "mine"])
        .arg(scratch.workspace())
        .arg(&big)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Let it get well into the model stages, then kill it without warning.
    let started = Instant::now();
    while started.elapsed() < Duration::from_millis(2500) {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(
        child.try_wait().unwrap().is_none(),
        "the run finished before it could be killed; make the input bigger"
    );
    child.kill().unwrap();
    child.wait().unwrap();

    let results = scratch.search("*", &[]);
    assert_eq!(
        results["total"], 1,
        "the killed run leaked documents: {results}"
    );
    assert_eq!(scratch.search_ids("paint", &[]), ["p1"]);

    let summary = scratch.mine(&[&big]);
    assert_eq!(Scratch::totals(&summary), (ROWS, ROWS, 0, 0), "{summary}");
    assert_eq!(scratch.search("*", &[])["total"], ROWS + 1);
    let _ = vocmine();
}

mod reports {
    //! Runs stopped while writing reports, through `mine_with` and the hashing encoder: the fault
    //! hook stops the run at a named step, and the next run of the same input must leave reports
    //! that agree with the index and with `problems.json`.

    use crate::problems::{corpus, CONFIG};
    use parquet::file::reader::{FileReader, SerializedFileReader};
    use std::path::{Path, PathBuf};
    use vocmine::config::ModelConfig;
    use vocmine::fault::Fault;
    use vocmine::index::DocumentIndex;
    use vocmine::model::hashing::HashingEncoder;
    use vocmine::model::{Encoder, ModelError};
    use vocmine::pipeline::{mine_with, MineReport, MineSettings};
    use vocmine::problem::ProblemsFile;
    use vocmine::progress::NoProgress;
    use vocmine::workspace::Workspace;

    /// Mines `inputs`; the error as its message.
    fn mine(workspace: &Workspace, inputs: &[&Path], fault: Fault) -> Result<MineReport, String> {
        let hashing = |_: &ModelConfig| -> Result<Box<dyn Encoder>, ModelError> {
            Ok(Box::new(HashingEncoder::new(384)))
        };
        let settings = MineSettings {
            inputs: inputs.iter().map(|path| path.to_path_buf()).collect(),
            index_threads: 1,
            period: None,
            fault,
        };
        mine_with(workspace, &settings, &hashing, &NoProgress).map_err(|error| error.to_string())
    }

    fn parquet_rows(path: &Path) -> i64 {
        let reader = SerializedFileReader::new(std::fs::File::open(path).unwrap()).unwrap();
        reader.metadata().file_metadata().num_rows()
    }

    /// Every file under `folder` whose name starts with `.tmp`.
    fn temporary_files(folder: &Path) -> Vec<PathBuf> {
        let mut found = Vec::new();
        for entry in std::fs::read_dir(folder).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                found.extend(temporary_files(&path));
            } else if path
                .file_name()
                .unwrap()
                .to_str()
                .unwrap()
                .starts_with(".tmp")
            {
                found.push(path);
            }
        }
        found
    }

    /// The reports of `period` say what its problems.json and the index say.
    fn assert_consistent(workspace: &Workspace, period: &str) {
        let folder = workspace.reports_dir(period);
        let problems: ProblemsFile =
            serde_json::from_slice(&std::fs::read(folder.join("problems.json")).unwrap()).unwrap();
        let index = DocumentIndex::open(&workspace.index_dir()).unwrap();
        assert_eq!(
            parquet_rows(&folder.join("documents.parquet")),
            index.document_count() as i64,
            "documents.parquet holds every indexed document"
        );
        let summary = std::fs::read_to_string(folder.join("summary.md")).unwrap();
        assert!(
            summary.contains(&problems.run),
            "summary.md is from another run than problems.json ({}):\n{summary}",
            problems.run
        );
        let assignments = std::fs::read_to_string(folder.join("assignments.csv")).unwrap();
        assert_eq!(assignments.lines().count(), problems.problems.len() + 1);
        for team in std::fs::read_dir(folder.join("teams")).unwrap() {
            let report = std::fs::read_to_string(team.unwrap().path()).unwrap();
            assert!(report.contains(&problems.run), "a stale team report stayed");
        }
        assert_eq!(temporary_files(workspace.root()), Vec::<PathBuf>::new());
    }

    #[test]
    fn a_run_stopped_while_writing_reports_has_them_rewritten_by_the_next_run() {
        for step in [
            "report-teams",
            "report-summary",
            "report-documents",
            "report-marker",
        ] {
            let directory = tempfile::tempdir().unwrap();
            let workspace = Workspace::init_with(&directory.path().join("ws"), CONFIG).unwrap();
            let first = directory.path().join("first.csv");
            std::fs::write(&first, corpus("2026-09", 20, 1)).unwrap();
            mine(&workspace, &[&first], Fault::none()).unwrap();
            let more = directory.path().join("more.csv");
            std::fs::write(&more, corpus("2026-09", 40, 2)).unwrap();
            let error = mine(&workspace, &[&first, &more], Fault::fail_at(step).unwrap());
            let message = error.expect_err("the fault stops the run");
            assert!(message.contains(step), "{message}");
            // What a kill leaves besides: temporary files of the writes in flight.
            let folder = workspace.reports_dir("2026-09");
            std::fs::write(folder.join(".tmpKILLED"), "half a report").unwrap();
            std::fs::write(folder.join("teams").join(".tmpKILLED"), "half").unwrap();

            let rerun = mine(&workspace, &[&first, &more], Fault::none()).unwrap();
            let totals = rerun.files.iter().map(|file| file.duplicate).sum::<u64>();
            assert_eq!(
                totals, 180,
                "{step}: everything was committed before the fault"
            );
            assert_consistent(&workspace, "2026-09");
            let marker = folder.join(".reports.json");
            let finished = std::fs::metadata(&marker).unwrap().modified().unwrap();

            // Finished reports are left alone by a run that changes nothing.
            mine(&workspace, &[&first], Fault::none()).unwrap();
            let again = std::fs::metadata(&marker).unwrap().modified().unwrap();
            assert_eq!(finished, again, "{step}: finished reports were rewritten");
        }
    }
}

#[test]
fn a_run_killed_while_writing_documents_parquet_is_finished_by_the_next_run() {
    let scratch = Scratch::new();
    let first = scratch.write(
        "first.csv",
        b"id,date,text\nk1,2026-09-01,The brakes squeal every morning\n\
          k2,2026-09-02,Nobody called me back about the brakes\n",
    );
    scratch.mine(&[&first]);
    let more = scratch.write(
        "more.csv",
        b"id,date,text\nk3,2026-09-03,The invoice charged me twice\n\
          k4,2026-09-04,Grinding noise from the brakes again\n\
          k5,2026-09-05,The app crashes at login\n",
    );
    let killed = vocmine()
        .env("VOCMINE_FAULT", "report-documents:kill")
        .arg("mine")
        .arg(scratch.workspace())
        .arg(&more)
        .output()
        .unwrap();
    assert!(!killed.status.success(), "the fault did not stop the run");
    let folder = scratch.workspace().join("reports/2026-09");
    let leftovers = |folder: &std::path::Path| -> Vec<String> {
        std::fs::read_dir(folder)
            .unwrap()
            .map(|entry| entry.unwrap().file_name().into_string().unwrap())
            .filter(|name| name.starts_with(".tmp"))
            .collect()
    };
    assert_eq!(
        leftovers(&folder).len(),
        1,
        "the kill left the export's temporary file"
    );

    let summary = scratch.mine(&[&more]);
    assert_eq!(Scratch::totals(&summary), (3, 0, 3, 0), "{summary}");
    assert_eq!(leftovers(&folder), Vec::<String>::new());
    use parquet::file::reader::{FileReader, SerializedFileReader};
    let parquet = std::fs::File::open(folder.join("documents.parquet")).unwrap();
    let rows = SerializedFileReader::new(parquet)
        .unwrap()
        .metadata()
        .file_metadata()
        .num_rows();
    assert_eq!(rows, 5, "documents.parquet holds every indexed document");
    assert!(folder.join(".reports.json").is_file());
}
