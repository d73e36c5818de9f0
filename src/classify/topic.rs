//! Topics, two ways. Zero-shot: each topic of the taxonomy becomes a set of prototype embeddings
//! (its English and Chinese descriptions and its example phrases, embedded like documents), and a
//! document's topic is the one whose nearest prototype is most similar to it, or `other` when
//! even that is below the threshold. Scores of sentence encoders sit in a model-specific band
//! (e5's cosines between unrelated texts are already around 0.7), so the threshold is set per
//! model. Supervised: a head trained by `vocmine train topic` on a user's labelled documents
//! replaces the prototypes; its classes are the topics.

use crate::classify::learn::Head;
use crate::config::TopicConfig;
use crate::model::{Embeddings, Encoder, ModelChoice, ModelError};

/// How a workspace assigns topics.
#[derive(Debug, Clone)]
pub enum TopicModel {
    /// Nearest prototype of the configured taxonomy.
    ZeroShot(TopicPrototypes),
    /// A trained head: the most probable of its classes.
    Supervised(Box<Head>),
}

impl TopicModel {
    /// The topic of every row of `embeddings`: each row's own choice, then, for prototypes with
    /// `refinement`, one round of re-centring ([`refine`]).
    pub fn choose_all(
        &self,
        embeddings: &Embeddings,
        refinement: Option<usize>,
    ) -> Vec<TopicChoice> {
        let choices: Vec<TopicChoice> = embeddings.rows().map(|row| self.choose(row)).collect();
        match (self, refinement) {
            (TopicModel::ZeroShot(prototypes), Some(min_documents)) => {
                refine(prototypes.names(), embeddings, choices, min_documents)
            }
            _ => choices,
        }
    }

    /// The topic of one embedding; for a head, `similarity` is the calibrated probability.
    pub fn choose(&self, embedding: &[f32]) -> TopicChoice {
        match self {
            TopicModel::ZeroShot(prototypes) => prototypes.choose(embedding),
            TopicModel::Supervised(head) => {
                let probabilities = head.predict(embedding);
                let (class, &probability) = probabilities
                    .iter()
                    .enumerate()
                    .max_by(|a, b| a.1.total_cmp(b.1))
                    .expect("a head has at least two classes");
                TopicChoice {
                    topic: head.class_names[class].clone(),
                    similarity: probability,
                }
            }
        }
    }

    /// Width of the embeddings a supervised head takes (`None` for prototypes, which take any).
    pub fn input_dimension(&self) -> Option<usize> {
        match self {
            TopicModel::ZeroShot(_) => None,
            TopicModel::Supervised(head) => Some(head.input_dimension()),
        }
    }
}

/// The topic name for documents no topic fits.
pub const OTHER_TOPIC: &str = "other";

/// Prototype embeddings of a taxonomy.
#[derive(Debug, Clone)]
pub struct TopicPrototypes {
    names: Vec<String>,
    /// Which topic each prototype row belongs to.
    owners: Vec<usize>,
    prototypes: Embeddings,
    threshold: f32,
}

/// A document's topic and the similarity that chose it.
#[derive(Debug, Clone, PartialEq)]
pub struct TopicChoice {
    /// Topic name, or [`OTHER_TOPIC`].
    pub topic: String,
    /// Cosine similarity to the nearest prototype of the best topic.
    pub similarity: f32,
}

/// Lowest similarity to a prototype that still assigns a topic, per encoder (measured on the demo
/// corpus: below it, the nearest topic is a guess).
pub fn default_threshold(model: ModelChoice) -> f32 {
    match model {
        ModelChoice::E5Small => 0.80,
        ModelChoice::MiniLm => 0.25,
    }
}

impl TopicPrototypes {
    /// Embeds the descriptions and examples of `topics`.
    pub fn build(
        topics: &[TopicConfig],
        encoder: &mut dyn Encoder,
        threshold: f32,
    ) -> Result<Self, ModelError> {
        let mut texts = Vec::new();
        let mut owners = Vec::new();
        for (position, topic) in topics.iter().enumerate() {
            let descriptions = [&topic.description_en, &topic.description_zh];
            for text in descriptions.into_iter().chain(&topic.examples) {
                if !text.trim().is_empty() {
                    texts.push(text.as_str());
                    owners.push(position);
                }
            }
        }
        let prototypes = encoder.encode(&texts)?;
        Ok(TopicPrototypes {
            names: topics.iter().map(|topic| topic.name.clone()).collect(),
            owners,
            prototypes,
            threshold,
        })
    }

    /// Similarity of `embedding` to each topic (its nearest prototype), in taxonomy order.
    pub fn scores(&self, embedding: &[f32]) -> Vec<f32> {
        let mut best = vec![f32::NEG_INFINITY; self.names.len()];
        for (row, &owner) in self.prototypes.rows().zip(&self.owners) {
            best[owner] = best[owner].max(dot(row, embedding));
        }
        best
    }

