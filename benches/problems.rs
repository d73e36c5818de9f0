//! The problem stage over the real complaint units of a mined workspace (its index and embedding
//! cache; the encoders load but encode nothing when the cache is warm). Three measurements, all
//! by default, or the one `VOCMINE_BENCH_MODE` names:
//!
//! - `perturb` (issue 17's target): the stage over every candidate, then again with a random 1%
//!   of the candidate documents removed (`VOCMINE_BENCH_DROP`), for ten seeds
//!   (`VOCMINE_BENCH_SEEDS`). Per seed: the problem count against the full run's, the share of
//!   the full run's problems one problem of the perturbed run matches (Jaccard of member
//!   documents >= 0.5 on the common documents), and the adjusted Rand index of the documents'
//!   problems on the common documents (unassigned documents are one group). Targets: count
//!   within +-10%, >= 90% matched, ARI >= 0.90.
//! - `monthly`: the earliest 90% of the candidates (by date, then id) as one period, then all of
//!   them as the next, with the first period's history; the share of the first period's
//!   problems that still receive documents and keep their id and members (Jaccard >= 0.7 on the
//!   first period's documents; target >= 90%), with anchoring (the default) and, for
//!   comparison, with the whole archive clustered again and matched by centroids.
//! - `scale`: cluster + label + route on the units of 10,000, 50,000 and 100,000 documents
//!   (`VOCMINE_BENCH_SIZES`), the workspace's candidates replicated with noise of 0.04 per
//!   coordinate on every unit embedding (renormalised) and distinct ids: seconds, units/s, peak
//!   memory. Target: under 5 s at 10,000 documents.
//!
//! Run: `VOCMINE_BENCH_WORKSPACE=demo-workspace cargo bench --bench problems` after
//! `scripts/demo` (or any `vocmine mine`).

mod common;
#[path = "common/units.rs"]
mod units;

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::time::Instant;

use vocmine::cluster::metrics::adjusted_rand_index;
use vocmine::cluster::random::Random;
use vocmine::document::Document;
use vocmine::problems::history::ClusterHistory;
use vocmine::problems::{find_problems, Candidate, FoundProblems, ProblemContext, ProblemUnit};
use vocmine::progress::NoProgress;

use units::{mined_units, MinedUnits};

fn main() {
    // `RUST_LOG=vocmine=debug` prints each stage's time.
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    let root = PathBuf::from(
        std::env::var("VOCMINE_BENCH_WORKSPACE").expect("set VOCMINE_BENCH_WORKSPACE"),
    );
    let mode = std::env::var("VOCMINE_BENCH_MODE").unwrap_or_else(|_| "all".into());
    let started = Instant::now();
    let mined = mined_units(&root);
    let background = mined.background();
    let background: Vec<&str> = background.iter().map(String::as_str).collect();
    println!(
        "{} candidates, {} complaint units ({:.1} s to read and split them)",
        mined.stored.len(),
        mined.units.units.len(),
        started.elapsed().as_secs_f64()
    );
    let bench = Bench {
        mined: &mined,
        background: &background,
    };
    if mode == "all" || mode == "perturb" {
        bench.perturb();
    }
    if mode == "all" || mode == "monthly" {
        bench.monthly();
    }
    if mode == "all" || mode == "scale" {
        bench.scale();
    }
}

struct Bench<'a> {
    mined: &'a MinedUnits,
    background: &'a [&'a str],
}

/// Document id -> its problem (`None`: unassigned).
type Placements = BTreeMap<String, Option<String>>;

