//! The model crate's error type: every shape error names the layer path and both shapes.

use std::path::PathBuf;

/// Errors raised while building, running, saving or loading a model.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// A tensor reaching a layer has the wrong shape (wrong channel count, image too small, ...).
    #[error("layer `{layer}`: {what}: expected {expected}, got {got}")]
    Shape {
        /// Full dotted path of the layer, e.g. `layer1.0.conv1`.
        layer: String,
        /// What was checked ("input channels", "output size", ...).
        what: String,
        /// What the layer expects.
        expected: String,
        /// What it received.
        got: String,
    },
    /// The model configuration is invalid (names the field and the allowed values).
    #[error("invalid model configuration: {0}")]
    Config(String),
    /// Pretrained weights could not be fetched from the Hugging Face hub (the message names the
    /// repository and file and says what to do).
    #[error("pretrained weights: {0}")]
    Pretrained(String),
    /// Two parameters or buffers were registered under one name.
    #[error("tensor name `{0}` is registered twice in the model")]
    DuplicateName(String),
    /// A checkpoint tensor's shape differs from the model's.
    #[error(
        "{path}: tensor `{name}` has shape {file:?} in the file but the model expects {model:?}"
    )]
    CheckpointShape {
        /// The checkpoint file.
        path: PathBuf,
        /// Tensor name.
        name: String,
        /// Shape in the file.
        file: Vec<usize>,
        /// Shape in the model.
        model: Vec<usize>,
    },
    /// A tensor the model needs is absent from a checkpoint.
    #[error("{path}: tensor `{name}` is missing from the checkpoint (was it saved from a different model kind?)")]
    CheckpointMissing {
        /// The checkpoint file.
        path: PathBuf,
        /// Tensor name.
        name: String,
    },
    /// A checkpoint holds a tensor the model does not have.
    #[error(
        "{path}: tensor `{name}` in the checkpoint matches no parameter or buffer of the model"
    )]
    CheckpointUnexpected {
        /// The checkpoint file.
        path: PathBuf,
        /// Tensor name.
        name: String,
    },
    /// An I/O error on a checkpoint file.
    #[error("{path}: {source}")]
    Io {
        /// The file involved.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// An error from the optimizer crate (parameter list construction).
    #[error(transparent)]
    Optim(#[from] adamp_optim::OptimError),
    /// An error from Candle.
    #[error(transparent)]
    Candle(#[from] candle_core::Error),
}

/// Result alias for this crate.
pub type Result<T> = std::result::Result<T, ModelError>;

/// Build a [`ModelError::Shape`].
pub(crate) fn shape_err(
    layer: &str,
    what: &str,
    expected: impl std::fmt::Display,
    got: impl std::fmt::Display,
) -> ModelError {
    ModelError::Shape {
        layer: layer.to_string(),
        what: what.to_string(),
        expected: expected.to_string(),
        got: got.to_string(),
    }
}
