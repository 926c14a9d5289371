//! `[model] pretrained` of the tasks that start from published weights (retrieval, detection):
//! a Hugging Face hub file (through the hub cache: `HF_HUB_OFFLINE`, `HF_ENDPOINT`, `HF_TOKEN`
//! apply) or a local safetensors file in torchvision names.
//!
//! ```toml
//! pretrained = { hub = "timm/resnet50.tv_in1k", revision = "main", file = "model.safetensors" }
//! # pretrained = { path = "weights/resnet50.safetensors" }
//! ```

use std::path::PathBuf;

use adamp_task_api::factory::invalid;
use adamp_task_api::{Result, TaskError};
use serde::{Deserialize, Serialize};

/// `[model] pretrained`: a hub file or a local file (exactly one of `hub` and `path`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pretrained {
    /// A Hugging Face hub model repository (`org/name`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hub: Option<String>,
    /// Its branch, tag or commit (default `main`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revision: Option<String>,
    /// The file in the repository (default `model.safetensors`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// A local safetensors file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<PathBuf>,
}

/// Where the pretrained weights come from, once checked.
#[derive(Debug, Clone, PartialEq)]
pub enum WeightsSource {
    /// `hub_file(repo, revision, file)`.
    Hub {
        /// Repository.
        repo: String,
        /// Revision.
        revision: String,
        /// File.
        file: String,
    },
    /// A local file.
    Path(PathBuf),
}

impl Pretrained {
    /// The checked source, naming `model.pretrained.*` keys on error.
    pub fn source(&self) -> Result<WeightsSource> {
        match (&self.hub, &self.path) {
            (Some(repo), None) => {
                if repo.split('/').count() != 2 || repo.split('/').any(str::is_empty) {
                    return Err(invalid(
                        "model.pretrained.hub",
                        format!("expected a hub repository `org/name`, got `{repo}`"),
                    ));
                }
                Ok(WeightsSource::Hub {
                    repo: repo.clone(),
                    revision: self.revision.clone().unwrap_or_else(|| "main".into()),
                    file: self
                        .file
                        .clone()
                        .unwrap_or_else(|| adamp_models::pretrained::TIMM_WEIGHTS.into()),
                })
            }
            (None, Some(path)) => {
                for (key, given) in [("revision", &self.revision), ("file", &self.file)] {
                    if given.is_some() {
                        return Err(invalid(
                            format!("model.pretrained.{key}"),
                            format!("`{key}` goes with `hub`, not with `path`"),
                        ));
                    }
                }
                Ok(WeightsSource::Path(path.clone()))
            }
            _ => Err(invalid(
                "model.pretrained",
                "expected exactly one of `hub = \"org/name\"` and `path = \"file.safetensors\"`",
            )),
        }
    }
}

impl WeightsSource {
    /// The weights' local file: the path itself, or the hub file fetched into the hub cache.
    pub fn local_file(&self) -> Result<PathBuf> {
        let other = |e: &dyn std::fmt::Display| TaskError::Other(e.to_string());
        match self {
            WeightsSource::Path(p) => Ok(p.clone()),
            WeightsSource::Hub {
                repo,
                revision,
                file,
            } => {
                let hub = adamp_hub::Hub::from_env().map_err(|e| other(&e))?;
                adamp_models::pretrained::hub_file(&hub, repo, revision, file)
                    .map_err(|e| other(&e))
            }
        }
    }
}
