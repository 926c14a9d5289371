//! Checkpoints: everything a run needs to continue bit-for-bit after a kill.
//!
//! `checkpoint/` in a run folder holds
//! - `tensors.safetensors`: the parameters (`param/<set>/<name>`) and the task's buffers
//!   (`buffer/<name>`: BatchNorm statistics, RNG words, recurrent memory, ...);
//! - `optimizer-<set>.safetensors`: each optimizer's `save_state`;
//! - `state.json`: the step, the elapsed time and the recorder's rows (floats as bits).
//!
//! A checkpoint is written into `checkpoint.new/` and swapped in by renames
//! (`checkpoint` → `checkpoint.old`, `checkpoint.new` → `checkpoint`, then `checkpoint.old` is
//! removed), so a kill at any point leaves one complete checkpoint: [`load`] falls back to
//! `checkpoint.old` if the swap was interrupted. The loop itself draws no random numbers; tasks
//! keep their RNG state in their buffers.

use std::collections::HashMap;
use std::fs::File;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use candle_core::{Device, Tensor};
use serde::{Deserialize, Serialize};

use adamp_task_api::{OptimizerSet, ParamSet, Task};

use crate::record::RecorderState;
use adamp_fsio::sync_dir;

/// The loop's own state in a checkpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoopState {
    /// Optimizer steps taken.
    pub step: u64,
    /// Seconds of training before this checkpoint, as f64 bits.
    pub elapsed_bits: u64,
    /// The recorder's rows and accumulators.
    pub recorder: RecorderState,
}

const DIR: &str = "checkpoint";
const NEW: &str = "checkpoint.new";
const OLD: &str = "checkpoint.old";

/// Where a checkpoint of `folder` can be read: `checkpoint/`, else `checkpoint.old/` (a kill
/// during the swap), else none.
pub fn find(folder: &Path) -> Option<PathBuf> {
    [DIR, OLD]
        .iter()
        .map(|d| folder.join(d))
        .find(|d| d.join("state.json").is_file())
}

/// Remove checkpoint leftovers of an interrupted save (`checkpoint.new/`, and `checkpoint.old/`
/// when `checkpoint/` is complete).
pub fn clean(folder: &Path) -> Result<()> {
    let new = folder.join(NEW);
    if new.exists() {
        std::fs::remove_dir_all(&new).with_context(|| format!("removing {}", new.display()))?;
    }
    let old = folder.join(OLD);
    if old.exists() && folder.join(DIR).join("state.json").is_file() {
        std::fs::remove_dir_all(&old).with_context(|| format!("removing {}", old.display()))?;
    }
    Ok(())
}

/// Save a checkpoint of the task's parameters and buffers, the optimizers and `state`.
pub fn save(
    folder: &Path,
    task: &dyn Task,
    sets: &[ParamSet],
    optimizers: &OptimizerSet,
    state: &LoopState,
) -> Result<()> {
    let new = folder.join(NEW);
    if new.exists() {
        std::fs::remove_dir_all(&new)?;
    }
    std::fs::create_dir_all(&new).with_context(|| format!("creating {}", new.display()))?;
    let mut tensors: HashMap<String, Tensor> = HashMap::new();
    for set in sets {
        for p in set.params.params() {
            tensors.insert(
                format!("param/{}/{}", set.name, p.name),
                p.var.as_tensor().clone(),
            );
        }
    }
    for (name, t) in task.buffers()? {
        tensors.insert(format!("buffer/{name}"), t);
    }
    let tensor_path = new.join("tensors.safetensors");
    candle_core::safetensors::save(&tensors, &tensor_path)
        .with_context(|| format!("writing {}", tensor_path.display()))?;
    let mut files = vec![tensor_path];
    for (i, opt) in optimizers.optimizers().iter().enumerate() {
        let path = new.join(format!("optimizer-{i}.safetensors"));
        opt.save_state(&path)
            .with_context(|| format!("writing {}", path.display()))?;
        files.push(path);
    }
    let state_path = new.join("state.json");
    std::fs::write(&state_path, serde_json::to_vec(state)?)?;
    files.push(state_path);
    // The files are made durable here, the folder by the renames below: `checkpoint.new/` is
    // swapped in whole, so its files need no temporary names of their own.
    for f in &files {
        File::open(f)?.sync_all()?;
    }
    sync_dir(&new)?;
    let (dir, old) = (folder.join(DIR), folder.join(OLD));
    if old.exists() {
        std::fs::remove_dir_all(&old)?;
    }
    if dir.exists() {
        std::fs::rename(&dir, &old)?;
    }
    std::fs::rename(&new, &dir)?;
    sync_dir(folder)?;
    if old.exists() {
        std::fs::remove_dir_all(&old)?;
    }
    Ok(())
}

/// Restore a checkpoint from `dir` into the task's parameters and buffers and the optimizers;
/// returns the loop state.
pub fn load(
    dir: &Path,
    task: &mut dyn Task,
    sets: &[ParamSet],
    optimizers: &mut OptimizerSet,
    device: &Device,
) -> Result<LoopState> {
    let tensor_path = dir.join("tensors.safetensors");
    let tensors = candle_core::safetensors::load(&tensor_path, device)
        .with_context(|| format!("reading {}", tensor_path.display()))?;
    // The task's buffers first: a task can refuse a checkpoint made on other data (a language
    // model's vocabulary fingerprint) by name, before the parameters' shapes are compared.
    let mut buffers: Vec<(String, Tensor)> = tensors
        .iter()
        .filter_map(|(k, t)| {
            k.strip_prefix("buffer/")
                .map(|n| (n.to_string(), t.clone()))
        })
        .collect();
    buffers.sort_by(|a, b| a.0.cmp(&b.0));
    task.load_buffers(&buffers)
        .with_context(|| format!("{}: restoring the task's buffers", tensor_path.display()))?;
    for set in sets {
        for p in set.params.params() {
            let key = format!("param/{}/{}", set.name, p.name);
            let Some(t) = tensors.get(&key) else {
                bail!(
                    "{}: parameter `{key}` is missing; the checkpoint is from another model (delete the run folder or pass --force)",
                    tensor_path.display()
                );
            };
            p.var
                .set(t)
                .with_context(|| format!("{}: restoring `{key}`", tensor_path.display()))?;
        }
    }
    for (i, opt) in optimizers.optimizers_mut().iter_mut().enumerate() {
        let path = dir.join(format!("optimizer-{i}.safetensors"));
        opt.load_state(&path)
            .with_context(|| format!("reading {}", path.display()))?;
    }
    let state_path = dir.join("state.json");
    let bytes =
        std::fs::read(&state_path).with_context(|| format!("reading {}", state_path.display()))?;
    serde_json::from_slice(&bytes).with_context(|| format!("parsing {}", state_path.display()))
}
