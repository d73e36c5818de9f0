//! Probe, not shipped: fine-tunes the top layers of e5 for Chinese sentiment (issue 4 asks what
//! fine-tuning gives when a head on frozen embeddings misses 0.90) and prints the validation
//! accuracy of every epoch and the test accuracy of the kept one.
//!
//! Data: `$VOCMINE_CACHE/data/zh_reviews.csv` (label,text; `scripts/fetch-data`), DESIGN.md
//! test split by sha256 of the raw text, every tenth training row held out for validation.
//!
//! ```text
//! cargo run --release --example tune_zh                      # layers 10-11, 3 epochs, 3e-5
//! TUNE_FIRST=8 TUNE_EPOCHS=4 TUNE_RATE=5e-5 cargo run --release --example tune_zh
//! TUNE_SCHEDULE=warmup TUNE_OUT=/tmp/tuned cargo run --release --example tune_zh
//! TUNE_FIRST=1 TUNE_RATE=5e-5 TUNE_SCHEDULE=warmup cargo run --release --example tune_zh
//! ```
//!
//! Measured (README): layers 10-11 0.847, 8-11 0.865, 1-11 0.868 over 3 epochs of about 9
//! minutes on 2 cores (11 GB peak) and 0.874 over 5 (`TUNE_EPOCHS=5`).
//!
//! `TUNE_SCHEDULE=warmup`: step sizes warm up over the first 6% of steps, then fall linearly
//! to 0. `TUNE_OUT=DIR`: writes the tuned weights (`top.safetensors`) and every test row's
//! probability of positive (`test.csv`).

use std::time::Instant;

use vocmine::classify::learn::split::is_test;
use vocmine::classify::tune::{accuracy, fine_tune, pad, Schedule, TuneSettings, TunedTop};
use vocmine::model::bert::{BertEncoder, BertSettings};
use vocmine::model::registry::cache_dir;
use vocmine::model::Encoder;

type Rows = Vec<(String, i64)>;

fn setting<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(default)
}

fn main() {
    let first: usize = setting("TUNE_FIRST", 10);
    let tune = TuneSettings {
        epochs: setting("TUNE_EPOCHS", 3),
        layer_rate: setting("TUNE_RATE", 3e-5),
        schedule: match std::env::var("TUNE_SCHEDULE").as_deref() {
            Ok("warmup") => Schedule::WarmupLinearDecay { warmup: 0.06 },
            _ => Schedule::Constant,
        },
        ..TuneSettings::default()
    };
    let cache = cache_dir();
    let (fit, validation, test) = read_splits(&cache.join("data/zh_reviews.csv"));
    println!(
        "fit {} validation {} test {}; layers {first}.. tuned, {tune:?}",
        fit.len(),
        validation.len(),
        test.len()
    );
    let encoder = BertEncoder::e5(BertSettings {
        keep_layer_states: true,
        ..BertSettings::default()
    })
    .expect("e5 loads");
    let started = Instant::now();
    let states = |rows: &Rows| {
        let texts: Vec<&str> = rows.iter().map(|row| row.0.as_str()).collect();
        encoder
            .layer_states(&texts, first, |_| {})
            .expect("forward pass")
    };
    let (fit_states, validation_states, test_states) =
        (states(&fit), states(&validation), states(&test));
    println!(
        "frozen layer states in {:.0} s",
        started.elapsed().as_secs_f64()
    );
    let model = cache.join("models/e5-small");
    let config = serde_json::from_str(
        &std::fs::read_to_string(model.join("config.json")).expect("e5 config"),
    )
    .expect("valid config");
    let mut top =
        TunedTop::from_encoder(&config, &model.join("model.safetensors"), first, 2).expect("top");
    check_untrained_top_matches_encoder(&top, &fit, first, &encoder);
    let labels = |rows: &Rows| rows.iter().map(|row| row.1).collect::<Vec<i64>>();
    let started = Instant::now();
    let scores = fine_tune(
        &mut top,
        (&fit_states, &labels(&fit)),
        (&validation_states, &labels(&validation)),
        &tune,
        |epoch, step, loss| {
            if step % 100 == 0 {
                println!(
                    "epoch {epoch} step {step} loss {loss:.4} ({:.0} s)",
                    started.elapsed().as_secs_f64()
                );
            }
        },
    )
    .expect("training");
    println!("validation accuracy per epoch {scores:?}");
    println!(
        "test accuracy {:.4}",
        accuracy(&top, &test_states, &labels(&test))
    );
    if let Ok(out) = std::env::var("TUNE_OUT") {
        write_outputs(std::path::Path::new(&out), &top, &test, &test_states);
    }
}

/// The tuned weights and each test row's probability of positive.
fn write_outputs(out: &std::path::Path, top: &TunedTop, test: &Rows, states: &[tch::Tensor]) {
    std::fs::create_dir_all(out).expect("output directory");
    top.save(&out.join("top.safetensors")).expect("weights");
    let mut writer = csv::Writer::from_path(out.join("test.csv")).expect("test.csv");
    writer
        .write_record(["label", "positive", "text"])
        .expect("header");
    for (row, probabilities) in test.iter().zip(top.predict(states, 64)) {
        writer
            .write_record([
                row.1.to_string(),
                probabilities[1].to_string(),
                row.0.clone(),
            ])
            .expect("row");
    }
    writer.flush().expect("test.csv");
}

/// Training, validation and test rows of the labelled file.
fn read_splits(path: &std::path::Path) -> (Rows, Rows, Rows) {
    let mut reader = csv::Reader::from_path(path).expect("zh_reviews.csv (scripts/fetch-data)");
    let (mut fit, mut validation, mut test) = (Vec::new(), Vec::new(), Vec::new());
    for (index, record) in reader.records().enumerate() {
        let record = record.expect("a label,text row");
        let row = (record[1].to_string(), i64::from(&record[0] == "positive"));
        if is_test(&row.0) {
            test.push(row);
        } else if index % 10 == 3 {
            validation.push(row);
        } else {
            fit.push(row);
        }
    }
    (fit, validation, test)
}

/// Before training, the copied top layers must give the encoder's own embedding.
fn check_untrained_top_matches_encoder(
    top: &TunedTop,
    rows: &Rows,
    first: usize,
    encoder: &BertEncoder,
) {
    let texts: Vec<&str> = rows.iter().take(4).map(|row| row.0.as_str()).collect();
    let states = encoder.layer_states(&texts, first, |_| {}).expect("states");
    let (hidden, mask) = pad(&states, &[0, 1, 2, 3]);
    let pooled = tch::no_grad(|| top.pooled(&hidden, &mask, false));
    let pooled = &pooled / pooled.norm_scalaropt_dim(2, [1], true);
    let mut plain = BertEncoder::e5(BertSettings::default()).expect("e5 loads");
    let reference = plain.encode(&texts).expect("embeddings");
    let reference = tch::Tensor::from_slice(reference.as_slice()).view([4, -1]);
    let cosines =
        Vec::<f32>::try_from((&pooled * &reference).sum_dim_intlist(1, false, tch::Kind::Float))
            .expect("floats");
    assert!(cosines.iter().all(|&cosine| cosine > 0.9999), "{cosines:?}");
    assert!(top
        .missing
        .iter()
        .all(|name| name.starts_with("classifier")));
}
