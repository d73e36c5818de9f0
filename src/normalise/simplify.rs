//! Traditional -> Simplified conversion through a flat table. `fast2s` (MIT) holds the mapping
//! but looks every character up in hash maps, which cost as much as segmenting the text; the
//! table here is read out of `fast2s` once per process (one entry per 3-byte UTF-8 character),
//! so a conversion is an array index per character. The few characters whose conversion
//! depends on their neighbours (乾隆 stays, 看著 becomes 看着) send the whole text back to
//! `fast2s` itself, so the result is always exactly `fast2s::convert`.

use std::sync::LazyLock;

/// First and last character with a 3-byte UTF-8 encoding (the only ones `fast2s` converts).
const FIRST: u32 = 0x800;
const LAST: u32 = 0xFFFF;

/// The keys of `fast2s` 0.3.1's context rules (`T2S_EXCLUDE`, `T2S_SPECIAL_CONVERT_TYPE`).
const CONTEXT_DEPENDENT: [char; 15] = [
    '兒', '覆', '夥', '藉', '瞭', '麽', '幺', '於', '乾', '著', '苧', '闔', '鍾', '讎', '畫',
];

/// Marks a context-dependent character in the table.
const CONTEXT: u16 = 0;

/// The Simplified form of every character from U+0800 to U+FFFF, or [`CONTEXT`].
static TABLE: LazyLock<Vec<u16>> = LazyLock::new(|| {
    let mut buffer = [0u8; 4];
    (FIRST..=LAST)
        .map(|code| match char::from_u32(code) {
            Some(c) if CONTEXT_DEPENDENT.contains(&c) => CONTEXT,
            Some(c) => {
                let converted = fast2s::convert(c.encode_utf8(&mut buffer));
                let target = converted.chars().next().unwrap_or(c);
                u16::try_from(u32::from(target)).unwrap_or(code as u16)
            }
            // Surrogate code points are not characters and never occur in a `str`.
            None => code as u16,
        })
        .collect()
});

/// `fast2s::convert(text)`, faster.
pub fn convert(text: &str) -> String {
    let table = &*TABLE;
    let mut converted = String::with_capacity(text.len());
    for c in text.chars() {
        let code = u32::from(c);
        if !(FIRST..=LAST).contains(&code) {
            converted.push(c);
            continue;
        }
        match table[(code - FIRST) as usize] {
            CONTEXT => return fast2s::convert(text),
            target => converted.push(char::from_u32(u32::from(target)).unwrap_or(c)),
        }
    }
    converted
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_character_converts_as_fast2s_does() {
        let mut buffer = [0u8; 4];
        for c in (FIRST..=LAST).filter_map(char::from_u32) {
            let single = c.encode_utf8(&mut buffer);
            assert_eq!(convert(single), fast2s::convert(single), "{c}");
        }
    }

    #[test]
    fn context_rules_still_apply() {
        let texts = [
            "乾隆皇帝",
            "乾淨",
            "看著他",
            "著作",
            "計畫書",
            "畫面",
            "慰藉",
            "藉口",
            "刹車很爛",
            "兒寬",
            "答覆",
            "甚夥",
            "瞭望",
            "幺麽",
            "樊於",
            "苧麻",
            "闔家",
            "鍾書",
            "校讎",
            "仇讎",
        ];
        for text in texts {
            assert_eq!(convert(text), fast2s::convert(text), "{text}");
        }
        assert_eq!(convert("乾隆"), "乾隆");
        assert_eq!(convert("看著"), "看着");
    }

    #[test]
    fn real_reviews_convert_as_fast2s_does() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/corpora/demo/reviews_zh.csv");
        // GB18030, as Chinese spreadsheet exports often are.
        let bytes = std::fs::read(path).unwrap();
        let (text, _, _) = encoding_rs::GB18030.decode(&bytes);
        assert!(text.contains('评'));
        for line in text.lines() {
            assert_eq!(convert(line), fast2s::convert(line));
        }
    }
}
