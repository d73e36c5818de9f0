//! Search: phrases and boolean queries in both languages, Traditional/Simplified matching,
//! filters, facets, output formats and malformed queries.

use crate::util::{vocmine, Scratch};
use predicates::str::contains;

fn scratch_with_documents() -> Scratch {
    let scratch = Scratch::new();
    let input = scratch.write(
        "feedback.csv",
        "id,date,rating,source,location,text\n\
         e1,2026-08-03,1,complaint,North,The brakes make a grinding noise and nobody called me back\n\
         e2,2026-08-20,5,review,South,Quick service and a friendly advisor\n\
         e3,2026-09-02,2,review,North,Noise from the brakes again after the repair\n\
         z1,2026-09-10,1,complaint,北京,刹车有异响，修了两次还是不好\n\
         z2,2026-09-12,2,review,台北,剎車有異響，服務態度也很差\n\
         z3,2026-10-01,5,review,上海,服务态度很好，刹车问题一次修好\n"
            .as_bytes(),
    );
    scratch.mine(&[&input]);
    scratch
}

#[test]
fn english_words_match_by_stem_and_phrases_by_position() {
    let scratch = scratch_with_documents();
    assert_eq!(scratch.search_ids("brake", &[]), ["e1", "e3"]);
    assert_eq!(scratch.search_ids("\"grinding noise\"", &[]), ["e1"]);
    assert_eq!(scratch.search_ids("brakes AND NOT repair", &[]), ["e1"]);
    assert_eq!(scratch.search_ids("advisor OR grinding", &[]), ["e1", "e2"]);
}

#[test]
fn chinese_phrases_match_and_traditional_finds_simplified_and_back() {
    let scratch = scratch_with_documents();
    let simplified = scratch.search_ids("刹车", &[]);
    assert_eq!(simplified, ["z1", "z2", "z3"]);
    assert_eq!(scratch.search_ids("剎車", &[]), simplified);
    assert_eq!(scratch.search_ids("\"刹车有异响\"", &[]), ["z1", "z2"]);
    assert_eq!(scratch.search_ids("\"服務態度\"", &[]), ["z2", "z3"]);
}

