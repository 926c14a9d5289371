//! Pretrained weights from the Hugging Face hub, through the `hf-hub` crate ([`adamp_hub`]):
//! the file is taken from the hub cache (`HF_HUB_CACHE`, else `$HF_HOME/hub`, else
//! `~/.cache/huggingface/hub`: the layout `huggingface_hub` writes, so a cache filled by
//! `hf download timm/resnet50.a1_in1k model.safetensors` elsewhere is used as is) or downloaded
//! into it; `HF_HUB_OFFLINE=1` never touches the network. timm's and torchvision's ResNet names
//! are this crate's names, so [`crate::Model::load_pretrained`] loads them without renaming.

use std::path::PathBuf;

use adamp_hub::{Hub, RepoKind};

use crate::error::{ModelError, Result};

/// The weights file most timm repositories publish.
pub const TIMM_WEIGHTS: &str = "model.safetensors";

/// The local path of `filename` in model repository `repo` (`org/name`, e.g.
/// `timm/resnet50.a1_in1k`) at `revision` (usually `main`), from `hub`'s cache or downloaded
/// into it. Errors name the repository and file and say what to do (offline, not found,
/// unreachable hub).
pub fn hub_file(hub: &Hub, repo: &str, revision: &str, filename: &str) -> Result<PathBuf> {
    hub.file(RepoKind::Model, repo, revision, filename)
        .map_err(|e| ModelError::Pretrained(e.to_string()))
}