impl Bench<'_> {
    fn context(&self, period: &str) -> ProblemContext {
        ProblemContext {
            period: period.into(),
            run: "bench".into(),
            model: self.mined.model.clone(),
        }
    }

    fn run(&self, keep: &[usize], history: &ClusterHistory, period: &str) -> FoundProblems {
        let (candidates, units) = self.mined.subset(keep);
        find_problems(
            &candidates,
            &units,
            self.background,
            &self.mined.workspace.config,
            history,
            &self.context(period),
            &NoProgress,
        )
    }

    fn placements(&self, keep: &[usize], found: &FoundProblems) -> Placements {
        keep.iter()
            .zip(&found.placements)
            .map(|(&row, placement)| {
                (
                    self.mined.stored[row].document.id.clone(),
                    placement.as_ref().map(|p| p.0.clone()),
                )
            })
            .collect()
    }

    fn perturb(&self) {
        let seeds: u64 = env_number("VOCMINE_BENCH_SEEDS", 10.0) as u64;
        let drop_share = env_number("VOCMINE_BENCH_DROP", 0.01);
        let all: Vec<usize> = (0..self.mined.stored.len()).collect();
        let empty = ClusterHistory::default();
        let full = self.placements(&all, &self.run(&all, &empty, "2026-10"));
        let full_count = problem_count(&full);
        println!(
            "\nperturb: {full_count} problems in the full run; removing {:.1}% of the candidates \
             per seed",
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
            let removed = ((all.len() as f64) * drop_share).round() as usize;
            let mut keep = order[removed..].to_vec();
            keep.sort();
            let perturbed = self.placements(&keep, &self.run(&keep, &empty, "2026-10"));
            let count = problem_count(&perturbed);
            let change = count as f64 / full_count.max(1) as f64 - 1.0;
            let common: BTreeSet<&String> = perturbed.keys().collect();
            let matched = matched_share(&full, &perturbed, &common, 0.5);
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

    fn monthly(&self) {
        let stored = &self.mined.stored;
        let mut order: Vec<usize> = (0..stored.len()).collect();
        order.sort_by_key(|&row| {
            let document = &stored[row].document;
            (document.metadata.date, document.id.clone())
        });
        let first_count = (order.len() as f64 * 0.9).round() as usize;
        let mut first: Vec<usize> = order[..first_count].to_vec();
        first.sort();
        let all: Vec<usize> = (0..stored.len()).collect();
        let found = self.run(&first, &ClusterHistory::default(), "2026-09");
        let before = self.placements(&first, &found);
        let mut history = ClusterHistory::default();
        history.record(found.entry.clone(), found.next_id);
        let mut unanchored = history.clone();
        for tracked in &mut unanchored.periods[0].problems {
            tracked.radius = None;
        }
        println!(
            "\nmonthly: {} problems in the first period ({} candidates), then {} more candidates",
            problem_count(&before),
            first.len(),
            all.len() - first.len()
        );
        let old: BTreeSet<&String> = before.keys().collect();
        for (name, history) in [("anchored", &history), ("clustered again", &unanchored)] {
            let started = Instant::now();
            let next = self.run(&all, history, "2026-10");
            let seconds = started.elapsed().as_secs_f64();
            let after = self.placements(&all, &next);
            let previous = members(&before, &old);
            let current = members(&after, &old);
            let alive: Vec<&&str> = previous
                .keys()
                .filter(|id| after.values().flatten().any(|p| p.as_str() == **id))
                .collect();
            let held = alive
                .iter()
                .filter(|id| {
                    current
                        .get(**id)
                        .is_some_and(|group| jaccard(&previous[**id], group) >= 0.7)
                })
                .count();
            let statuses = next.file.problems.iter().fold(
                BTreeMap::<String, usize>::new(),
                |mut counts, problem| {
                    *counts.entry(format!("{:?}", problem.status)).or_default() += 1;
                    counts
                },
            );
            println!(
                "{name:>16}: {held} of {} continuing problems kept id and members ({:.1}%; \
                 Jaccard >= 0.7 on the first period's documents), {} problems, statuses {:?}, \
                 {:.2} s",
                alive.len(),
                100.0 * held as f64 / alive.len().max(1) as f64,
                problem_count(&after),
                statuses,
                seconds
            );
        }
    }

    fn scale(&self) {
        let sizes: Vec<usize> = std::env::var("VOCMINE_BENCH_SIZES")
            .unwrap_or_else(|_| "10000,50000,100000".into())
            .split(',')
            .map(|size| size.trim().parse().expect("sizes are numbers"))
            .collect();
        println!(
            "\nscale:\n{:>8} {:>8} {:>9} {:>9} {:>9} {:>10}",
            "docs", "units", "seconds", "units/s", "problems", "peak MiB"
        );
        for size in sizes {
            let (documents, embeddings, origins) = self.replicate(size);
            let (candidates, units) = self
                .mined
                .subset(&(0..self.mined.stored.len()).collect::<Vec<_>>());
            drop(candidates);
            let candidates: Vec<Candidate<'_>> = documents
                .iter()
                .zip(&origins)
                .map(|(document, &row)| Candidate {
                    document,
                    enrichment: &self.mined.stored[row].enrichment,
                    run: &self.mined.stored[row].run,
                })
                .collect();
            let dimension = self.mined.units.dimension;
            let mut of_candidate: Vec<Vec<&ProblemUnit<'_>>> =
                vec![Vec::new(); self.mined.stored.len()];
            for unit in &units {
                of_candidate[unit.candidate].push(unit);
            }
            let mut replicated: Vec<ProblemUnit<'_>> = Vec::new();
            let mut row = 0;
            for (copy, &origin) in origins.iter().enumerate() {
                for unit in &of_candidate[origin] {
                    replicated.push(ProblemUnit {
                        candidate: copy,
                        embedding: &embeddings[row * dimension..(row + 1) * dimension],
                        ..**unit
                    });
                    row += 1;
                }
            }
            let started = Instant::now();
            let found = find_problems(
                &candidates,
                &replicated,
                self.background,
                &self.mined.workspace.config,
                &ClusterHistory::default(),
                &self.context("2026-10"),
                &NoProgress,
            );
            let seconds = started.elapsed().as_secs_f64();
            println!(
                "{:>8} {:>8} {:>9.2} {:>9.0} {:>9} {:>10.0}",
                size,
                replicated.len(),
                seconds,
                replicated.len() as f64 / seconds,
                found.entry.problems.len(),
                common::peak_rss_mib()
            );
        }
    }

    /// `size` documents cycling through the candidates (copies with distinct ids and hashes),
    /// with the unit embeddings of each in order (copies get noise), and each one's original.
    fn replicate(&self, size: usize) -> (Vec<Document>, Vec<f32>, Vec<usize>) {
        let count = self.mined.stored.len();
        let dimension = self.mined.units.dimension;
        let mut by_source: Vec<Vec<usize>> = vec![Vec::new(); count];
        for (index, unit) in self.mined.units.units.iter().enumerate() {
            by_source[unit.source].push(index);
        }
        let mut random = Random::new(11);
        let mut documents = Vec::with_capacity(size);
        let mut embeddings = Vec::new();
        let mut origins = Vec::with_capacity(size);
        for index in 0..size {
            let origin = index % count;
            let mut document = self.mined.stored[origin].document.clone();
            if index >= count {
                document.id = format!("{}-{index}", document.id);
                document.content_hash = format!("{}-{index}", document.content_hash);
            }
            let mut sorted = by_source[origin].clone();
            sorted.sort_by_key(|&unit| self.mined.units.units[unit].unit.start);
            for unit in sorted {
                let mut row = self.mined.units.embedding(unit).to_vec();
                if index >= count {
                    row.iter_mut()
                        .for_each(|value| *value += 0.04 * random.normal() as f32);
                    let norm = row.iter().map(|value| value * value).sum::<f32>().sqrt();
                    row.iter_mut().for_each(|value| *value /= norm);
                }
                embeddings.extend_from_slice(&row);
            }
            documents.push(document);
            origins.push(origin);
        }
        debug_assert_eq!(embeddings.len() % dimension.max(1), 0);
        (documents, embeddings, origins)
    }
}

fn env_number(name: &str, default: f64) -> f64 {
    std::env::var(name).map_or(default, |value| value.parse().expect("a number"))
}

fn label(placement: &Option<String>) -> String {
    placement.clone().unwrap_or_else(|| "-".into())
}

fn problem_count(placements: &Placements) -> usize {
    placements.values().flatten().collect::<BTreeSet<_>>().len()
}

/// Member documents of each problem, restricted to `ids`.
fn members<'a>(
    placements: &'a Placements,
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

fn jaccard(a: &BTreeSet<&String>, b: &BTreeSet<&String>) -> f64 {
    let shared = a.intersection(b).count();
    let union = a.len() + b.len() - shared;
    if union == 0 {
        0.0
    } else {
        shared as f64 / union as f64
    }
}

/// Share of `full`'s problems that one problem of `perturbed` matches with Jaccard >=
/// `threshold` on the `common` documents.
fn matched_share(
    full: &Placements,
    perturbed: &Placements,
    common: &BTreeSet<&String>,
    threshold: f64,
) -> f64 {
    let before = members(full, common);
    let after = members(perturbed, common);
    let matched = before
        .values()
        .filter(|group| {
            after
                .values()
                .any(|other| jaccard(group, other) >= threshold)
        })
        .count();
    matched as f64 / before.len().max(1) as f64
}
