//! Schema errors as `file: key.path: message`: the failing field's full path (also inside
//! kind-tagged entries, which serde buffers), plain-language type names, and the valid choices
//! for an unknown `kind`.

use std::path::Path;

use adamp_optim::{AdamConfig, AdamPConfig, AdamWConfig, SgdConfig, SgdpConfig};

use super::error::ConfigError;
use super::optimizer::OPTIMIZER_KINDS;
use super::schedule::{
    ConstantSchedule, CosineSchedule, MultiStepSchedule, StepSchedule, SCHEDULE_KINDS,
};

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

/// Deserialize a kind-tagged entry's body (without `kind` and the harness's `label`) as `T` to
/// find the failing field's path (serde buffers internally tagged entries, so the outer path
/// stops at the entry).
fn field_error<T: serde::de::DeserializeOwned>(entry: &toml::Value) -> Option<(String, String)> {
    let mut body = entry.as_table()?.clone();
    body.remove("kind");
    body.remove("label");
    serde_path_to_error::deserialize::<_, T>(toml::Value::Table(body))
        .err()
        .map(|e| (e.path().to_string(), e.inner().message().to_string()))
}

/// For an error inside a kind-tagged entry: `(field path inside the entry, message)`.
fn refine(root: &toml::Value, key: &str) -> Option<(String, String)> {
    let entry = value_at(root, key)?;
    let kind = entry.get("kind")?.as_str()?;
    let is_optimizer = key.starts_with("optimizers[") && !key.contains('.');
    match (key, kind) {
        (_, "sgd") if is_optimizer => field_error::<SgdConfig>(entry),
        (_, "sgdp") if is_optimizer => field_error::<SgdpConfig>(entry),
        (_, "adam") if is_optimizer => field_error::<AdamConfig>(entry),
        (_, "adamw") if is_optimizer => field_error::<AdamWConfig>(entry),
        (_, "adamp") if is_optimizer => field_error::<AdamPConfig>(entry),
        ("training.lr_schedule", "constant") => field_error::<ConstantSchedule>(entry),
        ("training.lr_schedule", "step") => field_error::<StepSchedule>(entry),
        ("training.lr_schedule", "multistep") => field_error::<MultiStepSchedule>(entry),
        ("training.lr_schedule", "cosine") => field_error::<CosineSchedule>(entry),
        _ => None,
    }
}

/// Serde's type names in plain words.
pub(crate) fn humanize(message: &str) -> String {
    message
        .replace("expected f64", "expected a number")
        .replace("expected usize", "expected a non-negative integer")
        .replace("expected u64", "expected a non-negative integer")
        .replace("expected a boolean", "expected true or false")
}

/// An unknown or missing `kind` as `unknown <what> kind `x`; valid <what> kinds: a, b`; any
/// other message humanized.
pub(crate) fn kind_message(what: &str, valid: &[&str], message: &str) -> String {
    let list = if valid.is_empty() {
        "none yet (no task takes this table; remove it)".to_string()
    } else {
        valid.join(", ")
    };
    if message.contains("missing field `kind`") {
        format!("missing `kind`; valid {what} kinds: {list}")
    } else if message.starts_with("unknown variant") {
        let given = message.split('`').nth(1).unwrap_or("");
        format!("unknown {what} kind `{given}`; valid {what} kinds: {list}")
    } else {
        humanize(message)
    }
}

/// Turn a schema error into `file: key.path: message`, naming the valid choices for kinds.
pub(crate) fn parse_error(
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
    // Internally tagged entries are buffered, so the path stops at the entry: add the field.
    for prefix in ["unknown field `", "missing field `"] {
        if let Some(field) = inner.strip_prefix(prefix).and_then(|r| r.split('`').next()) {
            if !key.ends_with(field) {
                key = if key.is_empty() {
                    field.to_string()
                } else {
                    format!("{key}.{field}")
                };
            }
        }
    }
    let kinds: Option<(&str, &[&str])> = if key.starts_with("optimizers") {
        Some(("optimizer", OPTIMIZER_KINDS))
    } else if key.starts_with("training.lr_schedule") {
        Some(("schedule", SCHEDULE_KINDS))
    } else {
        None
    };
    let is_kind_error =
        inner.starts_with("unknown variant") || inner.contains("missing field `kind`");
    let message = match kinds {
        Some((what, valid)) if is_kind_error => {
            if !key.ends_with("kind") {
                key = if key.is_empty() {
                    "kind".into()
                } else {
                    format!("{key}.kind")
                };
            }
            kind_message(what, valid, &inner)
        }
        _ => humanize(&inner),
    };
    ConfigError::new(path, key, message)
}
