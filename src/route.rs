//! The route stage: each cluster goes to exactly one owning team, with the reason. Rules come from
//! the `[[team]]` entries of `vocmine.toml` and are tried in a fixed order of precedence:
//!
//! 1. keywords and phrases (either language; Traditional and Simplified match each other),
//! 2. topics (a team's `topics`, or a topic's `team`),
//! 3. source, channel, location and product conditions.
//!
//! At each level the team whose rules match the largest share of the cluster's documents wins,
//! if that share reaches [`RouteSettings::min_share`]; otherwise the next level is tried. A
//! cluster that no level claims goes to the triage team.

use serde::Serialize;

use crate::config::{TeamConfig, TopicConfig};
use crate::normalise::analysis_form;

/// The team that receives clusters no rule claims, unless configured otherwise.
pub const TRIAGE_TEAM: &str = "triage";

/// How routing decides.
#[derive(Debug, Clone, PartialEq)]
pub struct RouteSettings {
    /// Smallest share of a cluster's documents a rule must match to claim it.
    pub min_share: f64,
    /// Team for unclaimed clusters.
    pub triage_team: String,
}

impl RouteSettings {
    /// The settings of a workspace's `[route]` section.
    pub fn from_config(config: &crate::config::RouteConfig) -> Self {
        RouteSettings {
            min_share: config.min_share,
            triage_team: config.triage_team.clone(),
        }
    }
}

impl Default for RouteSettings {
    fn default() -> Self {
        RouteSettings {
            min_share: 0.3,
            triage_team: TRIAGE_TEAM.to_string(),
        }
    }
}

/// What routing needs to know about one document.
#[derive(Debug, Clone, Default)]
pub struct RouteDocument<'a> {
    /// Display text.
    pub text: &'a str,
    /// Topic from the classify stage.
    pub topic: Option<&'a str>,
    /// Source (review, complaint, ...).
    pub source: Option<&'a str>,
    /// Channel.
    pub channel: Option<&'a str>,
    /// Location.
    pub location: Option<&'a str>,
    /// Product.
    pub product: Option<&'a str>,
}

/// A cluster's owner and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Route {
    /// The owning team.
    pub team: String,
    /// Which kind of rule decided (`keyword`, `topic`, `source`, ... or `triage`).
    pub rule: String,
    /// Share of the cluster's documents the rule matched.
    pub share: f64,
    /// A sentence a person can check.
    pub reason: String,
}

/// The kinds of rules, in order of precedence.
const LEVELS: &[&str] = &[
    "keyword", "topic", "source", "channel", "location", "product",
];

/// Routing rules, prepared once per run.
#[derive(Debug, Clone)]
pub struct Router {
    teams: Vec<PreparedTeam>,
    settings: RouteSettings,
}

#[derive(Debug, Clone)]
struct PreparedTeam {
    name: String,
    /// Keywords in analysis form (Simplified, lowercase).
    keywords: Vec<String>,
    topics: Vec<String>,
    config: TeamConfig,
}

impl Router {
    /// Prepares the teams' rules; a topic's `team` adds that topic to the team's own list.
    pub fn new(teams: &[TeamConfig], topics: &[TopicConfig], settings: RouteSettings) -> Self {
        let teams = teams
            .iter()
            .map(|team| {
                let mut owned = team.topics.clone();
                for topic in topics {
                    let named_here = topic.team.as_deref() == Some(team.name.as_str());
                    if named_here && !owned.contains(&topic.name) {
                        owned.push(topic.name.clone());
                    }
                }
                PreparedTeam {
                    name: team.name.clone(),
                    keywords: team
                        .keywords
                        .iter()
                        .map(|word| analysis_form(word))
                        .collect(),
                    topics: owned,
                    config: team.clone(),
                }
            })
            .collect();
        Router { teams, settings }
    }

