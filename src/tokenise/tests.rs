//! The analyzer's behaviours one by one, the tantivy stream against [`analyze`], a phrase query
//! through a real index, and the invariants on arbitrary Unicode.

use super::*;
use proptest::prelude::*;

fn texts(text: &str) -> Vec<String> {
    analyze(text).into_iter().map(|term| term.text).collect()
}

#[test]
fn english_is_lowercased_stemmed_and_stopped() {
    assert_eq!(
        texts("The Brakes were SQUEALING, and refunds were refused!"),
        ["brake", "squeal", "refund", "refus"]
    );
}

#[test]
fn apostrophes_are_handled_consistently() {
    assert_eq!(texts("don't"), texts("dont"));
    assert_eq!(texts("don’t"), texts("don't"));
    assert!(texts("I don't know").iter().all(|t| t != "don" && t != "t"));
    assert_eq!(texts("customer's"), texts("customer"));
    assert_eq!(texts("O'Brien"), ["obrien"]);
    assert_eq!(texts("we'll"), Vec::<String>::new());
    assert_eq!(texts("'quoted'"), texts("quoted"));
}

#[test]
fn traditional_and_simplified_give_the_same_terms() {
    assert_eq!(texts("刹車"), texts("刹车"));
    assert_eq!(texts("剎車有問題"), texts("刹车有问题"));
    assert_eq!(texts("服務態度很差"), ["服务", "态度", "服务态度", "很差"]);
}

#[test]
fn sub_words_of_long_chinese_words_share_the_word_position() {
    let terms = analyze("服务态度很差");
    let positions: Vec<(&str, usize, bool)> = terms
        .iter()
        .map(|term| (term.text.as_str(), term.position, term.sub_word))
        .collect();
    assert_eq!(
        positions,
        [
            ("服务", 0, true),
            ("态度", 0, true),
            ("服务态度", 0, false),
            ("很差", 1, false)
        ]
    );
}

#[test]
fn chinese_is_segmented_and_stopwords_dropped() {
    let terms = texts("刹车的问题是我们最担心的");
    assert!(terms.contains(&"刹车".to_string()), "{terms:?}");
    assert!(terms.contains(&"问题".to_string()), "{terms:?}");
    for stopword in ["的", "是", "我们", "最"] {
        assert!(!terms.contains(&stopword.to_string()), "{terms:?}");
    }
}

#[test]
fn punctuation_symbols_and_emoji_are_never_terms() {
    assert!(analyze("！！，。、…—「」()[]!?.,;:'\"-_/\\@#$%^&*+=~`|<> 😀👍🏽 ❤️ ©®™ ¥€").is_empty());
}

#[test]
fn offsets_point_at_the_surface_in_mixed_text() {
    let text = "Ｉ❤️刹車 brakes' noise 😀 in 服務中心, café naïve Straße";
    let terms = analyze(text);
    for term in &terms {
        assert_eq!(&text[term.offset_from..term.offset_to], term.surface);
    }
    let surfaces: Vec<&str> = terms.iter().map(|t| t.surface.as_str()).collect();
    assert!(surfaces.contains(&"刹車"), "{surfaces:?}");
    assert!(surfaces.contains(&"brakes"), "{surfaces:?}");
    assert!(surfaces.contains(&"naïve"), "{surfaces:?}");
    let brake = terms.iter().find(|t| t.surface == "刹車").unwrap();
    assert_eq!(brake.text, "刹车");
    assert_eq!(brake.offset_from, "Ｉ❤️".len());
}

#[test]
fn positions_are_consecutive_over_kept_terms() {
    for text in [
        "刹车的问题很严重，希望尽快解决",
        "The brake pads were replaced twice in a month",
    ] {
        let terms = analyze(text);
        assert!(terms.len() > 2, "{terms:?}");
        for (expected, term) in terms.iter().enumerate() {
            assert_eq!(term.position, expected);
        }
    }
}

