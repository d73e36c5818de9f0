//! Complaint units of the candidate documents, between classify and the problem stage: each
//! candidate document split into units ([`crate::unit`]), every unit encoded (through the
//! embedding cache, without @mentions or links) and given its own sentiment by the same heads as
//! documents, and the units that complain chosen for clustering: negative ones, and from a
//! complaint source every one that is not positive. A candidate document none of whose units
//! was chosen still gives its most negative unit, so every complaint is counted somewhere; a
//! positive remark inside a negative review never enters a problem.
//!
//! The embedding a unit is clustered by is its own, plus the mean of its document's units (both
//! unit length, weighted by [`CONTEXT_WEIGHT`]): a clause such as "they did nothing about it" is
//! only a problem in the context of its review. On the hand-labelled development set
//! (`corpora/problems/`) the context raised k-means' AMI against the complaint reason from 0.38 to
//! 0.45 for Chinese reviews. English units are placed by a second encoder when one is given
//! (all-MiniLM-L6-v2 by default, see [`crate::config::EnglishUnitEncoder`]): their embeddings live
//! in another space, marked by [`ComplaintUnit::space`], and are clustered apart.

use std::collections::BTreeMap;

use rayon::prelude::*;
use serde::Serialize;

use super::embed::embed_texts;
use crate::classify::sentiment::{decide, label_name, SentimentModel};
use crate::document::{Document, Language};
use crate::model::{l2_normalise, Encoder};
use crate::progress::Progress;
use crate::unit::{encoding_text, split_units, Unit, UnitSettings};
use crate::Result;

/// Weight of the document's mean unit embedding added to each unit's own.
pub const CONTEXT_WEIGHT: f32 = 1.0;

/// One document the unit step splits.
#[derive(Debug, Clone, Copy)]
pub struct UnitSource<'a> {
    /// The document.
    pub document: &'a Document,
    /// From a complaint source (its units count unless positive).
    pub complaint: bool,
}

/// One chosen unit.
#[derive(Debug, Clone, PartialEq)]
pub struct ComplaintUnit {
    /// Position of its document in the step's input.
    pub source: usize,
    /// Where it is in the document's text.
    pub unit: Unit,
    /// Its own sentiment.
    pub sentiment: &'static str,
    /// Its probability of being negative.
    pub negative: f32,
    /// The embedding space it is placed in: [`MODEL_SPACE`] or [`ENGLISH_SPACE`].
    pub space: usize,
}

/// Units placed by the `[model]` encoder.
pub const MODEL_SPACE: usize = 0;
/// English units placed by the English unit encoder.
pub const ENGLISH_SPACE: usize = 1;

/// The chosen units and the embeddings they are clustered by.
#[derive(Debug, Clone, Default)]
pub struct CandidateUnits {
    /// Chosen units, grouped by document in input order, each document's in text order.
    pub units: Vec<ComplaintUnit>,
    /// One row per chosen unit: own embedding plus document context, unit length.
    pub embeddings: Vec<f32>,
    /// Row width.
    pub dimension: usize,
    /// Counts for the run summary.
    pub report: UnitReport,
}

impl CandidateUnits {
    /// The clustering embedding of chosen unit `index`.
    pub fn embedding(&self, index: usize) -> &[f32] {
        &self.embeddings[index * self.dimension..(index + 1) * self.dimension]
    }

    /// The chosen units as the problem stage takes them.
    pub fn problem_units(&self) -> Vec<crate::problems::ProblemUnit<'_>> {
        self.units
            .iter()
            .enumerate()
            .map(|(index, unit)| crate::problems::ProblemUnit {
                candidate: unit.source,
                start: unit.unit.start,
                end: unit.unit.end,
                negative: unit.sentiment == "negative",
                embedding: self.embedding(index),
                space: unit.space,
            })
            .collect()
    }
}

