//! Helpers shared by the end-to-end tests: a temporary workspace, running the binary, reading
//! its outputs.

use assert_cmd::Command;
use std::path::{Path, PathBuf};

/// The vocmine binary, quiet and without colour, mining with the deterministic hashing encoder
/// (the fast tier: ingest, search, serve and workspace behaviour need no model).
pub fn vocmine() -> Command {
    let mut command = vocmine_real();
    command.env("VOCMINE_TEST_ENCODER", "hashing");
    command
}

/// The vocmine binary with the real encoder: one libtorch thread (tests run side by side) and
/// an embedding cache of this test run's own ([`run_cache`]), so no result depends on what an
/// earlier run left in `target/`.
pub fn vocmine_real() -> Command {
    let mut command = Command::cargo_bin("vocmine").expect("binary is built");
    command
        .env_remove("RUST_LOG")
        .env_remove("VOCMINE_TEST_ENCODER")
        .env("VOCMINE_THREADS", "1")
        .env("VOCMINE_EMBEDDING_CACHE", run_cache())
        .arg("--quiet");
    command
}

/// An embedding cache shared by the real-model tests of this process (each text is encoded once
/// per test run, not once per test), created empty; caches of earlier runs are removed.
pub fn run_cache() -> &'static Path {
    static CACHE: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    CACHE.get_or_init(|| {
        let root = Path::new(env!("CARGO_TARGET_TMPDIR"));
        let own = format!("embeddings-{}", std::process::id());
        if let Ok(entries) = std::fs::read_dir(root) {
            for entry in entries.flatten() {
                let name = entry.file_name().to_string_lossy().into_owned();
                if name.starts_with("embeddings") && name != own {
                    let _ = std::fs::remove_dir_all(entry.path());
                }
            }
        }
        let path = root.join(own);
        std::fs::create_dir_all(&path).expect("embedding cache folder");
        path
    })
}

/// Runs `command` and returns its stdout; panics with its stderr, naming `what`, when it fails.
pub fn succeed(mut command: Command, what: &str) -> Vec<u8> {
    let output = command.output().expect("run");
    assert!(
        output.status.success(),
        "{what} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output.stdout
}

/// A temporary directory holding a workspace `ws` and any input files.
pub struct Scratch {
    directory: tempfile::TempDir,
}

impl Scratch {
    /// A scratch directory with an initialised workspace.
    pub fn new() -> Scratch {
        let scratch = Scratch {
            directory: tempfile::tempdir().expect("temporary directory"),
        };
        vocmine()
            .arg("init")
            .arg(scratch.workspace())
            .assert()
            .success();
        scratch
    }

    /// A scratch directory whose workspace uses this configuration.
    pub fn with_config(config: &str) -> Scratch {
        let scratch = Scratch {
            directory: tempfile::tempdir().expect("temporary directory"),
        };
        let config_path = scratch.write("config.toml", config.as_bytes());
        vocmine()
            .arg("init")
            .arg(scratch.workspace())
            .arg("--config")
            .arg(config_path)
            .assert()
            .success();
        scratch
    }

    /// The workspace directory.
    pub fn workspace(&self) -> PathBuf {
        self.directory.path().join("ws")
    }

    /// Writes an input file and returns its path.
    pub fn write(&self, name: &str, contents: &[u8]) -> PathBuf {
        let path = self.directory.path().join(name);
        std::fs::write(&path, contents).expect("write input");
        path
    }

    /// Runs `vocmine mine` with the hashing encoder on the inputs and returns stdout; panics
    /// when it fails.
    pub fn mine(&self, inputs: &[&Path]) -> String {
        self.mine_with(vocmine(), inputs)
    }

    /// Runs `vocmine mine` with the real encoder ([`vocmine_real`]).
    pub fn mine_real(&self, inputs: &[&Path]) -> String {
        self.mine_with(vocmine_real(), inputs)
    }

    /// Runs `command mine WS inputs...` and returns stdout; panics when it fails.
    pub fn mine_with(&self, mut command: Command, inputs: &[&Path]) -> String {
        command.arg("mine").arg(self.workspace()).args(inputs);
        String::from_utf8(succeed(command, "mine")).expect("utf-8 output")
    }

    /// Runs `vocmine search ... --format json` and returns the parsed JSON.
    pub fn search(&self, query: &str, extra: &[&str]) -> serde_json::Value {
        let mut command = vocmine();
        command
            .arg("search")
            .arg(self.workspace())
            .arg(query)
            .args(["--format", "json"])
            .args(if extra.contains(&"--limit") {
                &[][..]
            } else {
                &["--limit", "100"][..]
            })
            .args(extra);
        serde_json::from_slice(&succeed(command, "search")).expect("json output")
    }

    /// Ids of the hits of a search.
    pub fn search_ids(&self, query: &str, extra: &[&str]) -> Vec<String> {
        let results = self.search(query, extra);
        let mut ids: Vec<String> = results["hits"]
            .as_array()
            .expect("hits")
            .iter()
            .map(|hit| hit["id"].as_str().expect("id").to_string())
            .collect();
        ids.sort();
        ids
    }

    /// The rows of the newest rejects file (file, line, reason, raw).
    pub fn rejects(&self) -> Vec<Vec<String>> {
        let directory = self.workspace().join("rejects");
        let Ok(entries) = std::fs::read_dir(&directory) else {
            return Vec::new();
        };
        let mut files: Vec<PathBuf> = entries.map(|entry| entry.unwrap().path()).collect();
        files.sort();
        let Some(newest) = files.last() else {
            return Vec::new();
        };
        csv::Reader::from_path(newest)
            .expect("rejects file")
            .records()
            .map(|record| record.unwrap().iter().map(str::to_owned).collect())
            .collect()
    }

    /// The totals line of a mine summary: (read, accepted, duplicate, rejected).
    pub fn totals(summary: &str) -> (u64, u64, u64, u64) {
        let line = summary
            .lines()
            .find(|line| line.starts_with("total "))
            .unwrap_or_else(|| panic!("no totals in {summary}"));
        let numbers: Vec<u64> = line
            .split_whitespace()
            .skip(1)
            .take(4)
            .map(|field| field.parse().expect("count"))
            .collect();
        (numbers[0], numbers[1], numbers[2], numbers[3])
    }
}
