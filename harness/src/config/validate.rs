//! The one place a config file becomes an [`Experiment`]: read, merge the profile, apply the
//! overrides, parse against the schema, parse and check the task's tables through its
//! registration, check ranges. Every error names the file, the key path and what is expected;
//! everything knowable without data is checked here, once per config, before anything is
//! written.

use std::collections::BTreeSet;
use std::io::Read;
use std::path::Path;
use std::sync::Arc;

use adamp_task_api::{Length, SettingsError, TaskError, TaskSettings, TaskTables};

use super::error::ConfigError;
use super::overrides::{apply_set, deep_merge};
use super::parse_error::{humanize, kind_message, parse_error};
use super::schema::ConfigFile;
use super::{DeviceSpec, Experiment, LoadOptions};
use crate::record::csv::SUMMARY_COLUMNS;
use crate::tasks::Registry;

/// The largest config file read (a config is a few kB; this stops a wrong path such as a
/// device file from being read until memory runs out).
pub const MAX_CONFIG_BYTES: u64 = 1 << 20;

/// The longest file or folder name most file systems take (`NAME_MAX`): labels, config names
/// and profile names become folder names.
pub const MAX_NAME_BYTES: usize = 255;

/// Load and check the config at `path` with the command line's additions, with the built-in
/// task kinds.
pub fn load(path: &Path, options: &LoadOptions) -> Result<Experiment, ConfigError> {
    load_with(path, options, &Registry::builtin())
}

/// [`load`] with the task kinds of `registry`.
pub fn load_with(
    path: &Path,
    options: &LoadOptions,
    registry: &Registry,
) -> Result<Experiment, ConfigError> {
    let mut table = read_table(path)?;
    if let Some(profile) = &options.profile {
        apply_profile(&mut table, path, profile)?;
    }
    table.remove("profiles");
    // A run's config.resolved.toml (it has `[meta]`) holds one optimizer entry but keeps the
    // experiment's report pairs, whose other labels live in sibling run folders.
    let resolved = table.remove("meta").is_some();
    apply_command_line(&mut table, path, options)?;
    // The task's tables first: `[task]` leads a config, and its errors are the likeliest.
    let task = parse_task(path, &table, registry)?;
    let value = toml::Value::Table(table);
    let mut config: ConfigFile = serde_path_to_error::deserialize(value.clone())
        .map_err(|e| parse_error(path, &e, &value))?;
    let device =
        DeviceSpec::parse(&config.device).map_err(|m| ConfigError::new(path, "device", m))?;
    let filled = task.tables();
    config.task = filled.task;
    config
        .task
        .insert("kind".into(), toml::Value::String(task.kind().to_string()));
    config.model = filled.model;
    config.data = filled.data;
    check_runs(path, &config)?;
    if let Some(slurm) = &config.launcher.slurm {
        slurm.check(path)?;
    }
    check_training(path, &config, task.as_ref())?;
    let labels = check_optimizers(path, &config)?;
    check_report(path, &config, task.as_ref(), &labels, resolved)?;
    Ok(Experiment {
        name: config_name(path)?,
        path: path.to_path_buf(),
        config,
        device,
        task,
    })
}

/// Read the file (at most [`MAX_CONFIG_BYTES`]) and parse it as TOML.
fn read_table(path: &Path) -> Result<toml::Table, ConfigError> {
    let unreadable = |e: std::io::Error| {
        ConfigError::new(
            path,
            "",
            format!("cannot read the config file ({e}); check the path (configs live in `configs/`, see `adamp list`)"),
        )
    };
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(MAX_CONFIG_BYTES + 1).read_to_end(&mut bytes))
        .map_err(unreadable)?;
    if bytes.len() as u64 > MAX_CONFIG_BYTES {
        return Err(ConfigError::new(
            path,
            "",
            format!(
                "larger than {} kB; a config is a small TOML file (is this the right path?)",
                MAX_CONFIG_BYTES / 1024
            ),
        ));
    }
    let text = String::from_utf8(bytes)
        .map_err(|e| ConfigError::new(path, "", format!("not UTF-8 text ({e})")))?;
    text.parse()
        .map_err(|e: toml::de::Error| ConfigError::new(path, "", toml_syntax_error(&text, &e)))
}

