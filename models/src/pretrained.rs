//! Offline lookup of pretrained weights in the local Hugging Face hub cache (the layout
//! `huggingface_hub` / the `hf-hub` crate write: `models--{org}--{name}/refs/{revision}` holds a
//! commit hash, the file lives in `snapshots/{hash}/{filename}`). No network access: download
//! first, e.g. `huggingface-cli download timm/resnet50.a1_in1k model.safetensors`, then load
//! with [`crate::Model::load_pretrained`] (timm's and torchvision's ResNet-50 names are this
//! crate's names).

use std::path::{Path, PathBuf};

use crate::error::{ModelError, Result};

/// The hub cache directory: `$HF_HUB_CACHE`, else `$HF_HOME/hub`, else `~/.cache/huggingface/hub`.
pub fn hf_cache_dir() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("HF_HUB_CACHE") {
        return Some(PathBuf::from(p));
    }
    if let Some(p) = std::env::var_os("HF_HOME") {
        return Some(PathBuf::from(p).join("hub"));
    }
    std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/huggingface/hub"))
}

/// The cached copy of `filename` from model repository `repo_id` (`org/name`) at `revision`
/// (usually `main`) under `cache`, or an error saying where it was looked for and how to get it.
pub fn hf_cached_file(
    cache: &Path,
    repo_id: &str,
    revision: &str,
    filename: &str,
) -> Result<PathBuf> {
    let missing = |what: String| {
        ModelError::Config(format!(
            "pretrained weights `{repo_id}/{filename}` are not in the local Hugging Face cache ({what}); \
             download them on a machine with internet access (`huggingface-cli download {repo_id} {filename}`) \
             and copy the cache, or set HF_HUB_CACHE"
        ))
    };
    let repo = cache.join(format!("models--{}", repo_id.replace('/', "--")));
    let refs = repo.join("refs").join(revision);
    let commit = match std::fs::read_to_string(&refs) {
        Ok(c) => c.trim().to_string(),
        // A revision may also be given as the commit hash itself.
        Err(_) if repo.join("snapshots").join(revision).is_dir() => revision.to_string(),
        Err(_) => return Err(missing(format!("no {}", refs.display()))),
    };
    let file = repo.join("snapshots").join(commit).join(filename);
    if file.is_file() {
        Ok(file)
    } else {
        Err(missing(format!("no {}", file.display())))
    }
}
