//! The unit stage: a document's display text in, its complaint units out. A unit is a clause or
//! sentence, given as byte offsets into the text, so reports can quote it and the search page can
//! highlight it in its document. Problems are found among units, not whole documents: a review
//! that praises the room and complains about the noise gives a positive unit that never enters a
//! problem and a negative one that does, and a review that complains about two things counts in
//! two problems.
//!
//! Boundaries: sentence punctuation in both scripts (`. ! ? ;`, `。！？；…`), line breaks, a
//! Chinese comma before a turn (`，但是`, `，不过`, ...), an English turn (`but`, `however`,
//! `although`), and the commas of a long Chinese sentence (a review written as one comma-joined
//! sentence). Pieces too short to say anything (fewer than three English words or four Chinese
//! characters) are joined to their neighbour. A piece longer than [`UnitSettings::max_chars`]
//! (Chinese written without punctuation, a run-on narrative) is cut at spaces or characters and
//! counted. A document with more units than [`UnitSettings::max_units`] has neighbours joined
//! until it fits, so its whole text is still covered. A document without a single word (emoji
//! only, one character) gives no unit and is counted.
//!
//! [`encoding_text`] is what the encoder sees of a unit: @mentions, URLs and the `#` of hashtags
//! removed, because the handle of the company a tweet is addressed to says which company it is,
//! not what the problem is, and it dominated the embeddings (one cluster per airline).

use serde::Serialize;

/// Limits of the unit stage.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UnitSettings {
    /// A unit longer than this many characters is cut (at spaces for English, anywhere for
    /// Chinese).
    pub max_chars: usize,
    /// A Chinese sentence longer than this many characters is also split at its commas.
    pub long_sentence_chars: usize,
    /// Pieces of a long Chinese sentence are at least this many characters.
    pub min_comma_piece_chars: usize,
    /// At most this many units per document (neighbours are joined beyond it).
    pub max_units: usize,
}

impl Default for UnitSettings {
    fn default() -> Self {
        UnitSettings {
            max_chars: 400,
            long_sentence_chars: 60,
            min_comma_piece_chars: 15,
            max_units: 24,
        }
    }
}

/// One unit: `text[start..end]` of its document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct Unit {
    /// Byte offset of its first character.
    pub start: usize,
    /// Byte offset just past its last character.
    pub end: usize,
}

impl Unit {
    /// Its text within `document`.
    pub fn text<'a>(&self, document: &'a str) -> &'a str {
        &document[self.start..self.end]
    }
}

/// The units of one document and what was done to fit them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Units {
    /// In text order.
    pub units: Vec<Unit>,
    /// Units made by cutting a piece longer than [`UnitSettings::max_chars`].
    pub cut: usize,
    /// Neighbouring units joined to stay within [`UnitSettings::max_units`].
    pub joined: usize,
}

/// Splits a document's display text into units.
pub fn split_units(text: &str, settings: &UnitSettings) -> Units {
    let mut pieces = Vec::new();
    for sentence in sentences(text) {
        split_long_sentence(text, sentence, settings, &mut pieces);
    }
    let pieces = join_short(text, pieces);
    let mut cut = 0;
    let mut units = Vec::new();
    for piece in pieces {
        let parts = cut_long(text, piece, settings.max_chars);
        cut += parts.len().saturating_sub(1);
        units.extend(parts);
    }
    if units.is_empty() && has_word(text) {
        units.extend(trimmed(text, 0, text.len()));
    }
    let joined = join_to_fit(&mut units, settings.max_units);
    Units { units, cut, joined }
}

