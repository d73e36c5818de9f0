//! JSON Lines (one object a line), JSON arrays of objects, and plain text (one document a line).
//! Each object's values are looked up by key through the file's column map; numbers and booleans
//! are read as their text.

use super::{decode, fields, Format, IngestError, Row, RowContext, LINE_COLUMN};
use encoding_rs::Encoding;
use serde_json::value::RawValue;
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

/// How many leading objects are looked at to find the keys of a file.
const KEY_SAMPLE_OBJECTS: usize = 200;

/// The keys of the first objects of a JSON file, in first-seen order.
pub fn keys(
    path: &Path,
    format: Format,
    encoding: &'static Encoding,
) -> Result<Vec<String>, IngestError> {
    let unreadable = |source| IngestError::Unreadable {
        path: path.to_path_buf(),
        source,
    };
    let mut keys: Vec<String> = Vec::new();
    let mut add = |object: &Map<String, Value>| {
        for key in object.keys() {
            if !keys.contains(key) {
                keys.push(key.clone());
            }
        }
    };
    let mut reader = BufReader::new(File::open(path).map_err(unreadable)?);
    if format == Format::JsonArray {
        let mut bytes = Vec::new();
        reader.read_to_end(&mut bytes).map_err(unreadable)?;
        let text = decode::decode_lossy(encoding, &bytes);
        let values: Vec<Value> = serde_json::from_str(text.trim_start_matches('\u{feff}'))
            .map_err(|error| IngestError::Format {
                path: path.to_path_buf(),
                line: error.line() as u64,
                message: format!("not a valid JSON array: {error}"),
            })?;
        values
            .iter()
            .filter_map(Value::as_object)
            .take(KEY_SAMPLE_OBJECTS)
            .for_each(&mut add);
    } else {
        let mut seen = 0;
        let mut line = Vec::new();
        while seen < KEY_SAMPLE_OBJECTS
            && reader.read_until(b'\n', &mut line).map_err(unreadable)? > 0
        {
            let text = decode::decode_lossy(encoding, &line);
            if let Ok(Value::Object(object)) =
                serde_json::from_str(text.trim().trim_start_matches('\u{feff}'))
            {
                add(&object);
                seen += 1;
            }
            line.clear();
        }
    }
    Ok(keys)
}

fn value_text(value: &Value) -> Option<String> {
    match value {
        Value::Null => None,
        Value::String(text) => Some(text.clone()),
        Value::Number(number) => Some(number.to_string()),
        Value::Bool(flag) => Some(flag.to_string()),
        other => Some(other.to_string()),
    }
}

/// Turns one parsed JSON object into a row.
fn object_row(object: &Map<String, Value>, line: u64, raw: &str, context: &RowContext) -> Row {
    let values: HashMap<&str, String> = super::delimited::mapped_columns(&context.columns)
        .filter_map(|column| {
            object
                .get(column)
                .and_then(value_text)
                .map(|text| (column, text))
        })
        .collect();
    fields::feedback_from_row(
        |column| values.get(column).map(String::as_str),
        &context.columns,
        &context.values,
        context.origin(line),
    )
    .map_err(|reason| context.reject(line, reason, raw.to_string()))
}

/// Streaming reader of JSON Lines or plain-text lines.
pub struct LineRows {
    reader: BufReader<File>,
    plain_text: bool,
    line: u64,
    bytes: u64,
    buffer: Vec<u8>,
}

impl LineRows {
    /// Reads `reader` line by line; `plain_text` makes each line a document.
    pub fn new(reader: BufReader<File>, plain_text: bool) -> LineRows {
        LineRows {
            reader,
            plain_text,
            line: 0,
            bytes: 0,
            buffer: Vec::new(),
        }
    }

    /// Bytes consumed so far.
    pub fn bytes_read(&self) -> u64 {
        self.bytes
    }

