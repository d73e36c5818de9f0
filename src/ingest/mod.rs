//! Ingest: input files in, [`Feedback`] rows (or [`Reject`]s) out. Reads CSV, TSV, JSON Lines,
//! JSON arrays and plain text (one document a line) in UTF-8, GB18030/GBK or Big5, streaming row
//! by row. Problems with a whole file (missing, unreadable, no text column) are [`IngestError`]s,
//! found before any work starts by [`InputFile::open`]; problems with one row are [`Reject`]s
//! that name file, line and reason and keep the raw content, so no row is ever lost silently.

mod decode;
mod delimited;
pub mod fields;
mod json;

use crate::config::{ColumnsConfig, Config};
use crate::document::{Feedback, Origin};
use encoding_rs::Encoding;
pub use fields::{ColumnMap, ValueSettings};
use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};
use thiserror::Error;

/// Errors reading an input file as a whole.
#[derive(Debug, Error)]
pub enum IngestError {
    /// The file cannot be opened or read.
    #[error("cannot read input file {}: {source}", path.display())]
    Unreadable {
        /// The input file.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// No column holds the feedback text.
    #[error("{} has no usable text column (columns found: {}); name it in vocmine.toml, e.g. [columns] text = \"{}\"{}", path.display(), headers.join(", "), headers.first().map(String::as_str).unwrap_or("comment"), delimiter_hint(headers))]
    NoTextColumn {
        /// The input file.
        path: PathBuf,
        /// The headers or keys found.
        headers: Vec<String>,
    },
    /// A column named in the configuration is missing from the file.
    #[error("{}: the configured {field} column '{column}' is not among its columns ({}); fix [columns] in vocmine.toml", path.display(), headers.join(", "))]
    MissingColumn {
        /// The input file.
        path: PathBuf,
        /// The field.
        field: &'static str,
        /// The configured column name.
        column: String,
        /// The headers or keys found.
        headers: Vec<String>,
    },
    /// The configured encoding is unknown, or the file is UTF-16.
    #[error("{}: {message}", path.display())]
    Encoding {
        /// The input file.
        path: PathBuf,
        /// What is wrong and what to do.
        message: String,
    },
    /// The file as a whole is not in the expected format.
    #[error("{}:{line}: {message}", path.display())]
    Format {
        /// The input file.
        path: PathBuf,
        /// 1-based line.
        line: u64,
        /// What is wrong.
        message: String,
    },
}

fn delimiter_hint(headers: &[String]) -> &'static str {
    match headers {
        [only] if only.contains([';', '\t', '|', ',']) => {
            "; the header is one single column, so the delimiter may be wrong: set [input] delimiter"
        }
        _ => "",
    }
}

/// A row that could not be accepted: where it was, why, and what it held.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reject {
    /// File and line.
    pub origin: Origin,
    /// Why the row was rejected.
    pub reason: String,
    /// The row as read (decoded with replacement characters where bytes were invalid).
    pub raw: String,
}

/// One row of an input file: accepted as feedback, or rejected.
pub type Row = Result<Feedback, Reject>;

/// Everything ingest needs from the configuration.
#[derive(Debug, Clone)]
pub struct IngestSettings {
    /// Encoding label or `auto`.
    pub encoding: String,
    /// Delimiter or `auto`.
    pub delimiter: String,
    /// Configured column names.
    pub columns: ColumnsConfig,
    /// How values are parsed.
    pub values: ValueSettings,
}

impl IngestSettings {
    /// The ingest part of a workspace configuration.
    pub fn from_config(config: &Config) -> IngestSettings {
        IngestSettings {
            encoding: config.input.encoding.clone(),
            delimiter: config.input.delimiter.clone(),
            columns: config.columns.clone(),
            values: ValueSettings {
                date_order: config.input.date_order,
                max_text_bytes: config.input.max_text_bytes,
                defaults: config.defaults.clone(),
            },
        }
    }
}

/// The layout of an input file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// CSV/TSV with a header line and this delimiter.
    Delimited(u8),
    /// One JSON object a line.
    JsonLines,
    /// One JSON array of objects.
    JsonArray,
    /// Plain text, one document a line.
    Lines,
}

impl std::fmt::Display for Format {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Format::Delimited(b'\t') => write!(formatter, "TSV"),
            Format::Delimited(b',') => write!(formatter, "CSV"),
            Format::Delimited(delimiter) => write!(formatter, "CSV ({})", *delimiter as char),
            Format::JsonLines => write!(formatter, "JSON Lines"),
            Format::JsonArray => write!(formatter, "JSON array"),
            Format::Lines => write!(formatter, "text lines"),
        }
    }
}

