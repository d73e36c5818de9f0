//! Scores of phrase candidates per problem (or theme): the units' candidate counts per group
//! and the background's in, for every group a shortlist of phrases scored by class-based TF-IDF
//! times the contrast against the background out, and the rule by which a longer phrase
//! replaces a shorter one inside it. Kept apart from the embeddings, which only the shortlist
//! needs.

use std::collections::BTreeMap;
use std::hash::BuildHasher;

use super::candidates::{TermCounts, Vocabulary};
use super::PhraseSettings;

/// A longer phrase replaces a shorter one only when its extra words are at least twice as frequent
/// in the problem as in the background: "USAirways lost my luggage" must not replace "lost
/// luggage" because the brand precedes it in every complaint.
const ABSORB_MIN_CONTRAST: f64 = 0.5;

/// At most about `max` of `texts`: those whose hash falls in one of `texts.len() / max` buckets.
pub(super) fn sample<'t>(texts: &[&'t str], max: usize) -> Vec<&'t str> {
    let buckets = texts.len().div_ceil(max.max(1)) as u64;
    if buckets <= 1 {
        return texts.to_vec();
    }
    texts
        .iter()
        .copied()
        .filter(|text| rustc_hash::FxBuildHasher.hash_one(text) % buckets == 0)
        .collect()
}

/// A group's units, how many of them contain each candidate (sorted by candidate), and their
/// terms.
pub(super) struct Group {
    pub(super) members: Vec<usize>,
    counts: Vec<(u32, u32)>,
    terms: TermCounts,
}

/// Counts over all groups and the background: what TF-IDF and the contrast need.
pub(super) struct Corpus<'v> {
    pub(super) vocabulary: &'v Vocabulary,
    pub(super) groups: BTreeMap<u32, Group>,
    totals: Vec<u32>,
    average: f64,
    background: Vec<u32>,
    background_terms: TermCounts,
}

/// A phrase of a group with its count and score.
#[derive(Debug, Clone, Copy)]
pub(super) struct Scored {
    pub(super) candidate: u32,
    pub(super) count: u32,
    pub(super) score: f64,
    /// The share of a theme's problems the phrase occurs in (1 for problems).
    pub(super) breadth: f64,
}

impl<'v> Corpus<'v> {
    pub(super) fn new(
        vocabulary: &'v Vocabulary,
        groups: &[Option<u32>],
        background: &[&str],
    ) -> Self {
        let mut members: BTreeMap<u32, Vec<usize>> = BTreeMap::new();
        for (index, group) in groups.iter().enumerate() {
            if let Some(group) = group {
                members.entry(*group).or_default().push(index);
            }
        }
        let groups: BTreeMap<u32, Group> = members
            .into_iter()
            .map(|(id, members)| {
                let counts = count_candidates(vocabulary, &members);
                let mut terms = TermCounts::default();
                for &member in &members {
                    terms.add(vocabulary.term_counts(member));
                }
                let group = Group {
                    members,
                    counts,
                    terms,
                };
                (id, group)
            })
            .collect();
        let mut totals = vec![0u32; vocabulary.keys.len()];
        for &(candidate, count) in groups.values().flat_map(|group| &group.counts) {
            totals[candidate as usize] += count;
        }
        let occurrences: f64 = totals.iter().map(|&count| f64::from(count)).sum();
        let (background, background_terms) = vocabulary.count_in(background);
        Corpus {
            vocabulary,
            average: occurrences / groups.len().max(1) as f64,
            groups,
            totals,
            background,
            background_terms,
        }
    }

    /// Units of the group that contain the candidate.
    fn count(&self, group: &Group, candidate: u32) -> u32 {
        group
            .counts
            .binary_search_by_key(&candidate, |&(candidate, _)| candidate)
            .map_or(0, |at| group.counts[at].1)
    }

    /// The share of a candidate's rate in the group that the background does not explain: 1 for
    /// a phrase absent from the background, 0 for one at least as frequent there. Rates are per
    /// term of the phrase's script, since background documents are longer than units and may
    /// mix languages.
    fn contrast(&self, group: &Group, candidate: u32, count: u32) -> f64 {
        let background = self.background[candidate as usize];
        let chinese = self.vocabulary.chinese[candidate as usize];
        let background_terms = self.background_terms.of_script(chinese);
        if background == 0 || background_terms == 0 {
            return 1.0;
        }
        let rate = f64::from(count) / group.terms.of_script(chinese).max(1) as f64;
        let background_rate = f64::from(background) / background_terms as f64;
        (1.0 - background_rate / rate).clamp(0.0, 1.0)
    }

    /// The contrast of a single word (1 for a word that is no candidate on its own).
    fn word_contrast(&self, group: &Group, term: u32) -> f64 {
        self.vocabulary.single(term).map_or(1.0, |candidate| {
            self.contrast(group, candidate, self.count(group, candidate))
        })
    }

