//! The error type tasks return to the loop.

/// Errors a task raises while building, training or evaluating.
#[derive(Debug, thiserror::Error)]
pub enum TaskError {
    /// A task setting is invalid; `key` is the setting's path inside `[task]`, or a full path
    /// for a setting of another table (see [`config_key`]).
    #[error("{}: {expected}", config_key(key))]
    InvalidSetting {
        /// Key path inside the `[task]` table (`angle_deg`), or from the config's root for the
        /// tables a task also reads (`model.depth`, `data.test_subset`, `training.batch_size`).
        key: String,
        /// What is expected, including the value given.
        expected: String,
    },
    /// A checkpointed buffer is missing or has the wrong shape.
    #[error("task state: {0}")]
    State(String),
    /// An error from the optimizer (a step or the parameter list).
    #[error(transparent)]
    Optim(#[from] adamp_optim::OptimError),
    /// An error from Candle.
    #[error(transparent)]
    Candle(#[from] candle_core::Error),
    /// Anything else, with a message that says what to do.
    #[error("{0}")]
    Other(String),
}

/// The tables besides `[task]` whose keys a task names by their full path.
const FULL_PATH_TABLES: [&str; 3] = ["model.", "data.", "training."];

/// The full config key of a [`TaskError::InvalidSetting`] key: `task.<key>` for a key inside
/// `[task]`, the key itself for `model.*`, `data.*` and `training.*`.
pub fn config_key(key: &str) -> String {
    if FULL_PATH_TABLES.iter().any(|t| key.starts_with(t)) {
        key.to_string()
    } else {
        format!("task.{key}")
    }
}

/// Result alias for tasks.
pub type Result<T> = std::result::Result<T, TaskError>;
