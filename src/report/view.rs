//! What the Markdown and HTML renderers share: problems grouped by owning team and ranked by
//! impact, each team's load, and the small formatting rules (percentages, money, status labels,
//! search links) both formats must agree on.

use std::collections::BTreeMap;
use std::path::Path;

use crate::problem::{Problem, ProblemStatus, ProblemsFile, Theme};

use super::{Overview, PROBLEM_LINK_PREFIX};

/// Problems the executive summary opens with.
pub const TOP_PROBLEMS: usize = 5;

/// One team's share of a period's problems.
#[derive(Debug, Clone)]
pub struct TeamView<'a> {
    /// The team's name as routed.
    pub name: &'a str,
    /// File-name form of the name, unique among the period's teams.
    pub slug: String,
    /// Its problems with documents this period, highest impact first.
    pub active: Vec<&'a Problem>,
    /// Its problems that nothing matched this period.
    pub gone: Vec<&'a Problem>,
}

impl TeamView<'_> {
    /// Documents in its active problems.
    pub fn documents(&self) -> u64 {
        self.active.iter().map(|problem| problem.size).sum()
    }

    /// Active problems with this status.
    pub fn count_status(&self, status: ProblemStatus) -> usize {
        self.active
            .iter()
            .filter(|problem| problem.status == status)
            .count()
    }

    /// Active problems flagged as spikes.
    pub fn spikes(&self) -> usize {
        self.active.iter().filter(|problem| problem.spike).count()
    }

    /// Where the team's report is, relative to the period's directory.
    pub fn report_path(&self, extension: &str) -> String {
        format!("teams/{}.{extension}", self.slug)
    }
}

/// Everything a renderer reads.
pub struct Context<'a> {
    /// The workspace directory, as the analyst named it (for the search commands printed).
    pub workspace: String,
    /// The period's problems.
    pub problems: &'a ProblemsFile,
    /// Counts over the whole index and the run log.
    pub overview: &'a Overview,
    /// The teams with problems this period, by name.
    pub teams: &'a [TeamView<'a>],
}

impl<'a> Context<'a> {
    /// Bundles what the renderers need.
    pub fn new(
        workspace: &Path,
        problems: &'a ProblemsFile,
        overview: &'a Overview,
        teams: &'a [TeamView<'a>],
    ) -> Self {
        Context {
            workspace: workspace.display().to_string(),
            problems,
            overview,
            teams,
        }
    }

    /// The command that lists a problem's documents.
    pub fn search_command(&self, problem: &Problem) -> String {
        format!(
            "vocmine search {} 'cluster:{}'",
            shell_word(&self.workspace),
            problem.id
        )
    }

    /// Active problems of every team, highest impact first.
    pub fn ranked(&self) -> Vec<&'a Problem> {
        ranked(
            self.problems
                .problems
                .iter()
                .filter(|problem| is_active(problem)),
        )
    }

    /// Active problems that are new or spiking, highest impact first.
    pub fn new_or_spiking(&self) -> Vec<&'a Problem> {
        self.ranked()
            .into_iter()
            .filter(|problem| problem.status == ProblemStatus::New || problem.spike)
            .collect()
    }

    /// The parent theme of a problem, if it has one.
    pub fn theme_of(&self, problem: &Problem) -> Option<&'a Theme> {
        let parent = problem.parent.as_ref()?;
        self.problems
            .themes
            .iter()
            .find(|theme| &theme.id == parent)
    }

    /// The themes with active problems among `problems`, in theme order, each with those
    /// problems (highest impact first); problems without a theme are left out.
    pub fn themes_of(&self, problems: &[&'a Problem]) -> Vec<(&'a Theme, Vec<&'a Problem>)> {
        self.problems
            .themes
            .iter()
            .filter_map(|theme| {
                let members: Vec<&Problem> = ranked(
                    problems
                        .iter()
                        .copied()
                        .filter(|problem| problem.parent.as_ref() == Some(&theme.id)),
                );
                (!members.is_empty()).then_some((theme, members))
            })
            .collect()
    }

    /// Teams by documents in their problems, largest first.
    pub fn teams_by_load(&self) -> Vec<&'a TeamView<'a>> {
        let mut teams: Vec<&TeamView> = self.teams.iter().collect();
        teams.sort_by(|a, b| b.documents().cmp(&a.documents()).then(a.name.cmp(b.name)));
        teams
    }
}

/// The link that opens a problem (and its documents) in `vocmine serve`.
pub fn problem_link(problem: &Problem) -> String {
    format!("{PROBLEM_LINK_PREFIX}{}", problem.id)
}

