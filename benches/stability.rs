//! How much the problem stage moves when its input moves a little (issue: "the problem stage is
//! chaotic"). Reads a mined workspace (its index and embedding cache), runs cluster + label +
//! route over all its candidates, then again with a random 1% of the candidates removed, for
//! ten seeds, and prints per seed: the problem count against the full run's, the share of the
//! full run's problems matched one-to-one (Jaccard of members >= 0.5 on the common documents),
//! and the adjusted Rand index on the common documents (unassigned documents count as one
//! group). Targets: count within +-10%, >= 90% matched, ARI >= 0.90.
//!
//! Run: `VOCMINE_BENCH_WORKSPACE=demo-workspace cargo bench --bench stability` after
//! `scripts/demo` (or any `vocmine mine`). `VOCMINE_EMBEDDING_CACHE` names the cache when the
//! workspace used a shared one; `VOCMINE_BENCH_SEEDS` the number of seeds (default 10);
//! `VOCMINE_BENCH_DROP` the share removed (default 0.01).

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use vocmine::cluster::metrics::adjusted_rand_index;
use vocmine::cluster::random::Random;
use vocmine::encode::{key_of, EmbeddingCache};
use vocmine::index::{stored_documents, DocumentIndex, StoredDocument};
use vocmine::problems::history::ClusterHistory;
use vocmine::problems::{find_problems, is_candidate, Candidate, ProblemContext, ProblemUnit};
use vocmine::progress::NoProgress;
use vocmine::workspace::Workspace;

const DIMENSION: usize = 384;

fn main() {
    let root = PathBuf::from(
        std::env::var("VOCMINE_BENCH_WORKSPACE").expect("set VOCMINE_BENCH_WORKSPACE"),
    );
    let seeds: u64 = env_number("VOCMINE_BENCH_SEEDS", 10.0) as u64;
    let drop_share = env_number("VOCMINE_BENCH_DROP", 0.01);
    let workspace = Workspace::open(&root).expect("workspace");
    let index = DocumentIndex::open(&workspace.index_dir()).expect("index");
    let stored: Vec<StoredDocument> =
        stored_documents(&index.searcher(), index.fields(), &tantivy::query::AllQuery)
            .expect("documents")
            .into_iter()
            .filter(|s| is_candidate(&s.document, &s.enrichment, &workspace.config.cluster))
            .collect();
    let model = "e5-t256";
    let cache_root = std::env::var_os("VOCMINE_EMBEDDING_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("cache/embeddings"));
    let cache = EmbeddingCache::open(&cache_root.join(model), DIMENSION).expect("cache");
    let embeddings: Vec<&[f32]> = stored
        .iter()
        .map(|s| {
            cache
                .get(&key_of(&s.document.text))
                .expect("every candidate is in the embedding cache")
        })
        .collect();
    let context = ProblemContext {
        period: "2026-10".into(),
        run: "bench".into(),
        model: model.into(),
    };
    let run = |keep: &[usize]| -> BTreeMap<String, Option<String>> {
        let (candidates, units): (Vec<Candidate<'_>>, Vec<ProblemUnit<'_>>) = keep
            .iter()
            .enumerate()
            .map(|(position, &row)| {
                let candidate = Candidate {
                    document: &stored[row].document,
                    enrichment: &stored[row].enrichment,
                    run: &stored[row].run,
                };
                let unit = ProblemUnit {
                    candidate: position,
                    start: 0,
                    end: stored[row].document.text.len(),
                    negative: true,
                    embedding: embeddings[row],
                    space: 0,
                };
                (candidate, unit)
            })
            .unzip();
        let found = find_problems(
            &candidates,
            &units,
            &[],
            &workspace.config,
            &ClusterHistory::default(),
            &context,
            &NoProgress,
        );
        keep.iter()
            .zip(found.placements)
            .map(|(&row, placement)| (stored[row].document.id.clone(), placement.map(|p| p.0)))
            .collect()
    };
    let all: Vec<usize> = (0..stored.len()).collect();
    let full = run(&all);
    let full_count = problem_count(&full);
    println!(
        "{} candidates, {} problems in the full run; removing {:.1}% per seed",
        stored.len(),
        full_count,
        drop_share * 100.0
    );
    println!(
        "{:>5} {:>9} {:>8} {:>9} {:>7}",
        "seed", "problems", "change", "matched", "ARI"
    );
    let mut passes = 0;
    for seed in 0..seeds {
        let mut random = Random::new(seed + 1);
        let mut order = all.clone();
        random.shuffle(&mut order);
        let removed = ((stored.len() as f64) * drop_share).round() as usize;
        let mut keep = order[removed..].to_vec();
        keep.sort();
        let perturbed = run(&keep);
        let count = problem_count(&perturbed);
        let change = count as f64 / full_count.max(1) as f64 - 1.0;
        let matched = matched_share(&full, &perturbed);
        let common: Vec<&String> = perturbed.keys().collect();
        let first: Vec<String> = common.iter().map(|id| label(&full[*id])).collect();
        let second: Vec<String> = common.iter().map(|id| label(&perturbed[*id])).collect();
        let ari = adjusted_rand_index(&first, &second);
        let pass = change.abs() <= 0.10 && matched >= 0.90 && ari >= 0.90;
        passes += usize::from(pass);
        println!(
            "{seed:>5} {count:>9} {:>7.1}% {:>8.1}% {ari:>7.3}",
            change * 100.0,
            matched * 100.0
        );
    }
    println!("{passes} of {seeds} seeds meet all three targets");
}

fn env_number(name: &str, default: f64) -> f64 {
    std::env::var(name).map_or(default, |value| value.parse().expect("a number"))
}

fn label(placement: &Option<String>) -> String {
    placement.clone().unwrap_or_else(|| "-".into())
}

fn problem_count(placements: &BTreeMap<String, Option<String>>) -> usize {
    placements.values().flatten().collect::<BTreeSet<_>>().len()
}

/// Members of each problem, restricted to `ids`.
fn members<'a>(
    placements: &'a BTreeMap<String, Option<String>>,
    ids: &BTreeSet<&String>,
) -> BTreeMap<&'a str, BTreeSet<&'a String>> {
    let mut groups: BTreeMap<&str, BTreeSet<&String>> = BTreeMap::new();
    for (id, placement) in placements {
        if let (Some(problem), true) = (placement, ids.contains(id)) {
            groups.entry(problem.as_str()).or_default().insert(id);
        }
    }
    groups
}

/// Share of the full run's problems that one problem of the perturbed run matches with
/// Jaccard >= 0.5 on the common documents (above 0.5 a pair can only be one-to-one).
fn matched_share(
    full: &BTreeMap<String, Option<String>>,
    perturbed: &BTreeMap<String, Option<String>>,
) -> f64 {
    let common: BTreeSet<&String> = perturbed.keys().collect();
    let before = members(full, &common);
    let after = members(perturbed, &common);
    let matched = before
        .values()
        .filter(|group| {
            after.values().any(|other| {
                let shared = group.intersection(other).count();
                let union = group.len() + other.len() - shared;
                union > 0 && shared * 2 >= union
            })
        })
        .count();
    matched as f64 / before.len().max(1) as f64
}
