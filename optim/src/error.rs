//! The optimizer crate's error type.

/// Errors raised by the optimizers and the parameter list.
#[derive(Debug, thiserror::Error)]
pub enum OptimError {
    /// A hyperparameter is outside its valid range; names the parameter.
    #[error("invalid hyperparameter `{name}` = {value}: {expected}")]
    InvalidHyperparameter {
        /// The hyperparameter's name as in the reference (`lr`, `betas[0]`, `delta`, ...).
        name: &'static str,
        /// The value given.
        value: f64,
        /// What is expected, e.g. "must be >= 0".
        expected: &'static str,
    },
    /// The parameter list is malformed (duplicate names, bad group index, ...).
    #[error("invalid parameter list: {0}")]
    InvalidParams(String),
    /// A parameter has a dtype the optimizers do not support.
    #[error("parameter `{name}` has dtype {dtype:?}; supported: f32, f64")]
    UnsupportedDtype {
        /// Parameter name.
        name: String,
        /// Its dtype.
        dtype: candle_core::DType,
    },
    /// Saved optimizer state does not match the parameters.
    #[error("optimizer state does not match the parameters: {0}")]
    StateMismatch(String),
    /// An error from Candle.
    #[error(transparent)]
    Candle(#[from] candle_core::Error),
    /// An error from safetensors (de)serialisation.
    #[error("safetensors: {0}")]
    SafeTensors(String),
    /// An I/O error while saving or loading state.
    #[error("{path}: {source}")]
    Io {
        /// File involved.
        path: std::path::PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
}

/// Result alias for this crate.
pub type Result<T> = std::result::Result<T, OptimError>;
