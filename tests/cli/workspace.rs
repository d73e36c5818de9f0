//! `vocmine init` and the errors a user meets before any work starts.

use crate::util::{vocmine, Scratch};
use predicates::str::contains;

#[test]
fn init_writes_a_commented_config_and_refuses_to_overwrite_it() {
    let scratch = Scratch::new();
    let config = std::fs::read_to_string(scratch.workspace().join("vocmine.toml")).unwrap();
    assert!(config.contains("[columns]") && config.contains("# text ="));
    vocmine()
        .arg("init")
        .arg(scratch.workspace())
        .assert()
        .failure()
        .stderr(contains("already exists"));
}

#[test]
fn mining_into_a_directory_that_is_not_a_workspace_says_how_to_make_one() {
    let directory = tempfile::tempdir().unwrap();
    vocmine()
        .arg("mine")
        .arg(directory.path())
        .arg("whatever.csv")
        .assert()
        .code(1)
        .stderr(contains("vocmine init"));
}

#[test]
fn a_missing_input_file_is_named() {
    let scratch = Scratch::new();
    vocmine()
        .arg("mine")
        .arg(scratch.workspace())
        .arg("/no/such/export.csv")
        .assert()
        .code(1)
        .stderr(contains("/no/such/export.csv"));
}

#[test]
fn a_config_typo_is_reported_with_its_line() {
    let scratch = Scratch::new();
    let path = scratch.workspace().join("vocmine.toml");
    std::fs::write(&path, "[input]\nencodng = \"utf-8\"\n").unwrap();
    let input = scratch.write("a.csv", b"text\nhello\n");
    vocmine()
        .arg("mine")
        .arg(scratch.workspace())
        .arg(input)
        .assert()
        .code(1)
        .stderr(contains("encodng").and(contains("line 2")));
}

#[test]
fn every_command_explains_itself_with_an_example() {
    for command in ["init", "mine", "search"] {
        let output = vocmine().arg(command).arg("--help").output().unwrap();
        let help = String::from_utf8(output.stdout).unwrap();
        assert!(
            help.contains("Example"),
            "{command} --help has no example:\n{help}"
        );
    }
}

use predicates::prelude::PredicateBooleanExt;
