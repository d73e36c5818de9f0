//! Personal data masking, applied to cleaned text before it is indexed, encoded or reported:
//! e-mail addresses, phone numbers, payment card numbers and Chinese resident ID numbers become
//! readable placeholders (`[email]`, `[phone]`, `[card]`, `[id]`).
//!
//! Customer feedback is full of numbers that are not personal: dates, prices, order and tracking
//! numbers. Masking is therefore conservative: each pattern is a concrete national format
//! (mainland mobile and landline, Hong Kong, Taiwan, North America), card numbers need a known
//! issuer prefix and a valid Luhn digit, 18-character IDs a valid check digit, and numbers with
//! no format of their own (a bare 8 or 10 digits) count as phones only after a word such as
//! "call", "tel" or 电话. A number right after "order", "tracking", 订单 or 单号 is left alone,
//! unless it is an ID with a valid check digit. A match must not touch a further letter or digit
//! on either side, so a phone-like part of a longer number is never masked.

use regex::Regex;
use std::sync::LazyLock;

/// What kind of personal data a masked span held.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PiiKind {
    /// An e-mail address.
    Email,
    /// A Chinese resident ID number (18 characters with check digit, or the old 15 digits).
    Id,
    /// A payment card number.
    Card,
    /// A phone number.
    Phone,
}

impl PiiKind {
    /// The text that replaces a masked span.
    pub fn placeholder(self) -> &'static str {
        match self {
            PiiKind::Email => "[email]",
            PiiKind::Id => "[id]",
            PiiKind::Card => "[card]",
            PiiKind::Phone => "[phone]",
        }
    }

    /// Every kind, in the order that wins when two matches overlap.
    pub const ALL: [PiiKind; 4] = [PiiKind::Email, PiiKind::Id, PiiKind::Card, PiiKind::Phone];
}

/// How a candidate match is checked beyond its pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Check {
    /// The pattern is enough.
    Pattern,
    /// 18-character ID: province code and check digit.
    IdWithCheckDigit,
    /// 15-digit ID: province code (the birth date is in the pattern).
    IdWithoutCheckDigit,
    /// Issuer prefix, length and Luhn digit.
    IssuerAndLuhn,
    /// A phone format of its own.
    PhoneFormat,
    /// A bare number: needs a phone word before it.
    PhoneAfterKeyword,
}

struct Detector {
    kind: PiiKind,
    check: Check,
    regex: Regex,
}

fn detector(kind: PiiKind, check: Check, pattern: &str) -> Detector {
    let regex = Regex::new(pattern).unwrap_or_else(|e| panic!("PII pattern {pattern}: {e}"));
    Detector { kind, check, regex }
}

