//! Registering a benchmark: what the harness needs to read, check and build a task from the
//! tables of a config file, written once per task crate.
//!
//! A task crate implements [`TaskFactory`] (its `kind` name, the types of its `[task]`,
//! `[model]` and `[data]` tables, whether it counts steps or epochs, the metrics its evaluation
//! returns, a check of its settings, and a build function). The harness holds one list of
//! `&'static dyn RegisteredTask` (built with [`Registered::NEW`]) and derives everything from
//! it: the valid `kind`s, the parsing and key paths of the task's tables, the checks made
//! before anything is written, and building the task for a run.

use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::error::{Result, TaskError};
use crate::task::{Task, TaskContext};

/// How a task's length is given in `[training]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Length {
    /// `training.steps` optimizer steps (the toys); evaluation every `eval_every` steps.
    Steps,
    /// `training.epochs` passes over the task's data; evaluation after every epoch.
    Epochs,
}

impl Length {
    /// The `[training]` key that gives this length.
    pub fn key(self) -> &'static str {
        match self {
            Length::Steps => "steps",
            Length::Epochs => "epochs",
        }
    }
}

/// A table a task does not take: a config that has one is refused.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NoTable;

/// An error inside one of a task's tables: the key path relative to the table (`cutmix.prob`,
/// or empty for the whole table) and what is expected.
#[derive(Debug, Clone, PartialEq)]
pub struct TableError {
    /// Key path inside the table.
    pub key: String,
    /// What is wrong and what is expected.
    pub message: String,
}

/// A config table a task reads (`[task]` without its `kind`, `[model]`, `[data]`): any serde type
/// (which should `deny_unknown_fields`), or [`NoTable`].
pub trait SettingsTable: Sized + Clone + fmt::Debug + PartialEq + Send + Sync + 'static {
    /// Whether a task with this table type takes the table at all.
    const TAKEN: bool;

    /// Read the table (`None` when the config has none); errors name the key inside it.
    fn parse(table: Option<&toml::Table>) -> std::result::Result<Self, TableError>;

    /// The table with every default filled (for `config.resolved.toml`), or `None` for
    /// [`NoTable`].
    fn to_table(&self) -> Option<toml::Table>;
}

impl<T> SettingsTable for T
where
    T: Serialize + DeserializeOwned + Clone + fmt::Debug + PartialEq + Send + Sync + 'static,
{
    const TAKEN: bool = true;

    fn parse(table: Option<&toml::Table>) -> std::result::Result<Self, TableError> {
        let table = table.ok_or_else(|| TableError {
            key: String::new(),
            message: "this task needs the table".into(),
        })?;
        serde_path_to_error::deserialize(toml::Value::Table(table.clone())).map_err(|e| {
            let key = e.path().to_string();
            TableError {
                key: if key == "." { String::new() } else { key },
                message: e.inner().message().to_string(),
            }
        })
    }

    fn to_table(&self) -> Option<toml::Table> {
        match toml::Value::try_from(self) {
            Ok(toml::Value::Table(t)) => Some(t),
            _ => None,
        }
    }
}

impl SettingsTable for NoTable {
    const TAKEN: bool = false;

    fn parse(table: Option<&toml::Table>) -> std::result::Result<Self, TableError> {
        match table {
            None => Ok(NoTable),
            Some(_) => Err(TableError {
                key: String::new(),
                message: "this task takes no such table; remove it".into(),
            }),
        }
    }

    fn to_table(&self) -> Option<toml::Table> {
        None
    }
}

/// A task's parsed tables.
pub struct TaskSpec<F: TaskFactory + ?Sized> {
    /// `[task]` (without `kind`).
    pub task: F::Settings,
    /// `[model]`, or [`NoTable`].
    pub model: F::Model,
    /// `[data]`, or [`NoTable`].
    pub data: F::Data,
}

impl<F: TaskFactory + ?Sized> Clone for TaskSpec<F> {
    fn clone(&self) -> Self {
        Self {
            task: self.task.clone(),
            model: self.model.clone(),
            data: self.data.clone(),
        }
    }
}

impl<F: TaskFactory + ?Sized> fmt::Debug for TaskSpec<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskSpec")
            .field("kind", &F::KIND)
            .field("task", &self.task)
            .field("model", &self.model)
            .field("data", &self.data)
            .finish()
    }
}

/// What a benchmark crate implements once (usually on its task type).
///
/// Errors from [`TaskFactory::check`] and [`TaskFactory::build`] are
/// [`TaskError::InvalidSetting`] with a key inside `[task]` (`angle_deg`) or a full path
/// (`model.depth`, `data.test_subset`, `training.batch_size`).
pub trait TaskFactory: 'static {
    /// `[task] kind`.
    const KIND: &'static str;
    /// Whether `[training]` gives steps or epochs.
    const LENGTH: Length;
    /// The `[model] kind`s this task accepts (for error messages and `adamp list`).
    const MODEL_KINDS: &'static [&'static str] = &[];
    /// The `[data] kind`s this task accepts (for error messages and `adamp list`).
    const DATA_KINDS: &'static [&'static str] = &[];

    /// `[task]` without `kind`.
    type Settings: SettingsTable;
    /// `[model]`, or [`NoTable`].
    type Model: SettingsTable;
    /// `[data]`, or [`NoTable`].
    type Data: SettingsTable;

    /// Every check of the settings that needs no data or model: ranges, combinations, bounds.
    /// Runs once per config, before anything is written.
    fn check(_spec: &TaskSpec<Self>) -> Result<()> {
        Ok(())
    }

    /// The names of the metrics [`Task::evaluate`] returns (without the `eval_` prefix), so a
    /// config's `[report] metric` can be checked before anything runs.
    fn eval_metrics(spec: &TaskSpec<Self>) -> Vec<String>;

    /// Build the task of one run.
    fn build(spec: &TaskSpec<Self>, ctx: &TaskContext) -> Result<Box<dyn Task>>;
}

