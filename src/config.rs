//! The workspace configuration, `vocmine.toml`: how input files map to fields, how the text is
//! read, which model encodes it, the topic taxonomy and the teams that own problems. Parsed once
//! into [`Config`]; stages receive the parts they need. Unknown keys are errors, so a typo in the
//! file is reported with its line instead of silently ignored.

use crate::model::ModelChoice;
use serde::{Deserialize, Serialize};

/// The whole `vocmine.toml`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// How input files are read.
    pub input: InputConfig,
    /// Which column or key holds which field; missing entries are detected from the headers.
    pub columns: ColumnsConfig,
    /// Values used when a row has no such column.
    pub defaults: DefaultsConfig,
    /// The sentence encoder.
    pub model: ModelConfig,
    /// The topic taxonomy.
    #[serde(rename = "topic")]
    pub topics: Vec<TopicConfig>,
    /// How the classify stage uses the taxonomy.
    pub classify: ClassifyConfig,
    /// The teams that own problems, and the rules that route problems to them.
    #[serde(rename = "team")]
    pub teams: Vec<TeamConfig>,
    /// Which documents are clustered into recurring problems, and how.
    pub cluster: ClusterConfig,
    /// How problems are routed to teams.
    pub route: RouteConfig,
}

/// The classify stage's choices.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ClassifyConfig {
    /// After the nearest-prototype pass, each topic with at least `refine_min_documents`
    /// documents is re-centred on the mean of its documents and every such document goes to the
    /// nearest centre (one round, no labels involved): descriptions written by people rarely sit
    /// where a topic's real texts are. Off by default: it helps a taxonomy of one business
    /// (the complaints, README), but on the demo's mix of businesses it drew airline tweets into
    /// `safety`.
    pub refine_topics: bool,
    /// Documents a topic needs in one run before its centre moves.
    pub refine_min_documents: usize,
}

impl Default for ClassifyConfig {
    fn default() -> Self {
        ClassifyConfig {
            refine_topics: false,
            refine_min_documents: 10,
        }
    }
}

/// The cluster stage's choices.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ClusterConfig {
    /// Documents with one of these sentiments are clustered.
    pub sentiments: Vec<String>,
    /// Documents from one of these sources are clustered whatever their sentiment.
    pub sources: Vec<String>,
    /// Smallest group reported as a problem; unset: 0.5% of the documents, 5 to 100.
    pub min_cluster_size: Option<usize>,
    /// Seed of every random choice; the same input and seed give the same clusters.
    pub seed: u64,
    /// Centroid cosine similarity at which a cluster continues one of the previous run's.
    pub match_threshold: f32,
    /// Quantile of member-to-centroid similarity an outlier must reach to join a cluster;
    /// 0 keeps every outlier unassigned.
    pub reassign_quantile: f32,
    /// A cluster holding more than this share of the clustered documents is clustered again on
    /// its own and replaced by its parts; 0 (the default) never splits. For archives that mix
    /// businesses or product lines, where the coarsest stable partition is by business.
    pub split_share: f64,
    /// The encoder English complaint units are clustered by (`minilm`, or `model`: the `[model]`
    /// encoder). Sentiment always comes from the `[model]` encoder's heads.
    pub english_encoder: EnglishUnitEncoder,
}

/// Which encoder places English complaint units for clustering.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EnglishUnitEncoder {
    /// all-MiniLM-L6-v2: on the hand-labelled airline complaints, k-means on its unit
    /// embeddings agreed with the reasons about twice as well as on e5's (AMI 0.23 to 0.26
    /// against 0.09 to 0.12), where e5 groups tweets by tone.
    Minilm,
    /// The `[model]` encoder, like every other language.
    Model,
}

impl Default for ClusterConfig {
    fn default() -> Self {
        ClusterConfig {
            sentiments: vec!["negative".to_string()],
            sources: vec!["complaint".to_string()],
            min_cluster_size: None,
            seed: 0,
            match_threshold: 0.85,
            reassign_quantile: 0.05,
            split_share: 0.15,
            english_encoder: EnglishUnitEncoder::Minilm,
        }
    }
}