/// An input file, checked and ready to read.
#[derive(Debug, Clone)]
pub struct InputFile {
    path: PathBuf,
    format: Format,
    encoding: &'static Encoding,
    columns: ColumnMap,
    size: u64,
    /// Lines end in CR LF (the csv crate then reports every line after the first one short).
    crlf: bool,
}

impl InputFile {
    /// Opens a file, chooses its format and encoding, and maps its columns. Fails with a clear
    /// message when the file cannot be read or has no text column.
    pub fn open(path: &Path, settings: &IngestSettings) -> Result<InputFile, IngestError> {
        let unreadable = |source| IngestError::Unreadable {
            path: path.to_path_buf(),
            source,
        };
        let file = File::open(path).map_err(unreadable)?;
        let size = file.metadata().map_err(unreadable)?.len();
        let mut sample = Vec::new();
        file.take(decode::SAMPLE_BYTES as u64)
            .read_to_end(&mut sample)
            .map_err(unreadable)?;
        let encoding = decode::choose(&settings.encoding, &sample).map_err(|problem| {
            let message = match problem {
                decode::EncodingProblem::UnknownLabel(label) => format!(
                    "unknown encoding '{label}' in [input] encoding; use auto, utf-8, gb18030 or big5"
                ),
                decode::EncodingProblem::Utf16 => {
                    "the file is UTF-16; save it as UTF-8 (or GB18030 / Big5) and run again".into()
                }
            };
            IngestError::Encoding {
                path: path.to_path_buf(),
                message,
            }
        })?;
        let sample = sample.strip_prefix(decode::UTF8_BOM).unwrap_or(&sample);
        let format = detect_format(path, sample, &settings.delimiter)?;
        let headers = match format {
            Format::Delimited(delimiter) => delimited::headers(sample, delimiter, encoding),
            Format::JsonLines | Format::JsonArray => json::keys(path, format, encoding)?,
            Format::Lines => vec![LINE_COLUMN.to_string()],
        };
        let columns =
            ColumnMap::resolve(&headers, &settings.columns).map_err(|problem| match problem {
                fields::MappingProblem::NoTextColumn => IngestError::NoTextColumn {
                    path: path.to_path_buf(),
                    headers: headers.clone(),
                },
                fields::MappingProblem::MissingColumn { field, column } => {
                    IngestError::MissingColumn {
                        path: path.to_path_buf(),
                        field,
                        column,
                        headers: headers.clone(),
                    }
                }
            })?;
        let crlf = sample
            .iter()
            .position(|&byte| byte == b'\n')
            .is_some_and(|end| end > 0 && sample[end - 1] == b'\r');
        Ok(InputFile {
            path: path.to_path_buf(),
            format,
            encoding,
            columns,
            size,
            crlf,
        })
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Size in bytes.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The chosen encoding's name.
    pub fn encoding_name(&self) -> &'static str {
        decode::name(self.encoding)
    }

    /// The chosen format.
    pub fn format(&self) -> Format {
        self.format
    }

    /// The column map in use.
    pub fn columns(&self) -> &ColumnMap {
        &self.columns
    }

    /// Reads the rows, streaming.
    pub fn rows(&self, settings: &IngestSettings) -> Result<RowReader, IngestError> {
        let context = RowContext {
            display: self.path.display().to_string(),
            encoding: self.encoding,
            columns: self.columns.clone(),
            values: settings.values.clone(),
        };
        let unreadable = |source| IngestError::Unreadable {
            path: self.path.clone(),
            source,
        };
        let mut reader =
            BufReader::with_capacity(1 << 16, File::open(&self.path).map_err(unreadable)?);
        skip_bom(&mut reader).map_err(unreadable)?;
        let inner = match self.format {
            Format::Delimited(delimiter) => {
                Inner::Delimited(delimited::Rows::new(reader, delimiter, self.crlf))
            }
            Format::JsonLines => Inner::JsonLines(json::LineRows::new(reader, false)),
            Format::Lines => Inner::JsonLines(json::LineRows::new(reader, true)),
            Format::JsonArray => {
                Inner::JsonArray(json::ArrayRows::read(reader, &context).map_err(
                    |(line, message)| IngestError::Format {
                        path: self.path.clone(),
                        line,
                        message,
                    },
                )?)
            }
        };
        Ok(RowReader { inner, context })
    }
}

/// The column name of plain-text files, one document a line.
pub const LINE_COLUMN: &str = "text";

