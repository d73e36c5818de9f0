//! The embedding cache: one L2-normalised row per distinct text, keyed by the first 16 bytes of
//! the sha256 of the exact text the encoder saw, in a folder per model id (which names the model
//! and its token limit, the two things that change a row). A re-run, or a second command over the
//! same texts, encodes only what is new.
//!
//! On disk the cache is a set of immutable segment files, each written atomically, so a run that
//! is killed keeps every segment it finished and never leaves a torn one. Segments are merged
//! into one when they pile up. Layout of a segment: `VEC1`, dimension (u32 LE), row count (u64
//! LE), the keys (16 bytes each), then the rows (f32 LE).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::EncodeError;
use crate::workspace::write_atomically;

const MAGIC: &[u8; 4] = b"VEC1";
const HEADER_BYTES: usize = 16;
const KEY_BYTES: usize = 16;
const SEGMENT_EXTENSION: &str = "vec";
/// Segments are merged into one once there are more than this many.
const MAX_SEGMENTS: usize = 24;

/// The cache key of a text.
pub type CacheKey = [u8; KEY_BYTES];

/// The key of `text`: the first 16 bytes of its sha256.
pub fn key_of(text: &str) -> CacheKey {
    let digest = Sha256::digest(text.as_bytes());
    let mut key = [0u8; KEY_BYTES];
    key.copy_from_slice(&digest[..KEY_BYTES]);
    key
}

/// Embeddings of one model, in memory, backed by segment files in a folder.
#[derive(Debug)]
pub struct EmbeddingCache {
    directory: PathBuf,
    dimension: usize,
    positions: HashMap<CacheKey, usize>,
    keys: Vec<CacheKey>,
    values: Vec<f32>,
    /// Rows from `unsaved_from` on are not in any segment yet.
    unsaved_from: usize,
    segments: Vec<PathBuf>,
}

impl EmbeddingCache {
    /// Opens (or starts) the cache in `directory` for rows of `dimension` values.
    pub fn open(directory: &Path, dimension: usize) -> Result<Self, EncodeError> {
        let mut cache = EmbeddingCache {
            directory: directory.to_path_buf(),
            dimension,
            positions: HashMap::new(),
            keys: Vec::new(),
            values: Vec::new(),
            unsaved_from: 0,
            segments: Vec::new(),
        };
        for segment in list_segments(directory)? {
            if cache.load_segment(&segment)? {
                cache.segments.push(segment);
            }
        }
        cache.unsaved_from = cache.keys.len();
        Ok(cache)
    }

    /// The folder the segments live in.
    pub fn directory(&self) -> &Path {
        &self.directory
    }

    /// Number of distinct texts held.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// True when nothing is cached.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The row cached for `key`.
    pub fn get(&self, key: &CacheKey) -> Option<&[f32]> {
        self.positions.get(key).map(|&position| self.row(position))
    }

    /// Adds a row (ignored when the key is already there).
    pub fn insert(&mut self, key: CacheKey, row: &[f32]) {
        assert_eq!(row.len(), self.dimension, "row length must match the cache");
        if self.positions.contains_key(&key) {
            return;
        }
        self.positions.insert(key, self.keys.len());
        self.keys.push(key);
        self.values.extend_from_slice(row);
    }

    /// Writes the rows added since the last save as a new segment, merging segments when there
    /// are too many.
    pub fn save(&mut self) -> Result<(), EncodeError> {
        if self.unsaved_from == self.keys.len() {
            return Ok(());
        }
        let path = self.write_segment(self.unsaved_from..self.keys.len())?;
        self.segments.push(path);
        self.unsaved_from = self.keys.len();
        if self.segments.len() > MAX_SEGMENTS {
            self.merge_segments()?;
        }
        Ok(())
    }

    fn row(&self, position: usize) -> &[f32] {
        &self.values[position * self.dimension..(position + 1) * self.dimension]
    }

    /// Replaces every segment with one holding all rows. The new segment is complete on disk
    /// before an old one is removed; rows found twice on load are harmless.
    fn merge_segments(&mut self) -> Result<(), EncodeError> {
        let merged = self.write_segment(0..self.keys.len())?;
        for old in std::mem::take(&mut self.segments) {
            match std::fs::remove_file(&old) {
                // Another process sharing the cache merged it away already.
                Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
                result => result.map_err(|source| EncodeError::Cache {
                    path: old.clone(),
                    source,
                })?,
            }
        }
        self.segments.push(merged);
        Ok(())
    }

    fn write_segment(&self, rows: std::ops::Range<usize>) -> Result<PathBuf, EncodeError> {
        let count = rows.len();
        let mut bytes = Vec::with_capacity(HEADER_BYTES + count * (KEY_BYTES + 4 * self.dimension));
        bytes.extend_from_slice(MAGIC);
        bytes.extend_from_slice(&(self.dimension as u32).to_le_bytes());
        bytes.extend_from_slice(&(count as u64).to_le_bytes());
        for key in &self.keys[rows.clone()] {
            bytes.extend_from_slice(key);
        }
        let values = &self.values[rows.start * self.dimension..rows.end * self.dimension];
        for value in values {
            bytes.extend_from_slice(&value.to_le_bytes());
        }
        let path = self.new_segment_path();
        write_atomically(&path, &bytes)?;
        Ok(path)
    }