/// What the unit step did, for the run summary.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct UnitReport {
    /// Candidate documents split.
    pub documents: usize,
    /// Units they gave.
    pub units: usize,
    /// Units chosen for clustering.
    pub chosen: usize,
    /// Units left out because they are positive (or neutral outside complaint sources).
    pub left_out: usize,
    /// Documents whose only chosen unit is their most negative one.
    pub most_negative_only: usize,
    /// Documents that gave no unit at all (no word in them).
    pub without_units: usize,
    /// Units made by cutting over-long text (Chinese without punctuation, run-on narratives).
    pub cut: usize,
    /// Joins of neighbouring units in documents with too many.
    pub joined: usize,
    /// Documents per number of units (`"0"`, `"1"`, ..., `"10+"`).
    pub units_per_document: BTreeMap<String, usize>,
    /// Units encoded now (the rest came from the embedding cache).
    pub encoded: usize,
    /// Seconds for the whole step.
    pub seconds: f64,
}

/// Splits, encodes, classifies and chooses the units of `sources`; English documents' units are
/// placed by `english` when it is given (and has the same width).
pub fn complaint_units(
    sources: &[UnitSource<'_>],
    encoder: &mut dyn Encoder,
    english: Option<&mut dyn Encoder>,
    cache_root: &std::path::Path,
    negative_sentiments: &[String],
    progress: &dyn Progress,
) -> Result<CandidateUnits> {
    let started = std::time::Instant::now();
    let settings = UnitSettings::default();
    let split: Vec<crate::unit::Units> = sources
        .par_iter()
        .map(|source| split_units(&source.document.text, &settings))
        .collect();
    let texts: Vec<String> = sources
        .iter()
        .zip(&split)
        .flat_map(|(source, units)| {
            units
                .units
                .iter()
                .map(|unit| encoding_text(unit.text(&source.document.text)))
        })
        .collect();
    let text_refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    progress.start("encode complaint units", None);
    let (embeddings, encode) = embed_texts(&text_refs, encoder, cache_root, progress)?;
    progress.finish();
    let dimension = embeddings.dimension();
    let placed = english_placement(
        sources, &split, &text_refs, english, cache_root, dimension, progress,
    )?;
    let model = SentimentModel::shipped();
    let mut chosen = CandidateUnits {
        dimension,
        ..CandidateUnits::default()
    };
    let mut row = 0;
    for (position, (source, units)) in sources.iter().zip(&split).enumerate() {
        let rows = row..row + units.units.len();
        row = rows.end;
        let document = DocumentUnits {
            position,
            source,
            units,
            embeddings: embeddings.as_slice(),
            placement: placed
                .as_ref()
                .filter(|_| source.document.language == Language::English)
                .map(|(rows, values)| (rows[position], values.as_slice())),
            texts: &text_refs[rows.clone()],
            first_row: rows.start,
            dimension,
        };
        document.choose(&model, negative_sentiments, &mut chosen);
    }
    chosen.report.encoded = encode.encoded;
    chosen.report.seconds = started.elapsed().as_secs_f64();
    Ok(chosen)
}

/// The English units' embeddings by the English encoder: for each source the first row of its
/// units in the returned matrix (English sources only), and the matrix.
#[allow(clippy::too_many_arguments)]
fn english_placement(
    sources: &[UnitSource<'_>],
    split: &[crate::unit::Units],
    texts: &[&str],
    english: Option<&mut dyn Encoder>,
    cache_root: &std::path::Path,
    dimension: usize,
    progress: &dyn Progress,
) -> Result<Option<(Vec<usize>, Vec<f32>)>> {
    let Some(english) = english.filter(|english| english.dimension() == dimension) else {
        return Ok(None);
    };
    let mut first_rows = Vec::with_capacity(sources.len());
    let mut wanted = Vec::new();
    let mut row = 0;
    for (source, units) in sources.iter().zip(split) {
        first_rows.push(wanted.len());
        if source.document.language == Language::English {
            wanted.extend_from_slice(&texts[row..row + units.units.len()]);
        }
        row += units.units.len();
    }
    if wanted.is_empty() {
        return Ok(None);
    }
    progress.start("place English complaint units", None);
    let (embeddings, _) = embed_texts(&wanted, english, cache_root, progress)?;
    progress.finish();
    Ok(Some((first_rows, embeddings.into_values())))
}

/// One document's units while they are chosen.
struct DocumentUnits<'a> {
    position: usize,
    source: &'a UnitSource<'a>,
    units: &'a crate::unit::Units,
    embeddings: &'a [f32],
    /// The first row and matrix of the English encoder's embeddings, for English documents.
    placement: Option<(usize, &'a [f32])>,
    texts: &'a [&'a str],
    first_row: usize,
    dimension: usize,
}

impl DocumentUnits<'_> {
    /// The `[model]` encoder's embedding of unit `index` (what sentiment is read from).
    fn row(&self, index: usize) -> &[f32] {
        let start = (self.first_row + index) * self.dimension;
        &self.embeddings[start..start + self.dimension]
    }

    /// The embedding unit `index` is placed by, and its space.
    fn placed(&self, index: usize) -> (&[f32], usize) {
        match self.placement {
            Some((first, values)) => {
                let start = (first + index) * self.dimension;
                (&values[start..start + self.dimension], ENGLISH_SPACE)
            }
            None => (self.row(index), MODEL_SPACE),
        }
    }

    /// Chooses this document's complaint units into `chosen`, with their context embeddings.
    fn choose(&self, model: &SentimentModel, negative: &[String], chosen: &mut CandidateUnits) {
        let report = &mut chosen.report;
        let count = self.units.units.len();
        report.documents += 1;
        report.units += count;
        report.cut += self.units.cut;
        report.joined += self.units.joined;
        let bucket = if count >= 10 {
            "10+".to_string()
        } else {
            count.to_string()
        };
        *report.units_per_document.entry(bucket).or_default() += 1;
        if count == 0 {
            report.without_units += 1;
            return;
        }
        let head = model.head_for(self.source.document.language);
        let negative_class = head.class_names.iter().position(|name| name == "negative");
        let judged: Vec<(&'static str, f32)> = (0..count)
            .map(|index| {
                let probabilities = head.predict_document(self.row(index), self.texts[index]);
                let label = decide(head, &probabilities);
                let negative = negative_class.map_or(0.0, |class| probabilities[class]);
                (label_name(label.label), negative)
            })
            .collect();
        let mut picked: Vec<usize> = (0..count)
            .filter(|&index| {
                let sentiment = judged[index].0;
                negative.iter().any(|name| name == sentiment)
                    || (self.source.complaint && sentiment != "positive")
            })
            .collect();
        if picked.is_empty() {
            let most_negative = (0..count)
                .max_by(|&a, &b| judged[a].1.total_cmp(&judged[b].1).then(b.cmp(&a)))
                .expect("a document with units");
            picked.push(most_negative);
            report.most_negative_only += 1;
        }
        report.chosen += picked.len();
        report.left_out += count - picked.len();
        let context = self.context();
        for index in picked {
            let (own, space) = self.placed(index);
            let mut row: Vec<f32> = own
                .iter()
                .zip(&context)
                .map(|(own, mean)| own + CONTEXT_WEIGHT * mean)
                .collect();
            l2_normalise(&mut row);
            chosen.embeddings.extend_from_slice(&row);
            chosen.units.push(ComplaintUnit {
                source: self.position,
                unit: self.units.units[index],
                sentiment: judged[index].0,
                negative: judged[index].1,
                space,
            });
        }
    }

    /// The unit-length mean of all the document's unit embeddings, in the space its units are
    /// placed in.
    fn context(&self) -> Vec<f32> {
        let mut mean = vec![0.0f32; self.dimension];
        for index in 0..self.units.units.len() {
            for (sum, value) in mean.iter_mut().zip(self.placed(index).0) {
                *sum += value;
            }
        }
        l2_normalise(&mut mean);
        mean
    }
}
