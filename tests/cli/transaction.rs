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
