//! The label stage: clusters in, a human handle for each out. Keywords come from class-based
//! TF-IDF over the same analyzer the index uses (jieba words for Chinese, stems for English shown
//! as their most frequent surface form), with boilerplate left out (`XXXX` redactions, URLs, PII
//! masks, numbers). The title joins the top keywords. Quotes are chosen near the centroid but
//! different from each other (maximal marginal relevance), from texts that were PII-masked on
//! ingest.
//!
//! The problem stage's naming functions live in the submodules: [`phrases`] names each problem
//! with one key phrase, key phrases and a one-line statement; [`themes`] groups problems into
//! themes and names the groups.

pub mod phrases;
pub mod themes;

use std::collections::BTreeMap;

use rustc_hash::FxHashMap as HashMap;

use serde::Serialize;

use crate::tokenise::for_each_term;

/// How many keywords and quotes each cluster gets.
#[derive(Debug, Clone, PartialEq)]
pub struct LabelSettings {
    /// Keywords per cluster.
    pub keywords: usize,
    /// Keywords joined into the title.
    pub title_keywords: usize,
    /// Representative quotes per cluster.
    pub quotes: usize,
    /// Weight of closeness to the centroid against difference from quotes already chosen.
    pub relevance_weight: f32,
}

impl Default for LabelSettings {
    fn default() -> Self {
        LabelSettings {
            keywords: 10,
            title_keywords: 3,
            quotes: 5,
            relevance_weight: 0.6,
        }
    }
}

/// The handle of one cluster.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClusterLabel {
    /// Keywords, most distinctive first.
    pub keywords: Vec<String>,
    /// A short title made of the top keywords.
    pub title: String,
    /// Positions (in the stage's input) of the representative documents, best first.
    pub quotes: Vec<usize>,
}

/// One document as the label stage sees it.
pub struct LabelInput<'a> {
    /// Display text (PII-masked).
    pub text: &'a str,
    /// Its embedding (L2-normalised).
    pub embedding: &'a [f32],
    /// Its cluster, if any.
    pub cluster: Option<u32>,
    /// Its keyword terms ([`term_occurrences`] of the text), made once for the cluster stage's
    /// keyword view and reused here.
    pub terms: Vec<TermOccurrence>,
}

/// One keyword term of a text and the lowercased surface form it came from (`refund` from
/// `refunded`).
pub type TermOccurrence = (String, String);

/// Labels every cluster that has documents in `documents`.
pub fn label_clusters(
    documents: &[LabelInput<'_>],
    settings: &LabelSettings,
) -> BTreeMap<u32, ClusterLabel> {
    let keywords = class_keywords(documents, settings.keywords);
    let mut labels = BTreeMap::new();
    for (cluster, words) in keywords {
        let members: Vec<usize> = (0..documents.len())
            .filter(|&index| documents[index].cluster == Some(cluster))
            .collect();
        let quotes = representative_quotes(documents, &members, settings);
        let title = words
            .iter()
            .take(settings.title_keywords)
            .cloned()
            .collect::<Vec<_>>()
            .join(" / ");
        labels.insert(
            cluster,
            ClusterLabel {
                keywords: words,
                title,
                quotes,
            },
        );
    }
    labels
}

/// Term counts per cluster, and the most frequent surface form of every term.
struct TermCounts<'a> {
    per_cluster: BTreeMap<u32, HashMap<&'a str, f64>>,
    surfaces: HashMap<&'a str, HashMap<&'a str, u32>>,
}

