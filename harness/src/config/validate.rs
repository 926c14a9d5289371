//! The one place a config file becomes an [`Experiment`]: read, merge the profile, apply the
//! overrides, parse against the schema, check ranges. Every error names the file, the key path and
//! what is expected; nothing is written before all of this succeeded.

use std::collections::BTreeSet;
use std::path::Path;

use super::error::ConfigError;
use super::optimizer::OPTIMIZER_KINDS;
use super::overrides::{apply_set, deep_merge};
use super::schedule::SCHEDULE_KINDS;
use super::schema::{ConfigFile, TaskConfig, DATA_KINDS, MODEL_KINDS, REPORT_SCALES, TASK_KINDS};
use super::{DeviceSpec, Experiment, LoadOptions};

/// Load and check the config at `path` with the command line's additions.
pub fn load(path: &Path, options: &LoadOptions) -> Result<Experiment, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        ConfigError::new(
            path,
            "",
            format!("cannot read the config file ({e}); check the path (configs live in `configs/`, see `adamp list`)"),
        )
    })?;
    let mut table: toml::Table = text.parse().map_err(|e: toml::de::Error| {
        ConfigError::new(
            path,
            "",
            format!("not valid TOML: {}", e.to_string().replace('\n', " ")),
        )
    })?;
    if let Some(profile) = &options.profile {
        apply_profile(&mut table, path, profile)?;
    }
    table.remove("profiles");
    // A run's config.resolved.toml (it has `[meta]`) holds one optimizer entry but keeps the
    // experiment's report pairs, whose other labels live in sibling run folders.
    let resolved = table.remove("meta").is_some();
    for arg in &options.sets {
        apply_set(&mut table, path, arg)?;
    }
    if let Some(seeds) = &options.seeds {
        let seeds = seeds.iter().map(|&s| toml::Value::Integer(s as i64));
        table.insert("seeds".into(), toml::Value::Array(seeds.collect()));
    }
    if let Some(device) = &options.device {
        table.insert("device".into(), toml::Value::String(device.clone()));
    }
    let value = toml::Value::Table(table);
    let config: ConfigFile = serde_path_to_error::deserialize(value.clone())
        .map_err(|e| parse_error(path, &e, &value))?;
    let device =
        DeviceSpec::parse(&config.device).map_err(|m| ConfigError::new(path, "device", m))?;
    check(path, &config, resolved)?;
    let name = path
        .file_stem()
        .and_then(|s| s.to_str())
        .filter(|s| is_safe_name(s))
        .ok_or_else(|| {
            ConfigError::new(
                path,
                "",
                "the file name must be letters, digits, `_`, `-` or `.` (it names the results folder)",
            )
        })?
        .to_string();
    Ok(Experiment {
        name,
        path: path.to_path_buf(),
        config,
        device,
    })
}

/// Merge `[profiles.<name>]` over the file; `quick` also marks the report scale as quick.
fn apply_profile(table: &mut toml::Table, path: &Path, profile: &str) -> Result<(), ConfigError> {
    let over = match table.get("profiles").and_then(|p| p.get(profile)) {
        None => None,
        Some(toml::Value::Table(t)) => Some(t.clone()),
        Some(_) => {
            return Err(ConfigError::new(
                path,
                format!("profiles.{profile}"),
                "expected a table (a partial config merged over this file)",
            ))
        }
    };
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

/// The value at a rendered key path (`optimizers[1]`, `training.lr_schedule`).
fn value_at<'a>(root: &'a toml::Value, key: &str) -> Option<&'a toml::Value> {
    let mut here = root;
    for part in key.split('.') {
        let (name, index) = match part.split_once('[') {
            Some((n, rest)) => (n, rest.trim_end_matches(']').parse::<usize>().ok()),
            None => (part, None),
        };
        here = here.get(name)?;
        if let Some(i) = index {
            here = here.get(i)?;
        }
    }
    Some(here)
}

/// Deserialize a kind-tagged entry's body as `T` to find the failing field's path (serde buffers
/// internally tagged entries, so the outer path stops at the entry).
pub(crate) fn field_error<T: serde::de::DeserializeOwned>(
    entry: &toml::Value,
) -> Option<(String, String)> {
    let mut body = entry.as_table()?.clone();
    body.remove("kind");
    serde_path_to_error::deserialize::<_, T>(toml::Value::Table(body))
        .err()
        .map(|e| (e.path().to_string(), e.inner().message().to_string()))
}