/// The route stage's choices.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RouteConfig {
    /// Smallest share of a problem's documents a rule must match to claim it.
    pub min_share: f64,
    /// The team that receives problems no rule claims.
    pub triage_team: String,
}

impl Default for RouteConfig {
    fn default() -> Self {
        RouteConfig {
            min_share: 0.3,
            triage_team: "triage".to_string(),
        }
    }
}

/// How input files are read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct InputConfig {
    /// Text encoding: `auto`, `utf-8`, `gb18030` (also reads GBK and GB2312) or `big5`.
    pub encoding: String,
    /// Field delimiter for delimited files: `auto`, or a single character such as `,` `;` `|`,
    /// or `tab`.
    pub delimiter: String,
    /// Order of day and month in all-numeric dates such as 03/04/2026: `mdy` or `dmy`.
    pub date_order: DateOrder,
    /// Rows whose text is longer than this many bytes are rejected (not truncated).
    pub max_text_bytes: usize,
    /// Keep rejected rows in the rejects files exactly as read, personal data included. Off by
    /// default: e-mails, phone, card and ID numbers in a rejected row are masked as in the index.
    pub raw_rejects: bool,
}

impl Default for InputConfig {
    fn default() -> Self {
        InputConfig {
            encoding: "auto".to_string(),
            delimiter: "auto".to_string(),
            date_order: DateOrder::MonthFirst,
            max_text_bytes: 200_000,
            raw_rejects: false,
        }
    }
}

/// Order of day and month in ambiguous numeric dates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum DateOrder {
    /// 03/04/2026 is March 4th (US exports).
    #[serde(rename = "mdy")]
    MonthFirst,
    /// 03/04/2026 is 3 April (European and most Asian exports).
    #[serde(rename = "dmy")]
    DayFirst,
}

/// Column names (CSV/TSV headers or JSON keys) for each field.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ColumnsConfig {
    /// The feedback text (required, detected when not given).
    pub text: Option<String>,
    /// The source system's id.
    pub id: Option<String>,
    /// The date.
    pub date: Option<String>,
    /// Star rating or score.
    pub rating: Option<String>,
    /// Kind of feedback (review, complaint, survey, ...).
    pub source: Option<String>,
    /// Channel (google, hotline, app, ...).
    pub channel: Option<String>,
    /// Store, dealer or branch.
    pub location: Option<String>,
    /// Product or service.
    pub product: Option<String>,
    /// Customer id.
    pub customer_id: Option<String>,
    /// Customer value.
    pub customer_value: Option<String>,
    /// A label (for `vocmine train` and `vocmine eval`; never detected, only configured).
    pub label: Option<String>,
}

/// Values for rows that have no such column.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DefaultsConfig {
    /// Source used when a row has none (for example `review`).
    pub source: Option<String>,
    /// Channel used when a row has none.
    pub channel: Option<String>,
}

/// Which encoder computes the embeddings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ModelConfig {
    /// `e5` (multilingual-e5-small, default) or `minilm` (English only).
    pub encoder: ModelChoice,
    /// Texts are cut at this many tokens (per window).
    pub max_tokens: usize,
    /// A text longer than `max_tokens` is encoded as up to this many consecutive windows whose
    /// embeddings are averaged (weighted by their tokens); 1 cuts it at `max_tokens`.
    pub windows: usize,
    /// libtorch threads; 0 means one per core.
    pub threads: usize,
    /// Number format of the encoder's weights and activations.
    pub precision: Precision,
}

/// Number format the encoder computes in.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Precision {
    /// `bf16` where the CPU has bf16 instructions (x86 AVX512-BF16), else `fp32`: faster there,
    /// but two machines can then give different answers.
    Auto,
    /// 32-bit floats (the default): the reference, what the shipped heads were trained on, and
    /// the same bits on every x86 machine with AVX2 (see `model::kernels`).
    #[default]
    Fp32,
    /// bfloat16 weights and activations (pooled in f32): about twice as fast where the CPU has
    /// bf16 instructions, embeddings slightly different (their cache entries are kept apart).
    Bf16,
}

