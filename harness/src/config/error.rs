//! Configuration errors: every one names the file, the key path and what is expected.

use std::fmt;
use std::path::{Path, PathBuf};

/// A configuration error, displayed as one paragraph:
/// `configs/toy2d.toml: optimizers[1].momentum: must be in [0, 1), got 1.5`.
#[derive(Debug, Clone, PartialEq)]
pub struct ConfigError {
    /// The config file (or `<command line>` for CLI-only errors).
    pub file: PathBuf,
    /// The key path, e.g. `optimizers[1].momentum`; empty when the whole file is at fault.
    pub key: String,
    /// What is wrong and what is expected.
    pub message: String,
}

impl ConfigError {
    /// An error at `key` of `file`.
    pub fn new(file: &Path, key: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            file: file.to_path_buf(),
            key: key.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.key.is_empty() {
            write!(f, "{}: {}", self.file.display(), self.message)
        } else {
            write!(f, "{}: {}: {}", self.file.display(), self.key, self.message)
        }
    }
}

impl std::error::Error for ConfigError {}