/// For an error inside a kind-tagged entry: `(field path inside the entry, message)`.
fn refine(root: &toml::Value, key: &str) -> Option<(String, String)> {
    use super::optimizer::{AdamEntry, AdamPEntry, SgdEntry, SgdpEntry};
    use super::schedule::{ConstantSchedule, CosineSchedule, MultiStepSchedule, StepSchedule};
    let entry = value_at(root, key)?;
    let kind = entry.get("kind")?.as_str()?;
    let is_optimizer = key.starts_with("optimizers[") && !key.contains('.');
    match (key, kind) {
        (_, "sgd") if is_optimizer => field_error::<SgdEntry>(entry),
        (_, "sgdp") if is_optimizer => field_error::<SgdpEntry>(entry),
        (_, "adam" | "adamw") if is_optimizer => field_error::<AdamEntry>(entry),
        (_, "adamp") if is_optimizer => field_error::<AdamPEntry>(entry),
        ("task", kind) => TaskConfig::field_error(kind, entry),
        ("training.lr_schedule", "constant") => field_error::<ConstantSchedule>(entry),
        ("training.lr_schedule", "step") => field_error::<StepSchedule>(entry),
        ("training.lr_schedule", "multistep") => field_error::<MultiStepSchedule>(entry),
        ("training.lr_schedule", "cosine") => field_error::<CosineSchedule>(entry),
        _ => None,
    }
}

/// Turn a schema error into `file: key.path: message`, naming the valid choices for kinds.
fn parse_error(
    path: &Path,
    e: &serde_path_to_error::Error<toml::de::Error>,
    root: &toml::Value,
) -> ConfigError {
    let mut key = e.path().to_string();
    if key == "." {
        key.clear();
    }
    let mut inner = e.inner().message().to_string();
    if let Some((field, message)) = refine(root, &key) {
        if field != "." && !field.is_empty() {
            key = format!("{key}.{field}");
        }
        inner = message;
    }
    let mut message = inner
        .replace("expected f64", "expected a number")
        .replace("expected usize", "expected a non-negative integer")
        .replace("expected u64", "expected a non-negative integer")
        .replace("expected a boolean", "expected true or false");
    // Internally tagged entries are buffered, so the path stops at the entry: add the field.
    for prefix in ["unknown field `", "missing field `"] {
        if let Some(rest) = message.strip_prefix(prefix) {
            if let Some(field) = rest.split('`').next() {
                let field = field.to_string();
                if !key.ends_with(&field) {
                    key = if key.is_empty() {
                        field
                    } else {
                        format!("{key}.{field}")
                    };
                }
            }
        }
    }
    let kinds: Option<(&str, &[&str])> = if key.starts_with("optimizers") {
        Some(("optimizer", OPTIMIZER_KINDS))
    } else if key.starts_with("training.lr_schedule") {
        Some(("schedule", SCHEDULE_KINDS))
    } else if key.starts_with("task") {
        Some(("task", TASK_KINDS))
    } else if key.starts_with("model") {
        Some(("model", MODEL_KINDS))
    } else if key.starts_with("data") {
        Some(("data", DATA_KINDS))
    } else {
        None
    };
    if let Some((what, valid)) = kinds {
        if message.starts_with("unknown variant") || message.contains("missing field `kind`") {
            let list = if valid.is_empty() {
                "none yet (no task takes this table; remove it)".to_string()
            } else {
                valid.join(", ")
            };
            let given = message.split('`').nth(1).unwrap_or("").to_string();
            message = if message.contains("missing field `kind`") {
                format!("missing `kind`; valid {what} kinds: {list}")
            } else {
                format!("unknown {what} kind `{given}`; valid {what} kinds: {list}")
            };
            if !key.ends_with("kind") {
                key = if key.is_empty() {
                    "kind".into()
                } else {
                    format!("{key}.kind")
                };
            }
        }
    }
    ConfigError::new(path, key, message)
}