/// The detectors, compiled once. Digits are written `[0-9]` because `\d` is Unicode-aware.
static DETECTORS: LazyLock<Vec<Detector>> = LazyLock::new(|| {
    use Check::*;
    use PiiKind::*;
    vec![
        detector(
            Email,
            Pattern,
            r"[A-Za-z0-9][A-Za-z0-9._%+\-]*@[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?)*\.[A-Za-z]{2,24}",
        ),
        detector(
            Id,
            IdWithCheckDigit,
            r"[1-9][0-9]{5}(?:18|19|20)[0-9]{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])[0-9]{3}[0-9Xx]",
        ),
        detector(
            Id,
            IdWithoutCheckDigit,
            r"[1-9][0-9]{5}[0-9]{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])[0-9]{3}",
        ),
        detector(Card, IssuerAndLuhn, r"[0-9]{13,19}"),
        detector(
            Card,
            IssuerAndLuhn,
            r"[0-9]{4}(?: [0-9]{4}){2,3}(?: [0-9]{1,4})?",
        ),
        detector(
            Card,
            IssuerAndLuhn,
            r"[0-9]{4}(?:-[0-9]{4}){2,3}(?:-[0-9]{1,4})?",
        ),
        detector(Card, IssuerAndLuhn, r"[0-9]{4}[ -][0-9]{6}[ -][0-9]{4,5}"),
        // Mainland mobile: 1[3-9]x xxxx xxxx, optionally +86 / 0086 / (+86).
        detector(
            Phone,
            PhoneFormat,
            r"(?:(?:\+|00)86[ -]?|\(\+?86\)[ -]?)?1[3-9][0-9](?:[ -]?[0-9]{4}){2}",
        ),
        // Mainland landline: area code (010, 02x, 0xxx) in parentheses or followed by a separator.
        detector(
            Phone,
            PhoneFormat,
            r"(?:\(0(?:10|2[0-9]|[3-9][0-9]{2})\)[ -]?|0(?:10|2[0-9]|[3-9][0-9]{2})[ -]|(?:\+|00)86[ -]?(?:10|2[0-9]|[3-9][0-9]{2})[ -])[2-8][0-9]{2,3}[ -]?[0-9]{4}",
        ),
        // Taiwan mobile: 09xx-xxx-xxx, or +886 9xx xxx xxx.
        detector(
            Phone,
            PhoneFormat,
            r"(?:(?:\+|00)886[ -]?9[0-9]{2}|09[0-9]{2})[ -]?[0-9]{3}[ -]?[0-9]{3}",
        ),
        // Taiwan landline: (02)2345-6789, 02-2345-6789, +886 2 2345 6789.
        detector(
            Phone,
            PhoneFormat,
            r"(?:(?:\+|00)886[ -]?\(?[2-8]\)?[ -]?|\(0[2-8][0-9]?\)[ -]?|0[2-8][0-9]?-)[0-9]{3,4}[ -]?[0-9]{4}",
        ),
        // Hong Kong with country code.
        detector(
            Phone,
            PhoneFormat,
            r"(?:(?:\+|00)852[ -]?|\(\+?852\)[ -]?)[2-9][0-9]{3}[ -]?[0-9]{4}",
        ),
        // North America: (555) 123-4567, 555-123-4567, 555.123.4567, +1 555 123 4567.
        detector(
            Phone,
            PhoneFormat,
            r"(?:\+?1[ -.]?)?\([2-9][0-9]{2}\)[ -.]?[0-9]{3}[ -.][0-9]{4}",
        ),
        detector(
            Phone,
            PhoneFormat,
            r"(?:\+?1-)?[2-9][0-9]{2}-[0-9]{3}-[0-9]{4}",
        ),
        detector(
            Phone,
            PhoneFormat,
            r"(?:\+?1\.)?[2-9][0-9]{2}\.[0-9]{3}\.[0-9]{4}",
        ),
        detector(
            Phone,
            PhoneFormat,
            r"\+1[ -.]?[2-9][0-9]{2}[ -.]?[0-9]{3}[ -.]?[0-9]{4}",
        ),
        // Bare numbers that are phones only after a phone word.
        detector(
            Phone,
            PhoneAfterKeyword,
            r"[2-9][0-9]{2}[ .]?[0-9]{3}[ .]?[0-9]{4}|0(?:10|2[0-9]|[3-9][0-9]{2})[2-8][0-9]{6,7}|[2-9][0-9]{2,3}[ -]?[0-9]{4}",
        ),
    ]
});

/// A phone word shortly before a number.
static PHONE_CONTEXT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)(?:\b(?:tel|phone|call|mobile|cell|whatsapp|wechat|fax|hotline|contact|text me|reach me)|電話|电话|手機|手机|聯絡|联络|聯繫|联系|致電|致电|熱線|热线|號碼|号码|微信|打给|打給)[^0-9]{0,16}$",
    )
    .expect("valid phone context regex")
});

/// A word that says the number after it is an identifier of an order or a case, not personal.
static IDENTIFIER_CONTEXT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)(?:\b(?:order|tracking|invoice|receipt|reference|ref|case|ticket|confirmation|serial|sku|model|transaction|booking|flight)\b|订单|訂單|单号|單號|发票|發票|快递|快遞|运单|運單|流水|交易|型号|型號|编号|編號)[^0-9]{0,16}$",
    )
    .expect("valid identifier context regex")
});

/// A masked span of the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PiiSpan {
    /// Byte offset of the first byte.
    pub start: usize,
    /// Byte offset after the last byte.
    pub end: usize,
    /// What the span holds.
    pub kind: PiiKind,
}

/// Masks e-mail addresses, phone numbers, Luhn-valid card numbers and Chinese ID numbers.
/// Returns the masked text and how many spans were masked.
pub fn mask_pii(text: &str) -> (String, usize) {
    let spans = find_pii(text);
    if spans.is_empty() {
        return (text.to_string(), 0);
    }
    let mut masked = String::with_capacity(text.len());
    let mut copied = 0;
    for span in &spans {
        masked.push_str(&text[copied..span.start]);
        masked.push_str(span.kind.placeholder());
        copied = span.end;
    }
    masked.push_str(&text[copied..]);
    (masked, spans.len())
}

/// Finds the personal data in `text`: non-overlapping spans in text order. Where matches
/// overlap, the one starting first wins, then the longer, then the kind earlier in
/// [`PiiKind::ALL`].
pub fn find_pii(text: &str) -> Vec<PiiSpan> {
    let has_at = text.contains('@');
    if !has_at && text.bytes().filter(u8::is_ascii_digit).count() < 7 {
        return Vec::new();
    }
    let mut candidates = Vec::new();
    for detector in DETECTORS.iter() {
        if detector.kind == PiiKind::Email && !has_at {
            continue;
        }
        collect_matches(text, detector, &mut candidates);
    }
    candidates.sort_by_key(|span: &PiiSpan| (span.start, std::cmp::Reverse(span.end), span.kind));
    let mut spans: Vec<PiiSpan> = Vec::with_capacity(candidates.len());
    for candidate in candidates {
        if spans.last().is_none_or(|last| candidate.start >= last.end) {
            spans.push(candidate);
        }
    }
    spans
}