/// The text the encoder sees for a unit: @mentions and URLs removed, `#` dropped from hashtags,
/// whitespace collapsed.
pub fn encoding_text(unit: &str) -> String {
    let mut out = String::with_capacity(unit.len());
    for word in unit.split_whitespace() {
        if is_mention(word) || is_url(word) {
            continue;
        }
        let word = strip_mentions_inside(word);
        let word = word.trim_start_matches('#');
        if word.is_empty() {
            continue;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

/// Byte ranges of sentences: split after sentence punctuation (a `.` only before whitespace),
/// at line breaks, and before turns.
fn sentences(text: &str) -> Vec<(usize, usize)> {
    let mut ranges = Vec::new();
    let mut start = 0;
    let mut characters = text.char_indices().peekable();
    while let Some((index, character)) = characters.next() {
        let after = index + character.len_utf8();
        let next = characters.peek().map(|&(_, next)| next);
        let rest = &text[after..];
        let boundary = match character {
            '。' | '！' | '？' | '；' | '!' | '?' | ';' | '\n' | '\r' | '…' => {
                !matches!(next, Some('!' | '?' | '！' | '？' | '。' | '…' | '.'))
            }
            '.' => next.is_none_or(char::is_whitespace),
            '，' | ',' => starts_with_chinese_turn(rest),
            character if character.is_whitespace() => starts_with_english_turn(rest),
            _ => false,
        };
        if boundary {
            ranges.push((start, after));
            start = after;
        }
    }
    ranges.push((start, text.len()));
    ranges
}

fn starts_with_chinese_turn(rest: &str) -> bool {
    const TURNS: &[&str] = &["但是", "但", "可是", "不过", "然而", "只是", "可惜", "就是"];
    TURNS.iter().any(|turn| rest.starts_with(turn))
}

fn starts_with_english_turn(rest: &str) -> bool {
    const TURNS: &[&str] = &["but ", "however", "although ", "though ", "yet "];
    let head: String = rest.chars().take(9).collect::<String>().to_lowercase();
    TURNS.iter().any(|turn| head.starts_with(turn))
}

/// A Chinese sentence over [`UnitSettings::long_sentence_chars`] is split at its commas into
/// pieces of at least [`UnitSettings::min_comma_piece_chars`].
fn split_long_sentence(
    text: &str,
    (start, end): (usize, usize),
    settings: &UnitSettings,
    pieces: &mut Vec<(usize, usize)>,
) {
    let sentence = &text[start..end];
    if sentence.chars().count() <= settings.long_sentence_chars || han_count(sentence) == 0 {
        pieces.push((start, end));
        return;
    }
    let mut piece_start = start;
    let mut length = 0;
    for (offset, character) in sentence.char_indices() {
        length += 1;
        let after = start + offset + character.len_utf8();
        if matches!(character, '，' | ',' | '、') && length >= settings.min_comma_piece_chars {
            pieces.push((piece_start, after));
            piece_start = after;
            length = 0;
        }
    }
    if piece_start < end {
        pieces.push((piece_start, end));
    }
}

/// Trims each piece and joins one that says too little to its neighbour (the previous one, or
/// the next one for a leading piece).
fn join_short(text: &str, pieces: Vec<(usize, usize)>) -> Vec<(usize, usize)> {
    let mut joined: Vec<(usize, usize)> = Vec::new();
    let mut pending: Option<usize> = None;
    for (start, end) in pieces {
        let Some(unit) = trimmed(text, start, end) else {
            continue;
        };
        let start = pending.take().unwrap_or(unit.start);
        let piece = (start, unit.end);
        if is_usable(&text[piece.0..piece.1]) {
            joined.push(piece);
        } else if let Some(last) = joined.last_mut() {
            last.1 = piece.1;
        } else {
            pending = Some(piece.0);
        }
    }
    if let Some(start) = pending {
        // Nothing usable followed; the leftover is kept only if it has a word (see caller).
        if let Some(last) = joined.last_mut() {
            last.1 = last.1.max(start);
        }
    }
    joined
}

/// The piece without surrounding whitespace and separators, or `None` when nothing is left.
fn trimmed(text: &str, start: usize, end: usize) -> Option<Unit> {
    let piece = &text[start..end];
    let separators = |c: char| c.is_whitespace() || matches!(c, ',' | '，' | '、' | '-' | '—');
    let left = piece.len() - piece.trim_start_matches(separators).len();
    let right = piece.trim_end_matches(separators).len();
    (right > left).then_some(Unit {
        start: start + left,
        end: start + right,
    })
}

/// Cuts a piece longer than `max_chars` characters: at the last space before the limit for
/// text with spaces, else at the limit.
fn cut_long(text: &str, (start, end): (usize, usize), max_chars: usize) -> Vec<Unit> {
    let mut units = Vec::new();
    let mut from = start;
    while text[from..end].chars().count() > max_chars {
        let limit = from
            + text[from..end]
                .char_indices()
                .nth(max_chars)
                .map_or(end - from, |(offset, _)| offset);
        let cut = text[from..limit]
            .rfind(char::is_whitespace)
            .map(|offset| from + offset)
            .filter(|&cut| cut > from + (limit - from) / 2)
            .unwrap_or(limit);
        units.extend(trimmed(text, from, cut));
        from = cut;
    }
    units.extend(trimmed(text, from, end));
    units
}

/// Joins the shortest neighbouring pair until at most `max_units` remain; returns how many joins.
fn join_to_fit(units: &mut Vec<Unit>, max_units: usize) -> usize {
    let mut joins = 0;
    while units.len() > max_units.max(1) {
        let shortest = (0..units.len() - 1)
            .min_by_key(|&index| units[index + 1].end - units[index].start)
            .expect("at least two units");
        units[shortest].end = units[shortest + 1].end;
        units.remove(shortest + 1);
        joins += 1;
    }
    joins
}

/// Enough to be a complaint on its own: three English words (not @mentions or URLs) or four
/// Chinese characters.
fn is_usable(piece: &str) -> bool {
    han_count(piece) >= 4 || word_count(piece) >= 3
}

fn has_word(text: &str) -> bool {
    han_count(text) >= 2 || word_count(text) >= 1
}

fn word_count(text: &str) -> usize {
    text.split_whitespace()
        .filter(|word| !is_mention(word) && !is_url(word))
        .filter(|word| word.chars().filter(|c| c.is_alphabetic()).count() >= 2)
        .count()
}

fn han_count(text: &str) -> usize {
    text.chars().filter(|&c| is_han(c)).count()
}

fn is_han(character: char) -> bool {
    matches!(character, '\u{4e00}'..='\u{9fff}' | '\u{3400}'..='\u{4dbf}' | '\u{f900}'..='\u{faff}')
}

fn is_mention(word: &str) -> bool {
    let word = word.trim_start_matches(|c: char| !c.is_alphanumeric() && c != '@');
    word.starts_with('@') && word.len() > 1
}

fn is_url(word: &str) -> bool {
    let lower = word.to_ascii_lowercase();
    lower.starts_with("http://") || lower.starts_with("https://") || lower.starts_with("www.")
}

/// `thanks@united` and `(@united)` lose their handles too.
fn strip_mentions_inside(word: &str) -> String {
    let mut out = String::with_capacity(word.len());
    let mut characters = word.chars().peekable();
    while let Some(character) = characters.next() {
        if character == '@'
            && characters
                .peek()
                .is_some_and(|c| c.is_alphanumeric() || *c == '_')
        {
            while characters
                .peek()
                .is_some_and(|c| c.is_alphanumeric() || *c == '_')
            {
                characters.next();
            }
            continue;
        }
        out.push(character);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(text: &str) -> Vec<&str> {
        split_units(text, &UnitSettings::default())
            .units
            .iter()
            .map(|unit| unit.text(text))
            .collect()
    }

    #[test]
    fn english_sentences_and_turns_become_units() {
        assert_eq!(
            texts("The room was lovely and clean. But the walls are paper thin! Never again"),
            vec![
                "The room was lovely and clean.",
                "But the walls are paper thin! Never again"
            ]
        );
        assert_eq!(
            texts("@united the crew was great but my bag never arrived in Denver"),
            vec![
                "@united the crew was great",
                "but my bag never arrived in Denver"
            ]
        );
    }

    #[test]
    fn chinese_turns_and_sentence_marks_split_but_short_clauses_stay() {
        assert_eq!(
            texts("外观不错，速度还行，但是散热太差了。屏幕有亮点！"),
            vec!["外观不错，速度还行", "但是散热太差了。", "屏幕有亮点！"]
        );
        // A short clause is joined to its neighbour rather than standing alone.
        assert_eq!(
            texts("差。房间太小了，服务也一般"),
            vec!["差。房间太小了，服务也一般"]
        );
    }

    #[test]
    fn a_long_comma_joined_chinese_sentence_is_split_at_its_commas() {
        let text =
            "我住的是一间豪华大床间，但第二天早上很早对面就开始装修，乱哄哄的吵得我休息不好，\
                    既然知道第二天有装修为什么前一天给我安排靠的这么近的房间，莫名其妙";
        let units = texts(text);
        assert!(units.len() >= 3, "{units:?}");
        assert_eq!(units.concat().replace('，', ""), text.replace('，', ""));
    }

    #[test]
    fn offsets_point_into_the_original_text() {
        let text = "  Lost my bag.  Nobody answers the phone?? ";
        for unit in split_units(text, &UnitSettings::default()).units {
            let piece = unit.text(text);
            assert_eq!(piece, piece.trim());
            assert!(!piece.is_empty());
        }
        assert_eq!(
            texts(text),
            vec!["Lost my bag.", "Nobody answers the phone??"]
        );
    }

    #[test]
    fn documents_without_words_give_no_unit_and_short_ones_give_one() {
        assert!(texts("👍👍👍").is_empty());
        assert!(texts("好").is_empty());
        assert!(texts("").is_empty());
        assert_eq!(texts("Terrible!"), vec!["Terrible!"]);
        assert_eq!(texts("太差"), vec!["太差"]);
    }

    #[test]
    fn long_pieces_are_cut_and_counted() {
        let unpunctuated = "房间很小".repeat(150);
        let settings = UnitSettings::default();
        let units = split_units(&unpunctuated, &settings);
        assert!(units.cut >= 1);
        assert!(units
            .units
            .iter()
            .all(|unit| unit.text(&unpunctuated).chars().count() <= settings.max_chars));
        let covered: usize = units.units.iter().map(|unit| unit.end - unit.start).sum();
        assert_eq!(covered, unpunctuated.len());
    }

    #[test]
    fn too_many_units_are_joined_not_dropped() {
        let text = "The agent was rude to me. ".repeat(40);
        let settings = UnitSettings::default();
        let units = split_units(&text, &settings);
        assert_eq!(units.units.len(), settings.max_units);
        assert_eq!(units.joined, 40 - settings.max_units);
        assert_eq!(units.units.first().unwrap().start, 0);
        assert_eq!(units.units.last().unwrap().end, text.trim_end().len());
    }

    #[test]
    fn the_encoder_never_sees_handles_or_links() {
        assert_eq!(
            encoding_text("@united (@AmericanAir) lost my bag #fail http://t.co/x thanks@jetblue"),
            "lost my bag fail thanks"
        );
        assert_eq!(encoding_text("房间太小 @携程"), "房间太小");
    }

    #[test]
    fn a_mention_is_not_a_word() {
        assert!(!is_usable("@united @jetblue thanks"));
        assert!(is_usable("@united lost my bag"));
    }
}