/// Range and consistency checks that the schema's types cannot express.
fn check(path: &Path, c: &ConfigFile, resolved: bool) -> Result<(), ConfigError> {
    let err = |key: &str, message: String| Err(ConfigError::new(path, key, message));
    check_model_and_data(path, c)?;
    if let Some(unit) = &c.training.schedule_unit {
        if !super::schema::SCHEDULE_UNITS.contains(&unit.as_str()) {
            return err(
                "training.schedule_unit",
                format!("expected \"epoch\" or \"step\", got \"{unit}\""),
            );
        }
    }
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
    let t = &c.training;
    match (t.steps, t.epochs) {
        (Some(_), Some(_)) | (None, None) => {
            return err(
                "training",
                "expected exactly one of `steps` (step-based tasks) and `epochs`".into(),
            )
        }
        (Some(0), _) => return err("training.steps", "expected an integer >= 1, got 0".into()),
        (_, Some(0)) => return err("training.epochs", "expected an integer >= 1, got 0".into()),
        _ => {}
    }
    if t.eval_every.is_some() && t.steps.is_none() {
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
    if c.optimizers.is_empty() {
        return err(
            "optimizers",
            format!(
                "expected at least one [[optimizers]] entry (kind = {})",
                OPTIMIZER_KINDS.join(" | ")
            ),
        );
    }
    let mut labels = BTreeSet::new();
    for (i, entry) in c.optimizers.iter().enumerate() {
        let label = entry.label();
        if !is_safe_name(&label) {
            return err(
                &format!("optimizers[{i}].label"),
                format!(
                    "expected letters, digits, `_`, `-` or `.` (it names a folder), got {label:?}"
                ),
            );
        }
        if !labels.insert(label.clone()) {
            return err(
                &format!("optimizers[{i}].label"),
                format!("label {label:?} is used twice; give each entry a distinct `label`"),
            );
        }
        if let Err((key, message)) = entry.check() {
            let key = if key.is_empty() {
                format!("optimizers[{i}]")
            } else {
                format!("optimizers[{i}].{key}")
            };
            return err(&key, message);
        }
    }
    let r = &c.report;
    if !REPORT_SCALES.contains(&r.scale.as_str()) {
        return err(
            "report.scale",
            format!(
                "expected one of {}, got {:?}",
                REPORT_SCALES.join(", "),
                r.scale
            ),
        );
    }
    if !r.metric.starts_with("eval_") {
        return err(
            "report.metric",
            format!(
                "expected a summary.csv eval column `eval_<name>`, got {:?}",
                r.metric
            ),
        );
    }
    for (i, (a, b)) in r.pairs.iter().enumerate() {
        for l in [a, b] {
            if !resolved && !labels.contains(l) {
                return err(
                    &format!("report.pairs[{i}]"),
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

/// Letters, digits, `_`, `-`, `.`; not empty, not `.`/`..`.
fn is_safe_name(s: &str) -> bool {
    !s.is_empty()
        && s != "."
        && s != ".."
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
}

/// `[model]` and `[data]`: present exactly for the tasks that take them, with valid kinds.
fn check_model_and_data(path: &Path, c: &ConfigFile) -> Result<(), ConfigError> {
    let task_error = |e: adamp_task_api::TaskError| match e {
        adamp_task_api::TaskError::InvalidSetting { key, expected } => {
            ConfigError::new(path, key, expected)
        }
        other => ConfigError::new(path, "model", other.to_string()),
    };
    if let Some(model) = &c.model {
        model.model_kind().map_err(task_error)?;
        model.layer_impl().map_err(task_error)?;
    }
    if let Some(data) = &c.data {
        data.dataset_kind().map_err(task_error)?;
        if data.is_hf_parquet() && data.hf_repo.is_none() {
            return Err(ConfigError::new(
                path,
                "data.hf_repo",
                "`data.kind = \"hf_parquet\"` needs `hf_repo = \"org/name\"` (a dataset repository on the Hugging Face hub)",
            ));
        }
    }
    match &c.task {
        TaskConfig::Classification(_) => {
            c.model_and_data(path)?;
            if c.training.epochs.is_none() {
                return Err(ConfigError::new(
                    path,
                    "training.epochs",
                    "classification is epoch-based: set `training.epochs` (not `steps`)",
                ));
            }
        }
        TaskConfig::Toy2d(_) | TaskConfig::Toy3d(_) => {
            for (key, present) in [("model", c.model.is_some()), ("data", c.data.is_some())] {
                if present {
                    return Err(ConfigError::new(
                        path,
                        key,
                        format!("task `{}` takes no [{key}] table; remove it", c.task.kind()),
                    ));
                }
            }
        }
    }
    Ok(())
}
