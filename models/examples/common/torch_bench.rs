//! The PyTorch side of the training benchmarks: `tools/bench_train_torch.py` run with the given
//! arguments, its last `images_per_s=` line parsed.

use std::path::Path;
use std::process::Command;

use anyhow::{bail, Context, Result};

/// Images/s of `tools/bench_train_torch.py ARGS` under the interpreter `py`.
pub fn torch_images_per_s(py: &Path, args: &[String]) -> Result<f64> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tools/bench_train_torch.py");
    let out = Command::new(py)
        .arg(&script)
        .args(args)
        .output()
        .with_context(|| format!("running {}", script.display()))?;
    if !out.status.success() {
        bail!(
            "{} failed: {}",
            script.display(),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text
        .lines()
        .rev()
        .find(|l| l.starts_with("images_per_s="))
        .context("no images_per_s= line from torch")?;
    Ok(line.trim_start_matches("images_per_s=").trim().parse()?)
}
