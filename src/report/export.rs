//! Machine-readable outputs for analysts' own tools: every document in the index with its
//! enrichments as Parquet (the per-problem `assignments.csv` / `.json` come from
//! [`crate::problem::assignment_files`]). Parquet is written with the low-level column writer,
//! uncompressed and without arrow: a handful of flat columns does not need more, and the build
//! stays small. Documents go out in row groups of [`ROW_GROUP_DOCUMENTS`], in index order.

use std::collections::HashMap;
use std::io::Write;
use std::path::Path;
use std::sync::Arc;

use parquet::data_type::{ByteArray, ByteArrayType, DoubleType, Int32Type};
use parquet::errors::ParquetError;
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::parser::parse_message_type;
use tantivy::TantivyDocument;

use crate::fault::Fault;
use crate::index::{DocumentIndex, Fields, StoredDocument};
use crate::problem::ProblemsFile;
use crate::workspace::AtomicFile;

use super::ReportError;

/// File name of the documents export.
pub const DOCUMENTS_FILE: &str = "documents.parquet";

/// Documents per Parquet row group.
pub const ROW_GROUP_DOCUMENTS: usize = 8192;

/// The Parquet schema of `documents.parquet`; dates are days since 1970-01-01.
const DOCUMENTS_SCHEMA: &str = "
message document {
    required binary id (UTF8);
    optional int32 date (DATE);
    optional binary source (UTF8);
    optional binary language (UTF8);
    required binary text (UTF8);
    optional binary sentiment (UTF8);
    optional double sentiment_score;
    optional binary topic (UTF8);
    optional binary cluster (UTF8);
    optional binary team (UTF8);
}";

/// One document as exported.
#[derive(Debug, Default)]
struct DocumentRow {
    id: String,
    date: Option<i32>,
    source: Option<String>,
    language: Option<String>,
    text: String,
    sentiment: Option<String>,
    sentiment_score: Option<f64>,
    topic: Option<String>,
    cluster: Option<String>,
    team: Option<String>,
}

/// Writes every committed document with its enrichments to `path` as Parquet, streamed (one row
/// group in memory at a time) into a file that replaces `path` only once complete, and returns
/// how many documents it holds. A document assigned in the reported period carries that period's problem and team (so the
/// file agrees with `assignments.csv` beside it, also when an older period is regenerated);
/// any other document keeps what the index holds.
pub fn documents_parquet(
    index: &DocumentIndex,
    problems: &ProblemsFile,
    path: &Path,
    fault: &Fault,
) -> Result<u64, ReportError> {
    let failed = |source| ReportError::Parquet {
        path: path.to_path_buf(),
        source,
    };
    let assigned: HashMap<&str, (&str, &str)> = problems
        .assignments
        .iter()
        .map(|row| (row.id.as_str(), (row.problem.as_str(), row.team.as_str())))
        .collect();
    let schema = Arc::new(parse_message_type(DOCUMENTS_SCHEMA).map_err(failed)?);
    let properties = Arc::new(WriterProperties::builder().build());
    let file = AtomicFile::create(path)?;
    let mut writer = SerializedFileWriter::new(file, schema, properties).map_err(failed)?;
    let searcher = index.searcher();
    let mut rows = Vec::with_capacity(ROW_GROUP_DOCUMENTS);
    let mut count = 0u64;
    for segment in searcher.segment_readers() {
        let store = segment
            .get_store_reader(0)
            .map_err(tantivy::TantivyError::from)?;
        for stored in store.iter::<TantivyDocument>(segment.alive_bitset()) {
            let mut row = document_row(&stored?, index.fields());
            apply_assignment(&mut row, &assigned);
            rows.push(row);
            count += 1;
            if rows.len() == ROW_GROUP_DOCUMENTS {
                write_row_group(&mut writer, &rows).map_err(failed)?;
                rows.clear();
            }
        }
    }
    if !rows.is_empty() || count == 0 {
        write_row_group(&mut writer, &rows).map_err(failed)?;
    }
    let file = writer.into_inner().map_err(failed)?;
    fault.check("report-documents")?;
    file.commit()?;
    Ok(count)
}

