//! Themes over problems, a two-level hierarchy: problem centroids in, groups of related problems
//! and a name for each group out ("luggage" over "lost luggage" and "damaged luggage"). A report
//! with a hundred problems reads better as a dozen themes an analyst can open.
//!
//! Groups come from average-linkage agglomerative clustering by cosine similarity; a theme is
//! named by [`name_problems`](super::phrases::name_problems)'s ranking with each unit's problem
//! replaced by its group, each phrase weighted by the share of the group's problems it occurs in.

use rustc_hash::FxHashMap as HashMap;

use super::phrases::{name_groups, PhraseSettings, PhraseUnit};

/// Default [`group_problems`] threshold, for rows made by [`centred_centroids`].
///
/// Measured with multilingual-e5-small (the default encoder) on the development set's units
/// grouped by their annotated reasons (8 airline reasons, 15 Chinese review reasons): raw
/// centroid cosines lie between 0.95 and 0.996 for every pair, so no threshold on them separates
/// anything. Centred on the mean unit, average linkage at 0.5 joins {booking, customer service},
/// {cancelled, late flight}, {battery and heat, hardware, system software} and {cleanliness,
/// noise, price, room facilities, staff service}, and keeps the book reasons, luggage, long lines
/// and crew apart; at 0.4 five of the eight airline reasons already form one theme. all-MiniLM
/// merges more at the same threshold (five airline reasons at 0.5).
pub const THEME_THRESHOLD: f32 = 0.5;