fn skip_bom(reader: &mut BufReader<File>) -> std::io::Result<()> {
    use std::io::BufRead;
    if reader.fill_buf()?.starts_with(decode::UTF8_BOM) {
        reader.consume(decode::UTF8_BOM.len());
    }
    Ok(())
}

fn detect_format(path: &Path, sample: &[u8], delimiter: &str) -> Result<Format, IngestError> {
    let extension = path
        .extension()
        .and_then(|extension| extension.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    let first = sample
        .iter()
        .find(|byte| !byte.is_ascii_whitespace())
        .copied();
    let configured = match delimiter {
        "auto" => None,
        "tab" | "\\t" | "\t" => Some(b'\t'),
        other if other.len() == 1 => Some(other.as_bytes()[0]),
        other => {
            return Err(IngestError::Format {
                path: path.to_path_buf(),
                line: 0,
                message: format!(
                    "[input] delimiter '{other}' must be one character, 'tab' or 'auto'"
                ),
            })
        }
    };
    Ok(match extension.as_str() {
        "jsonl" | "ndjson" => Format::JsonLines,
        "json" if first == Some(b'[') => Format::JsonArray,
        "json" => Format::JsonLines,
        "txt" => Format::Lines,
        "tsv" | "tab" => Format::Delimited(configured.unwrap_or(b'\t')),
        _ if first == Some(b'[') => Format::JsonArray,
        _ if first == Some(b'{') => Format::JsonLines,
        _ => Format::Delimited(configured.unwrap_or_else(|| delimited::sniff_delimiter(sample))),
    })
}

/// What every row reader needs to turn raw values into feedback.
pub(crate) struct RowContext {
    display: String,
    encoding: &'static Encoding,
    columns: ColumnMap,
    values: ValueSettings,
}

impl RowContext {
    fn origin(&self, line: u64) -> Origin {
        Origin {
            file: self.display.clone(),
            line,
        }
    }

    fn reject(&self, line: u64, reason: impl Into<String>, raw: String) -> Reject {
        Reject {
            origin: self.origin(line),
            reason: reason.into(),
            raw: capped_raw(raw),
        }
    }
}

/// Most bytes of a rejected row the rejects file keeps: enough to see what is wrong, without
/// copying a 50 MB line whole.
pub const MAX_REJECT_RAW_BYTES: usize = 64 * 1024;

/// The row cut to [`MAX_REJECT_RAW_BYTES`] at a character boundary, marked when cut.
fn capped_raw(mut raw: String) -> String {
    if raw.len() <= MAX_REJECT_RAW_BYTES {
        return raw;
    }
    let total = raw.len();
    let mut end = MAX_REJECT_RAW_BYTES;
    while !raw.is_char_boundary(end) {
        end -= 1;
    }
    raw.truncate(end);
    raw.push_str(&format!(" [cut: first {end} of {total} bytes]"));
    raw
}

enum Inner {
    Delimited(delimited::Rows),
    JsonLines(json::LineRows),
    JsonArray(json::ArrayRows),
}

/// Streams the rows of one input file.
pub struct RowReader {
    inner: Inner,
    context: RowContext,
}

impl RowReader {
    /// Bytes of the file consumed so far (for progress).
    pub fn bytes_read(&self) -> u64 {
        match &self.inner {
            Inner::Delimited(rows) => rows.bytes_read(),
            Inner::JsonLines(rows) => rows.bytes_read(),
            Inner::JsonArray(rows) => rows.bytes_read(),
        }
    }
}

impl Iterator for RowReader {
    type Item = Row;

    fn next(&mut self) -> Option<Row> {
        match &mut self.inner {
            Inner::Delimited(rows) => rows.next_row(&self.context),
            Inner::JsonLines(rows) => rows.next_row(&self.context),
            Inner::JsonArray(rows) => rows.next_row(&self.context),
        }
    }
}

#[cfg(test)]
mod reject_tests {
    use super::*;

    #[test]
    fn rejected_rows_keep_at_most_64_kib_and_say_they_were_cut() {
        let short = "id,text".to_string();
        assert_eq!(capped_raw(short.clone()), short);
        let long = "异".repeat(MAX_REJECT_RAW_BYTES);
        let capped = capped_raw(long);
        assert!(capped.len() < MAX_REJECT_RAW_BYTES + 64, "{}", capped.len());
        assert!(capped.ends_with(&format!(
            " [cut: first {} of {} bytes]",
            MAX_REJECT_RAW_BYTES - 1,
            3 * MAX_REJECT_RAW_BYTES
        )));
    }
}
