//! The workspace: one directory per customer base holding `vocmine.toml`, the tantivy index,
//! the rejects of every run and the run log. [`Workspace::init`] creates one with a commented
//! default configuration; [`Workspace::open`] checks it and reads the configuration. Files that
//! a run writes go through [`write_atomically`], so an interrupted run never leaves a
//! half-written file where a complete one is expected.

use crate::config::{Config, DEFAULT_CONFIG};
use std::fs;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use thiserror::Error;

/// The environment variable that moves the embedding cache out of the workspace.
pub const EMBEDDING_CACHE_VARIABLE: &str = "VOCMINE_EMBEDDING_CACHE";

/// File name of the configuration inside a workspace.
pub const CONFIG_FILE: &str = "vocmine.toml";

/// Errors about the workspace directory and its configuration.
#[derive(Debug, Error)]
pub enum WorkspaceError {
    /// The directory is not a workspace.
    #[error("{} is not a vocmine workspace (no {CONFIG_FILE}); create one with `vocmine init {}`", .0.display(), .0.display())]
    NotAWorkspace(PathBuf),
    /// `init` would overwrite an existing configuration.
    #[error("{} already exists; edit it, or remove it to start over", .0.display())]
    AlreadyExists(PathBuf),
    /// The configuration file is not valid.
    #[error("invalid configuration {}: {source}", path.display())]
    Config {
        /// The configuration file.
        path: PathBuf,
        /// What the TOML parser found.
        #[source]
        source: toml::de::Error,
    },
    /// Reading or writing a workspace file failed.
    #[error("cannot {action} {}: {source}", path.display())]
    Io {
        /// What was being done (read, write, create).
        action: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
}

impl WorkspaceError {
    /// Wraps an I/O error with what was done to which path.
    pub fn io(action: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> WorkspaceError {
        let path = path.to_path_buf();
        move |source| WorkspaceError::Io {
            action,
            path,
            source,
        }
    }
}

/// An open workspace.
#[derive(Debug, Clone)]
pub struct Workspace {
    root: PathBuf,
    /// The parsed `vocmine.toml`.
    pub config: Config,
}

impl Workspace {
    /// Creates `root` (if needed) with a commented default `vocmine.toml`.
    pub fn init(root: &Path) -> Result<Workspace, WorkspaceError> {
        Workspace::init_with(root, DEFAULT_CONFIG)
    }

    /// Creates `root` (if needed) with the given configuration text, which must parse.
    pub fn init_with(root: &Path, config_text: &str) -> Result<Workspace, WorkspaceError> {
        let config_path = root.join(CONFIG_FILE);
        if config_path.exists() {
            return Err(WorkspaceError::AlreadyExists(config_path));
        }
        Config::parse(config_text).map_err(|source| WorkspaceError::Config {
            path: config_path.clone(),
            source,
        })?;
        fs::create_dir_all(root).map_err(WorkspaceError::io("create", root))?;
        write_atomically(&config_path, config_text.as_bytes())?;
        Workspace::open(root)
    }

    /// Opens an existing workspace and reads its configuration.
    pub fn open(root: &Path) -> Result<Workspace, WorkspaceError> {
        let config_path = root.join(CONFIG_FILE);
        if !config_path.is_file() {
            return Err(WorkspaceError::NotAWorkspace(root.to_path_buf()));
        }
        let text =
            fs::read_to_string(&config_path).map_err(WorkspaceError::io("read", &config_path))?;
        let config = Config::parse(&text).map_err(|source| WorkspaceError::Config {
            path: config_path,
            source,
        })?;
        Ok(Workspace {
            root: root.to_path_buf(),
            config,
        })
    }

    /// The workspace directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Directory of the tantivy index.
    pub fn index_dir(&self) -> PathBuf {
        self.root.join("index")
    }

    /// Directory of the rejects files, one per run.
    pub fn rejects_dir(&self) -> PathBuf {
        self.root.join("rejects")
    }

    /// Directory of the run log, one JSON summary per run.
    pub fn runs_dir(&self) -> PathBuf {
        self.root.join("runs")
    }

    /// Directory of the reports of one period.
    pub fn reports_dir(&self, period: &str) -> PathBuf {
        self.root.join("reports").join(period)
    }

    /// The supervised topic head `vocmine train topic` writes; when present, `mine` uses it
    /// instead of the taxonomy's prototypes.
    pub fn topic_head_path(&self) -> PathBuf {
        self.root.join("models").join("topic.json")
    }

    /// Directory of caches (embeddings).
    pub fn cache_dir(&self) -> PathBuf {
        self.root.join("cache")
    }

