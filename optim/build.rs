//! Compiles the GPU step's kernels (`src/gpu/kernels.cu`) when a feature asks for them:
//! - `cuda`: to PTX with nvcc (`CUDA_COMPUTE_CAP`, as candle-kernels reads it, or compute_75, the
//!   oldest architecture CUDA 13's nvcc compiles for; the driver JIT-compiles the PTX for newer GPUs),
//!   without fused multiply-add contraction so that each element's update is the CPU path's;
//! - `gpu-emulator`: for the host with the C++ compiler and `src/gpu/emu.h`.
//!
//! The default build does nothing here.

use std::path::PathBuf;
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=src/gpu/kernels.cu");
    println!("cargo:rerun-if-changed=src/gpu/emu.h");
    println!("cargo:rerun-if-changed=src/gpu/emulated.cc");
    println!("cargo:rerun-if-env-changed=CUDA_COMPUTE_CAP");
    println!("cargo:rerun-if-env-changed=NVCC");
    if std::env::var_os("CARGO_FEATURE_CUDA").is_some() {
        ptx();
    }
    #[cfg(feature = "gpu-emulator")]
    emulator();
}

fn ptx() {
    let out =
        PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR")).join("adamp_optim_kernels.ptx");
    let cap = std::env::var("CUDA_COMPUTE_CAP")
        .ok()
        .map(|c| c.trim().replace('.', ""))
        .filter(|c| !c.is_empty())
        .unwrap_or_else(|| "75".into());
    let nvcc = std::env::var("NVCC").unwrap_or_else(|_| "nvcc".into());
    let status = Command::new(&nvcc)
        .args(["--ptx", "-std=c++17", "--fmad=false", "-O3"])
        .arg(format!("-arch=compute_{cap}"))
        .arg("src/gpu/kernels.cu")
        .arg("-o")
        .arg(&out)
        .status();
    match status {
        Ok(s) if s.success() => {}
        Ok(s) => panic!("adamp-optim: `{nvcc}` failed ({s}) compiling src/gpu/kernels.cu"),
        Err(e) => panic!(
            "adamp-optim: the `cuda` feature compiles src/gpu/kernels.cu with nvcc, which could \
             not be run ({e}); put nvcc on PATH or set NVCC (README \"GPU builds\")"
        ),
    }
}

#[cfg(feature = "gpu-emulator")]
fn emulator() {
    cc::Build::new()
        .cpp(true)
        .std("c++20")
        .flag("-ffp-contract=off")
        .flag_if_supported("-pthread")
        .file("src/gpu/emulated.cc")
        .compile("adamp_gpu_emulated");
    println!("cargo:rustc-link-lib=pthread");
}
