//! `vocmine train` and `vocmine eval`: arguments, their resolution into settings, and what is
//! printed.

use std::collections::BTreeMap;
use std::io::BufRead;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::{Args, Subcommand, ValueEnum};

use super::embed::{encoder_settings, ModelArg};
use super::progress::Bars;
use super::GlobalArgs;
use crate::classify::learn::text_head::TextHeadSettings;
use crate::classify::learn::train::{ClassWeighting, HeadKind};
use crate::classify::learn::{Head, TrainingSettings};
use crate::classify::sentiment::SentimentModel;
use crate::classify::{ClassifyError, TopicPrototypes};
use crate::config::{Config, Precision};
use crate::ingest::IngestSettings;
use crate::model::{open_encoder, registry, ModelChoice};
use crate::pipeline::{self, LabelledSettings, Split};
use crate::workspace::{write_atomically, Workspace};

/// Labelled files and their columns (shared by every `train` and `eval` task).
#[derive(Debug, Args)]
pub struct LabelFileArgs {
    /// Labelled files (CSV, TSV, JSONL, ...).
    #[arg(long = "labels", required = true)]
    pub labels: Vec<PathBuf>,
    /// Column holding the text.
    #[arg(long)]
    pub text_column: String,
    /// Column holding the label.
    #[arg(long)]
    pub label_column: String,
    /// A two-column CSV (data label, class name) for files whose labels differ, e.g. `0,negative`.
    #[arg(long)]
    pub mapping: Option<PathBuf>,
    /// libtorch threads; 0 = one per core.
    #[arg(long, env = "VOCMINE_THREADS", default_value_t = 0)]
    pub threads: usize,
}

/// Where labelled rows come from and which encoder embeds them (`train sentiment`, `eval`).
#[derive(Debug, Args)]
pub struct LabelArgs {
    /// The files.
    #[command(flatten)]
    pub files: LabelFileArgs,
    /// Encoder (the shipped heads expect e5).
    #[arg(long, value_enum, default_value_t = ModelArg::E5)]
    pub model: ModelArg,
    /// Cut texts at this many tokens.
    #[arg(long, default_value_t = 256)]
    pub max_tokens: usize,
    /// Read long texts as up to this many windows of `--max-tokens` (as `[model] windows`).
    #[arg(long, default_value_t = 1)]
    pub windows: usize,
    /// Number format of the encoder (as `[model] precision`). fp32 by default, the format the
    /// shipped heads were trained in, so `train` reproduces them (and `mine`'s default); `auto`
    /// is bf16 where the CPU has bf16 instructions.
    #[arg(long, value_enum, default_value_t = PrecisionArg::Fp32)]
    pub precision: PrecisionArg,
}

/// `--precision` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PrecisionArg {
    /// 32-bit floats (the shipped heads were trained on these).
    Fp32,
    /// bfloat16: about twice as fast on CPUs with bf16 instructions.
    Bf16,
    /// bf16 where the CPU has bf16 instructions, else fp32.
    Auto,
}

impl From<PrecisionArg> for Precision {
    fn from(precision: PrecisionArg) -> Precision {
        match precision {
            PrecisionArg::Fp32 => Precision::Fp32,
            PrecisionArg::Bf16 => Precision::Bf16,
            PrecisionArg::Auto => Precision::Auto,
        }
    }
}

/// What `vocmine train` trains.
#[derive(Debug, Subcommand)]
pub enum TrainTask {
    /// A sentiment head (labels negative / neutral / positive, or negative / positive).
    ///
    /// Trains on the rows outside the test split (DESIGN.md: first byte of sha256(text) >= 0x33)
    /// and writes a head file that records this command, the data's sha256 and the seed; the
    /// same command reproduces it byte for byte.
    ///
    /// Example:
    ///   vocmine train sentiment --labels airline_tweets.csv --text-column text \
    ///     --label-column sentiment --out models/sentiment-en.json
    #[command(verbatim_doc_comment)]
    Sentiment(TrainArgs),
    /// A topic head for one workspace, from your own labelled documents.
    ///
    /// Embeds the rows outside the test split with the workspace's encoder and writes
    /// WORKSPACE/models/topic.json. From then on `vocmine mine` gives each new document the most
    /// probable of the head's classes (your labels) as its topic, instead of the nearest topic of
    /// the taxonomy; name the classes as `[[team]] topics` does, so routing follows them. Delete
    /// the file to go back to the taxonomy. `vocmine eval --task topic --folds 5` estimates the
    /// head's accuracy first.
    ///
    /// Example:
    ///   vocmine train topic my-workspace --labels complaints.csv \
    ///     --text-column "Consumer complaint narrative" --label-column Product
    #[command(verbatim_doc_comment)]
    Topic(TopicTrainArgs),
}

