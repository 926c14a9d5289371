//! # adamp-task-api
//!
//! The [`Task`] trait every benchmark implements and the small types the training loop exchanges
//! with tasks. A task defines *what* is trained (data, forward pass, loss, evaluation); the loop in
//! `adamp-harness` owns *how* (optimizers, learning-rate schedule, recording, checkpointing,
//! progress). Logging and recording never enter task code (mmengine's hook split).

pub mod error;
pub mod factory;
pub mod optimizers;
pub mod step;
pub mod task;

pub use error::{Result, TaskError};
pub use factory::{
    Length, NoTable, Registered, RegisteredTask, SettingsError, SettingsTable, TableError,
    TaskFactory, TaskSettings, TaskSpec, TaskTables,
};
pub use optimizers::OptimizerSet;
pub use step::{EvalOutput, OptimizerStep, StepIndex, StepOutput};
pub use task::{ParamSet, Task, TaskContext};