    /// A fresh, sortable segment name (time, then a counter for names taken in the same tick).
    fn new_segment_path(&self) -> PathBuf {
        let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%S%.6f");
        (0..)
            .map(|counter| {
                self.directory
                    .join(format!("{stamp}-{counter}.{SEGMENT_EXTENSION}"))
            })
            .find(|path| !path.exists())
            .expect("an unused segment name")
    }

    /// Loads one segment; false when it vanished (merged by another process sharing the cache,
    /// whose merged segment holds its rows).
    fn load_segment(&mut self, path: &Path) -> Result<bool, EncodeError> {
        let bytes = match std::fs::read(path) {
            Ok(bytes) => bytes,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(false),
            Err(source) => {
                return Err(EncodeError::Cache {
                    path: path.to_path_buf(),
                    source,
                })
            }
        };
        let corrupt = |reason: &str| EncodeError::CorruptCache {
            path: path.to_path_buf(),
            reason: reason.to_string(),
        };
        if bytes.len() < HEADER_BYTES || &bytes[..4] != MAGIC {
            return Err(corrupt("not a vocmine embedding segment"));
        }
        let dimension = u32::from_le_bytes(bytes[4..8].try_into().expect("4 bytes")) as usize;
        let count = u64::from_le_bytes(bytes[8..16].try_into().expect("8 bytes")) as usize;
        if dimension != self.dimension {
            return Err(corrupt(&format!(
                "rows have {dimension} values, the model gives {}",
                self.dimension
            )));
        }
        let values_start = HEADER_BYTES + count * KEY_BYTES;
        if bytes.len() != values_start + count * dimension * 4 {
            return Err(corrupt("the file length does not match its header"));
        }
        let values: Vec<f32> = bytes[values_start..]
            .chunks_exact(4)
            .map(|chunk| f32::from_le_bytes(chunk.try_into().expect("4 bytes")))
            .collect();
        let keys = bytes[HEADER_BYTES..values_start].chunks_exact(KEY_BYTES);
        for (key, row) in keys.zip(values.chunks_exact(dimension)) {
            self.insert(key.try_into().expect("16 bytes"), row);
        }
        Ok(true)
    }
}

/// The segment files in `directory`, oldest first (none when it does not exist).
fn list_segments(directory: &Path) -> Result<Vec<PathBuf>, EncodeError> {
    let entries = match std::fs::read_dir(directory) {
        Ok(entries) => entries,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => {
            return Err(EncodeError::Cache {
                path: directory.to_path_buf(),
                source,
            })
        }
    };
    let mut segments: Vec<PathBuf> = entries
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .filter(|path| {
            path.extension()
                .is_some_and(|extension| extension == SEGMENT_EXTENSION)
        })
        .collect();
    segments.sort();
    Ok(segments)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_survive_a_reopen() {
        let directory = tempfile::tempdir().unwrap();
        let mut cache = EmbeddingCache::open(directory.path(), 2).unwrap();
        cache.insert(key_of("a"), &[1.0, 0.0]);
        cache.insert(key_of("b"), &[0.6, 0.8]);
        cache.save().unwrap();
        cache.insert(key_of("c"), &[0.0, 1.0]);
        cache.save().unwrap();
        let reopened = EmbeddingCache::open(directory.path(), 2).unwrap();
        assert_eq!(reopened.len(), 3);
        assert_eq!(reopened.get(&key_of("b")), Some(&[0.6, 0.8][..]));
        assert_eq!(reopened.get(&key_of("d")), None);
    }

    #[test]
    fn unsaved_rows_are_not_on_disk_and_duplicates_are_kept_once() {
        let directory = tempfile::tempdir().unwrap();
        let mut cache = EmbeddingCache::open(directory.path(), 1).unwrap();
        cache.insert(key_of("a"), &[1.0]);
        cache.insert(key_of("a"), &[2.0]);
        assert_eq!(cache.get(&key_of("a")), Some(&[1.0][..]));
        assert!(EmbeddingCache::open(directory.path(), 1)
            .unwrap()
            .is_empty());
    }

    #[test]
    fn many_saves_merge_into_one_segment() {
        let directory = tempfile::tempdir().unwrap();
        let mut cache = EmbeddingCache::open(directory.path(), 1).unwrap();
        for index in 0..=MAX_SEGMENTS {
            cache.insert(key_of(&index.to_string()), &[index as f32]);
            cache.save().unwrap();
        }
        assert_eq!(list_segments(directory.path()).unwrap().len(), 1);
        let reopened = EmbeddingCache::open(directory.path(), 1).unwrap();
        assert_eq!(reopened.len(), MAX_SEGMENTS + 1);
        assert_eq!(reopened.get(&key_of("7")), Some(&[7.0][..]));
    }

    #[test]
    fn a_segment_of_another_dimension_is_reported() {
        let directory = tempfile::tempdir().unwrap();
        let mut cache = EmbeddingCache::open(directory.path(), 2).unwrap();
        cache.insert(key_of("a"), &[1.0, 0.0]);
        cache.save().unwrap();
        let message = EmbeddingCache::open(directory.path(), 3)
            .unwrap_err()
            .to_string();
        assert!(message.contains("rows have 2 values"), "{message}");
    }
}