/// Arguments of `vocmine train topic`.
#[derive(Debug, Args)]
pub struct TopicTrainArgs {
    /// The workspace whose encoder embeds the rows and which receives the head.
    pub workspace: PathBuf,
    /// The labelled data.
    #[command(flatten)]
    pub files: LabelFileArgs,
    /// How the head is trained.
    #[command(flatten)]
    pub head: HeadArgs,
}

/// Arguments of `vocmine train sentiment`.
#[derive(Debug, Args)]
pub struct TrainArgs {
    /// The labelled data.
    #[command(flatten)]
    pub data: LabelArgs,
    /// Where to write the head (JSON).
    #[arg(long)]
    pub out: PathBuf,
    /// How the head is trained.
    #[command(flatten)]
    pub head: HeadArgs,
    /// Also train a text head beside the embedding head: a logistic regression over the texts'
    /// character n-grams (1 to 3 characters), mixed into the head's probabilities at a share
    /// chosen on the validation rows. Costs no second encoder pass; the shipped Chinese head
    /// has one.
    #[arg(long)]
    pub text_head: bool,
}

/// How `train` fits a head (shared by `train sentiment` and `train topic`).
#[derive(Debug, Args)]
pub struct HeadArgs {
    /// Head kind.
    #[arg(long, value_enum, default_value_t = KindArg::Linear)]
    pub kind: KindArg,
    /// Class weights in the loss.
    #[arg(long, value_enum, default_value_t = ClassWeightArg::SqrtBalanced)]
    pub class_weights: ClassWeightArg,
    /// Seed of the validation carve and initialisation.
    #[arg(long, default_value_t = TrainingSettings::default().seed)]
    pub seed: u64,
}

impl HeadArgs {
    /// The training settings these arguments ask for.
    fn settings(&self) -> TrainingSettings {
        training_settings(self.kind, self.class_weights, self.seed)
    }
}

/// Training settings with this head kind, class weighting and seed, the rest at their defaults.
fn training_settings(kind: KindArg, weights: ClassWeightArg, seed: u64) -> TrainingSettings {
    TrainingSettings {
        kind: kind.into(),
        class_weighting: weights.into(),
        seed,
        ..TrainingSettings::default()
    }
}

/// Head kinds on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum KindArg {
    /// Multinomial logistic regression.
    Linear,
    /// One hidden layer of 256 ReLU units.
    Mlp,
}

/// Class weights in the training loss, on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ClassWeightArg {
    /// The square root of the balanced weight (the default): rare classes lifted a little.
    SqrtBalanced,
    /// rows / (classes x rows of the class), as scikit-learn's "balanced".
    Balanced,
    /// Every row counts once: best accuracy when classes are as skewed as the data ahead.
    Uniform,
}

impl From<ClassWeightArg> for ClassWeighting {
    fn from(weights: ClassWeightArg) -> Self {
        match weights {
            ClassWeightArg::SqrtBalanced => ClassWeighting::SquareRootBalanced,
            ClassWeightArg::Balanced => ClassWeighting::Balanced,
            ClassWeightArg::Uniform => ClassWeighting::Uniform,
        }
    }
}

/// Which rows `eval` scores.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SplitArg {
    /// Only the test split (the rows heads never train on).
    Test,
    /// Every row (for files no head was trained on).
    All,
}

/// Output formats of `eval`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum EvalFormat {
    /// A readable table.
    Table,
    /// One JSON object.
    Json,
}

/// Arguments of `vocmine eval`.
#[derive(Debug, Args)]
pub struct EvalArgs {
    /// The labelled data.
    #[command(flatten)]
    pub data: LabelArgs,
    /// What to score: the sentiment heads, or the problem stages (cluster + label + route, with
    /// the default configuration or `--config`'s) against the labels of every row.
    #[arg(long, value_enum, default_value_t = TaskArg::Sentiment)]
    pub task: TaskArg,
    /// Which rows to score.
    #[arg(long, value_enum, default_value_t = SplitArg::Test)]
    pub split: SplitArg,
    /// English head to score instead of the shipped one.
    #[arg(long)]
    pub head_en: Option<PathBuf>,
    /// Chinese head to score instead of the shipped one.
    #[arg(long)]
    pub head_zh: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = EvalFormat::Table)]
    pub format: EvalFormat,
    /// A vocmine.toml whose [cluster], [[topic]] and [[team]] settings `--task cluster` and
    /// `--task topic` use.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// `--task topic`: K-fold cross-validation of a supervised head instead of zero-shot.
    #[arg(long)]
    pub folds: Option<usize>,
    /// `--task topic --folds K`: the kind of head cross-validated.
    #[arg(long, value_enum, default_value_t = KindArg::Linear)]
    pub kind: KindArg,
    /// `--task topic --folds K`: class weights in the loss.
    #[arg(long, value_enum, default_value_t = ClassWeightArg::SqrtBalanced)]
    pub class_weights: ClassWeightArg,
    /// `--task problems`: a second label column (the brand, e.g. the airline) to report AMI
    /// against; a brand-blind stage scores near 0.
    #[arg(long)]
    pub second_column: Option<String>,
}

