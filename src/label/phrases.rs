//! Names problems in words: complaint units (clauses or sentences of documents, each with its
//! problem and sentence embedding) in; for every problem a title made of one key phrase ("lost
//! luggage", "隔音差"), a diverse list of key phrases and the index of a short, central unit to
//! quote as its statement out. A keyword triple ("usairways / flight / hours") tells an analyst
//! what to search for; a phrase tells a manager what went wrong.
//!
//! Candidates are runs of analyzer terms (the `candidates` module). They are ranked KeyBERT-like without
//! running the encoder again: class-based TF-IDF of the phrase for the problem, times a contrast
//! against background texts (non-complaints of the same archive, so that brand and product names,
//! as frequent there as in complaints, sink), times the cosine between the problem's centroid and
//! the phrase's proxy embedding (the mean embedding of the units that contain it). A longer
//! phrase that covers at least half the units of a shorter one replaces it ("lost luggage" over
//! "luggage"), and maximal marginal relevance over the proxy embeddings keeps the list diverse.

mod candidates;
mod evidence;
mod scoring;

use std::collections::BTreeMap;

use rustc_hash::FxHashSet as HashSet;
use serde::Serialize;

use crate::document::Language;
use crate::normalise::is_han;
use candidates::Vocabulary;
use evidence::{Evidence, Membership};
use scoring::{absorb, sample, Corpus, Group, Scored};

/// One complaint unit as naming sees it.
#[derive(Debug, Clone, Copy)]
pub struct PhraseUnit<'a> {
    /// Display text (PII-masked); may hold @mentions, #hashtags and URLs, which are never named.
    pub text: &'a str,
    /// Its language, for the language of the title.
    pub language: Language,
    /// Its sentence embedding (unit length).
    pub embedding: &'a [f32],
    /// Its problem, if any.
    pub problem: Option<u32>,
}

/// How problems are named.
#[derive(Debug, Clone, PartialEq)]
pub struct PhraseSettings {
    /// Most words of an English phrase, stopwords inside included ("hold for hours" is 3); at
    /// most 6. Chinese phrases are one to three jieba words.
    pub max_words: usize,
    /// Key phrases per problem (the title's phrases included).
    pub keywords: usize,
    /// Weight of relevance against difference from the phrases chosen before (maximal marginal
    /// relevance), between 0 and 1.
    pub relevance_weight: f32,
    /// Longest statement, in characters.
    pub statement_max_chars: usize,
    /// Fewest units of a problem a phrase must occur in.
    pub min_units: usize,
    /// A longer phrase replaces a shorter one inside it when it occurs in at least this share of
    /// the shorter one's units.
    pub absorb_share: f32,
    /// Share of a problem's units in the second language from which the title shows a phrase in
    /// each language.
    pub second_language_share: f32,
    /// Phrases per problem and script scored against the embeddings (the best by TF-IDF and
    /// contrast): bounds the cost of proxy embeddings.
    pub shortlist: usize,
    /// Most background texts read: above it, a sample chosen by a hash of each text (so it does
    /// not depend on their order). Rates of the phrases that matter are stable long before.
    pub background_max_texts: usize,
}

impl Default for PhraseSettings {
    fn default() -> Self {
        PhraseSettings {
            max_words: 4,
            keywords: 8,
            relevance_weight: 0.7,
            statement_max_chars: 140,
            min_units: 2,
            absorb_share: 0.5,
            second_language_share: 1.0 / 3.0,
            shortlist: 40,
            background_max_texts: 20_000,
        }
    }
}

/// The name of one problem.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProblemName {
    /// One key phrase ("lost luggage"), or one per language when a third of the units are in
    /// the second language ("lost luggage / 行李丢失", English first). When no phrase qualifies
    /// (no phrase occurs in `min_units` units), the most central unit, cut to the statement's
    /// length.
    pub title: String,
    /// Key phrases, the title's first, then most distinctive first and unlike each other.
    pub keywords: Vec<String>,
    /// Index (into the units) of the unit closest to the centroid among the problem's short ones.
    pub statement: Option<usize>,
}

