//! Ingest on ordinary and hostile inputs: every row is indexed, a duplicate, or in the rejects
//! file with its file, line and reason.

use crate::util::{vocmine, Scratch};
use predicates::str::contains;

#[test]
fn csv_jsonl_and_json_arrays_are_read_and_a_rerun_adds_nothing() {
    let scratch = Scratch::new();
    let csv = scratch.write(
        "reviews.csv",
        "id,date,rating,text\nr1,2026-08-01,1,The brake pads squeal\nr2,08/02/2026,5,Great service\n".as_bytes(),
    );
    let jsonl = scratch.write(
        "complaints.jsonl",
        "{\"Complaint ID\": \"c1\", \"Consumer complaint narrative\": \"Charged twice for the same repair\", \"source\": \"complaint\"}\n".as_bytes(),
    );
    let json = scratch.write(
        "survey.json",
        "[{\"comment\": \"Waited an hour on hold\", \"score\": 2},\n {\"comment\": \"等了很久没人理\", \"score\": 1}]".as_bytes(),
    );
    let summary = scratch.mine(&[&csv, &jsonl, &json]);
    assert_eq!(Scratch::totals(&summary), (5, 5, 0, 0), "{summary}");
    let again = scratch.mine(&[&csv, &jsonl, &json]);
    assert_eq!(Scratch::totals(&again), (5, 0, 5, 0), "{again}");
    assert!(again.contains("documents in the index: 5"), "{again}");
}

#[test]
fn a_new_months_file_adds_only_its_new_documents() {
    let scratch = Scratch::new();
    let august = scratch.write(
        "august.csv",
        b"id,text\na1,Seat heater broken\na2,Friendly staff\n",
    );
    scratch.mine(&[&august]);
    let september = scratch.write(
        "september.csv",
        b"id,text\na2,Friendly staff\nb1,Seat heater broken\nb2,Paint scratched on delivery\n",
    );
    let summary = scratch.mine(&[&september]);
    // a2 is a duplicate by id; b1 by content (same text as a1 under a new id).
    assert_eq!(Scratch::totals(&summary), (3, 1, 2, 0), "{summary}");
}

#[test]
fn repeated_raw_text_in_one_run_is_settled_by_what_the_first_row_became() {
    let scratch = Scratch::new();
    let rows = concat!(
        "id,text\n",
        "a1,Seat heater broken\n",
        "a2,Seat heater broken\n", // same text, new id: a duplicate by content
        "a1,Mirror loose\n",       // a duplicate by id only: its text is still unseen
        "a3,Mirror loose\n",       // so this row is new
        "a4,   \n",                // empty: rejected
        "a5,   \n",                // rejected too, with its own line
        "a6,Mirror loose\n",       // a duplicate by content of a3
    );
    let input = scratch.write("repeats.csv", rows.as_bytes());
    let summary = scratch.mine(&[&input]);
    assert_eq!(Scratch::totals(&summary), (7, 2, 3, 2), "{summary}");
    let lines: Vec<String> = scratch.rejects().iter().map(|row| row[1].clone()).collect();
    assert_eq!(lines, ["6", "7"]);
    assert_eq!(scratch.search_ids("mirror", &[]), ["a3"]);
}

