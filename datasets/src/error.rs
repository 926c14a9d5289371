//! The crate's error type. Every variant names the file or folder it is about and, where the
//! cause is missing or damaged data, says what to do.

use std::path::PathBuf;

/// Where to get the embedded default's data when it is missing (printed in error messages).
pub const FETCH_HINT: &str =
    "run `adamp data fetch` (or `make data`), which downloads the Debian package \
dataset-fashion-mnist and copies its IDX files; or download the four IDX .gz files from \
https://github.com/zalandoresearch/fashion-mnist (data/fashion/) into this folder";

/// Errors from reading datasets and fetching data.
#[derive(Debug, thiserror::Error)]
pub enum DatasetError {
    /// Fetching a dataset's files from the Hugging Face hub failed (the message says what to do).
    #[error("hub dataset `{repo}`: {source}")]
    Hub {
        /// `org/name`.
        repo: String,
        /// What went wrong.
        source: adamp_hub::HubError,
    },
    /// An I/O error on a named file.
    #[error("{path}: {source}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A dataset folder or one of its files is missing.
    #[error("{path}: not found ({what}); {hint}")]
    Missing {
        /// The missing file or folder.
        path: PathBuf,
        /// What was expected there.
        what: String,
        /// What to do about it.
        hint: String,
    },
    /// A file exists but its content does not have the expected format (bad magic, wrong size,
    /// truncated record, out-of-range label).
    #[error("{path}: {reason}; the file is damaged or not in the expected format, re-download it")]
    Format {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// A line of a text file (a WikiText token file) is wrong: an unknown token, no words.
    #[error("{path}:{line}: {reason}")]
    Line {
        /// The file.
        path: PathBuf,
        /// The 1-based line number.
        line: usize,
        /// What is wrong.
        reason: String,
    },
    /// An image file could not be decoded.
    #[error("{path}: cannot decode image: {reason}")]
    Decode {
        /// The image file.
        path: PathBuf,
        /// The decoder's message.
        reason: String,
    },
    /// An audio file could not be decoded: not a WAV, FLAC or MP3 stream, an encoding the decoder
    /// does not support, a damaged or truncated stream, or no audio frames at all.
    #[error("{path}: cannot decode audio: {reason}")]
    AudioDecode {
        /// The audio file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// A class folder of an ImageFolder-layout dataset holds no images.
    #[error("{path}: class folder holds no images (accepted extensions: {extensions}); remove the folder or add its images")]
    EmptyClass {
        /// The class folder.
        path: PathBuf,
        /// The accepted file extensions.
        extensions: String,
    },
    /// A downloaded or installed file does not have the pinned SHA-256.
    #[error("{path}: SHA-256 mismatch: expected {expected}, got {actual}; the download is corrupt or not the pinned version: delete it and fetch again")]
    ChecksumMismatch {
        /// The file.
        path: PathBuf,
        /// The pinned hash (lower-case hex).
        expected: String,
        /// The hash of the file on disk.
        actual: String,
    },
    /// An external tool (apt-get, dpkg-deb) is missing or failed.
    #[error("`{command}` failed: {reason}; {hint}")]
    Tool {
        /// The command line.
        command: String,
        /// What happened (exit status and stderr tail).
        reason: String,
        /// What to do about it.
        hint: String,
    },
    /// A batch, transform or loader setting is invalid.
    #[error("invalid setting `{name}`: {reason}")]
    Config {
        /// The setting's name.
        name: String,
        /// What is wrong.
        reason: String,
    },
    /// Every sample of a batch failed to load (so the batch cannot be skipped around).
    #[error("batch {batch} of epoch {epoch}: every sample failed to load; first failure: {first}")]
    EmptyBatch {
        /// The epoch.
        epoch: u64,
        /// The batch index within the epoch.
        batch: usize,
        /// The first sample error.
        first: Box<DatasetError>,
    },
    /// An error from candle while building batch tensors.
    #[error("building batch tensors: {0}")]
    Candle(#[from] candle_core::Error),
}

impl DatasetError {
    /// Wraps an I/O error with the path it concerns.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io {
            path: path.into(),
            source,
        }
    }

    /// A format error on `path`.
    pub fn format(path: impl Into<PathBuf>, reason: impl Into<String>) -> Self {
        Self::Format {
            path: path.into(),
            reason: reason.into(),
        }
    }

    /// An audio decoding error on `path`.
    pub fn audio_decode(path: impl Into<PathBuf>, reason: impl Into<String>) -> Self {
        Self::AudioDecode {
            path: path.into(),
            reason: reason.into(),
        }
    }

    /// Whether this error concerns one sample only (a damaged image or audio clip in a large
    /// folder), so a loader may skip the sample, warn and count it instead of stopping the epoch.
    pub fn is_per_sample(&self) -> bool {
        matches!(self, Self::Decode { .. } | Self::AudioDecode { .. })
    }
}

/// The crate's result type.
pub type Result<T> = std::result::Result<T, DatasetError>;
