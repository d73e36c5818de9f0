//! The records that flow between stages: [`Feedback`] as read from an input file, and
//! [`Document`] after normalisation, ready to index and enrich.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// Where a record came from, so every error and reject can name file and line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Origin {
    /// The input file as given on the command line.
    pub file: String,
    /// 1-based line number of the record's first line in the file.
    pub line: u64,
}

/// The optional fields that travel with a text, as read from the input and stored in the index.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Metadata {
    /// The id given by the source system, if any.
    pub id: Option<String>,
    /// The date the feedback was given.
    pub date: Option<NaiveDate>,
    /// Star rating or score, as given (usually 1 to 5).
    pub rating: Option<f64>,
    /// Kind of feedback: review, complaint, survey, ...
    pub source: Option<String>,
    /// Channel it came through: google, hotline, email, twitter, ...
    pub channel: Option<String>,
    /// Store, dealer or branch the feedback is about.
    pub location: Option<String>,
    /// Product or service the feedback is about.
    pub product: Option<String>,
    /// The customer's id in the source system.
    pub customer_id: Option<String>,
    /// Value of the customer to the business (for example years x profit per year).
    pub customer_value: Option<f64>,
    /// A label given with the text (read only when `columns.label` is configured: training and
    /// evaluation files).
    pub label: Option<String>,
}

/// One row of customer feedback as read from an input file, before normalisation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Feedback {
    /// The feedback text as read (decoded, otherwise untouched).
    pub text: String,
    /// The other fields of the row.
    pub metadata: Metadata,
    /// Where the row came from.
    pub origin: Origin,
}

/// Language of a document, as detected by [`crate::normalise`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Language {
    /// English (and other Latin-script text that reads as English).
    #[serde(rename = "en")]
    English,
    /// Chinese written in Simplified characters.
    #[serde(rename = "zh-Hans")]
    ChineseSimplified,
    /// Chinese written in Traditional characters.
    #[serde(rename = "zh-Hant")]
    ChineseTraditional,
    /// Anything else, including text too short to tell.
    #[serde(rename = "other")]
    Other,
}

impl Language {
    /// The BCP-47 style code used in the index and on the command line.
    pub fn code(self) -> &'static str {
        match self {
            Language::English => "en",
            Language::ChineseSimplified => "zh-Hans",
            Language::ChineseTraditional => "zh-Hant",
            Language::Other => "other",
        }
    }

    /// Parses a code as written by [`Language::code`] (case-insensitive; `zh` means Simplified).
    pub fn from_code(code: &str) -> Option<Language> {
        match code.to_ascii_lowercase().as_str() {
            "en" => Some(Language::English),
            "zh-hans" | "zh" | "zh-cn" => Some(Language::ChineseSimplified),
            "zh-hant" | "zh-tw" | "zh-hk" => Some(Language::ChineseTraditional),
            "other" => Some(Language::Other),
            _ => None,
        }
    }
}

/// A normalised document: what the index stores and every later stage reads.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Document {
    /// Stable id: the source id when given, otherwise derived from the content hash.
    pub id: String,
    /// Display text: NFKC, whitespace and HTML cleaned, PII masked. Original script kept.
    pub text: String,
    /// Detected language.
    pub language: Language,
    /// Hex sha256 of the analysis form (Simplified, lowercased, whitespace collapsed): the dedup key.
    pub content_hash: String,
    /// The other fields as read.
    pub metadata: Metadata,
    /// Where the row came from.
    pub origin: Origin,
}

/// What the model stages add to a document: sentiment and topic (classify), cluster (cluster)
/// and owning team (route). Empty until those stages have run.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Enrichment {
    /// `negative`, `neutral` or `positive`.
    pub sentiment: Option<String>,
    /// Probability of the sentiment label.
    pub sentiment_score: Option<f64>,
    /// Topic name from the taxonomy, or `other`.
    pub topic: Option<String>,
    /// Id of the recurring problem holding most of the document's complaint units.
    pub cluster: Option<String>,
    /// Team that owns the document's cluster.
    pub team: Option<String>,
    /// The other problems its complaint units are in (a review that complains about two things
    /// is in two problems); `cluster:` searches match any of them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub also_in: Vec<String>,
}