/// A task's tables as config-file tables.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TaskTables {
    /// `[task]` without `kind`.
    pub task: toml::Table,
    /// `[model]`, when present.
    pub model: Option<toml::Table>,
    /// `[data]`, when present.
    pub data: Option<toml::Table>,
}

/// An error in a task's tables, with the full key path (`task.cutmix.prob`, `model`).
#[derive(Debug, Clone, PartialEq)]
pub struct SettingsError {
    /// Full key path from the config's root.
    pub key: String,
    /// What is wrong and what is expected.
    pub message: String,
}

/// A registered task kind, as the harness's list holds it (object-safe).
pub trait RegisteredTask: Send + Sync {
    /// `[task] kind`.
    fn kind(&self) -> &'static str;
    /// Steps or epochs.
    fn length(&self) -> Length;
    /// Whether the task takes `[model]` / `[data]`.
    fn takes(&self) -> (bool, bool);
    /// The `[model] kind`s it accepts.
    fn model_kinds(&self) -> &'static [&'static str];
    /// The `[data] kind`s it accepts.
    fn data_kinds(&self) -> &'static [&'static str];
    /// Parse the task's tables; errors carry the full key path.
    fn parse(
        &self,
        tables: &TaskTables,
    ) -> std::result::Result<Arc<dyn TaskSettings>, SettingsError>;
}

/// A task's parsed settings: what a checked config holds and a run builds from.
pub trait TaskSettings: fmt::Debug + Send + Sync {
    /// `[task] kind`.
    fn kind(&self) -> &'static str;
    /// Steps or epochs.
    fn length(&self) -> Length;
    /// The tables with every default filled.
    fn tables(&self) -> TaskTables;
    /// [`TaskFactory::check`].
    fn check(&self) -> Result<()>;
    /// [`TaskFactory::eval_metrics`].
    fn eval_metrics(&self) -> Vec<String>;
    /// [`TaskFactory::build`].
    fn build(&self, ctx: &TaskContext) -> Result<Box<dyn Task>>;
}

/// The registration of task `F`: `&Registered::<MyTask>::NEW` in the harness's list.
pub struct Registered<F>(PhantomData<fn() -> F>);

impl<F: TaskFactory> Registered<F> {
    /// The registration (a constant, so a `static` list can hold it).
    pub const NEW: Self = Registered(PhantomData);
}

fn in_table(table: &str, e: TableError) -> SettingsError {
    SettingsError {
        key: if e.key.is_empty() {
            table.to_string()
        } else {
            format!("{table}.{}", e.key)
        },
        message: e.message,
    }
}

fn table_presence<T: SettingsTable>(
    kind: &str,
    name: &str,
    table: Option<&toml::Table>,
) -> std::result::Result<T, SettingsError> {
    match (T::TAKEN, table) {
        (false, Some(_)) => Err(SettingsError {
            key: name.to_string(),
            message: format!("task `{kind}` takes no [{name}] table; remove it"),
        }),
        (true, None) => Err(SettingsError {
            key: name.to_string(),
            message: format!("task `{kind}` needs a [{name}] table"),
        }),
        _ => T::parse(table).map_err(|e| in_table(name, e)),
    }
}

impl<F: TaskFactory> RegisteredTask for Registered<F> {
    fn kind(&self) -> &'static str {
        F::KIND
    }

    fn length(&self) -> Length {
        F::LENGTH
    }

    fn takes(&self) -> (bool, bool) {
        (F::Model::TAKEN, F::Data::TAKEN)
    }

    fn model_kinds(&self) -> &'static [&'static str] {
        F::MODEL_KINDS
    }

    fn data_kinds(&self) -> &'static [&'static str] {
        F::DATA_KINDS
    }

    fn parse(
        &self,
        tables: &TaskTables,
    ) -> std::result::Result<Arc<dyn TaskSettings>, SettingsError> {
        let task = F::Settings::parse(Some(&tables.task)).map_err(|e| in_table("task", e))?;
        let model = table_presence::<F::Model>(F::KIND, "model", tables.model.as_ref())?;
        let data = table_presence::<F::Data>(F::KIND, "data", tables.data.as_ref())?;
        Ok(Arc::new(TaskSpec::<F> { task, model, data }))
    }
}

impl<F: TaskFactory> TaskSettings for TaskSpec<F> {
    fn kind(&self) -> &'static str {
        F::KIND
    }

    fn length(&self) -> Length {
        F::LENGTH
    }

    fn tables(&self) -> TaskTables {
        TaskTables {
            task: self.task.to_table().unwrap_or_default(),
            model: self.model.to_table(),
            data: self.data.to_table(),
        }
    }

    fn check(&self) -> Result<()> {
        F::check(self)
    }

    fn eval_metrics(&self) -> Vec<String> {
        F::eval_metrics(self)
    }

    fn build(&self, ctx: &TaskContext) -> Result<Box<dyn Task>> {
        F::build(self, ctx)
    }
}

/// `TaskError::InvalidSetting` at `key`.
pub fn invalid(key: impl Into<String>, expected: impl Into<String>) -> TaskError {
    TaskError::InvalidSetting {
        key: key.into(),
        expected: expected.into(),
    }
}