fn count_terms<'a>(documents: &'a [LabelInput<'_>]) -> TermCounts<'a> {
    let mut counts = TermCounts {
        per_cluster: BTreeMap::new(),
        surfaces: HashMap::default(),
    };
    for document in documents {
        let Some(cluster) = document.cluster else {
            continue;
        };
        let cluster_counts = counts.per_cluster.entry(cluster).or_default();
        for (term, surface) in &document.terms {
            *cluster_counts.entry(term.as_str()).or_default() += 1.0;
            *counts
                .surfaces
                .entry(term.as_str())
                .or_default()
                .entry(surface.as_str())
                .or_default() += 1;
        }
    }
    counts
}

/// The keyword terms of a text, in order, with the lowercased surface form each came from: the
/// index analyzer's terms without sub-words and boilerplate (the terms keywords and the cluster
/// stage's keyword view are made of).
pub fn term_occurrences(text: &str) -> Vec<TermOccurrence> {
    let mut terms = Vec::new();
    for_each_term(text, |term| {
        if !term.sub_word && !is_boilerplate(term.text) {
            terms.push((term.text.to_string(), term.surface.to_lowercase()));
        }
    });
    terms
}

/// Class-based TF-IDF: a term's frequency in the cluster, weighted by log(1 + average words per
/// cluster / the term's frequency over all clusters), as BERTopic defines it.
fn class_keywords(documents: &[LabelInput<'_>], top: usize) -> BTreeMap<u32, Vec<String>> {
    let counts = count_terms(documents);
    let mut totals: HashMap<&str, f64> = HashMap::default();
    for cluster_counts in counts.per_cluster.values() {
        for (term, count) in cluster_counts {
            *totals.entry(term).or_default() += count;
        }
    }
    let words: f64 = totals.values().sum();
    let average = words / counts.per_cluster.len().max(1) as f64;
    counts
        .per_cluster
        .iter()
        .map(|(&cluster, cluster_counts)| {
            let length: f64 = cluster_counts.values().sum::<f64>().max(1.0);
            let mut scored: Vec<(&str, f64)> = cluster_counts
                .iter()
                .map(|(&term, count)| {
                    let idf = (1.0 + average / totals[term]).ln();
                    (term, count / length * idf)
                })
                .collect();
            scored.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(b.0)));
            let keywords = scored
                .into_iter()
                .take(top)
                .map(|(term, _)| most_frequent_surface(&counts.surfaces, term))
                .collect();
            (cluster, keywords)
        })
        .collect()
}

fn most_frequent_surface(surfaces: &HashMap<&str, HashMap<&str, u32>>, term: &str) -> String {
    surfaces
        .get(term)
        .and_then(|forms| {
            forms
                .iter()
                .max_by(|a, b| a.1.cmp(b.1).then_with(|| b.0.cmp(a.0)))
                .map(|(form, _)| form.to_string())
        })
        .unwrap_or_else(|| term.to_string())
}

/// Redaction marks (`XXXX`), PII masks, URL parts, bare numbers and single letters say nothing
/// about a problem.
fn is_boilerplate(term: &str) -> bool {
    const MASK_WORDS: &[&str] = &["email", "phone", "card", "id"];
    MASK_WORDS.contains(&term) || is_filler(term)
}

/// [`is_boilerplate`] without the names of the PII masks. The analyzer drops the masks
/// themselves (`[phone]`), so callers that also see the text around a term (the phrase
/// candidates, which mask `[PHONE]` in any case) keep "phone" and "card" as the words they
/// usually are ("credit card", "on the phone").
pub(crate) fn is_filler(term: &str) -> bool {
    const WORDS: &[&str] = &["http", "https", "www", "com", "html"];
    // Everyday Chinese verbs and fillers: searchable, but they say nothing about a problem
    // (they topped the demo's book-review cluster as 看 / 说 / 好).
    const GENERIC_CHINESE: &[&str] = &[
        "看", "说", "去", "好", "想", "来", "做", "给", "让", "觉得", "感觉", "知道", "东西",
        "真的", "非常", "比较", "一下", "有点", "时候", "一次", "地方",
    ];
    let redaction = term.len() >= 2 && term.chars().all(|c| c == 'x');
    let number = term.chars().all(|c| c.is_ascii_digit() || c == '.');
    let letter = term.chars().count() == 1 && term.is_ascii();
    redaction || number || letter || WORDS.contains(&term) || GENERIC_CHINESE.contains(&term)
}