    /// The topic of one embedding.
    pub fn choose(&self, embedding: &[f32]) -> TopicChoice {
        let best = self.scores(embedding);
        let winner = best
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(b.1))
            .filter(|(_, &similarity)| similarity >= self.threshold);
        match winner {
            Some((position, &similarity)) => TopicChoice {
                topic: self.names[position].clone(),
                similarity,
            },
            None => TopicChoice {
                topic: OTHER_TOPIC.to_string(),
                similarity: best.iter().copied().fold(0.0, f32::max),
            },
        }
    }

    /// Topic names, in taxonomy order.
    pub fn names(&self) -> &[String] {
        &self.names
    }
}

/// One round of prototype refinement: every topic chosen by at least `min_documents` rows gets
/// a centre, the normalised mean of those rows, and each of those rows moves to the topic whose
/// centre is nearest. Rows in `other` or in smaller topics keep their choice. The taxonomy's
/// descriptions say what a topic is about; the centres say where its texts actually are, which
/// on the consumer complaints lifted zero-shot accuracy from 0.65 to 0.72 (README).
pub fn refine(
    names: &[String],
    embeddings: &Embeddings,
    choices: Vec<TopicChoice>,
    min_documents: usize,
) -> Vec<TopicChoice> {
    let dimension = embeddings.dimension();
    let position = |choice: &TopicChoice| names.iter().position(|name| *name == choice.topic);
    let mut sums = vec![0.0f32; names.len() * dimension];
    let mut counts = vec![0usize; names.len()];
    for (row, choice) in embeddings.rows().zip(&choices) {
        if let Some(topic) = position(choice) {
            counts[topic] += 1;
            let sum = &mut sums[topic * dimension..(topic + 1) * dimension];
            sum.iter_mut()
                .zip(row)
                .for_each(|(total, value)| *total += value);
        }
    }
    let centres: Vec<(usize, Vec<f32>)> = counts
        .iter()
        .enumerate()
        .filter(|(_, &count)| count >= min_documents.max(1))
        .map(|(topic, _)| {
            let mut centre = sums[topic * dimension..(topic + 1) * dimension].to_vec();
            crate::model::l2_normalise(&mut centre);
            (topic, centre)
        })
        .collect();
    let has_centre = |topic: usize| centres.iter().any(|(owner, _)| *owner == topic);
    embeddings
        .rows()
        .zip(choices)
        .map(|(row, choice)| match position(&choice) {
            Some(topic) if has_centre(topic) => {
                let (nearest, similarity) = centres
                    .iter()
                    .map(|(owner, centre)| (*owner, dot(centre, row)))
                    .max_by(|a, b| a.1.total_cmp(&b.1))
                    .expect("the row's own topic has a centre");
                TopicChoice {
                    topic: names[nearest].clone(),
                    similarity,
                }
            }
            _ => choice,
        })
        .collect()
}

fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::hashing::HashingEncoder;

    fn topic(name: &str, description: &str, examples: &[&str]) -> TopicConfig {
        TopicConfig {
            name: name.into(),
            description_en: description.into(),
            examples: examples.iter().map(|example| example.to_string()).collect(),
            ..TopicConfig::default()
        }
    }

    #[test]
    fn nearest_prototype_wins_and_far_texts_are_other() {
        let mut encoder = HashingEncoder::new(64);
        let topics = [
            topic("refunds", "refund money back", &["waiting for refund"]),
            topic(
                "delivery",
                "late delivery parcel",
                &["parcel never arrived"],
            ),
        ];
        let prototypes = TopicPrototypes::build(&topics, &mut encoder, 0.5).unwrap();
        let texts = [
            "waiting for refund",
            "parcel never arrived",
            "zebra quantum",
        ];
        let embeddings = encoder.encode(&texts).unwrap();
        let chosen: Vec<String> = embeddings
            .rows()
            .map(|row| prototypes.choose(row).topic)
            .collect();
        assert_eq!(chosen, ["refunds", "delivery", OTHER_TOPIC]);
    }

    fn embeddings(rows: &[[f32; 2]]) -> Embeddings {
        let mut values: Vec<f32> = rows.iter().flatten().copied().collect();
        values
            .chunks_exact_mut(2)
            .for_each(crate::model::l2_normalise);
        Embeddings::new(2, values, 0)
    }

    fn choice(topic: &str) -> TopicChoice {
        TopicChoice {
            topic: topic.into(),
            similarity: 0.0,
        }
    }

    #[test]
    fn refinement_moves_rows_to_the_nearest_centre_of_chosen_rows() {
        let names = vec!["a".to_string(), "b".to_string(), "c".to_string()];
        // Rows 0-2 sit around (1, 0), rows 3-5 around (0, 1); the prototypes put row 2 in b
        // and row 5 in `other`; c is chosen once, below the minimum, so it keeps its row.
        let rows = embeddings(&[
            [1.0, 0.1],
            [1.0, 0.0],
            [1.0, 0.2],
            [0.1, 1.0],
            [0.0, 1.0],
            [0.2, 1.0],
            [1.0, 1.0],
        ]);
        let choices = ["a", "a", "b", "b", "b", OTHER_TOPIC, "c"]
            .into_iter()
            .map(choice)
            .collect();
        let refined: Vec<String> = refine(&names, &rows, choices, 2)
            .into_iter()
            .map(|choice| choice.topic)
            .collect();
        assert_eq!(refined, ["a", "a", "a", "b", "b", OTHER_TOPIC, "c"]);
    }
}
