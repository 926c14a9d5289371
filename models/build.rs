//! With the `cuda` feature, compiles `src/ops/cuda/kernels.cu` (BatchNorm and residual-add
//! kernels) to PTX with `nvcc` into `OUT_DIR/adamp_kernels.ptx`, which `ops::cuda` embeds with
//! `include_str!`. The virtual architecture is `compute_$CUDA_COMPUTE_CAP` (default 80, as
//! Candle's kernels); the driver JIT-compiles the PTX for the GPU it runs on. `nvcc` is found on
//! `PATH` or in `$CUDA_ROOT/bin` / `$CUDA_PATH/bin`. Without the feature this does nothing.

use std::path::PathBuf;
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=CARGO_FEATURE_CUDA");
    if std::env::var_os("CARGO_FEATURE_CUDA").is_none() {
        return;
    }
    let src = "src/ops/cuda/kernels.cu";
    println!("cargo:rerun-if-changed={src}");
    for var in ["CUDA_COMPUTE_CAP", "CUDA_ROOT", "CUDA_PATH", "NVCC"] {
        println!("cargo:rerun-if-env-changed={var}");
    }
    let cap = std::env::var("CUDA_COMPUTE_CAP").unwrap_or_else(|_| "80".to_string());
    let cap: String = cap.chars().filter(char::is_ascii_digit).collect();
    if cap.is_empty() {
        panic!("CUDA_COMPUTE_CAP must be a number such as 90");
    }
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR")).join("adamp_kernels.ptx");
    let nvcc = std::env::var("NVCC").ok().unwrap_or_else(|| {
        ["CUDA_ROOT", "CUDA_PATH"]
            .iter()
            .filter_map(|v| std::env::var(v).ok())
            .map(|root| PathBuf::from(root).join("bin").join("nvcc"))
            .find(|p| p.exists())
            .map(|p| p.display().to_string())
            .unwrap_or_else(|| "nvcc".to_string())
    });
    let status = Command::new(&nvcc)
        .args(["--ptx", "-O3", "-std=c++17"])
        .arg(format!("-arch=compute_{cap}"))
        .arg(src)
        .arg("-o")
        .arg(&out)
        .status()
        .unwrap_or_else(|e| panic!("running `{nvcc}` for {src}: {e}"));
    if !status.success() {
        panic!("`{nvcc}` failed on {src} ({status})");
    }
}
