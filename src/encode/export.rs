//! Embeddings written for analysts' own tools: NumPy `.npy` (one `float32` matrix, rows in input
//! order) with a JSON Lines sidecar naming each row, or JSON Lines with the vector inline.

use std::io::Write;
use std::path::Path;

use serde::Serialize;

use crate::document::Document;
use crate::model::Embeddings;
use crate::workspace::{write_atomically, WorkspaceError};

/// Who a row of an embeddings export is.
#[derive(Debug, Serialize)]
struct RowInfo<'a> {
    row: usize,
    id: &'a str,
    file: &'a str,
    line: u64,
    language: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    label: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    embedding: Option<&'a [f32]>,
}

fn row_info<'a>(row: usize, document: &'a Document, embedding: Option<&'a [f32]>) -> RowInfo<'a> {
    RowInfo {
        row,
        id: &document.id,
        file: &document.origin.file,
        line: document.origin.line,
        language: document.language.code(),
        label: document.metadata.label.as_deref(),
        embedding,
    }
}

/// The bytes of a `.npy` file (format 1.0) holding `embeddings` as a little-endian f32 matrix.
pub fn npy_bytes(embeddings: &Embeddings) -> Vec<u8> {
    let mut header = format!(
        "{{'descr': '<f4', 'fortran_order': False, 'shape': ({}, {}), }}",
        embeddings.len(),
        embeddings.dimension()
    );
    // Magic (6) + version (2) + length (2) + header must be a multiple of 64, ending in '\n'.
    let unpadded = 10 + header.len() + 1;
    header.push_str(&" ".repeat((64 - unpadded % 64) % 64));
    header.push('\n');
    let mut bytes = Vec::with_capacity(10 + header.len() + embeddings.as_slice().len() * 4);
    bytes.extend_from_slice(b"\x93NUMPY\x01\x00");
    bytes.extend_from_slice(&(header.len() as u16).to_le_bytes());
    bytes.extend_from_slice(header.as_bytes());
    for value in embeddings.as_slice() {
        bytes.extend_from_slice(&value.to_le_bytes());
    }
    bytes
}

/// Writes `out` as `.npy` and `<out>.rows.jsonl` beside it (row, id, file, line, language, label).
pub fn write_npy(
    out: &Path,
    documents: &[Document],
    embeddings: &Embeddings,
) -> Result<(), WorkspaceError> {
    write_atomically(out, &npy_bytes(embeddings))?;
    let sidecar = sidecar_path(out);
    write_atomically(&sidecar, &jsonl_bytes(documents, None))
}

/// Writes `out` as JSON Lines, one object per row with its `embedding`.
pub fn write_jsonl(
    out: &Path,
    documents: &[Document],
    embeddings: &Embeddings,
) -> Result<(), WorkspaceError> {
    write_atomically(out, &jsonl_bytes(documents, Some(embeddings)))
}

/// The sidecar that names the rows of an `.npy` export.
pub fn sidecar_path(out: &Path) -> std::path::PathBuf {
    let mut name = out.file_name().unwrap_or_default().to_os_string();
    name.push(".rows.jsonl");
    out.with_file_name(name)
}

fn jsonl_bytes(documents: &[Document], embeddings: Option<&Embeddings>) -> Vec<u8> {
    let mut bytes = Vec::new();
    for (row, document) in documents.iter().enumerate() {
        let info = row_info(row, document, embeddings.map(|matrix| matrix.row(row)));
        serde_json::to_writer(&mut bytes, &info).expect("rows serialise");
        bytes.write_all(b"\n").expect("writing to memory");
    }
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn npy_header_is_aligned_and_data_follows() {
        let embeddings = Embeddings::new(2, vec![1.0, 0.5, -1.0, 2.0], 0);
        let bytes = npy_bytes(&embeddings);
        let header_length = u16::from_le_bytes([bytes[8], bytes[9]]) as usize;
        assert_eq!((10 + header_length) % 64, 0);
        let header = std::str::from_utf8(&bytes[10..10 + header_length]).unwrap();
        assert!(header.contains("'shape': (2, 2)"), "{header}");
        assert!(header.ends_with('\n'));
        let data = &bytes[10 + header_length..];
        assert_eq!(data.len(), 16);
        assert_eq!(f32::from_le_bytes(data[4..8].try_into().unwrap()), 0.5);
    }

    #[test]
    fn sidecar_sits_beside_the_matrix() {
        assert_eq!(
            sidecar_path(Path::new("out/tweets.npy")),
            Path::new("out/tweets.npy.rows.jsonl")
        );
    }
}
