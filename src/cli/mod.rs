//! The command-line interface: clap argument types, resolved once into the settings the stages
//! receive, and the commands that call the library and print what it returns. This is the only
//! module that writes to the terminal.

mod embed;
mod output;
mod progress;
mod report;
mod serve;
mod train;

pub use output::error_message;

use crate::pipeline::{self, MineSettings};
use crate::search::{self, Filters, SearchRequest};
use crate::workspace::Workspace;
use anyhow::{Context, Result};
use chrono::NaiveDate;
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// vocmine reads every review, complaint and survey comment (English, Simplified and Traditional
/// Chinese), indexes them for search, and turns recurring problems into work for the teams that
/// own them.
#[derive(Debug, Parser)]
#[command(name = "vocmine", version, about, long_about = None)]
#[command(
    after_help = "Quick start:\n  vocmine init ws\n  vocmine mine ws corpora/demo\n  vocmine search ws \"refund\" --since 2026-09-01"
)]
pub struct Cli {
    /// Options for every command.
    #[command(flatten)]
    pub global: GlobalArgs,
    /// The command to run.
    #[command(subcommand)]
    pub command: Command,
}

/// Options for every command.
#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Hide progress bars (they are also hidden when stderr is not a terminal).
    #[arg(long, short, global = true)]
    pub quiet: bool,
    /// More log output (-v info, -vv debug); RUST_LOG overrides.
    #[arg(long, short, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create a workspace with a commented vocmine.toml.
    ///
    /// Example: vocmine init ./acme-feedback
    Init(InitArgs),
    /// Mine input files into the workspace: read, clean, deduplicate, encode, classify, find the
    /// recurring problems, route them to teams, index, and write the reports.
    ///
    /// Files already mined are recognised (by id and by content), so re-running on the same
    /// export adds nothing and a new month's export adds only its new rows. Rows that cannot be
    /// read go to rejects/<run>.csv with file, line and reason. Reports go to
    /// reports/<period>/ (see `vocmine report --help`).
    ///
    /// Example: vocmine mine ./acme-feedback exports/2026-10/*.csv complaints.jsonl
    Mine(MineArgs),
    /// Search the workspace's documents, with filters and facet counts.
    ///
    /// Query syntax: words (all must match), "exact phrases", OR, NOT or -word, field:value
    /// (fields: source, language, location, product, sentiment, topic, team, cluster).
    /// Chinese works the same way; Traditional and Simplified characters match each other.
    ///
    /// Examples:
    ///   vocmine search ws "refund fee" --since 2026-09-01 --source complaint
    ///   vocmine search ws '"long wait"' --format json
    ///   vocmine search ws 刹車 --lang zh-Hans --rating 1-2
    #[command(verbatim_doc_comment)]
    Search(Box<SearchArgs>),
    /// Write the sentence embeddings of any input file, for your own tools and checks.
    ///
    /// Reads the file like `mine` does (formats, encodings, column mapping, cleaning and PII
    /// masking) and embeds every accepted row with the chosen encoder, in input order. npy output
    /// writes FILE (float32 matrix) and FILE.rows.jsonl naming each row (id, file, line,
    /// language, label); jsonl output puts the vector into each row's object. Rejected rows go
    /// to FILE.rejects.csv. Embeddings are cached in ~/.cache/vocmine/embeddings
    /// ($VOCMINE_CACHE), so embedding the same texts again is fast.
    ///
    /// Examples:
    ///   vocmine embed reviews.csv --out reviews.npy
    ///   vocmine embed tweets.csv --text-column text --label-column sentiment --out t.jsonl --format jsonl
    #[command(verbatim_doc_comment)]
    Embed(embed::EmbedArgs),
    /// Train a classifier head on labelled data: `train sentiment` (a shipped-head style file) or
    /// `train topic` (a workspace's topic head).
    #[command(subcommand)]
    Train(train::TrainTask),
    /// Score sentiment, topics or recurring problems against a labelled file.
    ///
    /// --task sentiment (default): the shipped heads' accuracy, macro-F1, per class and
    /// confusion; only the test split unless --split all; a file with only negative and
    /// positive labels is scored in binary mode, and the output says so.
    /// --task topic: zero-shot from --config's taxonomy, or a supervised head with --folds K.
    /// --task cluster: NMI, ARI and unassigned share of the problem stages over every row.
    ///
    /// Examples:
    ///   vocmine eval --labels tweets.csv --text-column text --label-column sentiment --format json
    ///   vocmine eval --task topic --labels cfpb.csv --text-column "Consumer complaint narrative" \
    ///     --label-column Product --model minilm --folds 5 --windows 4 --class-weights uniform
    #[command(verbatim_doc_comment)]
    Eval(Box<train::EvalArgs>),
    /// Write a period's reports again from its problems.json, without running any model.
    ///
    /// Writes into WORKSPACE/reports/<period>/: teams/<team>.md and .html (each team's
    /// problems ranked by impact, with trend, keywords, quotes and why it was routed there),
    /// summary.md and summary.html (the costliest problems, sentiment over time, topics, new and
    /// spiking problems, each team's load, data coverage), assignments.csv and .json, and
    /// documents.parquet (every document with its enrichments). The HTML is self-contained:
    /// no scripts, fonts or images from any network.
    // clap reflows doc-comment paragraphs, so the example lines go in after_help.
    #[command(
        after_help = "Examples:\n  vocmine report ./acme-feedback\n  vocmine report ./acme-feedback --period 2026-09"
    )]
    Report(report::ReportArgs),
    /// Serve a local search page and JSON API over the workspace (read-only).
    ///
    /// The page has a search box (same syntax as `vocmine search`), filters, facet counts,
    /// highlighted hits, document views, the recurring problems of each period and links to the
    /// reports. It listens on 127.0.0.1:8731 unless told otherwise, and keeps answering while a
    /// `vocmine mine` run adds documents (searches see the last committed state). The JSON API
    /// is described in the README ("Search page and API").
    ///
    /// Examples:
    ///   vocmine serve ws
    ///   vocmine serve ws --port 9000
    #[command(verbatim_doc_comment)]
    Serve(serve::ServeArgs),
}

