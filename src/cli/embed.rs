//! `vocmine embed`: arguments, their resolution into [`EmbedSettings`], and the summary printed.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::{Args, ValueEnum};

use super::{progress::Bars, GlobalArgs};
use crate::config::Config;
use crate::encode::export;
use crate::ingest::IngestSettings;
use crate::model::bert::BertSettings;
use crate::model::{registry, ModelChoice};
use crate::pipeline::{self, EmbedSettings};

/// Output formats of `vocmine embed`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum EmbedFormat {
    /// NumPy float32 matrix, plus FILE.rows.jsonl naming the rows.
    Npy,
    /// One JSON object per row with its embedding.
    Jsonl,
}

/// Encoders selectable on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ModelArg {
    /// multilingual-e5-small (English and Chinese).
    E5,
    /// all-MiniLM-L6-v2 (English only).
    Minilm,
}

impl From<ModelArg> for ModelChoice {
    fn from(model: ModelArg) -> ModelChoice {
        match model {
            ModelArg::E5 => ModelChoice::E5Small,
            ModelArg::Minilm => ModelChoice::MiniLm,
        }
    }
}

/// Arguments of `vocmine embed`.
#[derive(Debug, Args)]
pub struct EmbedArgs {
    /// Input files or directories.
    #[arg(required = true)]
    pub inputs: Vec<PathBuf>,
    /// Output file.
    #[arg(long)]
    pub out: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t = EmbedFormat::Npy)]
    pub format: EmbedFormat,
    /// Encoder; defaults to the configuration's [model] encoder, else e5.
    #[arg(long, value_enum)]
    pub model: Option<ModelArg>,
    /// Read input settings and column mapping from this vocmine.toml (a workspace's, say).
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Column (or JSON key) holding the text; overrides the configuration and detection.
    #[arg(long)]
    pub text_column: Option<String>,
    /// Column holding the row id.
    #[arg(long)]
    pub id_column: Option<String>,
    /// Column holding a label, copied into the row descriptions.
    #[arg(long)]
    pub label_column: Option<String>,
    /// Cut texts at this many tokens (the number cut is reported); default from configuration.
    #[arg(long)]
    pub max_tokens: Option<usize>,
    /// libtorch threads; 0 = one per core; default from configuration.
    #[arg(long, env = "VOCMINE_THREADS")]
    pub threads: Option<usize>,
}

/// Runs `vocmine embed`.
pub fn run(arguments: EmbedArgs, global: &GlobalArgs) -> Result<()> {
    let EmbedArgs {
        inputs,
        out,
        format,
        model,
        config,
        text_column,
        id_column,
        label_column,
        max_tokens,
        threads,
    } = arguments;
    let mut config = match config {
        Some(path) => {
            let text = std::fs::read_to_string(&path)
                .with_context(|| format!("cannot read configuration {}", path.display()))?;
            let config = Config::parse(&text)
                .with_context(|| format!("invalid configuration {}", path.display()))?;
            if config.input.raw_rejects {
                super::warn_raw_rejects(&path);
            }
            config
        }
        None => Config::default(),
    };
    let columns = &mut config.columns;
    columns.text = text_column.or(columns.text.take());
    columns.id = id_column.or(columns.id.take());
    columns.label = label_column.or(columns.label.take());
    let settings = EmbedSettings {
        inputs,
        ingest: IngestSettings::from_config(&config),
        model: model.map_or(config.model.encoder, ModelChoice::from),
        encoder: encoder_settings(&config, max_tokens, threads),
        cache_root: registry::cache_dir().join("embeddings"),
    };
    let bars = Bars::new(global.quiet);
    let output = pipeline::embed(&settings, &bars)?;
    drop(bars);
    match format {
        EmbedFormat::Npy => export::write_npy(&out, &output.read.documents, &output.embeddings)?,
        EmbedFormat::Jsonl => {
            export::write_jsonl(&out, &output.read.documents, &output.embeddings)?
        }
    }
    let rejected = output.read.rejects.len();
    if rejected > 0 {
        let mut name = out.file_name().unwrap_or_default().to_os_string();
        name.push(".rejects.csv");
        let path = out.with_file_name(name);
        pipeline::write_rejects(&path, &output.read.rejects, config.input.raw_rejects)?;
        eprintln!("{rejected} rows rejected: see {}", path.display());
    }
    let encode = &output.encode;
    println!(
        "{} rows embedded with {} into {} ({} encoded, {} from cache, {} cut at the token limit) in {:.1} s",
        output.embeddings.len(),
        output.model_id,
        out.display(),
        encode.encoded,
        encode.cached,
        encode.truncated,
        encode.seconds
    );
    Ok(())
}

/// Encoder settings from the configuration, overridden by flags.
pub fn encoder_settings(
    config: &Config,
    max_tokens: Option<usize>,
    threads: Option<usize>,
) -> BertSettings {
    let mut model = config.model.clone();
    model.max_tokens = max_tokens.unwrap_or(model.max_tokens);
    model.threads = threads.unwrap_or(model.threads);
    BertSettings::from_config(&model)
}