/// `not valid TOML at line L, column C: <what>`, without echoing the line (which may be long).
fn toml_syntax_error(text: &str, e: &toml::de::Error) -> String {
    let what = e.message().replace('\n', " ");
    match e.span() {
        Some(span) => {
            let before = &text[..span.start.min(text.len())];
            let line = before.matches('\n').count() + 1;
            let column = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
            format!("not valid TOML at line {line}, column {column}: {what}")
        }
        None => format!("not valid TOML: {what}"),
    }
}

/// Merge `[profiles.<name>]` over the file; `quick` also marks the report scale as quick.
///
/// The name must be a valid folder name (it names the results folder) and must exist: as a
/// `[profiles.<name>]` table of the file, or as the folder the file lives in
/// (`configs/paper/x.toml` with `--profile paper`), or be `embedded` (the configs as written).
fn apply_profile(table: &mut toml::Table, path: &Path, profile: &str) -> Result<(), ConfigError> {
    if !is_safe_name(profile) {
        return Err(ConfigError::new(
            path,
            "--profile",
            format!("expected letters, digits, `_`, `-` or `.` (it names the results folder), got {profile:?}"),
        ));
    }
    let profiles = table.get("profiles").and_then(|p| p.as_table());
    let over = match profiles.and_then(|p| p.get(profile)) {
        Some(toml::Value::Table(t)) => Some(t.clone()),
        Some(_) => {
            return Err(ConfigError::new(
                path,
                format!("profiles.{profile}"),
                "expected a table (a partial config merged over this file)",
            ))
        }
        None => None,
    };
    let in_its_folder = path
        .parent()
        .and_then(|d| d.file_name())
        .is_some_and(|d| d == profile);
    if over.is_none() && profile != "embedded" && !in_its_folder {
        let known: Vec<&str> = profiles
            .map(|p| p.keys().map(String::as_str).collect())
            .unwrap_or_default();
        return Err(ConfigError::new(
            path,
            "--profile",
            format!(
                "the config has no [profiles.{profile}] table; its profiles: {}",
                if known.is_empty() {
                    "none".to_string()
                } else {
                    known.join(", ")
                }
            ),
        ));
    }
    if let Some(over) = over {
        if over.contains_key("profiles") {
            return Err(ConfigError::new(
                path,
                format!("profiles.{profile}.profiles"),
                "a profile cannot contain profiles",
            ));
        }
        deep_merge(table, &over);
    }
    if profile == "quick" {
        if let Some(toml::Value::Table(report)) = table.get_mut("report") {
            report.insert("scale".into(), toml::Value::String("quick".into()));
        }
    }
    Ok(())
}

/// `--set`, `--seeds` and `--device`, in that order.
fn apply_command_line(
    table: &mut toml::Table,
    path: &Path,
    options: &LoadOptions,
) -> Result<(), ConfigError> {
    for arg in &options.sets {
        apply_set(table, path, arg)?;
    }
    if let Some(seeds) = &options.seeds {
        let seeds = seeds.iter().map(|&s| toml::Value::Integer(s as i64));
        table.insert("seeds".into(), toml::Value::Array(seeds.collect()));
    }
    if let Some(device) = &options.device {
        table.insert("device".into(), toml::Value::String(device.clone()));
    }
    Ok(())
}