#[test]
fn hostile_rows_are_rejected_with_file_line_and_reason() {
    let scratch = Scratch::new();
    let mut bytes = b"id,date,rating,text\n".to_vec();
    bytes.extend_from_slice("1,2026-08-01,4,fine row 很好\n".as_bytes());
    bytes.extend_from_slice(b"2,2026-08-01,4,   \n"); // whitespace-only text
    bytes.extend_from_slice(b"3,not a date,4,odd date\n");
    bytes.extend_from_slice(b"4,2026-08-01,great,bad rating\n");
    bytes.extend_from_slice(b"5,2026-08-01,4,invalid \xff\xfe utf-8\n");
    bytes.extend_from_slice(b"6,2026-08-01,4\n"); // missing a column
    bytes.extend_from_slice(b"1,2026-08-02,3,duplicate id\n");
    bytes.extend_from_slice("7,31.08.2026,2,<p>markup &amp; entities — ok</p>\n".as_bytes());
    bytes.extend_from_slice(b"8,2026-08-0");
    let input = scratch.write("hostile.csv", &bytes);
    let summary = scratch.mine(&[&input]);
    let (read, accepted, duplicate, rejected) = Scratch::totals(&summary);
    assert_eq!(read, accepted + duplicate + rejected);
    assert_eq!(
        (read, accepted, duplicate, rejected),
        (9, 2, 1, 6),
        "{summary}"
    );
    let rejects = scratch.rejects();
    let reasons: Vec<(String, String)> = rejects
        .iter()
        .map(|row| (row[1].clone(), row[2].clone()))
        .collect();
    let expect = |line: &str, fragment: &str| {
        assert!(
            reasons
                .iter()
                .any(|(l, reason)| l == line && reason.contains(fragment)),
            "no reject at line {line} mentioning '{fragment}' in {reasons:?}"
        );
    };
    expect("3", "empty text");
    expect("4", "cannot read date 'not a date'");
    expect("5", "cannot read rating 'great'");
    expect("6", "not valid UTF-8");
    expect("7", "expected 4 fields");
    expect("10", "expected 4 fields");
    assert!(rejects.iter().all(|row| row[0].ends_with("hostile.csv")));
}

#[test]
fn rejects_name_the_right_line_in_crlf_files() {
    let scratch = Scratch::new();
    let input = scratch.write(
        "windows.csv",
        b"id,date,text\r\n1,2026-08-01,\"two\r\nlines\"\r\n2,not a date,bad\r\n3,2026-08-02,fine\r\n",
    );
    let summary = scratch.mine(&[&input]);
    assert_eq!(Scratch::totals(&summary), (3, 2, 0, 1), "{summary}");
    let lines: Vec<String> = scratch.rejects().iter().map(|row| row[1].clone()).collect();
    assert_eq!(lines, ["4"]);
}

#[test]
fn malformed_json_lines_are_rejected_and_the_rest_is_read() {
    let scratch = Scratch::new();
    let input = scratch.write(
        "tickets.jsonl",
        b"{\"text\": \"first\"}\n{\"text\": \"unterminated\n\n[1, 2]\n{\"text\": \"last\", \"rating\": \"4/5\"}\n",
    );
    let summary = scratch.mine(&[&input]);
    assert_eq!(Scratch::totals(&summary), (4, 2, 0, 2), "{summary}");
    let lines: Vec<String> = scratch.rejects().iter().map(|row| row[1].clone()).collect();
    assert_eq!(lines, ["2", "4"]);
}

#[test]
fn gb18030_and_big5_files_with_chinese_headers_are_detected() {
    let scratch = Scratch::new();
    let simplified =
        "编号,日期,评分,内容\nz1,2026年8月3日,1,刹车有异响，服务态度很差\nz2,2026/8/4,5,服务很好\n";
    let (gbk, _, _) = encoding_rs::GB18030.encode(simplified);
    let traditional =
        "編號,日期,評分,評論\nt1,2026-08-05,2,剎車有異響，等了很久才有人處理這個問題\n";
    let (big5, _, _) = encoding_rs::BIG5.encode(traditional);
    let gbk_path = scratch.write("zh.csv", &gbk);
    let big5_path = scratch.write("tw.csv", &big5);
    let summary = scratch.mine(&[&gbk_path, &big5_path]);
    assert_eq!(Scratch::totals(&summary), (3, 3, 0, 0), "{summary}");
    assert!(
        summary.contains("GB18030") && summary.contains("Big5"),
        "{summary}"
    );
    let results = scratch.search("服务", &[]);
    assert_eq!(results["total"], 2, "{results}");
}

#[test]
fn a_one_megabyte_text_is_rejected_by_the_size_limit_not_a_crash() {
    let scratch = Scratch::new();
    let mut bytes = b"text\n".to_vec();
    bytes.extend(std::iter::repeat_n(b'a', 1_000_000));
    bytes.extend_from_slice(b"\nshort one\n");
    let input = scratch.write("big.csv", &bytes);
    let summary = scratch.mine(&[&input]);
    assert_eq!(Scratch::totals(&summary), (2, 1, 0, 1), "{summary}");
    assert!(scratch.rejects()[0][2].contains("max_text_bytes"));
}

