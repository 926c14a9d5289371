//! The `[[optimizers]]` entries: one run per entry and seed.
//!
//! An entry is an optimizer config of `adamp-optim` ([`OptimizerConfig`], read through its
//! `serde` feature: `kind = "sgd" | "sgdp" | "adam" | "adamw" | "adamp"`, that optimizer's keys,
//! unknown keys rejected, missing ones at the references' defaults) plus the harness's own
//! `label`. Names, defaults and range checks live in the optimizer crate alone; a new
//! hyperparameter is added there.

use adamp_optim::{OptimError, Optimizer, OptimizerConfig, ParamList};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The valid `kind`s, for error messages.
pub const OPTIMIZER_KINDS: &[&str] = OptimizerConfig::KINDS;

/// One optimizer entry of a config: a label and an optimizer config.
#[derive(Debug, Clone, PartialEq)]
pub struct OptimizerEntry {
    /// Run label (folder name); defaults to the kind.
    pub label: Option<String>,
    /// The optimizer and its hyperparameters (every default filled).
    pub config: OptimizerConfig,
}

impl OptimizerEntry {
    /// The `kind` string.
    pub fn kind(&self) -> &'static str {
        self.config.name()
    }

    /// The label (folder name): the entry's `label`, else its kind.
    pub fn label(&self) -> String {
        self.label
            .clone()
            .unwrap_or_else(|| self.kind().to_string())
    }

    /// The base learning rate.
    pub fn lr(&self) -> f64 {
        self.config.lr()
    }

    /// Whether the optimizer projects updates of scale-invariant weights (SGDP, AdamP).
    pub fn projects(&self) -> bool {
        self.config.projects()
    }

    /// Build the optimizer over `params` (range checks happen in the constructors).
    pub fn build(&self, params: ParamList) -> Result<Box<dyn Optimizer>, OptimError> {
        Ok(self.config.build(params)?)
    }

    /// The optimizer's range checks as `(key inside the entry, message)`.
    pub fn check(&self) -> Result<(), (String, String)> {
        self.config.check_keys()
    }
}

impl Serialize for OptimizerEntry {
    /// The optimizer's table (`kind` and every hyperparameter) plus `label` when set.
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::Error;
        let mut table = match toml::Value::try_from(self.config).map_err(S::Error::custom)? {
            toml::Value::Table(t) => t,
            other => return Err(S::Error::custom(format!("not a table: {other}"))),
        };
        if let Some(label) = &self.label {
            table.insert("label".into(), toml::Value::String(label.clone()));
        }
        table.serialize(s)
    }
}

impl<'de> Deserialize<'de> for OptimizerEntry {
    /// `label` is the harness's; everything else is the optimizer's table.
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let mut table = toml::Table::deserialize(d)?;
        let label = match table.remove("label") {
            None => None,
            Some(toml::Value::String(s)) => Some(s),
            Some(other) => {
                return Err(D::Error::custom(format!(
                    "label: expected a string, got {}",
                    other.type_str()
                )))
            }
        };
        let config = OptimizerConfig::deserialize(toml::Value::Table(table))
            .map_err(|e| D::Error::custom(e.message()))?;
        Ok(OptimizerEntry { label, config })
    }
}
