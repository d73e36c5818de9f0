//! CSV and TSV files with a header line. Records are parsed as bytes (the delimiters, quotes and
//! newlines of UTF-8, GB18030 and Big5 text are all ASCII and never appear inside a multi-byte
//! character), then the mapped fields of each record are decoded on their own.

use super::{decode, fields, Row, RowContext};
use csv::{ByteRecord, ReaderBuilder};
use encoding_rs::Encoding;
use std::collections::HashMap;
use std::fs::File;
use std::io::BufReader;

/// Picks the delimiter that occurs most often outside quotes in the header line.
pub fn sniff_delimiter(sample: &[u8]) -> u8 {
    let mut counts = [(b',', 0usize), (b'\t', 0), (b';', 0), (b'|', 0)];
    let mut quoted = false;
    for &byte in sample.iter().take_while(|byte| **byte != b'\n') {
        if byte == b'"' {
            quoted = !quoted;
        } else if !quoted {
            if let Some(entry) = counts.iter_mut().find(|(delimiter, _)| *delimiter == byte) {
                entry.1 += 1;
            }
        }
    }
    counts
        .iter()
        .max_by_key(|(_, count)| *count)
        .filter(|(_, count)| *count > 0)
        .map_or(b',', |(delimiter, _)| *delimiter)
}

/// The header names of a delimited file, from a sample of its first bytes.
pub fn headers(sample: &[u8], delimiter: u8, encoding: &'static Encoding) -> Vec<String> {
    let mut reader = builder(delimiter).has_headers(false).from_reader(sample);
    let mut record = ByteRecord::new();
    match reader.read_byte_record(&mut record) {
        Ok(true) => record
            .iter()
            .map(|field| decode::decode_lossy(encoding, field).trim().to_string())
            .collect(),
        _ => Vec::new(),
    }
}

fn builder(delimiter: u8) -> ReaderBuilder {
    let mut builder = ReaderBuilder::new();
    builder.delimiter(delimiter).flexible(true);
    builder
}

/// Streaming reader of the data records.
pub struct Rows {
    reader: csv::Reader<BufReader<File>>,
    index: Option<HashMap<String, usize>>,
    header_count: usize,
    delimiter: u8,
    record: ByteRecord,
    finished: bool,
    /// Added to the csv crate's line numbers: with CR LF endings it counts each line break only
    /// when the next record starts, so every record after the first is reported one line early.
    line_correction: u64,
}

impl Rows {
    /// Starts reading after the header line; `crlf` when lines end in CR LF.
    pub fn new(reader: BufReader<File>, delimiter: u8, crlf: bool) -> Rows {
        Rows {
            reader: builder(delimiter).has_headers(false).from_reader(reader),
            index: None,
            header_count: 0,
            delimiter,
            record: ByteRecord::new(),
            finished: false,
            line_correction: u64::from(crlf),
        }
    }

    /// Bytes consumed so far.
    pub fn bytes_read(&self) -> u64 {
        self.reader.position().byte()
    }

    fn read_headers(&mut self, context: &RowContext) -> bool {
        match self.reader.read_byte_record(&mut self.record) {
            Ok(true) => {
                self.header_count = self.record.len();
                let index = self
                    .record
                    .iter()
                    .enumerate()
                    .map(|(position, field)| {
                        (
                            decode::decode_lossy(context.encoding, field)
                                .trim()
                                .to_string(),
                            position,
                        )
                    })
                    .collect();
                self.index = Some(index);
                true
            }
            _ => false,
        }
    }

    /// The next row, or `None` at the end of the file.
    pub fn next_row(&mut self, context: &RowContext) -> Option<Row> {
        if self.finished {
            return None;
        }
        if self.index.is_none() && !self.read_headers(context) {
            self.finished = true;
            return None;
        }
        match self.reader.read_byte_record(&mut self.record) {
            Ok(true) => Some(self.current_row(context)),
            Ok(false) => {
                self.finished = true;
                None
            }
            Err(error) => {
                self.finished = true;
                let line = error
                    .position()
                    .map_or(0, |position| position.line() + self.line_correction);
                Some(Err(context.reject(
                    line,
                    format!("read error, rest of file skipped: {error}"),
                    String::new(),
                )))
            }
        }
    }

    fn current_row(&self, context: &RowContext) -> Row {
        let line = self
            .record
            .position()
            .map_or(0, |position| position.line() + self.line_correction);
        let raw = || {
            let separator = [self.delimiter];
            let joined = self.record.iter().collect::<Vec<_>>().join(&separator[..]);
            decode::decode_lossy(context.encoding, &joined)
        };
        if self.record.len() != self.header_count {
            return Err(context.reject(
                line,
                format!(
                    "expected {} fields like the header, found {} (unbalanced quote, truncated row or wrong delimiter?)",
                    self.header_count,
                    self.record.len()
                ),
                raw(),
            ));
        }
        let index = self.index.as_ref().expect("headers are read first");
        let columns = &context.columns;
        let mut decoded: HashMap<&str, String> = HashMap::new();
        for column in mapped_columns(columns) {
            let Some(bytes) = index
                .get(column)
                .and_then(|position| self.record.get(*position))
            else {
                continue;
            };
            match decode::decode(context.encoding, bytes) {
                Some(value) => {
                    decoded.insert(column, value);
                }
                None => {
                    return Err(context.reject(
                        line,
                        format!(
                            "column '{column}' has bytes that are not valid {} (mixed encodings?)",
                            decode::name(context.encoding)
                        ),
                        raw(),
                    ))
                }
            }
        }
        fields::feedback_from_row(
            |column| decoded.get(column).map(String::as_str),
            columns,
            &context.values,
            context.origin(line),
        )
        .map_err(|reason| context.reject(line, reason, raw()))
    }
}

/// The column names a map uses.
pub fn mapped_columns(columns: &fields::ColumnMap) -> impl Iterator<Item = &str> {
    std::iter::once(columns.text.as_str()).chain(
        [
            &columns.id,
            &columns.date,
            &columns.rating,
            &columns.source,
            &columns.channel,
            &columns.location,
            &columns.product,
            &columns.customer_id,
            &columns.customer_value,
            &columns.label,
        ]
        .into_iter()
        .filter_map(|column| column.as_deref()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_the_delimiter_outside_quotes() {
        assert_eq!(sniff_delimiter(b"text;date;rating\n"), b';');
        assert_eq!(sniff_delimiter(b"\"a,b,c\"\tdate\n"), b'\t');
        assert_eq!(sniff_delimiter(b"text\n"), b',');
    }
}