/// A rejected row's personal data is masked in the rejects file as it is in the index, unless
/// the workspace asks for raw rejects, and then every run warns (issue 19, defect 4a).
#[test]
fn rejects_are_masked_unless_the_config_keeps_them_raw() {
    let row =
        "Call me on 13912345678 or bob@example.org about the refund, card 4111 1111 1111 1111";
    let input = format!("id,text\nr1,{row}\nr2,short and fine\n");
    let limited = "[input]\nmax_text_bytes = 40\n";

    let masked = Scratch::with_config(limited);
    let path = masked.write("pii.csv", input.as_bytes());
    let summary = masked.mine(&[&path]);
    assert_eq!(Scratch::totals(&summary), (2, 1, 0, 1), "{summary}");
    let rejects = masked.rejects();
    let raw = &rejects[0][3];
    for secret in ["13912345678", "bob@example.org", "4111 1111 1111 1111"] {
        assert!(!raw.contains(secret), "{secret} in {raw}");
    }
    assert!(raw.contains("about the refund"), "{raw}");

    let kept = Scratch::with_config(&format!("{limited}raw_rejects = true\n"));
    let path = kept.write("pii.csv", input.as_bytes());
    vocmine()
        .arg("mine")
        .arg(kept.workspace())
        .arg(&path)
        .assert()
        .success()
        .stderr(contains("raw_rejects = true"));
    assert!(kept.rejects()[0][3].contains(row), "{:?}", kept.rejects());
}

#[test]
fn a_file_without_a_text_column_is_an_error_that_lists_its_columns() {
    let scratch = Scratch::new();
    let input = scratch.write("numbers.csv", b"a,b\n1,2\n");
    vocmine()
        .arg("mine")
        .arg(scratch.workspace())
        .arg(&input)
        .assert()
        .code(1)
        .stderr(
            contains("no usable text column")
                .and(contains("a, b"))
                .and(contains("[columns]")),
        );
}

#[test]
fn a_semicolon_file_is_sniffed_and_a_wrong_configured_delimiter_gets_a_hint() {
    let scratch = Scratch::new();
    let input = scratch.write("semicolons.csv", b"text;rating\nslow, rude service;1\n");
    let summary = scratch.mine(&[&input]);
    assert_eq!(Scratch::totals(&summary), (1, 1, 0, 0), "{summary}");
    let configured = Scratch::with_config("[input]\ndelimiter = \"|\"\n");
    let input = configured.write("semicolons.csv", b"text;rating\nslow service;1\n");
    vocmine()
        .arg("mine")
        .arg(configured.workspace())
        .arg(&input)
        .assert()
        .code(1)
        .stderr(contains("delimiter"));
}

#[test]
fn configured_columns_and_defaults_are_used() {
    let scratch = Scratch::with_config(
        "[columns]\ntext = \"Verbatim\"\nlocation = \"Dealer\"\n[defaults]\nsource = \"survey\"\n",
    );
    let input = scratch.write(
        "survey.tsv",
        b"Verbatim\tDealer\nThe loaner car was dirty\tNorth\n",
    );
    scratch.mine(&[&input]);
    let results = scratch.search("loaner", &["--source", "survey", "--location", "North"]);
    assert_eq!(results["total"], 1, "{results}");
}

use predicates::prelude::PredicateBooleanExt;

#[test]
fn the_demo_corpus_mines_completely_with_its_config() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let config = std::fs::read_to_string(root.join("corpora/demo/vocmine.toml")).unwrap();
    let scratch = Scratch::with_config(&config);
    let summary = scratch.mine(&[&root.join("corpora/demo")]);
    let (read, accepted, duplicate, rejected) = Scratch::totals(&summary);
    assert_eq!(read, 2500, "{summary}");
    assert_eq!(read, accepted + duplicate + rejected);
    assert_eq!(rejected, 0, "{summary}");
    for language in ["en ", "zh-Hans ", "zh-Hant "] {
        assert!(
            summary.contains(language),
            "no {language}documents: {summary}"
        );
    }
    let languages = scratch.search("服務", &[]);
    let facet = languages["facets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|facet| facet["field"] == "language")
        .unwrap();
    let found: Vec<&str> = facet["counts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|pair| pair[0].as_str().unwrap())
        .collect();
    assert!(
        found.contains(&"zh-Hans") && found.contains(&"zh-Hant"),
        "{facet}"
    );
}