/// Find the task's registration, then parse and check its tables (`[task]`, `[model]`,
/// `[data]` of the raw file); the caller writes them back with every default filled, so
/// `config.resolved.toml` states every value used.
fn parse_task(
    path: &Path,
    table: &toml::Table,
    registry: &Registry,
) -> Result<Arc<dyn TaskSettings>, ConfigError> {
    let err = |key: &str, message: String| ConfigError::new(path, key, message);
    let sub_table = |name: &str| -> Result<Option<toml::Table>, ConfigError> {
        match table.get(name) {
            None => Ok(None),
            Some(toml::Value::Table(t)) => Ok(Some(t.clone())),
            Some(other) => Err(err(
                name,
                format!("expected a table, got {}", other.type_str()),
            )),
        }
    };
    let Some(mut task_table) = sub_table("task")? else {
        return Err(err("task", "missing field `task`".into()));
    };
    let (model, data) = (sub_table("model")?, sub_table("data")?);
    let kinds = registry.kinds().join(", ");
    let kind = match task_table.remove("kind") {
        None => {
            return Err(err(
                "task.kind",
                format!("missing `kind`; valid task kinds: {kinds}"),
            ))
        }
        Some(toml::Value::String(k)) => k,
        Some(other) => {
            return Err(err(
                "task.kind",
                format!(
                    "expected a string, got {}; valid task kinds: {kinds}",
                    other.type_str()
                ),
            ))
        }
    };
    let Some(registration) = registry.get(&kind) else {
        return Err(err(
            "task.kind",
            format!("unknown task kind `{kind}`; valid task kinds: {kinds}"),
        ));
    };
    // A `[model]` / `[data]` kind no registered task knows is a typo whatever the task.
    for (given, known, what) in [
        (&model, registry.model_kinds(), "model"),
        (&data, registry.data_kinds(), "data"),
    ] {
        if let Some(given) = given
            .as_ref()
            .and_then(|t| t.get("kind"))
            .and_then(|k| k.as_str())
        {
            if !known.contains(&given) {
                return Err(err(
                    &format!("{what}.kind"),
                    format!(
                        "unknown {what} kind `{given}`; valid {what} kinds: {}",
                        known.join(", ")
                    ),
                ));
            }
        }
    }
    let tables = TaskTables {
        task: task_table,
        model,
        data,
    };
    let settings = registration.parse(&tables).map_err(|e| {
        let SettingsError { key, message } = e;
        let message = match key.as_str() {
            "model.kind" => kind_message("model", registration.model_kinds(), &message),
            "data.kind" => kind_message("data", registration.data_kinds(), &message),
            _ => humanize(&message),
        };
        err(&key, message)
    })?;
    settings.check().map_err(|e| task_error(path, e))?;
    Ok(settings)
}

/// A task's setting error as a config error at its full key.
pub(crate) fn task_error(path: &Path, e: TaskError) -> ConfigError {
    match e {
        TaskError::InvalidSetting { key, expected } => {
            ConfigError::new(path, adamp_task_api::error::config_key(&key), expected)
        }
        other => ConfigError::new(path, "task", other.to_string()),
    }
}

/// `seeds` and `log_every`.
fn check_runs(path: &Path, c: &ConfigFile) -> Result<(), ConfigError> {
    let err = |key: &str, message: String| Err(ConfigError::new(path, key, message));
    if c.seeds.is_empty() {
        return err("seeds", "expected at least one seed, got []".into());
    }
    if c.seeds.iter().collect::<BTreeSet<_>>().len() != c.seeds.len() {
        return err(
            "seeds",
            format!("expected distinct seeds, got {:?}", c.seeds),
        );
    }
    if c.log_every == 0 {
        return err("log_every", "expected an integer >= 1, got 0".into());
    }
    Ok(())
}

/// `[training]`: the length the task counts in, intervals, the schedule.
fn check_training(path: &Path, c: &ConfigFile, task: &dyn TaskSettings) -> Result<(), ConfigError> {
    let err = |key: &str, message: String| Err(ConfigError::new(path, key, message));
    let t = &c.training;
    let (wanted, other) = match task.length() {
        Length::Steps => (t.steps, t.epochs),
        Length::Epochs => (t.epochs, t.steps),
    };
    let (key, other_key) = match task.length() {
        Length::Steps => ("steps", "epochs"),
        Length::Epochs => ("epochs", "steps"),
    };
    let counted = match task.length() {
        Length::Steps => "step-based",
        Length::Epochs => "epoch-based",
    };
    if other.is_some() {
        return err(
            &format!("training.{other_key}"),
            format!(
                "task `{}` is {counted}: set `training.{key}` instead",
                task.kind()
            ),
        );
    }
    match wanted {
        None => {
            return err(
                &format!("training.{key}"),
                format!("task `{}` is {counted}: set `training.{key}`", task.kind()),
            )
        }
        Some(0) => {
            return err(
                &format!("training.{key}"),
                "expected an integer >= 1, got 0".into(),
            )
        }
        Some(_) => {}
    }
    if t.eval_every.is_some() && task.length() == Length::Epochs {
        return err(
            "training.eval_every",
            "only step-based runs (`training.steps`) take `eval_every`; epoch-based runs evaluate every epoch".into(),
        );
    }
    for (key, v) in [
        ("training.eval_every", t.eval_every),
        ("training.checkpoint_every", t.checkpoint_every),
        ("training.batch_size", Some(t.batch_size)),
    ] {
        if v == Some(0) {
            return err(key, "expected an integer >= 1, got 0".into());
        }
    }
    if let Err((key, message)) = t.lr_schedule.check() {
        return err(&format!("training.lr_schedule.{key}"), message);
    }
    Ok(())
}