#[test]
fn filters_narrow_the_results_and_facets_count_the_whole_result_set() {
    let scratch = scratch_with_documents();
    assert_eq!(
        scratch.search_ids("*", &["--source", "complaint"]),
        ["e1", "z1"]
    );
    assert_eq!(
        scratch.search_ids("*", &["--since", "2026-09-01", "--until", "2026-09-30"]),
        ["e3", "z1", "z2"]
    );
    assert_eq!(scratch.search_ids("*", &["--rating", "<=1"]), ["e1", "z1"]);
    assert_eq!(
        scratch.search_ids("*", &["--location", "North", "--location", "台北"]),
        ["e1", "e3", "z2"]
    );
    assert_eq!(scratch.search_ids("source:complaint", &[]), ["e1", "z1"]);
    let results = scratch.search("*", &["--limit", "1"]);
    assert_eq!(results["total"], 6);
    assert_eq!(results["hits"].as_array().unwrap().len(), 1);
    let source = results["facets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|facet| facet["field"] == "source")
        .unwrap();
    assert_eq!(
        source["counts"],
        serde_json::json!([["review", 4], ["complaint", 2]])
    );
}

#[test]
fn snippets_highlight_the_matched_words() {
    let scratch = scratch_with_documents();
    let results = scratch.search("grinding", &[]);
    let snippet = &results["hits"][0]["snippet"];
    let text = snippet["text"].as_str().unwrap();
    let (start, end) = (
        snippet["highlights"][0][0].as_u64().unwrap() as usize,
        snippet["highlights"][0][1].as_u64().unwrap() as usize,
    );
    assert_eq!(&text[start..end], "grinding");
    let output = vocmine()
        .arg("search")
        .arg(scratch.workspace())
        .arg("异响")
        .output()
        .unwrap();
    let table = String::from_utf8(output.stdout).unwrap();
    assert!(
        table.contains("[异响]") && table.contains("[異響]"),
        "{table}"
    );
}

#[test]
fn csv_output_has_one_row_per_hit() {
    let scratch = scratch_with_documents();
    let output = vocmine()
        .arg("search")
        .arg(scratch.workspace())
        .args(["brake", "--format", "csv"])
        .output()
        .unwrap();
    let text = String::from_utf8(output.stdout).unwrap();
    assert_eq!(text.lines().count(), 3, "{text}");
    assert!(text.starts_with("id,score,date"));
}

#[test]
fn malformed_queries_and_filters_get_a_clear_message() {
    let scratch = scratch_with_documents();
    for query in ["\"unbalanced", "brake AND", "nosuchfield:x", "(("] {
        let output = vocmine()
            .arg("search")
            .arg(scratch.workspace())
            .arg(query)
            .output()
            .unwrap();
        if output.status.success() {
            continue; // tantivy's lenient grammar may accept some of these; it must not panic.
        }
        let stderr = String::from_utf8(output.stderr).unwrap();
        assert!(
            stderr.contains("cannot understand the query"),
            "{query}: {stderr}"
        );
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
    vocmine()
        .arg("search")
        .arg(scratch.workspace())
        .args(["*", "--rating", "lots"])
        .assert()
        .code(1)
        .stderr(contains("--rating"));
    vocmine()
        .arg("search")
        .arg(scratch.workspace())
        .args(["*", "--since", "last week"])
        .assert()
        .code(2)
        .stderr(contains("2026-09-30"));
}

#[test]
fn filter_values_no_document_has_are_refused_with_the_accepted_values() {
    let scratch = scratch_with_documents();
    for (arguments, accepted) in [
        (
            &["--sentiment", "negtive"][..],
            "negative, neutral, positive",
        ),
        (&["--lang", "xx"][..], "en, zh-Hans, zh-Hant, other"),
        (&["--topic", "refund_returns"][..], "other"),
        (&["--team", "X"][..], "known values"),
        (&["--source", "X"][..], "complaint, review"),
        (&["--location", "Mars"][..], "North"),
        (&["--cluster", "P9999"][..], "known values"),
        (&["--rating", "5-1"][..], "low end first"),
        (
            &["--since", "2026-10-01", "--until", "2026-09-01"][..],
            "swap them",
        ),
    ] {
        let output = vocmine()
            .arg("search")
            .arg(scratch.workspace())
            .arg("*")
            .args(arguments)
            .output()
            .unwrap();
        let stderr = String::from_utf8(output.stderr).unwrap();
        assert_eq!(output.status.code(), Some(1), "{arguments:?}: {stderr}");
        assert!(stderr.contains(arguments[0]), "{arguments:?}: {stderr}");
        assert!(stderr.contains(accepted), "{arguments:?}: {stderr}");
    }
    // A configured topic is accepted before any document has it; `search` asserts success.
    scratch.search(
        "*",
        &[
            "--topic",
            "other",
            "--sentiment",
            "negative",
            "--lang",
            "en",
        ],
    );
}

#[test]
fn limit_and_offset_are_bounded_by_the_result_window() {
    let scratch = scratch_with_documents();
    for arguments in [
        &["--limit", "1000000000"][..],
        &["--limit", "18446744073709551615"][..],
        &["--offset", "99999999999999999999"][..],
        &["--limit=-1"][..],
    ] {
        vocmine()
            .arg("search")
            .arg(scratch.workspace())
            .arg("*")
            .args(arguments)
            .assert()
            .code(2)
            .stderr(contains("from 0 to 10000"));
    }
    vocmine()
        .arg("search")
        .arg(scratch.workspace())
        .args(["*", "--limit", "10000", "--offset", "1"])
        .assert()
        .code(1)
        .stderr(contains("past the first 10000 hits"));
    assert_eq!(scratch.search_ids("*", &["--limit", "10000"]).len(), 6);
}
