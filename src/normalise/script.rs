//! Which Han characters tell Traditional from Simplified writing. Most characters are written the
//! same in both scripts and prove nothing; the markers are derived once from the T->S table and
//! the two national character sets:
//!
//! - a Traditional marker changes under T->S and is not in GB2312 (the Simplified standard set),
//!   so 車 counts but 著, 乾 and 於, which Simplified text also uses, do not;
//! - a Simplified marker is the target of some T->S change and is not in Big5 (the Traditional
//!   set), so 车 counts but 台, 后 and 里, which Traditional text also uses, do not.

use encoding_rs::{BIG5, GBK};
use std::sync::LazyLock;

const FIRST: u32 = 0x3400;
const LAST: u32 = 0x9FFF;
const TRADITIONAL: u8 = 1;
const SIMPLIFIED: u8 = 2;

/// One flag byte per BMP Han character from U+3400 to U+9FFF.
static MARKERS: LazyLock<Vec<u8>> = LazyLock::new(build_markers);

fn build_markers() -> Vec<u8> {
    let mut flags = vec![0u8; (LAST - FIRST + 1) as usize];
    let mut buffer = [0u8; 4];
    for code in FIRST..=LAST {
        let Some(c) = char::from_u32(code) else {
            continue;
        };
        let converted = fast2s::convert(c.encode_utf8(&mut buffer));
        let Some(target) = converted.chars().next().filter(|&target| target != c) else {
            continue;
        };
        if !in_gb2312(c) {
            flags[(code - FIRST) as usize] |= TRADITIONAL;
        }
        if (FIRST..=LAST).contains(&(target as u32)) && !in_big5(target) {
            flags[(target as u32 - FIRST) as usize] |= SIMPLIFIED;
        }
    }
    flags
}

fn in_big5(c: char) -> bool {
    let mut buffer = [0u8; 4];
    !BIG5.encode(c.encode_utf8(&mut buffer)).2
}

/// GB2312 hanzi are the GBK codes with both bytes in the GB2312 ranges (levels 1 and 2).
fn in_gb2312(c: char) -> bool {
    let mut buffer = [0u8; 4];
    let (bytes, _, had_errors) = GBK.encode(c.encode_utf8(&mut buffer));
    !had_errors
        && bytes.len() == 2
        && (0xB0..=0xF7).contains(&bytes[0])
        && (0xA1..=0xFE).contains(&bytes[1])
}

fn flags(c: char) -> u8 {
    let code = c as u32;
    if (FIRST..=LAST).contains(&code) {
        MARKERS[(code - FIRST) as usize]
    } else {
        0
    }
}

/// True for a character that only Traditional writing uses (車, 們, 說).
pub fn is_traditional_marker(c: char) -> bool {
    flags(c) & TRADITIONAL != 0
}

/// True for a character that only Simplified writing uses (车, 们, 说).
pub fn is_simplified_marker(c: char) -> bool {
    flags(c) & SIMPLIFIED != 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_cover_common_pairs_and_skip_shared_characters() {
        for (traditional, simplified) in [('車', '车'), ('們', '们'), ('說', '说'), ('務', '务')]
        {
            assert!(is_traditional_marker(traditional), "{traditional}");
            assert!(is_simplified_marker(simplified), "{simplified}");
            assert!(!is_simplified_marker(traditional), "{traditional}");
            assert!(!is_traditional_marker(simplified), "{simplified}");
        }
        for shared in ['的', '是', '台', '后', '里', '著', '乾', '於', 'a', '😀'] {
            assert!(!is_traditional_marker(shared), "{shared}");
            assert!(!is_simplified_marker(shared), "{shared}");
        }
        let traditional = MARKERS.iter().filter(|f| *f & TRADITIONAL != 0).count();
        let simplified = MARKERS.iter().filter(|f| *f & SIMPLIFIED != 0).count();
        assert!(
            traditional > 1500 && simplified > 1500,
            "{traditional} {simplified}"
        );
    }
}