    /// Where the embedding cache lives: `cache/embeddings` in the workspace, unless
    /// `$VOCMINE_EMBEDDING_CACHE` names a folder shared by several workspaces.
    pub fn embedding_cache_dir(&self) -> PathBuf {
        match std::env::var_os(EMBEDDING_CACHE_VARIABLE) {
            Some(path) if !path.is_empty() => PathBuf::from(path),
            _ => self.cache_dir().join("embeddings"),
        }
    }
}

/// How the names of [`AtomicFile`]'s temporary files begin (`.tmpXXXXXX`, beside their
/// destination); [`remove_temporary_files`] removes the ones a killed run left.
pub const TEMPORARY_PREFIX: &str = ".tmp";

/// Removes the temporary files an interrupted run left in `directory` (not in its subfolders)
/// and returns how many. Call it only where no other writer is at work: inside a run holding the
/// index's write lock, or before rewriting a folder's files. A missing folder has none; a file
/// that cannot be removed is logged and left.
pub fn remove_temporary_files(directory: &Path) -> usize {
    let Ok(entries) = fs::read_dir(directory) else {
        return 0;
    };
    let mut removed = 0;
    for entry in entries.filter_map(Result::ok) {
        let temporary = entry
            .file_name()
            .to_str()
            .is_some_and(|name| name.starts_with(TEMPORARY_PREFIX));
        if !temporary || !entry.file_type().is_ok_and(|kind| kind.is_file()) {
            continue;
        }
        match fs::remove_file(entry.path()) {
            Ok(()) => removed += 1,
            Err(error) => tracing::warn!(
                "cannot remove the temporary file {}: {error}",
                entry.path().display()
            ),
        }
    }
    if removed > 0 {
        tracing::info!(
            files = removed,
            directory = %directory.display(),
            "removed temporary files an interrupted run left"
        );
    }
    removed
}

/// Writes `contents` to `path` through a temporary file in the same directory, synced and then
/// renamed over the target: readers see the old file or the new one, never a part.
pub fn write_atomically(path: &Path, contents: &[u8]) -> Result<(), WorkspaceError> {
    let mut file = AtomicFile::create(path)?;
    file.write_all(contents)
        .map_err(WorkspaceError::io("write", path))?;
    file.commit()
}

/// A file written beside its destination and moved over it only by [`AtomicFile::commit`], for
/// outputs too large to build in memory first (the Parquet export, the rejects). Writes are
/// buffered. Dropped without a commit, it leaves the destination as it was and removes itself.
pub struct AtomicFile {
    path: PathBuf,
    temporary: BufWriter<tempfile::NamedTempFile>,
}

impl AtomicFile {
    /// Starts replacing `path` (its directory is created when missing).
    pub fn create(path: &Path) -> Result<AtomicFile, WorkspaceError> {
        let directory = path.parent().unwrap_or(Path::new("."));
        fs::create_dir_all(directory).map_err(WorkspaceError::io("create", directory))?;
        let temporary = tempfile::Builder::new()
            .prefix(TEMPORARY_PREFIX)
            .tempfile_in(directory)
            .map_err(WorkspaceError::io("create a temporary file in", directory))?;
        Ok(AtomicFile {
            path: path.to_path_buf(),
            temporary: BufWriter::new(temporary),
        })
    }

    /// Makes the written contents the destination's, durably.
    pub fn commit(self) -> Result<(), WorkspaceError> {
        let AtomicFile { path, temporary } = self;
        let temporary = temporary
            .into_inner()
            .map_err(|error| WorkspaceError::io("write", &path)(error.into_error()))?;
        set_readable(temporary.as_file())
            .and_then(|()| temporary.as_file().sync_all())
            .map_err(WorkspaceError::io("write", &path))?;
        temporary
            .persist(&path)
            .map_err(|error| WorkspaceError::io("replace", &path)(error.error))?;
        Ok(())
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buffer: &[u8]) -> std::io::Result<usize> {
        self.temporary.write(buffer)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.temporary.flush()
    }
}

/// Temporary files are created private (0600); what vocmine writes is for its users to read.
fn set_readable(file: &fs::File) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(fs::Permissions::from_mode(0o644))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn init_then_open_reads_the_default_config() {
        let directory = tempfile::tempdir().unwrap();
        let root = directory.path().join("ws");
        Workspace::init(&root).unwrap();
        let workspace = Workspace::open(&root).unwrap();
        assert_eq!(
            workspace.config.model.encoder,
            crate::model::ModelChoice::E5Small
        );
        assert!(matches!(
            Workspace::init(&root),
            Err(WorkspaceError::AlreadyExists(_))
        ));
    }

    #[test]
    fn temporary_files_of_an_interrupted_write_are_removed_and_nothing_else() {
        let directory = tempfile::tempdir().unwrap();
        let kept = directory.path().join("summary.md");
        write_atomically(&kept, b"done").unwrap();
        let file = AtomicFile::create(&directory.path().join("documents.parquet")).unwrap();
        // A kill leaves the temporary file: no destructor runs.
        std::mem::forget(file);
        fs::create_dir(directory.path().join(".tmp-folder")).unwrap();
        assert_eq!(remove_temporary_files(directory.path()), 1);
        let mut names: Vec<String> = fs::read_dir(directory.path())
            .unwrap()
            .map(|entry| entry.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        assert_eq!(names, [".tmp-folder", "summary.md"]);
        assert_eq!(remove_temporary_files(&directory.path().join("missing")), 0);
    }

    #[test]
    fn opening_a_plain_directory_says_how_to_create_a_workspace() {
        let directory = tempfile::tempdir().unwrap();
        let message = Workspace::open(directory.path()).unwrap_err().to_string();
        assert!(message.contains("vocmine init"), "{message}");
    }
}