/// Tasks `eval` scores.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TaskArg {
    /// Sentiment heads.
    Sentiment,
    /// Recurring-problem clusters: NMI, ARI and unassigned share over every row (`--split` is
    /// ignored).
    Cluster,
    /// Recurring problems found in complaint units, as `mine` finds them, against a reason per
    /// row read by hand: NMI, AMI, purity, AMI against `--second-column`, the unassigned share
    /// and the problems with their titles, beside k-means at the true number of reasons and the
    /// document-level stage (`--split` is ignored).
    Problems,
    /// Topics over every row: zero-shot from `--config`'s taxonomy (labels must be its topic
    /// names, or mapped to them), or supervised with `--folds K` cross-validation.
    Topic,
}

fn labelled_settings(data: LabelArgs) -> Result<LabelledSettings> {
    labelled_settings_with(data, None)
}

/// [`labelled_settings`] that also reads `second_column` (into the customer-id field, which no
/// stage reads, so it cannot influence what it is compared with).
fn labelled_settings_with(
    data: LabelArgs,
    second_column: Option<&str>,
) -> Result<LabelledSettings> {
    let LabelArgs {
        files,
        model,
        max_tokens,
        windows,
        precision,
    } = data;
    let mut config = Config::default();
    config.model.encoder = ModelChoice::from(model);
    config.model.max_tokens = max_tokens;
    config.model.windows = windows;
    config.model.precision = Precision::from(precision);
    config.columns.customer_id = second_column.map(str::to_string);
    settings_for_files(files, &config, registry::cache_dir().join("embeddings"))
}

/// Settings that read `files` with `config`'s input options and embed them with its encoder
/// through the embedding cache under `cache_root`.
fn settings_for_files(
    files: LabelFileArgs,
    config: &Config,
    cache_root: PathBuf,
) -> Result<LabelledSettings> {
    let LabelFileArgs {
        labels,
        text_column,
        label_column,
        mapping,
        threads,
    } = files;
    let mut config = config.clone();
    config.columns.text = Some(text_column);
    config.columns.label = Some(label_column);
    Ok(LabelledSettings {
        inputs: labels,
        ingest: IngestSettings::from_config(&config),
        mapping: mapping
            .as_deref()
            .map(read_mapping)
            .transpose()?
            .unwrap_or_default(),
        model: config.model.encoder,
        encoder: encoder_settings(&config, None, Some(threads)),
        cache_root,
    })
}

/// Reads `data label,class name` lines (a header line `label,class` is allowed).
fn read_mapping(path: &Path) -> Result<BTreeMap<String, String>> {
    let file = std::fs::File::open(path)
        .with_context(|| format!("cannot read label mapping {}", path.display()))?;
    let mut mapping = BTreeMap::new();
    for (index, line) in std::io::BufReader::new(file).lines().enumerate() {
        let line = line.with_context(|| format!("cannot read {}", path.display()))?;
        if line.trim().is_empty() || (index == 0 && line.trim() == "label,class") {
            continue;
        }
        let (from, to) = line.split_once(',').ok_or_else(|| ClassifyError::Mapping {
            path: path.to_path_buf(),
            line: index + 1,
            reason: format!("expected 'data label,class name', found '{line}'"),
        })?;
        mapping.insert(from.trim().to_string(), to.trim().to_string());
    }
    Ok(mapping)
}

/// Runs `vocmine train`.
pub fn train(task: TrainTask, global: &GlobalArgs) -> Result<()> {
    match task {
        TrainTask::Sentiment(arguments) => train_sentiment(arguments, global),
        TrainTask::Topic(arguments) => train_topic(arguments, global),
    }
}