/// Rows for [`group_problems`]: for problems `0..problems`, the normalised centroid of its units
/// minus the mean embedding of all units, normalised again. Sentence encoders put every text in a
/// narrow cone; removing the shared direction leaves what tells problems apart. A problem without
/// units gets a zero row, similar to nothing.
pub fn centred_centroids(units: &[PhraseUnit<'_>], problems: usize) -> Vec<f32> {
    let dimension = units.first().map_or(0, |unit| unit.embedding.len());
    let mut sums = vec![0.0f64; problems * dimension];
    let mut mean = vec![0.0f64; dimension];
    for unit in units {
        add(&mut mean, unit.embedding);
        match unit.problem {
            Some(problem) if (problem as usize) < problems => {
                let row = problem as usize * dimension;
                add(&mut sums[row..row + dimension], unit.embedding);
            }
            _ => {}
        }
    }
    scale(&mut mean, 1.0 / units.len().max(1) as f64);
    let mut rows = Vec::with_capacity(problems * dimension);
    for row in sums.chunks_mut(dimension.max(1)).take(problems) {
        if row.iter().all(|&value| value == 0.0) {
            rows.extend(std::iter::repeat_n(0.0f32, row.len()));
            continue;
        }
        normalise(row);
        row.iter_mut()
            .zip(&mean)
            .for_each(|(value, mean)| *value -= mean);
        normalise(row);
        rows.extend(row.iter().map(|&value| value as f32));
    }
    rows
}

/// Groups problems (row `i` of the row-major `centroids` is problem `i`, unit length) by
/// average-linkage agglomerative clustering on cosine similarity: the two groups of the highest
/// average pairwise similarity merge (ties: the pair of smallest members) until no pair reaches
/// `threshold`. Every problem is in exactly one group; groups are sorted by their smallest
/// member, members ascending. Cost: cubic in the number of problems (a few milliseconds for
/// 200).
pub fn group_problems(centroids: &[f32], dimension: usize, threshold: f32) -> Vec<Vec<u32>> {
    let count = centroids.len().checked_div(dimension).unwrap_or(0);
    let mut similarity = similarities(centroids, dimension, count);
    let mut groups: Vec<Option<Vec<u32>>> = (0..count as u32).map(|row| Some(vec![row])).collect();
    while let Some((first, second)) = best_pair(&similarity, &groups, f64::from(threshold)) {
        let (first_size, second_size) = (size(&groups[first]), size(&groups[second]));
        for other in 0..count {
            let merged = (first_size * similarity[first * count + other]
                + second_size * similarity[second * count + other])
                / (first_size + second_size);
            similarity[first * count + other] = merged;
            similarity[other * count + first] = merged;
        }
        let absorbed = groups[second].take().unwrap_or_default();
        if let Some(group) = groups[first].as_mut() {
            group.extend(absorbed);
            group.sort_unstable();
        }
    }
    groups.into_iter().flatten().collect()
}

/// Names every group of more than one problem (`groups` as [`group_problems`] returns them) by
/// the phrases its problems share; `None` for groups of one problem, whose problem's own name
/// serves.
pub fn name_themes(
    units: &[PhraseUnit<'_>],
    groups: &[Vec<u32>],
    background: &[&str],
    settings: &PhraseSettings,
) -> Vec<Option<String>> {
    let group_of: HashMap<u32, u32> = groups
        .iter()
        .enumerate()
        .flat_map(|(index, members)| members.iter().map(move |&problem| (problem, index as u32)))
        .collect();
    let unit_groups: Vec<Option<u32>> = units
        .iter()
        .map(|unit| {
            unit.problem
                .and_then(|problem| group_of.get(&problem).copied())
        })
        .collect();
    let problems: Vec<Option<u32>> = units.iter().map(|unit| unit.problem).collect();
    let mut names = name_groups(units, &unit_groups, Some(&problems), background, settings);
    (0..groups.len() as u32)
        .map(|index| {
            let several = groups[index as usize].len() > 1;
            several
                .then(|| names.remove(&index).map(|name| name.title))
                .flatten()
        })
        .collect()
}

/// The pair of live groups with the highest similarity at or above `threshold`.
fn best_pair(
    similarity: &[f64],
    groups: &[Option<Vec<u32>>],
    threshold: f64,
) -> Option<(usize, usize)> {
    let count = groups.len();
    let mut best: Option<(usize, usize, f64)> = None;
    for first in (0..count).filter(|&first| groups[first].is_some()) {
        for second in (first + 1..count).filter(|&second| groups[second].is_some()) {
            let value = similarity[first * count + second];
            if value >= threshold && best.is_none_or(|(_, _, best)| value > best) {
                best = Some((first, second, value));
            }
        }
    }
    best.map(|(first, second, _)| (first, second))
}

fn similarities(centroids: &[f32], dimension: usize, count: usize) -> Vec<f64> {
    let row = |index: usize| &centroids[index * dimension..(index + 1) * dimension];
    let mut similarity = vec![0.0f64; count * count];
    for first in 0..count {
        for second in 0..count {
            similarity[first * count + second] = row(first)
                .iter()
                .zip(row(second))
                .map(|(&a, &b)| f64::from(a) * f64::from(b))
                .sum();
        }
    }
    similarity
}

fn size(group: &Option<Vec<u32>>) -> f64 {
    group.as_ref().map_or(0, Vec::len) as f64
}

fn add(sum: &mut [f64], values: &[f32]) {
    for (total, &value) in sum.iter_mut().zip(values) {
        *total += f64::from(value);
    }
}

fn scale(values: &mut [f64], factor: f64) {
    values.iter_mut().for_each(|value| *value *= factor);
}

fn normalise(values: &mut [f64]) {
    let norm = values.iter().map(|value| value * value).sum::<f64>().sqrt();
    if norm > 0.0 {
        scale(values, 1.0 / norm);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::document::Language;

    /// Unit rows at the given angles (degrees) in the plane, one per problem.
    fn rows(angles: &[f32]) -> Vec<f32> {
        angles
            .iter()
            .flat_map(|angle| {
                let radians = angle.to_radians();
                [radians.cos(), radians.sin()]
            })
            .collect()
    }

    fn unit<'a>(text: &'a str, embedding: &'a [f32], problem: u32) -> PhraseUnit<'a> {
        PhraseUnit {
            text,
            language: Language::English,
            embedding,
            problem: Some(problem),
        }
    }

    fn average_similarity(centroids: &[f32], first: &[u32], second: &[u32]) -> f32 {
        let row = |index: u32| &centroids[index as usize * 2..index as usize * 2 + 2];
        let mut total = 0.0;
        for &a in first {
            for &b in second {
                total += row(a).iter().zip(row(b)).map(|(x, y)| x * y).sum::<f32>();
            }
        }
        total / (first.len() * second.len()) as f32
    }

    #[test]
    fn groups_respect_the_threshold_and_cover_every_problem_once() {
        // Two tight pairs (10 degrees apart inside, about 90 between) and a loner in between.
        let centroids = rows(&[0.0, 90.0, 10.0, 100.0, 45.0]);
        for threshold in [0.2, 0.5, 0.9, 0.99] {
            let groups = group_problems(&centroids, 2, threshold);
            let mut all: Vec<u32> = groups.iter().flatten().copied().collect();
            all.sort_unstable();
            assert_eq!(all, [0, 1, 2, 3, 4], "{groups:?}");
            assert!(
                groups.windows(2).all(|pair| pair[0][0] < pair[1][0]),
                "{groups:?}"
            );
            assert!(groups
                .iter()
                .all(|group| group.windows(2).all(|m| m[0] < m[1])));
            // Average linkage stops when no two groups are similar enough on average.
            for (index, first) in groups.iter().enumerate() {
                for second in &groups[index + 1..] {
                    let similarity = average_similarity(&centroids, first, second);
                    assert!(similarity < threshold, "{threshold}: {groups:?}");
                }
            }
        }
        assert_eq!(
            group_problems(&centroids, 2, 0.9),
            [vec![0, 2], vec![1, 3], vec![4]]
        );
    }

    #[test]
    fn linkage_is_by_average_not_by_the_nearest_member() {
        // 0 and 1 are close, 2 is close to 1 but far from 0: single linkage would chain all three.
        let centroids = rows(&[0.0, 25.0, 60.0]);
        let cosine = |degrees: f32| degrees.to_radians().cos();
        let threshold = (cosine(35.0) + cosine(60.0)) / 2.0 + 0.01;
        assert!(threshold < cosine(35.0));
        assert_eq!(
            group_problems(&centroids, 2, threshold),
            [vec![0, 1], vec![2]]
        );
    }

    #[test]
    fn centring_removes_the_direction_all_units_share() {
        let first = [0.8, 0.6, 0.0];
        let second = [0.8, 0.0, 0.6];
        let units = [
            unit("", &first, 0),
            unit("", &first, 0),
            unit("", &second, 1),
        ];
        let rows = centred_centroids(&units, 3);
        assert_eq!(rows.len(), 9);
        let row = |index: usize| &rows[index * 3..index * 3 + 3];
        let norm = |values: &[f32]| values.iter().map(|value| value * value).sum::<f32>().sqrt();
        assert!((norm(row(0)) - 1.0).abs() < 1e-5 && (norm(row(1)) - 1.0).abs() < 1e-5);
        assert_eq!(row(2), [0.0, 0.0, 0.0], "a problem without units");
        let centred: f32 = row(0).iter().zip(row(1)).map(|(a, b)| a * b).sum();
        // Raw cosine 0.64; without the shared first axis the two problems point apart.
        assert!(centred < 0.0, "{rows:?}");
    }

    #[test]
    fn a_theme_is_named_by_what_its_problems_share() {
        let (lost, damaged, delayed) = ([1.0, 0.0, 0.0], [0.9, 0.44, 0.0], [0.0, 0.0, 1.0]);
        let units = [
            unit("they lost my luggage", &lost, 0),
            unit("lost luggage again", &lost, 0),
            unit("my luggage is lost", &lost, 0),
            unit("luggage arrived damaged", &damaged, 1),
            unit("damaged luggage, broken wheel", &damaged, 1),
            unit("my luggage came back damaged", &damaged, 1),
            unit("flight delayed two hours", &delayed, 2),
            unit("delayed flight again", &delayed, 2),
        ];
        let settings = PhraseSettings::default();
        let groups = [vec![0, 1], vec![2]];
        let names = name_themes(&units, &groups, &[], &settings);
        assert_eq!(names.len(), 2);
        assert_eq!(names[1], None);
        let theme = names[0].as_deref().unwrap();
        let problems = super::super::phrases::name_problems(&units, &[], &settings);
        assert!(problems.values().all(|name| name.title != theme), "{theme}");
        // The theme's phrase occurs in units of both of its problems.
        for problem in [0, 1] {
            let texts = units.iter().filter(|unit| unit.problem == Some(problem));
            assert!(
                texts.clone().any(|unit| unit.text.contains(theme)),
                "{theme}"
            );
        }
    }
}
