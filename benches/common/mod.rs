//! Shared by the benches: where the labelled data sets are (fetched by scripts/fetch-data) and
//! how to read them as plain texts. Each bench uses part of it.
#![allow(dead_code)]

use std::path::PathBuf;

/// `$VOCMINE_CACHE/data`, default `~/.cache/vocmine/data`.
pub fn data_dir() -> PathBuf {
    let cache = std::env::var_os("VOCMINE_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").expect("HOME is set")).join(".cache/vocmine")
        });
    cache.join("data")
}

/// A data file, or a clear panic saying how to get it.
pub fn data_file(name: &str) -> PathBuf {
    let path = data_dir().join(name);
    assert!(
        path.is_file(),
        "{} is missing: run scripts/setup (or scripts/fetch-data) first",
        path.display()
    );
    path
}

/// The texts of a CSV column.
pub fn csv_texts(name: &str, column: &str) -> Vec<String> {
    let mut reader = csv::Reader::from_path(data_file(name)).expect("readable csv");
    let position = reader
        .headers()
        .expect("headers")
        .iter()
        .position(|header| header == column)
        .unwrap_or_else(|| panic!("{name} has no column {column}"));
    reader
        .records()
        .map(|record| record.expect("record")[position].to_string())
        .collect()
}

/// The non-empty lines of a text file.
pub fn lines(name: &str) -> Vec<String> {
    std::fs::read_to_string(data_file(name))
        .expect("readable text")
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Percentile (0..=100) of sorted values.
pub fn percentile(sorted: &[f64], percent: f64) -> f64 {
    let rank = ((percent / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

/// The process's peak resident set (VmHWM), in MiB.
pub fn peak_rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|value| value.split_whitespace().next()?.parse::<f64>().ok())
        .map_or(0.0, |kib| kib / 1024.0)
}