fn train_sentiment(arguments: TrainArgs, global: &GlobalArgs) -> Result<()> {
    let TrainArgs {
        data,
        out,
        head: head_args,
        text_head,
    } = arguments;
    let inputs = data.files.labels.clone();
    let settings = labelled_settings(data)?;
    let bars = Bars::new(global.quiet);
    let labelled = pipeline::read_labelled(&settings, Split::Train, &bars)?;
    let known = ["negative", "neutral", "positive"];
    let rows: Vec<usize> = (0..labelled.labels.len()).collect();
    pipeline::check_labels(&labelled, &rows, &known)?;
    let training = TrainingSettings {
        text: text_head.then(TextHeadSettings::default),
        ..head_args.settings()
    };
    let command = recorded_command();
    let head = pipeline::train_on(&labelled, &inputs, &training, &command, false)?;
    drop(bars);
    write_atomically(&out, head.to_json().as_bytes())?;
    print_trained(&head, head_args.kind, &out);
    Ok(())
}

fn train_topic(arguments: TopicTrainArgs, global: &GlobalArgs) -> Result<()> {
    let TopicTrainArgs {
        workspace,
        files,
        head: head_args,
    } = arguments;
    let workspace = Workspace::open(&workspace)?;
    let inputs = files.labels.clone();
    let settings = settings_for_files(files, &workspace.config, workspace.embedding_cache_dir())?;
    let bars = Bars::new(global.quiet);
    let labelled = pipeline::read_labelled(&settings, Split::Train, &bars)?;
    let training = head_args.settings();
    let head = pipeline::train_on(&labelled, &inputs, &training, &recorded_command(), true)?;
    drop(bars);
    let out = workspace.topic_head_path();
    write_atomically(&out, head.to_json().as_bytes())?;
    print_trained(&head, head_args.kind, &out);
    println!(
        "topics: {}; `vocmine mine` now gives new documents these topics",
        head.class_names.join(", ")
    );
    Ok(())
}

fn print_trained(head: &Head, kind: KindArg, out: &Path) {
    let summary = &head.metadata.summary;
    println!(
        "trained a {} head on {} rows ({} for validation) into {}; regularisation {}, validation log-loss {:.4} -> {:.4} calibrated",
        kind_name(kind),
        summary.final_rows,
        summary.validation_rows,
        out.display(),
        summary.chosen_regularisation,
        summary.validation_nll_uncalibrated,
        summary.validation_nll_calibrated
    );
    if let Some(text) = &head.text {
        let accuracy = &text.summary.validation_accuracy;
        println!(
            "with a text head: regularisation {}, share {:.1} of the mix; validation accuracy {:.3} (embedding head) / {:.3} (text head) -> {:.3} mixed (on the rows that chose them)",
            text.summary.chosen_regularisation,
            text.share,
            accuracy.embedding,
            accuracy.text,
            accuracy.mixed
        );
    }
}

impl From<KindArg> for HeadKind {
    fn from(kind: KindArg) -> Self {
        match kind {
            KindArg::Linear => HeadKind::Linear,
            KindArg::Mlp => HeadKind::Mlp,
        }
    }
}

fn kind_name(kind: KindArg) -> &'static str {
    match kind {
        KindArg::Linear => "linear",
        KindArg::Mlp => "MLP",
    }
}

/// The command line as typed, minus the program path, for the head's provenance; paths inside
/// the cache are written as `$VOCMINE_CACHE/...` so the command reads the same on every machine.
fn recorded_command() -> String {
    let cache = registry::cache_dir().display().to_string();
    let arguments: Vec<String> = std::env::args()
        .skip(1)
        .map(|argument| argument.replace(&cache, "$VOCMINE_CACHE"))
        .collect();
    format!("vocmine {}", arguments.join(" "))
}

fn read_config(path: Option<&Path>) -> Result<Config> {
    Ok(match path {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            Config::parse(&text).with_context(|| format!("{} is not valid", path.display()))?
        }
        None => Config::parse(crate::config::DEFAULT_CONFIG).expect("the default config parses"),
    })
}

fn eval_topic(
    settings: &LabelledSettings,
    config: Option<&Path>,
    folds: Option<usize>,
    training: TrainingSettings,
    format: EvalFormat,
    global: &GlobalArgs,
) -> Result<()> {
    let config = read_config(config)?;
    let bars = Bars::new(global.quiet);
    let labelled = pipeline::read_labelled(settings, Split::All, &bars)?;
    drop(bars);
    let report = match folds {
        Some(folds) => pipeline::cross_validate_topics(&labelled, folds, &training)?,
        None => {
            let mut encoder = open_encoder(settings.model, settings.encoder.clone())?;
            let prototypes =
                TopicPrototypes::build(&config.topics, &mut encoder, f32::NEG_INFINITY)?;
            let classify = &config.classify;
            let refinement = classify
                .refine_topics
                .then_some(classify.refine_min_documents);
            pipeline::evaluate_zero_shot_topics(&labelled, &prototypes, refinement)?
        }
    };
    print_eval(&report, format)
}

