//! The error type tasks return to the loop.

/// Errors a task raises while building, training or evaluating.
#[derive(Debug, thiserror::Error)]
pub enum TaskError {
    /// A task setting is invalid; `key` is the setting's path inside `[task]`.
    #[error("task.{key}: {expected}")]
    InvalidSetting {
        /// Key path inside the `[task]` table, e.g. `angle_deg`.
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

/// Result alias for tasks.
pub type Result<T> = std::result::Result<T, TaskError>;
