//! What the units say about the shortlisted phrases: for each, its proxy embedding (the mean
//! embedding of the units that contain it, the KeyBERT-like stand-in for encoding the phrase), the
//! form it is shown in, and, for themes, how many of a group's problems contain it. Computed in
//! one pass over the units' occurrences for the shortlists of all groups together.

use std::collections::{BTreeMap, BTreeSet};

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use super::candidates::{display_form, Vocabulary};
use super::scoring::Scored;
use super::{add, direction, PhraseUnit};

/// What the units say about the shortlisted phrases: proxy embeddings, shown forms and, for
/// themes, which problems of a group contain them.
pub(super) struct Evidence {
    /// The slot of every shortlisted candidate.
    pub(super) slots: HashMap<u32, usize>,
    /// Per slot, the proxy embedding.
    pub(super) proxies: Vec<Vec<f32>>,
    /// Per slot, the form shown.
    pub(super) forms: Vec<String>,
    breadth: Option<Breadth>,
}

/// Per group, the number of its problems, and per (group, slot) the number that contain it.
struct Breadth {
    problems: HashMap<u32, usize>,
    containing: HashMap<(u32, usize), usize>,
}

/// Which groups the units are in, and (for themes) which problem inside the group.
pub(super) struct Membership<'m> {
    /// The group of every unit.
    pub(super) groups: &'m [Option<u32>],
    /// The problem of every unit, when groups are themes.
    pub(super) sources: Option<&'m [Option<u32>]>,
}

impl Evidence {
    /// Evidence for every phrase of `shortlists`; proxies are taken without the `shared`
    /// direction.
    pub(super) fn collect(
        vocabulary: &Vocabulary,
        units: &[PhraseUnit<'_>],
        membership: &Membership<'_>,
        shortlists: &BTreeMap<u32, Vec<Scored>>,
        shared: Option<&[f64]>,
    ) -> Evidence {
        let candidates: BTreeSet<u32> = shortlists
            .values()
            .flatten()
            .map(|scored| scored.candidate)
            .collect();
        let slots: HashMap<u32, usize> = candidates
            .into_iter()
            .enumerate()
            .map(|(slot, candidate)| (candidate, slot))
            .collect();
        let breadth = membership
            .sources
            .map(|sources| Breadth::count(vocabulary, membership.groups, sources, &slots));
        Evidence {
            proxies: proxies(vocabulary, units, &slots, shared),
            forms: shown_forms(vocabulary, units, &slots),
            breadth,
            slots,
        }
    }

    /// The share of the group's problems whose units contain the slot's phrase (1 for problems).
    pub(super) fn breadth(&self, group: u32, slot: usize) -> f64 {
        self.breadth.as_ref().map_or(1.0, |breadth| {
            let containing = breadth.containing.get(&(group, slot)).copied();
            let problems = breadth.problems.get(&group).copied().unwrap_or(1);
            containing.unwrap_or(0) as f64 / problems.max(1) as f64
        })
    }
}

impl Breadth {
    fn count(
        vocabulary: &Vocabulary,
        groups: &[Option<u32>],
        sources: &[Option<u32>],
        slots: &HashMap<u32, usize>,
    ) -> Breadth {
        let mut problems: HashSet<(u32, u32)> = HashSet::default();
        let mut seen: HashSet<(u32, usize, u32)> = HashSet::default();
        for (index, (group, source)) in groups.iter().zip(sources).enumerate() {
            let (Some(group), Some(source)) = (*group, *source) else {
                continue;
            };
            problems.insert((group, source));
            for occurrence in vocabulary.occurrences(index) {
                if let Some(&slot) = slots.get(&occurrence.candidate) {
                    seen.insert((group, slot, source));
                }
            }
        }
        let mut breadth = Breadth {
            problems: HashMap::default(),
            containing: HashMap::default(),
        };
        for (group, _) in problems {
            *breadth.problems.entry(group).or_default() += 1;
        }
        for (group, slot, _) in seen {
            *breadth.containing.entry((group, slot)).or_default() += 1;
        }
        breadth
    }
}

/// Per slot, the direction of the mean embedding of all units that contain its phrase (without
/// the `shared` direction).
fn proxies(
    vocabulary: &Vocabulary,
    units: &[PhraseUnit<'_>],
    slots: &HashMap<u32, usize>,
    shared: Option<&[f64]>,
) -> Vec<Vec<f32>> {
    let dimension = units.first().map_or(0, |unit| unit.embedding.len());
    let mut sums = vec![vec![0.0f64; dimension]; slots.len()];
    let mut counts = vec![0usize; slots.len()];
    for (index, unit) in units.iter().enumerate() {
        for occurrence in vocabulary.occurrences(index) {
            if let Some(&slot) = slots.get(&occurrence.candidate) {
                add(&mut sums[slot], unit.embedding);
                counts[slot] += 1;
            }
        }
    }
    sums.iter_mut()
        .zip(counts)
        .map(|(sum, count)| {
            sum.iter_mut()
                .for_each(|value| *value /= count.max(1) as f64);
            direction(sum, shared)
        })
        .collect()
}

/// Per slot, the phrase's most frequent form in the units (then the shortest, then the first in
/// text order).
fn shown_forms(
    vocabulary: &Vocabulary,
    units: &[PhraseUnit<'_>],
    slots: &HashMap<u32, usize>,
) -> Vec<String> {
    let mut forms: HashMap<(usize, String), u32> = HashMap::default();
    for (index, unit) in units.iter().enumerate() {
        for occurrence in vocabulary.occurrences(index) {
            if let Some(&slot) = slots.get(&occurrence.candidate) {
                let span = &unit.text[occurrence.start as usize..occurrence.end as usize];
                let chinese = vocabulary.chinese[occurrence.candidate as usize];
                *forms
                    .entry((slot, display_form(span, chinese)))
                    .or_default() += 1;
            }
        }
    }
    let mut best: Vec<Option<(u32, String)>> = vec![None; slots.len()];
    for ((slot, form), count) in forms {
        let better = best[slot].as_ref().is_none_or(|(best_count, best_form)| {
            (
                count,
                std::cmp::Reverse(form.len()),
                std::cmp::Reverse(&form),
            ) > (
                *best_count,
                std::cmp::Reverse(best_form.len()),
                std::cmp::Reverse(best_form),
            )
        });
        if better {
            best[slot] = Some((count, form));
        }
    }
    best.into_iter()
        .map(|form| form.map(|(_, form)| form).unwrap_or_default())
        .collect()
}