fn print_eval(report: &pipeline::EvalReport, format: EvalFormat) -> Result<()> {
    match format {
        EvalFormat::Json => println!("{}", serde_json::to_string_pretty(report)?),
        EvalFormat::Table => {
            println!(
                "{} ({} mode) on {} rows of the {} split: accuracy {:.3}, macro-F1 {:.3}",
                report.task,
                report.mode,
                report.scores.rows,
                report.split,
                report.scores.accuracy,
                report.scores.macro_f1
            );
            print!("{}", report.scores.render_table());
        }
    }
    Ok(())
}

fn eval_cluster(
    settings: &LabelledSettings,
    config: Option<&Path>,
    format: EvalFormat,
    global: &GlobalArgs,
) -> Result<()> {
    let config = read_config(config)?;
    let bars = Bars::new(global.quiet);
    let labelled = pipeline::read_labelled(settings, Split::All, &bars)?;
    let report = pipeline::evaluate_clustering(&labelled, &config, &bars);
    drop(bars);
    match format {
        EvalFormat::Json => println!("{}", serde_json::to_string_pretty(&report)?),
        EvalFormat::Table => println!(
            "cluster on all {} rows ({} labels): {} problems, {:.1}% unassigned, NMI {:.3} \
             (assigned rows {:.3}), ARI {:.3}; cluster + label + route took {:.2} s",
            report.rows,
            report.labels,
            report.clusters,
            report.unassigned_share * 100.0,
            report.nmi,
            report.nmi_assigned,
            report.ari,
            report.seconds
        ),
    }
    Ok(())
}

fn eval_problems(
    settings: &LabelledSettings,
    config: Option<&Path>,
    has_second: bool,
    format: EvalFormat,
    global: &GlobalArgs,
) -> Result<()> {
    let config = read_config(config)?;
    let bars = Bars::new(global.quiet);
    let labelled = pipeline::read_labelled(settings, Split::All, &bars)?;
    let second: Option<Vec<String>> = has_second.then(|| {
        labelled
            .read
            .documents
            .iter()
            .map(|document| document.metadata.customer_id.clone().unwrap_or_default())
            .collect()
    });
    let report =
        pipeline::evaluate_problems(&labelled, settings, second.as_deref(), &config, &bars)?;
    drop(bars);
    match format {
        EvalFormat::Json => println!("{}", serde_json::to_string_pretty(&report)?),
        EvalFormat::Table => print!("{}", super::output::problem_eval_table(&report)),
    }
    Ok(())
}

/// Runs `vocmine eval`.
pub fn eval(arguments: EvalArgs, global: &GlobalArgs) -> Result<()> {
    let EvalArgs {
        data,
        task,
        split,
        head_en,
        head_zh,
        format,
        config,
        folds,
        kind,
        class_weights,
        second_column,
    } = arguments;
    let settings = labelled_settings_with(data, second_column.as_deref())?;
    match task {
        TaskArg::Cluster => return eval_cluster(&settings, config.as_deref(), format, global),
        TaskArg::Problems => {
            let has_second = second_column.is_some();
            return eval_problems(&settings, config.as_deref(), has_second, format, global);
        }
        TaskArg::Topic => {
            let seed = TrainingSettings::default().seed;
            let training = training_settings(kind, class_weights, seed);
            return eval_topic(
                &settings,
                config.as_deref(),
                folds,
                training,
                format,
                global,
            );
        }
        TaskArg::Sentiment => {}
    }
    let shipped = SentimentModel::shipped();
    let load = |path: &Option<PathBuf>, language| -> Result<Head> {
        Ok(match path {
            Some(path) => Head::load(path).map_err(ClassifyError::Head)?,
            None => shipped.head_for(language).clone(),
        })
    };
    let model = SentimentModel::new(
        load(&head_en, crate::document::Language::English)?,
        load(&head_zh, crate::document::Language::ChineseSimplified)?,
    );
    let bars = Bars::new(global.quiet);
    let split = match split {
        SplitArg::Test => Split::Test,
        SplitArg::All => Split::All,
    };
    let labelled = pipeline::read_labelled(&settings, split, &bars)?;
    drop(bars);
    let report = pipeline::evaluate_sentiment(&model, &labelled, split)?;
    print_eval(&report, format)
}