    /// The owner of a cluster made of `documents`.
    pub fn route(&self, documents: &[RouteDocument<'_>]) -> Route {
        let analysed: Vec<String> = documents
            .iter()
            .map(|document| analysis_form(document.text))
            .collect();
        for &level in LEVELS {
            if let Some(route) = self.best_at(level, documents, &analysed) {
                return route;
            }
        }
        Route {
            team: self.settings.triage_team.clone(),
            rule: "triage".into(),
            share: 0.0,
            reason: format!(
                "no team's rules match {:.0}% or more of the documents",
                self.settings.min_share * 100.0
            ),
        }
    }

    fn best_at(
        &self,
        level: &str,
        documents: &[RouteDocument<'_>],
        analysed: &[String],
    ) -> Option<Route> {
        let total = documents.len().max(1) as f64;
        let (team, matched) = self
            .teams
            .iter()
            .map(|team| {
                let matched = (0..documents.len())
                    .filter(|&index| team.matches(level, &documents[index], &analysed[index]))
                    .count();
                (team, matched)
            })
            .max_by(|a, b| a.1.cmp(&b.1).then_with(|| b.0.name.cmp(&a.0.name)))?;
        let share = matched as f64 / total;
        (matched > 0 && share >= self.settings.min_share).then(|| Route {
            team: team.name.clone(),
            rule: level.to_string(),
            share,
            reason: format!(
                "{:.0}% of the documents match the team's {level} rules ({})",
                share * 100.0,
                team.rule_values(level).join(", ")
            ),
        })
    }
}

/// True when `keyword` occurs in `text`; a keyword that starts with a Latin letter or digit must
/// start a word (so `app` matches "app crashed" and "application" but not "happy"), Chinese
/// keywords match anywhere.
fn contains_keyword(text: &str, keyword: &str) -> bool {
    let Some(first) = keyword.chars().next() else {
        return false;
    };
    if !first.is_ascii_alphanumeric() {
        return text.contains(keyword);
    }
    text.match_indices(keyword).any(|(start, _)| {
        text[..start]
            .chars()
            .next_back()
            .is_none_or(|before| !before.is_alphanumeric())
    })
}

impl PreparedTeam {
    fn matches(&self, level: &str, document: &RouteDocument<'_>, analysed: &str) -> bool {
        let any = |values: &[String], value: Option<&str>| {
            value.is_some_and(|value| {
                values
                    .iter()
                    .any(|wanted| wanted.eq_ignore_ascii_case(value))
            })
        };
        match level {
            "keyword" => self
                .keywords
                .iter()
                .any(|keyword| contains_keyword(analysed, keyword)),
            "topic" => any(&self.topics, document.topic),
            "source" => any(&self.config.sources, document.source),
            "channel" => any(&self.config.channels, document.channel),
            "location" => any(&self.config.locations, document.location),
            "product" => any(&self.config.products, document.product),
            _ => false,
        }
    }

    fn rule_values(&self, level: &str) -> Vec<String> {
        match level {
            "keyword" => self.config.keywords.clone(),
            "topic" => self.topics.clone(),
            "source" => self.config.sources.clone(),
            "channel" => self.config.channels.clone(),
            "location" => self.config.locations.clone(),
            "product" => self.config.products.clone(),
            _ => Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn team(name: &str, topics: &[&str], keywords: &[&str]) -> TeamConfig {
        TeamConfig {
            name: name.into(),
            topics: topics.iter().map(|topic| topic.to_string()).collect(),
            keywords: keywords.iter().map(|word| word.to_string()).collect(),
            ..TeamConfig::default()
        }
    }

    fn document<'a>(text: &'a str, topic: &'a str) -> RouteDocument<'a> {
        RouteDocument {
            text,
            topic: Some(topic),
            ..RouteDocument::default()
        }
    }

    #[test]
    fn keywords_take_precedence_over_topics_in_either_script() {
        let router = Router::new(
            &[
                team("service", &[], &["刹车"]),
                team("billing", &["price"], &[]),
            ],
            &[],
            RouteSettings::default(),
        );
        let documents = [
            document("剎車有異響", "price"),
            document("刹车不灵", "price"),
            document("too expensive", "price"),
        ];
        let route = router.route(&documents);
        assert_eq!(
            (route.team.as_str(), route.rule.as_str()),
            ("service", "keyword")
        );
        assert!((route.share - 2.0 / 3.0).abs() < 1e-9);
        assert!(route.reason.contains("67%"), "{}", route.reason);
    }

    #[test]
    fn latin_keywords_start_a_word() {
        assert!(contains_keyword("the app crashed", "app"));
        assert!(contains_keyword("application form", "app"));
        assert!(!contains_keyword("not happy", "app"));
        assert!(contains_keyword("刹车异响", "异响"));
    }

    #[test]
    fn car_dealer_example_routes_to_its_teams() {
        let text = include_str!("../corpora/examples/car-dealer.toml");
        let config = crate::config::Config::parse(text).unwrap();
        let router = Router::new(&config.teams, &config.topics, RouteSettings::default());
        let cases = [
            ("brakes squeal after the repair", "after-sales-service"),
            ("销售顾问不让试驾", "sales"),
            ("the loan paperwork took weeks", "finance-and-insurance"),
            ("配件缺货，等了一个月", "parts-and-logistics"),
            ("the mobile app will not book a slot", "digital-channels"),
        ];
        for (text, expected) in cases {
            let route = router.route(&[document(text, "other")]);
            assert_eq!(route.team, expected, "{text}: {}", route.reason);
        }
    }

    #[test]
    fn topic_owner_from_the_topic_side_and_triage_when_nothing_matches() {
        let topics = [TopicConfig {
            name: "refunds".into(),
            team: Some("billing".into()),
            ..TopicConfig::default()
        }];
        let router = Router::new(
            &[team("billing", &[], &[])],
            &topics,
            RouteSettings::default(),
        );
        let refund = router.route(&[document("where is my money", "refunds")]);
        assert_eq!(
            (refund.team.as_str(), refund.rule.as_str()),
            ("billing", "topic")
        );
        let other = router.route(&[document("hello", "other")]);
        assert_eq!(
            (other.team.as_str(), other.rule.as_str()),
            (TRIAGE_TEAM, "triage")
        );
    }
}