#[test]
fn placeholders_redactions_and_long_runs_are_dropped() {
    assert_eq!(
        texts("call [phone] or [email], my phone"),
        ["call", "phone"]
    );
    assert_eq!(texts("On XX/XX/2019 XXXX XXXX called"), ["2019", "call"]);
    assert_eq!(texts(&"a".repeat(MAX_TERM_BYTES + 1)), Vec::<String>::new());
    assert_eq!(texts("ＡＢＣ１２３ iPhone14"), ["abc123", "iphone14"]);
}

#[test]
fn tantivy_stream_matches_analyze() {
    let text = "刹車問題 and Brake noise, 服務 😀 again";
    let mut tokenizer = VocmineTokenizer { sub_words: true };
    let mut stream = tokenizer.token_stream(text);
    let mut streamed = Vec::new();
    while stream.advance() {
        let token = stream.token();
        streamed.push((
            token.text.clone(),
            token.offset_from,
            token.offset_to,
            token.position,
        ));
    }
    drop(stream);
    let analysed: Vec<_> = analyze(text)
        .into_iter()
        .map(|t| (t.text, t.offset_from, t.offset_to, t.position))
        .collect();
    assert_eq!(streamed, analysed);
    // A second, shorter stream reuses the pooled buffer without leaking old tokens.
    let mut stream = tokenizer.token_stream("brakes");
    assert!(stream.advance());
    assert_eq!(stream.token().text, "brake");
    assert!(!stream.advance());
}

#[test]
fn phrase_queries_match_across_scripts_through_an_index() -> tantivy::Result<()> {
    use tantivy::collector::Count;
    use tantivy::query::QueryParser;
    use tantivy::schema::{IndexRecordOption, Schema, TextFieldIndexing, TextOptions};
    use tantivy::{doc, Index, IndexWriter};

    let mut schema = Schema::builder();
    let indexing = TextFieldIndexing::default()
        .set_tokenizer(ANALYZER_NAME)
        .set_index_option(IndexRecordOption::WithFreqsAndPositions);
    let text = schema.add_text_field(
        "text",
        TextOptions::default().set_indexing_options(indexing),
    );
    let index = Index::create_in_ram(schema.build());
    register(&index);
    let mut writer: IndexWriter = index.writer_with_num_threads(1, 15_000_000)?;
    writer.add_document(doc!(text => "剎車的問題很嚴重"))?;
    writer.add_document(doc!(text => "问题是刹车"))?;
    writer.add_document(doc!(text => "The brake pads were squealing"))?;
    writer.commit()?;
    let searcher = index.reader()?.searcher();
    let parser = QueryParser::for_index(&index, vec![text]);
    let count = |query: &str| searcher.search(&parser.parse_query(query).unwrap(), &Count);
    assert_eq!(count("\"刹车问题\"")?, 1);
    assert_eq!(count("\"刹車問題\"")?, 1);
    assert_eq!(count("刹車")?, 2);
    assert_eq!(count("\"brake pad squeals\"")?, 1);
    assert_eq!(count("\"pads brake\"")?, 0);
    Ok(())
}

proptest! {
    #[test]
    fn arbitrary_text_never_panics_and_offsets_are_valid(text in any::<String>()) {
        check_invariants(&text)?;
    }

    #[test]
    fn mixed_script_text_keeps_invariants(
        text in "[a-zA-Z'’ 0-9刹車车問问題题的了服務务😀！，。\u{0301}\u{200D}ＡＢ]{0,60}"
    ) {
        check_invariants(&text)?;
    }
}

fn check_invariants(text: &str) -> Result<(), TestCaseError> {
    let terms = analyze(text);
    let mut expected = 0;
    for term in &terms {
        prop_assert!(term.offset_from < term.offset_to && term.offset_to <= text.len());
        prop_assert!(text.is_char_boundary(term.offset_from));
        prop_assert!(text.is_char_boundary(term.offset_to));
        prop_assert_eq!(
            &text[term.offset_from..term.offset_to],
            term.surface.as_str()
        );
        // Kept terms take consecutive positions; sub-words share the next kept term's.
        prop_assert_eq!(term.position, expected);
        if !term.sub_word {
            expected += 1;
        }
        prop_assert!(!term.text.is_empty() && term.text.len() <= MAX_TERM_BYTES);
    }
    Ok(())
}
