//! Naming the problems and grouping them under parent themes, by the label stage's phrase
//! ranking ([`crate::label::phrases`], [`crate::label::themes`]): each problem gets a key phrase
//! as title, key phrases as keywords and its most central short unit as statement; related
//! problems (by centred centroids, within one embedding space) form themes named the same way.
//! `background` holds non-complaint texts of the same archive, so that words as common there as
//! in complaints (brand, product and place names) never name a problem.

use std::collections::BTreeMap;

use super::{Candidate, ProblemUnit};
use crate::cluster::Clustering;
use crate::label::phrases::{name_problems, PhraseSettings, PhraseUnit, ProblemName};
use crate::label::themes::{centred_centroids, group_problems, name_themes, THEME_THRESHOLD};

/// Every problem's name, by cluster index.
pub(super) fn name_clusters(
    candidates: &[Candidate<'_>],
    units: &[ProblemUnit<'_>],
    clustering: &Clustering,
    background: &[&str],
) -> BTreeMap<u32, ProblemName> {
    let phrase_units = phrase_units(candidates, units, &clustering.labels);
    name_problems(&phrase_units, background, &PhraseSettings::default())
}

/// One parent theme: its member clusters and its name.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct ClusterTheme {
    /// Cluster indices, ascending.
    pub clusters: Vec<u32>,
    /// Its key phrase.
    pub title: String,
}

/// Themes of two or more related clusters, found within each embedding space.
pub(super) fn cluster_themes(
    candidates: &[Candidate<'_>],
    units: &[ProblemUnit<'_>],
    clustering: &Clustering,
    background: &[&str],
) -> Vec<ClusterTheme> {
    let mut spaces: Vec<usize> = units.iter().map(|unit| unit.space).collect();
    spaces.sort_unstable();
    spaces.dedup();
    let mut themes = Vec::new();
    for space in spaces {
        themes.extend(themes_in_space(
            candidates, units, clustering, background, space,
        ));
    }
    themes
}

fn themes_in_space(
    candidates: &[Candidate<'_>],
    units: &[ProblemUnit<'_>],
    clustering: &Clustering,
    background: &[&str],
    space: usize,
) -> Vec<ClusterTheme> {
    let rows: Vec<usize> = (0..units.len())
        .filter(|&row| units[row].space == space)
        .collect();
    let mut clusters: Vec<u32> = rows
        .iter()
        .filter_map(|&row| clustering.labels[row])
        .collect();
    clusters.sort_unstable();
    clusters.dedup();
    if clusters.len() < 2 {
        return Vec::new();
    }
    let local: BTreeMap<u32, u32> = clusters
        .iter()
        .enumerate()
        .map(|(position, &cluster)| (cluster, position as u32))
        .collect();
    let labels: Vec<Option<u32>> = rows
        .iter()
        .map(|&row| clustering.labels[row].map(|cluster| local[&cluster]))
        .collect();
    let space_units: Vec<ProblemUnit<'_>> = rows.iter().map(|&row| units[row]).collect();
    let phrase_units = phrase_units(candidates, &space_units, &labels);
    let dimension = space_units.first().map_or(0, |unit| unit.embedding.len());
    let centroids = centred_centroids(&phrase_units, clusters.len());
    let groups = group_problems(&centroids, dimension, THEME_THRESHOLD);
    let names = name_themes(
        &phrase_units,
        &groups,
        background,
        &PhraseSettings::default(),
    );
    groups
        .into_iter()
        .zip(names)
        .filter_map(|(group, name)| {
            let title = name?;
            (group.len() > 1).then(|| ClusterTheme {
                clusters: group
                    .iter()
                    .map(|&index| clusters[index as usize])
                    .collect(),
                title,
            })
        })
        .collect()
}

fn phrase_units<'a>(
    candidates: &[Candidate<'a>],
    units: &[ProblemUnit<'a>],
    labels: &[Option<u32>],
) -> Vec<PhraseUnit<'a>> {
    units
        .iter()
        .zip(labels)
        .map(|(unit, &problem)| PhraseUnit {
            text: unit.text(candidates),
            language: candidates[unit.candidate].document.language,
            embedding: unit.embedding,
            problem,
        })
        .collect()
}