impl Precision {
    /// The concrete format: [`Precision::Auto`] becomes `Bf16` or `Fp32` by what this CPU has.
    pub fn resolve(self) -> Precision {
        match self {
            Precision::Auto if cpu_has_bf16() => Precision::Bf16,
            Precision::Auto => Precision::Fp32,
            concrete => concrete,
        }
    }
}

/// True when the CPU computes bfloat16 natively (libtorch then runs bf16 matmuls about twice as
/// fast as fp32; without these instructions it emulates them, slower than fp32).
fn cpu_has_bf16() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        // Every x86 CPU with AMX-BF16 also has AVX512-BF16.
        std::arch::is_x86_feature_detected!("avx512bf16")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

impl Default for ModelConfig {
    fn default() -> Self {
        ModelConfig {
            encoder: ModelChoice::E5Small,
            max_tokens: 256,
            windows: 1,
            threads: 0,
            precision: Precision::Fp32,
        }
    }
}

/// One topic of the taxonomy.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TopicConfig {
    /// Short name, used in the index and on the command line.
    pub name: String,
    /// One-line description in English.
    pub description_en: String,
    /// One-line description in Chinese.
    pub description_zh: String,
    /// Example phrases, in either language.
    pub examples: Vec<String>,
    /// The team that owns problems of this topic.
    pub team: Option<String>,
}

/// One owning team and the rules that route problems to it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TeamConfig {
    /// Team name, used in the index, reports and on the command line.
    pub name: String,
    /// Topics this team owns.
    pub topics: Vec<String>,
    /// Keywords or phrases, in either language, that route a problem here.
    pub keywords: Vec<String>,
    /// Sources (review, complaint, ...) this team owns.
    pub sources: Vec<String>,
    /// Channels this team owns.
    pub channels: Vec<String>,
    /// Locations this team owns.
    pub locations: Vec<String>,
    /// Products this team owns.
    pub products: Vec<String>,
}

impl Config {
    /// Parses the text of a `vocmine.toml`.
    pub fn parse(text: &str) -> Result<Config, toml::de::Error> {
        toml::from_str(text)
    }
}

/// The commented configuration `vocmine init` writes.
pub const DEFAULT_CONFIG: &str = include_str!("default_config.toml");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn example_configs_parse() {
        let examples = [
            include_str!("../corpora/examples/cfpb-products.toml"),
            include_str!("../corpora/examples/cfpb-products-oneline.toml"),
            include_str!("../corpora/demo/vocmine.toml"),
        ];
        for text in examples {
            let config = Config::parse(text).unwrap();
            assert!(config.topics.len() >= 8);
        }
    }

    #[test]
    fn default_config_file_parses_to_defaults_plus_taxonomy() {
        let config = Config::parse(DEFAULT_CONFIG).unwrap();
        assert_eq!(config.input, InputConfig::default());
        assert_eq!(config.model, ModelConfig::default());
        assert!(config.topics.len() >= 12);
        assert!(!config.teams.is_empty());
    }

    #[test]
    fn precision_is_fp32_unless_another_format_is_asked_for() {
        assert_eq!(Config::parse("").unwrap().model.precision, Precision::Fp32);
        let config = Config::parse("[model]\nprecision = \"fp32\"\n").unwrap();
        assert_eq!(config.model.precision, Precision::Fp32);
        assert_eq!(config.model.precision.resolve(), Precision::Fp32);
        assert_ne!(Precision::Auto.resolve(), Precision::Auto);
        let config = Config::parse("[model]\nprecision = \"bf16\"\n").unwrap();
        assert_eq!(config.model.precision, Precision::Bf16);
        assert!(Config::parse("[model]\nprecision = \"fp16\"\n").is_err());
    }

    #[test]
    fn unknown_key_is_an_error_with_its_line() {
        let error = Config::parse("[input]\nencodng = \"utf-8\"\n").unwrap_err();
        let message = error.to_string();
        assert!(message.contains("encodng"), "{message}");
        assert!(message.contains("line 2"), "{message}");
    }
}