/// Arguments of `vocmine init`.
#[derive(Debug, Args)]
pub struct InitArgs {
    /// Directory of the new workspace (created if missing).
    pub workspace: PathBuf,
    /// Start from this configuration file instead of the commented default
    /// (for example corpora/demo/vocmine.toml).
    #[arg(long)]
    pub config: Option<PathBuf>,
}

/// Arguments of `vocmine mine`.
#[derive(Debug, Args)]
pub struct MineArgs {
    /// The workspace (see `vocmine init`).
    pub workspace: PathBuf,
    /// Input files (CSV, TSV, JSONL, JSON array, or .txt with one text a line) or directories
    /// (their files with those extensions, not recursive).
    #[arg(required = true)]
    pub inputs: Vec<PathBuf>,
    /// Indexing threads; 0 picks one per core.
    #[arg(long, default_value_t = 0, env = "VOCMINE_INDEX_THREADS")]
    pub index_threads: usize,
    /// libtorch threads for the encoder (overrides [model] threads; 0 = one per core). Use 1
    /// when other work shares the machine: libtorch threads spin while waiting for a core.
    #[arg(long, env = "VOCMINE_THREADS")]
    pub threads: Option<usize>,
    /// The period (YYYY-MM) this run's recurring problems are reported for. Default: the month
    /// of the latest dated new document.
    #[arg(long, value_parser = parse_period)]
    pub period: Option<String>,
    /// For vocmine's own tests only: `hashing` replaces the transformer by a deterministic
    /// bag-of-words encoder, so tests of ingest, search, serve and the workspace run without a
    /// model. Its sentiments, topics and problems mean nothing.
    #[arg(long, hide = true, env = "VOCMINE_TEST_ENCODER", value_enum)]
    pub test_encoder: Option<TestEncoder>,
}

/// Encoders that stand in for the real one in vocmine's own tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TestEncoder {
    /// [`crate::model::hashing::HashingEncoder`] with 384 dimensions.
    Hashing,
}

fn parse_period(text: &str) -> std::result::Result<String, String> {
    crate::problems::period::first_day(text)
        .filter(|_| text.len() == 7)
        .map(|_| text.to_string())
        .ok_or_else(|| format!("`{text}` is not a period; write it as YYYY-MM, e.g. 2026-10"))
}

/// Output formats of `vocmine search`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// A readable table with [highlighted] matches and facet counts.
    Table,
    /// One JSON object: total, hits, facets.
    Json,
    /// CSV of the hits.
    Csv,
}

/// Arguments of `vocmine search`.
#[derive(Debug, Args)]
pub struct SearchArgs {
    /// The workspace.
    pub workspace: PathBuf,
    /// Query text; empty or * lists everything that passes the filters.
    #[arg(default_value = "*")]
    pub query: String,
    /// Only documents on or after this date (YYYY-MM-DD).
    #[arg(long, value_parser = parse_day)]
    pub since: Option<NaiveDate>,
    /// Only documents on or before this date (YYYY-MM-DD).
    #[arg(long, value_parser = parse_day)]
    pub until: Option<NaiveDate>,
    /// Only this source (review, complaint, survey, ...); repeat for any of several.
    #[arg(long)]
    pub source: Vec<String>,
    /// Only this language: en, zh-Hans, zh-Hant, other; repeat for several.
    #[arg(long = "lang")]
    pub language: Vec<String>,
    /// Only this rating or range: 5, 1-2, <=2, >=4.
    #[arg(long)]
    pub rating: Option<String>,
    /// Only this location (store, dealer); repeat for several.
    #[arg(long)]
    pub location: Vec<String>,
    /// Only this product; repeat for several.
    #[arg(long)]
    pub product: Vec<String>,
    /// Only this sentiment: negative, neutral, positive; repeat for several.
    #[arg(long)]
    pub sentiment: Vec<String>,
    /// Only this topic; repeat for several.
    #[arg(long)]
    pub topic: Vec<String>,
    /// Only documents routed to this team; repeat for several.
    #[arg(long)]
    pub team: Vec<String>,
    /// Only documents of this cluster id; repeat for several.
    #[arg(long)]
    pub cluster: Vec<String>,
    /// Number of hits to show, at most 10000 (offset + limit too).
    #[arg(long, default_value_t = 10, value_parser = parse_window)]
    pub limit: usize,
    /// Hits to skip (for paging), at most 10000 (offset + limit too).
    #[arg(long, default_value_t = 0, value_parser = parse_window)]
    pub offset: usize,
    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    pub format: OutputFormat,
}