/// Names every problem that has units in `units`. `background` holds texts of non-complaints of
/// the same archive (may be empty). Deterministic: the same units in any order give the same names.
pub fn name_problems(
    units: &[PhraseUnit<'_>],
    background: &[&str],
    settings: &PhraseSettings,
) -> BTreeMap<u32, ProblemName> {
    let problems: Vec<Option<u32>> = units.iter().map(|unit| unit.problem).collect();
    name_groups(units, &problems, None, background, settings)
}

/// Names the groups of `groups` (one entry per unit). With `sources` (the unit's problem inside
/// its group), a phrase's score is scaled by the share of the group's problems it occurs in, so
/// a theme is named by what its problems share.
pub(crate) fn name_groups(
    units: &[PhraseUnit<'_>],
    groups: &[Option<u32>],
    sources: Option<&[Option<u32>]>,
    background: &[&str],
    settings: &PhraseSettings,
) -> BTreeMap<u32, ProblemName> {
    let texts: Vec<&str> = units.iter().map(|unit| unit.text).collect();
    let vocabulary = Vocabulary::build(&texts, settings.max_words);
    let background = sample(background, settings.background_max_texts);
    let corpus = Corpus::new(&vocabulary, groups, &background);
    let shortlists: BTreeMap<u32, Vec<Scored>> = corpus
        .groups
        .iter()
        .map(|(&id, group)| (id, corpus.shortlist(group, settings)))
        .collect();
    // Sentence encoders put every text in a narrow cone (multilingual-e5: cosines of 0.9 and
    // more); relevance is measured without the direction all units share, when there are other
    // groups to tell a group from.
    let shared = (corpus.groups.len() >= 2).then(|| mean_embedding(units, 0..units.len()));
    let membership = Membership { groups, sources };
    let evidence = Evidence::collect(
        &vocabulary,
        units,
        &membership,
        &shortlists,
        shared.as_deref(),
    );
    let naming = Naming {
        corpus: &corpus,
        evidence: &evidence,
        shared: shared.as_deref(),
        units,
        settings,
    };
    shortlists
        .into_iter()
        .map(|(id, shortlist)| (id, naming.name(id, shortlist)))
        .collect()
}

/// Longest title cut from a unit, in characters.
const TITLE_MAX_CHARS: usize = 60;

/// `text` cut to at most `max_chars` characters, at the last space before the limit when it has
/// one (Chinese text has none and is cut at the limit), with "…" when anything was cut.
fn short_title(text: &str, max_chars: usize) -> String {
    if text.chars().count() <= max_chars {
        return text.to_string();
    }
    let cut: String = text.chars().take(max_chars).collect();
    let cut = match cut.rfind(' ') {
        Some(space) if space > 0 => &cut[..space],
        _ => cut.as_str(),
    };
    format!(
        "{}…",
        cut.trim_end_matches([' ', ',', '.', ';', ':', '，', '。'])
    )
}

/// A phrase of a group, scored, as the title and keyword choice sees it.
struct Ranked {
    slot: usize,
    score: f64,
    chinese: bool,
}

/// What naming one group needs.
struct Naming<'n, 'u> {
    corpus: &'n Corpus<'n>,
    evidence: &'n Evidence,
    shared: Option<&'n [f64]>,
    units: &'n [PhraseUnit<'u>],
    settings: &'n PhraseSettings,
}

impl Naming<'_, '_> {
    fn name(&self, id: u32, shortlist: Vec<Scored>) -> ProblemName {
        let group = &self.corpus.groups[&id];
        let mean = mean_embedding(self.units, group.members.iter().copied());
        let ranked = self.rank(id, group, shortlist, &direction(&mean, self.shared));
        let centroid = direction(&mean, None);
        let title_phrases = self.title_phrases(group, &ranked);
        let keywords = self.diverse_keywords(&ranked, &title_phrases);
        let statement = central_member(
            self.units,
            &group.members,
            &centroid,
            self.settings.statement_max_chars,
        );
        let title = if title_phrases.is_empty() {
            // No phrase recurs: the most distinctive multi-word phrase, else the most central
            // unit cut to a title's length at a word boundary.
            match keywords.iter().find(|keyword| keyword.contains(' ')) {
                Some(phrase) => phrase.clone(),
                None => {
                    let central = central_member(self.units, &group.members, &centroid, usize::MAX);
                    let text = central.map_or("", |central| self.units[central].text.trim());
                    short_title(text, TITLE_MAX_CHARS)
                }
            }
        } else {
            keywords[..title_phrases.len()].join(" / ")
        };
        ProblemName {
            title,
            keywords,
            statement,
        }
    }

    /// The shortlist scored against the centroid, shorter phrases replaced by longer ones that
    /// cover them, best first (ties by shown form), one phrase per shown form.
    fn rank(
        &self,
        id: u32,
        group: &Group,
        shortlist: Vec<Scored>,
        centroid: &[f32],
    ) -> Vec<Ranked> {
        let evidence = self.evidence;
        let mut entries = shortlist;
        for entry in &mut entries {
            let slot = evidence.slots[&entry.candidate];
            entry.breadth = evidence.breadth(id, slot);
            let closeness = similarity(centroid, &evidence.proxies[slot]).max(0.0);
            entry.score *= closeness * entry.breadth;
        }
        absorb(self.corpus, group, &mut entries, self.settings.absorb_share);
        let mut ranked: Vec<Ranked> = entries
            .iter()
            .filter(|entry| entry.score > 0.0)
            .map(|entry| Ranked {
                slot: evidence.slots[&entry.candidate],
                score: entry.score,
                chinese: self.corpus.vocabulary.chinese[entry.candidate as usize],
            })
            .collect();
        let form = |ranked: &Ranked| evidence.forms[ranked.slot].as_str();
        ranked.sort_by(|a, b| {
            b.score
                .total_cmp(&a.score)
                .then_with(|| form(a).cmp(form(b)))
        });
        let mut shown = HashSet::default();
        ranked.retain(|ranked| shown.insert(form(ranked).to_string()));
        ranked
    }

    /// Indices into `ranked` of the title's phrases: the best phrase in the language of most
    /// units, and the best in the other language when enough units are in it; English first.
    fn title_phrases(&self, group: &Group, ranked: &[Ranked]) -> Vec<usize> {
        let chinese = group
            .members
            .iter()
            .filter(|&&member| is_chinese(&self.units[member]))
            .count();
        let english = group.members.len() - chinese;
        let chinese_first = chinese > english;
        let best = |script: bool| ranked.iter().position(|ranked| ranked.chinese == script);
        let mut chosen: Vec<usize> = best(chinese_first)
            .or((!ranked.is_empty()).then_some(0))
            .into_iter()
            .collect();
        let second = english.min(chinese) as f64;
        let share = f64::from(self.settings.second_language_share);
        // The tolerance lets 2 units of 6 reach a share of 1/3 given as a float.
        if second > 0.0 && second + 1e-6 >= share * group.members.len() as f64 {
            chosen.extend(best(!chinese_first).filter(|other| !chosen.contains(other)));
        }
        chosen.sort_by_key(|&index| ranked[index].chinese);
        chosen
    }

    /// The title's phrases, then maximal marginal relevance over the proxy embeddings (each
    /// phrase's similarity to the closest chosen one kept up to date as phrases are chosen).
    fn diverse_keywords(&self, ranked: &[Ranked], title: &[usize]) -> Vec<String> {
        let proxy = |index: usize| self.evidence.proxies[ranked[index].slot].as_slice();
        let weight = f64::from(self.settings.relevance_weight);
        let top = ranked.first().map_or(1.0, |ranked| ranked.score);
        let mut redundancy = vec![0.0f64; ranked.len()];
        let mut chosen: Vec<usize> = Vec::new();
        let choose = |index: usize, chosen: &mut Vec<usize>, redundancy: &mut [f64]| {
            chosen.push(index);
            for (other, closest) in redundancy.iter_mut().enumerate() {
                *closest = closest.max(similarity(proxy(index), proxy(other)));
            }
        };
        for &index in title {
            choose(index, &mut chosen, &mut redundancy);
        }
        while chosen.len() < self.settings.keywords {
            let best = (0..ranked.len())
                .filter(|index| !chosen.contains(index))
                .map(|index| {
                    let relevance = ranked[index].score / top;
                    let value = weight * relevance - (1.0 - weight) * redundancy[index];
                    (index, value)
                })
                .max_by(|a, b| a.1.total_cmp(&b.1).then_with(|| b.0.cmp(&a.0)));
            match best {
                Some((index, _)) => choose(index, &mut chosen, &mut redundancy),
                None => break,
            }
        }
        chosen
            .iter()
            .map(|&index| self.evidence.forms[ranked[index].slot].clone())
            .collect()
    }
}

/// Among the members of at most `max_chars` characters, the one closest to the centroid (ties by
/// text, then position).
fn central_member(
    units: &[PhraseUnit<'_>],
    members: &[usize],
    centroid: &[f32],
    max_chars: usize,
) -> Option<usize> {
    members
        .iter()
        .copied()
        .filter(|&member| {
            let length = units[member].text.trim().chars().count();
            length > 0 && length <= max_chars
        })
        .map(|member| (member, similarity(units[member].embedding, centroid)))
        .max_by(|a, b| {
            a.1.total_cmp(&b.1)
                .then_with(|| units[b.0].text.cmp(units[a.0].text))
                .then_with(|| b.0.cmp(&a.0))
        })
        .map(|(member, _)| member)
}

/// Chinese by its detected language; text of no detected language by its script.
fn is_chinese(unit: &PhraseUnit<'_>) -> bool {
    match unit.language {
        Language::ChineseSimplified | Language::ChineseTraditional => true,
        Language::English => false,
        Language::Other => unit.text.chars().any(is_han),
    }
}

/// The mean of the embeddings of `indices`.
fn mean_embedding(units: &[PhraseUnit<'_>], indices: impl Iterator<Item = usize>) -> Vec<f64> {
    let dimension = units.first().map_or(0, |unit| unit.embedding.len());
    let mut sum = vec![0.0f64; dimension];
    let mut count = 0usize;
    for index in indices {
        add(&mut sum, units[index].embedding);
        count += 1;
    }
    sum.iter_mut()
        .for_each(|value| *value /= count.max(1) as f64);
    sum
}

fn add(sum: &mut [f64], values: &[f32]) {
    for (total, &value) in sum.iter_mut().zip(values) {
        *total += f64::from(value);
    }
}

/// `mean` minus `shared` (when given), normalised.
fn direction(mean: &[f64], shared: Option<&[f64]>) -> Vec<f32> {
    let shared = shared.unwrap_or(&[]);
    let offset = |index: usize| shared.get(index).copied().unwrap_or(0.0);
    let centred: Vec<f64> = (0..mean.len())
        .map(|index| mean[index] - offset(index))
        .collect();
    let norm = centred
        .iter()
        .map(|value| value * value)
        .sum::<f64>()
        .sqrt();
    let scale = if norm > 0.0 { 1.0 / norm } else { 0.0 };
    centred.iter().map(|value| (value * scale) as f32).collect()
}

/// Cosine of unit-length vectors; 1 without embeddings, so that naming works without them.
fn similarity(a: &[f32], b: &[f32]) -> f64 {
    if a.is_empty() && b.is_empty() {
        return 1.0;
    }
    a.iter()
        .zip(b)
        .map(|(&x, &y)| f64::from(x) * f64::from(y))
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    const LUGGAGE: [f32; 3] = [1.0, 0.0, 0.0];
    const DELAY: [f32; 3] = [0.0, 1.0, 0.0];
    const LUGGAGE_NEAR: [f32; 3] = [0.8, 0.6, 0.0];

    fn english<'a>(text: &'a str, embedding: &'a [f32], problem: u32) -> PhraseUnit<'a> {
        PhraseUnit {
            text,
            language: Language::English,
            embedding,
            problem: Some(problem),
        }
    }

    fn chinese<'a>(text: &'a str, embedding: &'a [f32], problem: u32) -> PhraseUnit<'a> {
        PhraseUnit {
            language: Language::ChineseSimplified,
            ..english(text, embedding, problem)
        }
    }

    /// Airline complaints: lost luggage (problem 0) and delays (problem 1).
    fn airline() -> Vec<PhraseUnit<'static>> {
        vec![
            english("they lost my luggage again", &LUGGAGE, 0),
            english("lost luggage for three days", &LUGGAGE, 0),
            english("Lost luggage, nobody answers the phone", &LUGGAGE_NEAR, 0),
            english("still waiting for my luggage", &LUGGAGE, 0),
            english("flight delayed for hours", &DELAY, 1),
            english("delayed again, stuck on the tarmac", &DELAY, 1),
            english("my flight was delayed twice this week", &DELAY, 1),
        ]
    }

    fn titles(names: &BTreeMap<u32, ProblemName>) -> Vec<&str> {
        names.values().map(|name| name.title.as_str()).collect()
    }

    #[test]
    fn a_title_cut_from_a_unit_ends_at_a_word() {
        let text = "as a million mile flier I'm embarrassed to ask how long ago this launched";
        assert_eq!(
            short_title(text, 40),
            "as a million mile flier I'm embarrassed…"
        );
        assert_eq!(short_title("broken seat", 40), "broken seat");
        assert_eq!(
            short_title("房间隔音太差了晚上根本睡不着", 6),
            "房间隔音太差…"
        );
    }

    #[test]
    fn a_title_is_a_multi_word_phrase_when_its_words_occur_together() {
        let names = name_problems(&airline(), &[], &PhraseSettings::default());
        assert_eq!(names[&0].title, "lost luggage", "{names:#?}");
        assert!(!names[&0].keywords.contains(&"luggage".to_string()));
        let delay = &names[&1].title;
        assert!(
            delay.contains("delayed") && delay.contains(' '),
            "{names:#?}"
        );
    }

    #[test]
    fn a_chinese_title_joins_jieba_words_as_written() {
        let noise = [1.0, 0.0];
        let breakfast = [0.0, 1.0];
        let units = [
            chinese("房间隔音差，晚上很吵", &noise, 0),
            chinese("酒店隔音差", &noise, 0),
            chinese("隔音差，睡不好", &noise, 0),
            chinese("隔音太差了", &noise, 0),
            chinese("早餐种类太少", &breakfast, 1),
            chinese("早餐很难吃", &breakfast, 1),
            chinese("早餐种类少，价格贵", &breakfast, 1),
        ];
        let names = name_problems(&units, &[], &PhraseSettings::default());
        assert_eq!(names[&0].title, "隔音差", "{names:#?}");
        assert!(names[&1].title.starts_with("早餐种类"), "{names:#?}");
    }

    /// Every complaint and every compliment of the archive names the airline.
    fn brand_units() -> Vec<PhraseUnit<'static>> {
        vec![
            english("USAirways lost my luggage", &LUGGAGE, 0),
            english("USAirways lost luggage again", &LUGGAGE, 0),
            english("USAirways, where is my luggage", &LUGGAGE_NEAR, 0),
            english("USAirways never found my bag", &LUGGAGE, 0),
            english("USAirways flight delayed", &DELAY, 1),
            english("USAirways delayed again", &DELAY, 1),
        ]
    }

    #[test]
    fn a_brand_as_frequent_in_the_background_as_in_complaints_is_never_the_title() {
        let settings = PhraseSettings::default();
        let units = brand_units();
        let blind = name_problems(&units, &[], &settings);
        // Without a background the brand wins, so the background is what keeps it out.
        assert!(titles(&blind)
            .iter()
            .any(|title| title.contains("usairways")));
        let background = [
            "USAirways crew was lovely",
            "thanks USAirways for the upgrade",
            "USAirways on time today",
        ];
        let names = name_problems(&units, &background, &settings);
        assert!(
            titles(&names)
                .iter()
                .all(|title| !title.contains("usairways")),
            "{names:#?}"
        );
        assert!(names[&0].title.contains("luggage"), "{names:#?}");
    }

    #[test]
    fn a_longer_phrase_does_not_replace_a_shorter_one_by_adding_a_brand() {
        let units = [
            english("USAirways lost my luggage", &LUGGAGE, 0),
            english("USAirways lost luggage again", &LUGGAGE, 0),
            english("USAirways lost my luggage twice", &LUGGAGE, 0),
            english("lost luggage at the gate", &LUGGAGE, 0),
        ];
        // The brand is a little more frequent in these complaints (3 of 13 terms) than in the
        // background (2 of 12): it keeps a small score, but must not win "lost luggage"'s.
        let background = [
            "USAirways crew was lovely",
            "great seats and friendly staff",
            "smooth boarding today",
            "thanks USAirways",
        ];
        let names = name_problems(&units, &background, &PhraseSettings::default());
        assert_eq!(names[&0].title, "lost luggage", "{names:#?}");
    }

    #[test]
    fn mentions_and_hashtags_of_handles_are_never_named() {
        let texts = [
            "@united lost my bag",
            "@united lost bag again #united",
            "@united bag lost at the gate",
            "@united where is my bag",
        ];
        let settings = PhraseSettings::default();
        let named = |texts: &[&'static str]| {
            let units: Vec<PhraseUnit<'static>> = texts
                .iter()
                .map(|text| english(text, &LUGGAGE, 0))
                .collect();
            name_problems(&units, &[], &settings).remove(&0).unwrap()
        };
        // The same texts with plain words name the airline, so the masking is what removes it.
        let plain: Vec<&'static str> = texts.iter().map(|text| &text[1..]).collect();
        assert!(named(&plain)
            .keywords
            .iter()
            .any(|word| word.contains("united")));
        let name = named(&texts);
        assert!(
            name.keywords
                .iter()
                .chain([&name.title])
                .all(|word| !word.contains("united") && !word.contains(['@', '#'])),
            "{name:#?}"
        );
        assert!(name.title.contains("bag"), "{name:#?}");
    }

    #[test]
    fn the_statement_is_the_short_member_closest_to_the_centroid() {
        let long = "lost luggage ".repeat(20);
        let near = [0.6, 0.8, 0.0];
        // The long unit is the most central one, but too long to be a statement.
        let central = [0.92, 0.39, 0.0];
        let units = [
            english(&long, &central, 0),
            english("lost luggage twice", &LUGGAGE, 0),
            english("lost luggage, lost hope", &near, 0),
            english("lost luggage and a broken handle", &LUGGAGE_NEAR, 0),
            english("flight delayed", &LUGGAGE_NEAR, 1),
        ];
        let settings = PhraseSettings::default();
        let statement = name_problems(&units, &[], &settings)[&0].statement.unwrap();
        let centre = direction(&mean_embedding(&units, 0..4), None);
        let close = |index: usize| similarity(units[index].embedding, &centre);
        assert!((1..4).all(|index| close(0) > close(index)));
        let expected = (1..4)
            .max_by(|&a, &b| close(a).total_cmp(&close(b)))
            .unwrap();
        assert_eq!(statement, expected);
        assert!(units[statement].text.chars().count() <= settings.statement_max_chars);
        assert_eq!(units[statement].problem, Some(0));
    }

    fn mixed(chinese_units: usize) -> Vec<PhraseUnit<'static>> {
        let mut units = vec![
            english("they lost my luggage", &LUGGAGE, 0),
            english("lost luggage for three days", &LUGGAGE, 0),
            english("lost luggage again", &LUGGAGE, 0),
            english("still no word on my lost luggage", &LUGGAGE, 0),
        ];
        let texts = ["行李丢失了", "行李丢失三天", "托运的行李丢失"];
        units.extend(
            texts[..chinese_units]
                .iter()
                .map(|text| chinese(text, &LUGGAGE_NEAR, 0)),
        );
        units
    }

    #[test]
    fn a_problem_with_a_third_of_its_units_in_chinese_gets_both_titles() {
        let settings = PhraseSettings::default();
        let both = name_problems(&mixed(2), &[], &settings);
        assert_eq!(both[&0].title, "lost luggage / 行李丢失", "{both:#?}");
        assert_eq!(both[&0].keywords[..2], ["lost luggage", "行李丢失"]);
        let english_only = name_problems(&mixed(1), &[], &settings);
        assert_eq!(english_only[&0].title, "lost luggage", "{english_only:#?}");
        let chinese_first = name_problems(&mixed(3)[2..], &[], &settings);
        assert_eq!(chinese_first[&0].title, "lost luggage / 行李丢失");
    }

    #[test]
    fn naming_is_deterministic_and_ignores_the_order_of_units() {
        let mut units = airline();
        units.extend(mixed(3));
        units.extend(brand_units().into_iter().map(|unit| PhraseUnit {
            problem: Some(2),
            ..unit
        }));
        let settings = PhraseSettings::default();
        let background = ["USAirways on time today", "great crew"];
        let first = name_problems(&units, &background, &settings);
        assert_eq!(first, name_problems(&units, &background, &settings));
        let shown = |names: &BTreeMap<u32, ProblemName>, units: &[PhraseUnit<'_>]| {
            names
                .values()
                .map(|name| {
                    let statement = name.statement.map(|index| units[index].text.to_string());
                    (name.title.clone(), name.keywords.clone(), statement)
                })
                .collect::<Vec<_>>()
        };
        let mut shuffled = units.clone();
        shuffled.reverse();
        shuffled.rotate_left(5);
        let again = name_problems(&shuffled, &background, &settings);
        assert_eq!(shown(&first, &units), shown(&again, &shuffled));
    }
}