    /// A phrase is as brand-blind as its most background-like word.
    fn phrase_contrast(&self, group: &Group, candidate: u32, count: u32) -> f64 {
        self.vocabulary.keys[candidate as usize]
            .terms()
            .iter()
            .map(|&term| self.word_contrast(group, term))
            .fold(self.contrast(group, candidate, count), f64::min)
    }

    /// Class-based TF-IDF (share of the group's units x log(1 + average occurrences per group /
    /// the phrase's occurrences in all groups)) times the contrast.
    fn base_score(&self, group: &Group, candidate: u32, count: u32) -> f64 {
        let frequency = f64::from(count) / group.members.len() as f64;
        let rarity = (1.0 + self.average / f64::from(self.totals[candidate as usize])).ln();
        frequency * rarity * self.phrase_contrast(group, candidate, count)
    }

    /// The group's best phrases by base score, at most `settings.shortlist` per script.
    pub(super) fn shortlist(&self, group: &Group, settings: &PhraseSettings) -> Vec<Scored> {
        let mut scored: Vec<Scored> = group
            .counts
            .iter()
            .filter(|&&(_, count)| count as usize >= settings.min_units.max(1))
            .map(|&(candidate, count)| Scored {
                candidate,
                count,
                score: self.base_score(group, candidate, count),
                breadth: 1.0,
            })
            .filter(|scored| scored.score > 0.0)
            .collect();
        scored.sort_by(|a, b| {
            b.score
                .total_cmp(&a.score)
                .then_with(|| self.vocabulary.compare(a.candidate, b.candidate))
        });
        let mut taken = [0usize; 2];
        scored.retain(|scored| {
            let script = usize::from(self.vocabulary.chinese[scored.candidate as usize]);
            taken[script] += 1;
            taken[script] <= settings.shortlist
        });
        scored
    }

    /// Whether `longer` replaces `shorter`: it holds it, covers enough of its units, is as broad,
    /// and its extra words are no brand.
    fn absorbs(&self, group: &Group, longer: &Scored, shorter: &Scored, share: f32) -> bool {
        let long = self.vocabulary.keys[longer.candidate as usize].terms();
        let short = self.vocabulary.keys[shorter.candidate as usize].terms();
        if long.len() <= short.len()
            || f64::from(longer.count) < f64::from(share) * f64::from(shorter.count)
            || longer.breadth < shorter.breadth
        {
            return false;
        }
        let Some(at) = long.windows(short.len()).position(|window| window == short) else {
            return false;
        };
        long[..at]
            .iter()
            .chain(&long[at + short.len()..])
            .all(|&term| self.word_contrast(group, term) >= ABSORB_MIN_CONTRAST)
    }
}

/// How many of `members` contain each candidate, sorted by candidate.
fn count_candidates(vocabulary: &Vocabulary, members: &[usize]) -> Vec<(u32, u32)> {
    let mut candidates: Vec<u32> = members
        .iter()
        .flat_map(|&member| vocabulary.occurrences(member))
        .map(|occurrence| occurrence.candidate)
        .collect();
    candidates.sort_unstable();
    candidates
        .chunk_by(|a, b| a == b)
        .map(|run| (run[0], run.len() as u32))
        .collect()
}

/// Replaces shorter phrases by the most frequent longer phrase that absorbs them; the longer one
/// takes the shorter one's score when that is higher. Shortest first, so chains work.
pub(super) fn absorb(corpus: &Corpus<'_>, group: &Group, entries: &mut Vec<Scored>, share: f32) {
    let vocabulary = corpus.vocabulary;
    let length = |entry: &Scored| vocabulary.keys[entry.candidate as usize].terms().len();
    let mut order: Vec<usize> = (0..entries.len()).collect();
    order.sort_by(|&a, &b| {
        length(&entries[a])
            .cmp(&length(&entries[b]))
            .then_with(|| vocabulary.compare(entries[a].candidate, entries[b].candidate))
    });
    let mut absorbed = vec![false; entries.len()];
    for &shorter in &order {
        let absorber = order
            .iter()
            .copied()
            .filter(|&longer| !absorbed[longer])
            .filter(|&longer| corpus.absorbs(group, &entries[longer], &entries[shorter], share))
            .max_by(|&a, &b| {
                let (a, b) = (&entries[a], &entries[b]);
                (a.count.cmp(&b.count))
                    .then_with(|| a.score.total_cmp(&b.score))
                    .then_with(|| vocabulary.compare(b.candidate, a.candidate))
            });
        if let Some(longer) = absorber {
            entries[longer].score = entries[longer].score.max(entries[shorter].score);
            absorbed[shorter] = true;
        }
    }
    let mut index = 0;
    entries.retain(|_| {
        index += 1;
        !absorbed[index - 1]
    });
}
