//! Text encodings of input files: UTF-8 with or without BOM, GB18030 (a superset of GBK and
//! GB2312) and Big5, as Chinese spreadsheet exports often are. The encoding is chosen once per
//! file from a sample, then every row is decoded on its own, so one row with bytes that are
//! invalid in that encoding is rejected instead of corrupting or stopping the file.

use encoding_rs::{Encoding, BIG5, GB18030, GBK, UTF_8};

/// How many bytes from the start of a file are looked at to choose the encoding.
pub const SAMPLE_BYTES: usize = 1 << 20;

/// The UTF-8 byte order mark.
pub const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// Why an encoding could not be chosen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EncodingProblem {
    /// The configured label is not an encoding.
    UnknownLabel(String),
    /// UTF-16 files cannot be read row by row.
    Utf16,
}

/// Chooses the encoding of a file from the configured label (`auto` to detect) and a sample of
/// its first bytes.
pub fn choose(configured: &str, sample: &[u8]) -> Result<&'static Encoding, EncodingProblem> {
    if sample.starts_with(b"\xFF\xFE") || sample.starts_with(b"\xFE\xFF") {
        return Err(EncodingProblem::Utf16);
    }
    if !configured.eq_ignore_ascii_case("auto") {
        let encoding = Encoding::for_label(configured.trim().as_bytes())
            .ok_or_else(|| EncodingProblem::UnknownLabel(configured.to_string()))?;
        return Ok(widen(encoding));
    }
    if sample.starts_with(UTF8_BOM) || mostly_utf8(sample) {
        return Ok(UTF_8);
    }
    let mut detector = chardetng::EncodingDetector::new(chardetng::Iso2022JpDetection::Deny);
    detector.feed(sample, sample.len() < SAMPLE_BYTES);
    Ok(widen(detector.guess(None, chardetng::Utf8Detection::Allow)))
}

/// GBK and GB2312 files are read as GB18030, which decodes all of them.
fn widen(encoding: &'static Encoding) -> &'static Encoding {
    if encoding == GBK {
        GB18030
    } else {
        encoding
    }
}

/// True when the sample is UTF-8, or when most of its non-ASCII lines are (a few broken rows in a
/// UTF-8 export are rejected one by one rather than making the whole file another encoding).
fn mostly_utf8(sample: &[u8]) -> bool {
    match std::str::from_utf8(sample) {
        Ok(_) => return true,
        // A sample cut inside a character is still UTF-8.
        Err(error) if error.error_len().is_none() => return true,
        Err(_) => {}
    }
    let (mut valid, mut invalid) = (0usize, 0usize);
    for line in sample.split(|byte| *byte == b'\n') {
        if line.is_ascii() {
            continue;
        }
        match std::str::from_utf8(line) {
            Ok(_) => valid += 1,
            Err(error) if error.error_len().is_none() => valid += 1,
            Err(_) => invalid += 1,
        }
    }
    valid > 0 && valid >= invalid
}

/// Decodes one field; `None` when the bytes are not valid in the encoding.
pub fn decode(encoding: &'static Encoding, bytes: &[u8]) -> Option<String> {
    if encoding == UTF_8 {
        return std::str::from_utf8(bytes).ok().map(str::to_owned);
    }
    encoding
        .decode_without_bom_handling_and_without_replacement(bytes)
        .map(|text| text.into_owned())
}

/// Decodes bytes for showing them in a rejects file, replacing what is invalid.
pub fn decode_lossy(encoding: &'static Encoding, bytes: &[u8]) -> String {
    encoding.decode_without_bom_handling(bytes).0.into_owned()
}

/// A readable name for messages.
pub fn name(encoding: &'static Encoding) -> &'static str {
    if encoding == BIG5 {
        "Big5"
    } else if encoding == GB18030 {
        "GB18030"
    } else {
        encoding.name()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_utf8_gb18030_and_big5() {
        let text = "内容,日期\n这家店的服务态度很差，等了一个小时才上菜。,2026-08-01\n";
        assert_eq!(choose("auto", text.as_bytes()).unwrap(), UTF_8);
        let (gbk, _, _) = GB18030.encode(text);
        assert_eq!(choose("auto", &gbk).unwrap(), GB18030);
        let traditional =
            "內容,日期\n這家店的服務態度很差，等了一個小時才上菜，價格也太貴了。,2026-08-01\n";
        let (big5, _, _) = BIG5.encode(traditional);
        assert_eq!(choose("auto", &big5).unwrap(), BIG5);
    }

    #[test]
    fn a_few_broken_lines_do_not_change_a_utf8_file() {
        let mut sample = "text\n好评\n很好\n不错\n".as_bytes().to_vec();
        sample.extend_from_slice(b"bad \xff\xfe row\n");
        assert_eq!(choose("auto", &sample).unwrap(), UTF_8);
        assert_eq!(decode(UTF_8, b"bad \xff row"), None);
    }

    #[test]
    fn configured_labels_and_utf16() {
        assert_eq!(choose("gbk", b"abc").unwrap(), GB18030);
        assert_eq!(choose("big5", b"abc").unwrap(), BIG5);
        assert!(matches!(
            choose("klingon", b"abc"),
            Err(EncodingProblem::UnknownLabel(_))
        ));
        assert_eq!(
            choose("auto", b"\xFF\xFEa\x00"),
            Err(EncodingProblem::Utf16)
        );
    }
}
