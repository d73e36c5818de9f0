//! The complaint units of a mined workspace, as `mine` gives them to the problem stage: every
//! candidate document of the index split into units and encoded through the workspace's
//! embedding cache by the real encoders (a warm cache makes this quick), for the benches of the
//! problem stage.

use std::path::Path;

use vocmine::config::{EnglishUnitEncoder, ModelConfig};
use vocmine::index::{stored_documents, DocumentIndex, StoredDocument};
use vocmine::model::Encoder;
use vocmine::model::ModelChoice;
use vocmine::pipeline::{complaint_units, open_configured_encoder, CandidateUnits, UnitSource};
use vocmine::problems::{is_candidate, is_complaint_source, Candidate, ProblemUnit};
use vocmine::progress::NoProgress;
use vocmine::workspace::Workspace;

/// A workspace's candidate documents and their chosen complaint units.
pub struct MinedUnits {
    pub workspace: Workspace,
    pub stored: Vec<StoredDocument>,
    pub units: CandidateUnits,
    pub model: String,
}

/// Reads the candidates of the workspace at `root` and makes their units.
pub fn mined_units(root: &Path) -> MinedUnits {
    let workspace = Workspace::open(root).expect("workspace");
    let index = DocumentIndex::open(&workspace.index_dir()).expect("index");
    let config = &workspace.config;
    let stored: Vec<StoredDocument> =
        stored_documents(&index.searcher(), index.fields(), &tantivy::query::AllQuery)
            .expect("documents")
            .into_iter()
            .filter(|s| is_candidate(&s.document, &s.enrichment, &config.cluster))
            .collect();
    let mut encoder = open_configured_encoder(&config.model).expect("the configured encoder");
    let mut english = match config.cluster.english_encoder {
        EnglishUnitEncoder::Minilm => Some(
            open_configured_encoder(&ModelConfig {
                encoder: ModelChoice::MiniLm,
                ..config.model.clone()
            })
            .expect("the English unit encoder"),
        ),
        _ => None,
    };
    let sources: Vec<UnitSource<'_>> = stored
        .iter()
        .map(|s| UnitSource {
            document: &s.document,
            complaint: is_complaint_source(&s.document, &config.cluster),
        })
        .collect();
    let units = complaint_units(
        &sources,
        encoder.as_mut(),
        english.as_mut().map(|e| e.as_mut() as &mut dyn Encoder),
        &workspace.embedding_cache_dir(),
        &config.cluster.sentiments,
        &NoProgress,
    )
    .expect("complaint units");
    let model = encoder.model_id();
    drop(sources);
    MinedUnits {
        workspace,
        stored,
        units,
        model,
    }
}

impl MinedUnits {
    /// The candidates at positions `keep` (in that order) and their units, as the stage takes
    /// them.
    pub fn subset(&self, keep: &[usize]) -> (Vec<Candidate<'_>>, Vec<ProblemUnit<'_>>) {
        let mut position_of = vec![usize::MAX; self.stored.len()];
        for (position, &row) in keep.iter().enumerate() {
            position_of[row] = position;
        }
        let candidates = keep
            .iter()
            .map(|&row| Candidate {
                document: &self.stored[row].document,
                enrichment: &self.stored[row].enrichment,
                run: &self.stored[row].run,
            })
            .collect();
        let mut units: Vec<ProblemUnit<'_>> = self
            .units
            .problem_units()
            .into_iter()
            .filter(|unit| position_of[unit.candidate] != usize::MAX)
            .map(|unit| ProblemUnit {
                candidate: position_of[unit.candidate],
                ..unit
            })
            .collect();
        units.sort_by_key(|unit| (unit.candidate, unit.start));
        (candidates, units)
    }

    /// The texts of the positive documents of the index (the stage's naming background).
    pub fn background(&self) -> Vec<String> {
        let index = DocumentIndex::open(&self.workspace.index_dir()).expect("index");
        stored_documents(&index.searcher(), index.fields(), &tantivy::query::AllQuery)
            .expect("documents")
            .into_iter()
            .filter(|s| s.enrichment.sentiment.as_deref() == Some("positive"))
            .map(|s| s.document.text)
            .collect()
    }
}