/// Up to `settings.quotes` members, each chosen to be close to the centroid and unlike the
/// quotes chosen before it (maximal marginal relevance). Identical texts are chosen once.
fn representative_quotes(
    documents: &[LabelInput<'_>],
    members: &[usize],
    settings: &LabelSettings,
) -> Vec<usize> {
    let centroid = centroid(documents, members);
    let relevance: Vec<f32> = members
        .iter()
        .map(|&index| dot(documents[index].embedding, &centroid))
        .collect();
    let mut chosen: Vec<usize> = Vec::new();
    let weight = settings.relevance_weight;
    while chosen.len() < settings.quotes {
        let best = members
            .iter()
            .zip(&relevance)
            .filter(|(&index, _)| {
                !chosen
                    .iter()
                    .any(|&other| documents[other].text == documents[index].text)
            })
            .map(|(&index, &close)| {
                let redundancy = chosen
                    .iter()
                    .map(|&other| dot(documents[index].embedding, documents[other].embedding))
                    .fold(0.0f32, f32::max);
                (index, weight * close - (1.0 - weight) * redundancy)
            })
            .max_by(|a, b| a.1.total_cmp(&b.1).then_with(|| b.0.cmp(&a.0)));
        match best {
            Some((index, _)) => chosen.push(index),
            None => break,
        }
    }
    chosen
}

/// The normalised mean of the members' embeddings.
pub fn centroid(documents: &[LabelInput<'_>], members: &[usize]) -> Vec<f32> {
    let dimension = members
        .first()
        .map_or(0, |&index| documents[index].embedding.len());
    let mut sum = vec![0.0f32; dimension];
    for &index in members {
        for (total, value) in sum.iter_mut().zip(documents[index].embedding) {
            *total += value;
        }
    }
    crate::model::l2_normalise(&mut sum);
    sum
}

fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input<'a>(text: &'a str, embedding: &'a [f32], cluster: u32) -> LabelInput<'a> {
        LabelInput {
            text,
            embedding,
            cluster: Some(cluster),
            terms: term_occurrences(text),
        }
    }

    #[test]
    fn keywords_are_distinctive_and_boilerplate_free() {
        let east = [1.0, 0.0];
        let north = [0.0, 1.0];
        let documents = [
            input("Refund refunded XXXX still waiting http://x.com", &east, 0),
            input("waiting for my refund 2026", &east, 0),
            input("刹车异响 刹车 我觉得", &north, 1),
            input("still waiting, 刹车 noise 看 看 看", &north, 1),
        ];
        let labels = label_clusters(&documents, &LabelSettings::default());
        let refund = &labels[&0];
        assert_eq!(refund.keywords[0], "refund");
        assert!(refund
            .keywords
            .iter()
            .all(|word| word != "xxxx" && word != "http" && word != "2026"));
        assert_eq!(labels[&1].keywords[0], "刹车");
        assert!(labels[&1]
            .keywords
            .iter()
            .all(|word| word != "看" && word != "觉得"));
        assert!(refund.title.starts_with("refund"));
    }

    #[test]
    fn quotes_are_central_and_not_repeated() {
        let close = [1.0, 0.0];
        let near = [0.8, 0.6];
        let far = [0.0, 1.0];
        let documents = [
            input("the same text", &close, 0),
            input("the same text", &close, 0),
            input("a near text", &near, 0),
            input("a far text", &far, 0),
        ];
        let settings = LabelSettings {
            quotes: 3,
            ..LabelSettings::default()
        };
        let quotes = &label_clusters(&documents, &settings)[&0].quotes;
        // The centroid (2.8, 1.6) is nearest the "near" text; the repeated text is quoted once.
        assert_eq!(quotes.len(), 3);
        assert_eq!(quotes[0], 2);
        assert_eq!(
            quotes.iter().filter(|&&quote| quote < 2).count(),
            1,
            "{quotes:?}"
        );
    }
}