/// A problem that has documents this period (the others are `gone`).
fn is_active(problem: &Problem) -> bool {
    problem.status != ProblemStatus::Gone
}

/// Highest impact first; ties by id so the order never depends on the input's order.
fn ranked<'a>(problems: impl Iterator<Item = &'a Problem>) -> Vec<&'a Problem> {
    let mut ranked: Vec<&Problem> = problems.collect();
    ranked.sort_by(|a, b| b.impact.total_cmp(&a.impact).then(a.id.cmp(&b.id)));
    ranked
}

/// Groups the problems by owning team, teams by name.
pub fn teams(problems: &ProblemsFile) -> Vec<TeamView<'_>> {
    let mut by_team: BTreeMap<&str, Vec<&Problem>> = BTreeMap::new();
    for problem in &problems.problems {
        by_team.entry(&problem.team).or_default().push(problem);
    }
    let mut slugs = Vec::new();
    by_team
        .into_iter()
        .map(|(name, problems)| {
            let (gone, active): (Vec<&Problem>, Vec<&Problem>) = problems
                .into_iter()
                .partition(|problem| !is_active(problem));
            let slug = unique_slug(name, &mut slugs);
            TeamView {
                name,
                slug,
                active: ranked(active.into_iter()),
                gone: ranked(gone.into_iter()),
            }
        })
        .collect()
}

/// A file-name form of `name` that no earlier team of the period has taken.
fn unique_slug(name: &str, taken: &mut Vec<String>) -> String {
    let base = slug(name);
    let mut candidate = base.clone();
    let mut number = 2;
    while taken.contains(&candidate) {
        candidate = format!("{base}-{number}");
        number += 1;
    }
    taken.push(candidate.clone());
    candidate
}

/// Lowercase letters and digits (any script) joined by single hyphens; `team` when none are left.
pub fn slug(name: &str) -> String {
    let lowered: String = name
        .chars()
        .flat_map(char::to_lowercase)
        .map(|character| {
            if character.is_alphanumeric() {
                character
            } else {
                '-'
            }
        })
        .collect();
    let joined = lowered
        .split('-')
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join("-");
    if joined.is_empty() {
        "team".to_string()
    } else {
        joined
    }
}

/// A count with its noun: `1 problem`, `2 problems`.
pub fn plural(count: u64, singular: &str) -> String {
    format!("{count} {}", noun(count, singular))
}

/// The noun for a count: `problem` for 1, `problems` otherwise.
pub fn noun(count: u64, singular: &str) -> String {
    if count == 1 {
        singular.to_string()
    } else {
        format!("{singular}s")
    }
}

/// A share as a whole percentage.
pub fn percent(share: f64) -> String {
    format!("{:.0}%", share * 100.0)
}

/// A money-like amount with thousands separators and no decimals.
pub fn amount(value: f64) -> String {
    let rounded = value.round();
    let digits = format!("{:.0}", rounded.abs());
    let mut grouped = String::new();
    for (position, digit) in digits.chars().enumerate() {
        if position > 0 && (digits.len() - position) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    if rounded < 0.0 {
        format!("-{grouped}")
    } else {
        grouped
    }
}

/// The status as people read it: `growing`, or `growing, spike`.
pub fn status_label(problem: &Problem) -> String {
    if problem.spike {
        format!("{}, spike", problem.status.name())
    } else {
        problem.status.name().to_string()
    }
}

/// Quotes a word for a POSIX shell when it needs quoting.
fn shell_word(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|character| character.is_alphanumeric() || "-_./:=@+".contains(character));
    if plain {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_keep_letters_of_any_script_and_stay_unique() {
        assert_eq!(slug("Billing & Refunds"), "billing-refunds");
        assert_eq!(slug("售后服务 团队"), "售后服务-团队");
        assert_eq!(slug("!!!"), "team");
        let mut taken = Vec::new();
        assert_eq!(unique_slug("a b", &mut taken), "a-b");
        assert_eq!(unique_slug("A-B", &mut taken), "a-b-2");
    }

    #[test]
    fn amounts_and_percentages() {
        assert_eq!(amount(1234567.4), "1,234,567");
        assert_eq!(amount(999.0), "999");
        assert_eq!(amount(-1000.0), "-1,000");
        assert_eq!(percent(0.626), "63%");
        assert_eq!(plural(1, "run"), "1 run");
        assert_eq!(plural(0, "run"), "0 runs");
    }

    #[test]
    fn workspace_paths_are_quoted_for_the_shell() {
        assert_eq!(shell_word("ws/acme"), "ws/acme");
        assert_eq!(shell_word("my ws"), "'my ws'");
        assert_eq!(shell_word("it's"), r"'it'\''s'");
    }
}