    /// The next row, or `None` at the end of the file. Blank lines are not rows.
    pub fn next_row(&mut self, context: &RowContext) -> Option<Row> {
        loop {
            self.buffer.clear();
            let read = match self.reader.read_until(b'\n', &mut self.buffer) {
                Ok(0) => return None,
                Ok(read) => read,
                Err(error) => {
                    return Some(Err(context.reject(
                        self.line + 1,
                        format!("read error: {error}"),
                        String::new(),
                    )))
                }
            };
            self.bytes += read as u64;
            self.line += 1;
            let bytes = self.buffer.trim_ascii();
            if bytes.is_empty() {
                continue;
            }
            let Some(text) = decode::decode(context.encoding, bytes) else {
                let raw = decode::decode_lossy(context.encoding, bytes);
                let reason = format!(
                    "line has bytes that are not valid {} (mixed encodings?)",
                    decode::name(context.encoding)
                );
                return Some(Err(context.reject(self.line, reason, raw)));
            };
            if self.plain_text {
                let row = fields::feedback_from_row(
                    |column| (column == LINE_COLUMN).then_some(text.as_str()),
                    &context.columns,
                    &context.values,
                    context.origin(self.line),
                )
                .map_err(|reason| context.reject(self.line, reason, text.clone()));
                return Some(row);
            }
            return Some(match serde_json::from_str::<Value>(&text) {
                Ok(Value::Object(object)) => object_row(&object, self.line, &text, context),
                Ok(_) => {
                    Err(context.reject(self.line, "expected a JSON object on this line", text))
                }
                Err(error) => Err(context.reject(self.line, json_error(&error), text)),
            });
        }
    }
}

/// Reader of a JSON array, parsed whole (arrays cannot be streamed line by line).
pub struct ArrayRows {
    elements: std::vec::IntoIter<(u64, String)>,
    total_bytes: u64,
    done_bytes: u64,
}

impl ArrayRows {
    /// Reads and splits the array; the error is (line, message).
    pub fn read(
        mut reader: BufReader<File>,
        context: &RowContext,
    ) -> Result<ArrayRows, (u64, String)> {
        let mut bytes = Vec::new();
        reader
            .read_to_end(&mut bytes)
            .map_err(|error| (0, format!("read error: {error}")))?;
        let text = decode::decode(context.encoding, &bytes).ok_or_else(|| {
            (
                0,
                format!("the file is not valid {}", decode::name(context.encoding)),
            )
        })?;
        let elements: Vec<&RawValue> = serde_json::from_str(&text).map_err(|error| {
            (
                error.line() as u64,
                format!("not a valid JSON array: {error}"),
            )
        })?;
        let base = text.as_ptr() as usize;
        let owned: Vec<(u64, String)> = elements
            .iter()
            .map(|element| {
                let offset = element.get().as_ptr() as usize - base;
                let line = 1 + text.as_bytes()[..offset]
                    .iter()
                    .filter(|byte| **byte == b'\n')
                    .count() as u64;
                (line, element.get().to_string())
            })
            .collect();
        Ok(ArrayRows {
            elements: owned.into_iter(),
            total_bytes: bytes.len() as u64,
            done_bytes: 0,
        })
    }

    /// Bytes consumed so far (estimated from elements read).
    pub fn bytes_read(&self) -> u64 {
        self.done_bytes.min(self.total_bytes)
    }

    /// The next element as a row.
    pub fn next_row(&mut self, context: &RowContext) -> Option<Row> {
        let (line, raw) = self.elements.next()?;
        self.done_bytes += raw.len() as u64 + 2;
        Some(match serde_json::from_str::<Value>(&raw) {
            Ok(Value::Object(object)) => object_row(&object, line, &raw, context),
            Ok(_) => Err(context.reject(line, "expected a JSON object in the array", raw)),
            Err(error) => Err(context.reject(line, json_error(&error), raw)),
        })
    }
}

/// Why a JSON row could not be read, in words a user can act on: serde_json's "recursion limit
/// exceeded" means valid JSON nested too deep, not malformed JSON.
fn json_error(error: &serde_json::Error) -> String {
    if error.to_string().starts_with("recursion limit exceeded") {
        "the JSON is nested deeper than 128 levels; give each row one object of fields".to_string()
    } else {
        format!("malformed JSON: {error}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_nested_too_deep_is_named_as_such_not_as_a_recursion_limit() {
        let deep = format!("{{\"a\":{}1{}}}", "[".repeat(200), "]".repeat(200));
        let error = serde_json::from_str::<Value>(&deep).unwrap_err();
        assert_eq!(
            json_error(&error),
            "the JSON is nested deeper than 128 levels; give each row one object of fields"
        );
        let error = serde_json::from_str::<Value>("{\"a\":").unwrap_err();
        assert!(json_error(&error).starts_with("malformed JSON: "));
    }
}