/// Adds every accepted match of one detector. A rejected match does not hide a valid one that
/// starts inside it: the search resumes one character after the rejected start.
fn collect_matches(text: &str, detector: &Detector, spans: &mut Vec<PiiSpan>) {
    let mut from = 0;
    while let Some(found) = detector.regex.find_at(text, from) {
        let (start, end) = (found.start(), found.end());
        if accepts(text, start, end, detector.check) {
            spans.push(PiiSpan {
                start,
                end,
                kind: detector.kind,
            });
            from = end;
        } else {
            from = start + text[start..].chars().next().map_or(1, char::len_utf8);
        }
        if from >= text.len() {
            break;
        }
    }
}

fn accepts(text: &str, start: usize, end: usize, check: Check) -> bool {
    let matched = &text[start..end];
    if check == Check::Pattern {
        return true;
    }
    if !stands_alone(text, start, end) {
        return false;
    }
    let before = context_before(text, start);
    if check != Check::IdWithCheckDigit && IDENTIFIER_CONTEXT.is_match(before) {
        return false;
    }
    match check {
        Check::Pattern | Check::PhoneFormat => true,
        Check::IdWithCheckDigit => valid_province(matched) && valid_id_check_digit(matched),
        Check::IdWithoutCheckDigit => valid_province(matched),
        Check::IssuerAndLuhn => valid_card(matched),
        Check::PhoneAfterKeyword => PHONE_CONTEXT.is_match(before),
    }
}

/// The match does not continue a longer number or word: no ASCII letter or digit next to it,
/// and no `.`, `-` or `/` joining it to another digit (decimals, dates, ranges).
fn stands_alone(text: &str, start: usize, end: usize) -> bool {
    let bytes = text.as_bytes();
    let joins = |outer: Option<&u8>, beyond: Option<&u8>| match outer {
        Some(b) if b.is_ascii_alphanumeric() || *b == b'_' => true,
        Some(b'.' | b'-' | b'/') => beyond.is_some_and(u8::is_ascii_digit),
        _ => false,
    };
    let before = start.checked_sub(1).and_then(|i| bytes.get(i));
    let before_that = start.checked_sub(2).and_then(|i| bytes.get(i));
    !joins(before, before_that) && !joins(bytes.get(end), bytes.get(end + 1))
}

/// Up to 48 bytes of text before `start`, cut at a character boundary.
fn context_before(text: &str, start: usize) -> &str {
    let mut from = start.saturating_sub(48);
    while !text.is_char_boundary(from) {
        from += 1;
    }
    &text[from..start]
}

/// Digits of a match, ignoring separators; `X` counts as 10 (ID check digit).
fn digits(matched: &str) -> impl Iterator<Item = u32> + '_ {
    matched.bytes().filter_map(|b| match b {
        b'0'..=b'9' => Some(u32::from(b - b'0')),
        b'X' | b'x' => Some(10),
        _ => None,
    })
}

/// First two digits name a province-level division.
fn valid_province(matched: &str) -> bool {
    let code: u32 = digits(matched).take(2).fold(0, |acc, d| acc * 10 + d);
    matches!(code, 11..=15 | 21..=23 | 31..=37 | 41..=46 | 50..=54 | 61..=65 | 71 | 81..=83)
}

/// ISO 7064 MOD 11-2 check digit of an 18-character resident ID.
fn valid_id_check_digit(matched: &str) -> bool {
    const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    const CHECK: [u32; 11] = [1, 0, 10, 9, 8, 7, 6, 5, 4, 3, 2];
    let values: Vec<u32> = digits(matched).collect();
    if values.len() != 18 || values[..17].contains(&10) {
        return false;
    }
    let sum: u32 = values.iter().zip(WEIGHTS).map(|(d, w)| d * w).sum();
    CHECK[(sum % 11) as usize] == values[17]
}

/// 13 to 19 digits, an issuer prefix of a real card network, and a valid Luhn check digit.
fn valid_card(matched: &str) -> bool {
    let values: Vec<u32> = digits(matched).collect();
    if !(13..=19).contains(&values.len()) || values.contains(&10) {
        return false;
    }
    let prefix4 = values[..4].iter().fold(0, |acc, d| acc * 10 + d);
    let known_issuer = matches!(values[0], 3..=6) || (2221..=2720).contains(&prefix4);
    known_issuer && luhn_valid(&values)
}

fn luhn_valid(values: &[u32]) -> bool {
    let sum: u32 = values
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| match (i % 2 == 1, d * 2) {
            (true, doubled) if doubled > 9 => doubled - 9,
            (true, doubled) => doubled,
            (false, _) => d,
        })
        .sum();
    sum.is_multiple_of(10)
}

#[cfg(test)]
mod tests;