/// `[[optimizers]]`: at least one, valid distinct labels, hyperparameters in range; returns the
/// labels.
fn check_optimizers(path: &Path, c: &ConfigFile) -> Result<BTreeSet<String>, ConfigError> {
    let err = |key: String, message: String| Err(ConfigError::new(path, key, message));
    if c.optimizers.is_empty() {
        return err(
            "optimizers".into(),
            format!(
                "expected at least one [[optimizers]] entry (kind = {})",
                super::optimizer::OPTIMIZER_KINDS.join(" | ")
            ),
        );
    }
    let mut labels = BTreeSet::new();
    for (i, entry) in c.optimizers.iter().enumerate() {
        let label = entry.label();
        if !is_safe_name(&label) {
            return err(
                format!("optimizers[{i}].label"),
                format!(
                    "expected at most {MAX_NAME_BYTES} letters, digits, `_`, `-` or `.` (it names a folder), got {label:?}"
                ),
            );
        }
        if !labels.insert(label.clone()) {
            return err(
                format!("optimizers[{i}].label"),
                format!("label {label:?} is used twice; give each entry a distinct `label`"),
            );
        }
        if let Err((key, message)) = entry.check() {
            let key = if key.is_empty() {
                format!("optimizers[{i}]")
            } else {
                format!("optimizers[{i}].{key}")
            };
            return err(key, message);
        }
    }
    Ok(labels)
}

/// `[report]`: the headline metric and `also` columns are ones this task's runs write, and the
/// pairs name this config's labels.
fn check_report(
    path: &Path,
    c: &ConfigFile,
    task: &dyn TaskSettings,
    labels: &BTreeSet<String>,
    resolved: bool,
) -> Result<(), ConfigError> {
    let err = |key: String, message: String| Err(ConfigError::new(path, key, message));
    let r = &c.report;
    let evals: Vec<String> = task
        .eval_metrics()
        .iter()
        .map(|m| format!("eval_{m}"))
        .collect();
    if !evals.contains(&r.metric) {
        return err(
            "report.metric".into(),
            format!(
                "task `{}` writes no summary.csv column {:?}; its evaluation columns: {}",
                task.kind(),
                r.metric,
                evals.join(", ")
            ),
        );
    }
    let numeric = SUMMARY_COLUMNS
        .iter()
        .filter(|c| !matches!(**c, "run" | "status"))
        .map(|c| c.to_string());
    let columns: Vec<String> = numeric.chain(evals.iter().cloned()).collect();
    for (i, column) in r.also.iter().enumerate() {
        if !columns.contains(column) {
            return err(
                format!("report.also[{i}]"),
                format!(
                    "{column:?} is not a summary.csv column of task `{}`; columns: {}",
                    task.kind(),
                    columns.join(", ")
                ),
            );
        }
    }
    if let Some(sweep) = &r.sweep {
        if sweep.name.trim().is_empty() || !sweep.value.is_finite() {
            return err(
                "report.sweep".into(),
                format!(
                    "expected a non-empty `name` and a finite `value`, got name {:?}, value {}",
                    sweep.name, sweep.value
                ),
            );
        }
    }
    for (i, (a, b)) in r.pairs.iter().enumerate() {
        for l in [a, b] {
            if !resolved && !labels.contains(l) {
                return err(
                    format!("report.pairs[{i}]"),
                    format!(
                        "label {l:?} is not an optimizer label; labels: {}",
                        labels.iter().cloned().collect::<Vec<_>>().join(", ")
                    ),
                );
            }
        }
    }
    Ok(())
}

/// The config's name: its file stem, which names the results folder.
fn config_name(path: &Path) -> Result<String, ConfigError> {
    path.file_stem()
        .and_then(|s| s.to_str())
        .filter(|s| is_safe_name(s))
        .map(str::to_string)
        .ok_or_else(|| {
            ConfigError::new(
                path,
                "",
                format!("the file name must be at most {MAX_NAME_BYTES} letters, digits, `_`, `-` or `.` (it names the results folder)"),
            )
        })
}

/// At most [`MAX_NAME_BYTES`] letters, digits, `_`, `-`, `.`; not empty, not `.`/`..`.
pub fn is_safe_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= MAX_NAME_BYTES
        && s != "."
        && s != ".."
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
}