fn document_row(document: &TantivyDocument, fields: &Fields) -> DocumentRow {
    let StoredDocument {
        document,
        enrichment,
        ..
    } = StoredDocument::from_tantivy(document, fields);
    let epoch = chrono::NaiveDate::from_ymd_opt(1970, 1, 1).expect("valid date");
    DocumentRow {
        id: document.id,
        date: document
            .metadata
            .date
            .and_then(|date| i32::try_from((date - epoch).num_days()).ok()),
        source: document.metadata.source,
        language: Some(document.language.code().to_string()),
        text: document.text,
        sentiment: enrichment.sentiment,
        sentiment_score: enrichment.sentiment_score,
        topic: enrichment.topic,
        cluster: enrichment.cluster,
        team: enrichment.team,
    }
}

fn apply_assignment(row: &mut DocumentRow, assigned: &HashMap<&str, (&str, &str)>) {
    if let Some((problem, team)) = assigned.get(row.id.as_str()) {
        row.cluster = Some(problem.to_string());
        row.team = Some(team.to_string());
    }
}

/// Values and definition levels of an optional column (level 1 = present).
fn optional<T: Clone>(values: impl Iterator<Item = Option<T>>) -> (Vec<T>, Vec<i16>) {
    let mut present = Vec::new();
    let mut levels = Vec::new();
    for value in values {
        levels.push(i16::from(value.is_some()));
        present.extend(value);
    }
    (present, levels)
}

fn strings<'a>(values: impl Iterator<Item = Option<&'a String>>) -> (Vec<ByteArray>, Vec<i16>) {
    optional(values.map(|value| value.map(|text| ByteArray::from(text.as_str()))))
}

/// A column's data, in schema order.
enum Column {
    Text(Vec<ByteArray>, Option<Vec<i16>>),
    Date(Vec<i32>, Vec<i16>),
    Number(Vec<f64>, Vec<i16>),
}

fn columns(rows: &[DocumentRow]) -> Vec<Column> {
    let required = |values: Vec<ByteArray>| Column::Text(values, None);
    let optional_text = |(values, levels)| Column::Text(values, Some(levels));
    let (dates, date_levels) = optional(rows.iter().map(|row| row.date));
    let (scores, score_levels) = optional(rows.iter().map(|row| row.sentiment_score));
    vec![
        required(
            rows.iter()
                .map(|row| ByteArray::from(row.id.as_str()))
                .collect(),
        ),
        Column::Date(dates, date_levels),
        optional_text(strings(rows.iter().map(|row| row.source.as_ref()))),
        optional_text(strings(rows.iter().map(|row| row.language.as_ref()))),
        required(
            rows.iter()
                .map(|row| ByteArray::from(row.text.as_str()))
                .collect(),
        ),
        optional_text(strings(rows.iter().map(|row| row.sentiment.as_ref()))),
        Column::Number(scores, score_levels),
        optional_text(strings(rows.iter().map(|row| row.topic.as_ref()))),
        optional_text(strings(rows.iter().map(|row| row.cluster.as_ref()))),
        optional_text(strings(rows.iter().map(|row| row.team.as_ref()))),
    ]
}

fn write_row_group(
    writer: &mut SerializedFileWriter<impl Write + Send>,
    rows: &[DocumentRow],
) -> Result<(), ParquetError> {
    let mut group = writer.next_row_group()?;
    for column in columns(rows) {
        let mut column_writer = group
            .next_column()?
            .ok_or_else(|| ParquetError::General("schema has fewer columns than rows".into()))?;
        match &column {
            Column::Text(values, levels) => {
                column_writer.typed::<ByteArrayType>().write_batch(
                    values,
                    levels.as_deref(),
                    None,
                )?;
            }
            Column::Date(values, levels) => {
                column_writer
                    .typed::<Int32Type>()
                    .write_batch(values, Some(levels), None)?;
            }
            Column::Number(values, levels) => {
                column_writer
                    .typed::<DoubleType>()
                    .write_batch(values, Some(levels), None)?;
            }
        }
        column_writer.close()?;
    }
    group.close()?;
    Ok(())
}