/// A hit count within the search window (see [`search::MAX_RESULT_WINDOW`]).
fn parse_window(text: &str) -> Result<usize, String> {
    let window = search::MAX_RESULT_WINDOW;
    text.parse::<usize>()
        .ok()
        .filter(|count| *count <= window)
        .ok_or_else(|| {
            format!("'{text}' is not a whole number from 0 to {window}; narrow the query or the filters to see fewer hits")
        })
}

fn parse_day(text: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map_err(|_| format!("'{text}' is not a date like 2026-09-30"))
}

/// Sets up `tracing` on stderr.
pub fn init_logging(global: &GlobalArgs) {
    let default = match global.verbose {
        0 => "warn",
        1 => "info",
        _ => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

/// Runs a parsed command line.
pub fn run(cli: Cli) -> Result<()> {
    let Cli { global, command } = cli;
    match command {
        Command::Init(arguments) => init(arguments),
        Command::Mine(arguments) => mine(arguments, &global),
        Command::Search(arguments) => search_command(*arguments),
        Command::Embed(arguments) => embed::run(arguments, &global),
        Command::Train(task) => train::train(task, &global),
        Command::Eval(arguments) => train::eval(*arguments, &global),
        Command::Report(arguments) => report::run(arguments, &global),
        Command::Serve(arguments) => serve::run(arguments),
    }
}

fn init(arguments: InitArgs) -> Result<()> {
    let InitArgs { workspace, config } = arguments;
    match config {
        Some(path) => {
            let text = std::fs::read_to_string(&path)
                .with_context(|| format!("cannot read configuration {}", path.display()))?;
            Workspace::init_with(&workspace, &text)?
        }
        None => Workspace::init(&workspace)?,
    };
    println!(
        "created {} with a commented vocmine.toml; next: vocmine mine {} <files>",
        workspace.display(),
        workspace.display()
    );
    Ok(())
}

fn mine(arguments: MineArgs, global: &GlobalArgs) -> Result<()> {
    let MineArgs {
        workspace,
        inputs,
        index_threads,
        threads,
        period,
        test_encoder,
    } = arguments;
    let mut workspace = Workspace::open(&workspace)?;
    if let Some(threads) = threads {
        workspace.config.model.threads = threads;
    }
    if workspace.config.input.raw_rejects {
        warn_raw_rejects(&workspace.root().join(crate::workspace::CONFIG_FILE));
    }
    let fault = std::env::var(crate::fault::FAULT_VARIABLE).unwrap_or_default();
    let settings = MineSettings {
        inputs,
        index_threads,
        period,
        fault: crate::fault::Fault::parse(&fault).map_err(crate::Error::from)?,
    };
    let bars = progress::Bars::new(global.quiet);
    let report = match test_encoder {
        None => pipeline::mine(&workspace, &settings, &bars)?,
        Some(TestEncoder::Hashing) => {
            let hashing = |_: &crate::config::ModelConfig| {
                let encoder = crate::model::hashing::HashingEncoder::new(384);
                Ok(Box::new(encoder) as Box<dyn crate::model::Encoder>)
            };
            pipeline::mine_with(&workspace, &settings, &hashing, &bars)?
        }
    };
    drop(bars);
    output::print_mine_report(&report);
    Ok(())
}

/// Said on every run that keeps rejected rows unmasked, so nobody forgets the setting is on.
pub(crate) fn warn_raw_rejects(config: &std::path::Path) {
    eprintln!(
        "warning: input.raw_rejects = true in {}: rejected rows are kept as read, personal data included",
        config.display()
    );
}

fn search_command(arguments: SearchArgs) -> Result<()> {
    let SearchArgs {
        workspace,
        query,
        since,
        until,
        source,
        language,
        rating,
        location,
        product,
        sentiment,
        topic,
        team,
        cluster,
        limit,
        offset,
        format,
    } = arguments;
    let workspace = Workspace::open(&workspace)?;
    let index = crate::index::DocumentIndex::open(&workspace.index_dir())?;
    let request = SearchRequest {
        query,
        filters: Filters {
            since,
            until,
            sources: source,
            languages: language,
            rating: rating
                .as_deref()
                .map(search::parse_rating_range)
                .transpose()?,
            locations: location,
            products: product,
            sentiments: sentiment,
            topics: topic,
            teams: team,
            clusters: cluster,
        },
        limit,
        offset,
        ..SearchRequest::default()
    };
    search::check_filters(
        &index.searcher(),
        index.fields(),
        &workspace.config,
        &request.filters,
        &search::FilterNames::CLI,
    )?;
    let results = search::search(&index, &request).context("search failed")?;
    output::print_search_results(&results, format)?;
    Ok(())
}
