//! What a CUDA failure while opening a device or building a run on it means, in words a user can
//! act on: the device named, what happened and what to do. Pure functions over the error text
//! (cudarc prints driver errors as `DriverError(CUDA_ERROR_INVALID_DEVICE, "invalid device
//! ordinal")`) and a few facts about the machine ([`CudaFacts`], gathered by
//! `DeviceSpec::cuda_facts` on CUDA builds), so that every message is tested on CPU.

/// The CUDA 13.0 libraries of a `--features cuda` build (README "GPU builds") need an NVIDIA
/// driver of this major version or newer (CUDA 13.0 release notes, table 3: >= 580.65.06 on Linux).
pub const MIN_DRIVER_MAJOR: u32 = 580;

/// The failures with a known remedy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CudaFailure {
    /// `cuda:N` with N at or beyond the device count (`CUDA_ERROR_INVALID_DEVICE`).
    NoSuchDevice,
    /// No CUDA device visible at all (`CUDA_ERROR_NO_DEVICE`).
    NoDevice,
    /// The driver is older than the CUDA libraries or the PTX they were built with (the driver
    /// API's `CUDA_ERROR_UNSUPPORTED_PTX_VERSION`, `CUDA_ERROR_SYSTEM_DRIVER_MISMATCH`,
    /// `CUDA_ERROR_COMPAT_NOT_SUPPORTED_ON_DEVICE`; the runtime API's
    /// `CUDA_ERROR_INSUFFICIENT_DRIVER` where a library passes it on; or any failure with a driver
    /// older than [`MIN_DRIVER_MAJOR`]).
    DriverTooOld,
    /// `CUDA_ERROR_OUT_OF_MEMORY` (or cuBLAS' `CUBLAS_STATUS_ALLOC_FAILED`).
    OutOfMemory,
}

/// What is known about the machine when a failure is explained (each `None` when unknown).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CudaFacts {
    /// `cuDeviceGetCount`.
    pub device_count: Option<usize>,
    /// The kernel module's version from `/proc/driver/nvidia/version`, e.g. `580.95.05`.
    pub driver_version: Option<String>,
    /// (free, total) bytes of the device, measured when the failure is explained.
    pub memory: Option<(u64, u64)>,
    /// `CUDA_VISIBLE_DEVICES`, when set.
    pub visible_devices: Option<String>,
}

/// Where the failure happened.
#[derive(Debug, Clone, PartialEq)]
pub enum Stage {
    /// Opening the device (context, cuBLAS, cuRAND, the first kernel).
    Open,
    /// Building the run's task: its model and data, e.g. `task \`classification\``.
    Build(String),
}

/// Which known failure `error_text` reports, if any; a driver older than [`MIN_DRIVER_MAJOR`]
/// makes any other CUDA failure [`CudaFailure::DriverTooOld`] (cuBLAS and cuRAND report an old
/// driver only as `..._NOT_INITIALIZED` / `..._INITIALIZATION_FAILED`).
pub fn diagnose(error_text: &str, facts: &CudaFacts) -> Option<CudaFailure> {
    let has = |code: &str| error_text.contains(code);
    if has("CUDA_ERROR_INVALID_DEVICE") {
        return Some(if facts.device_count == Some(0) {
            CudaFailure::NoDevice
        } else {
            CudaFailure::NoSuchDevice
        });
    }
    if has("CUDA_ERROR_NO_DEVICE") {
        return Some(CudaFailure::NoDevice);
    }
    if has("CUDA_ERROR_INSUFFICIENT_DRIVER")
        || has("CUDA_ERROR_UNSUPPORTED_PTX_VERSION")
        || has("CUDA_ERROR_SYSTEM_DRIVER_MISMATCH")
        || has("CUDA_ERROR_COMPAT_NOT_SUPPORTED_ON_DEVICE")
    {
        return Some(CudaFailure::DriverTooOld);
    }
    if has("CUDA_ERROR_OUT_OF_MEMORY") || has("CUBLAS_STATUS_ALLOC_FAILED") {
        return Some(CudaFailure::OutOfMemory);
    }
    let old = facts
        .driver_version
        .as_deref()
        .and_then(driver_major)
        .is_some_and(|m| m < MIN_DRIVER_MAJOR);
    old.then_some(CudaFailure::DriverTooOld)
}

/// The driver's version from the text of `/proc/driver/nvidia/version`, whose first line reads
/// `NVRM version: NVIDIA UNIX x86_64 Kernel Module  580.95.05  Thu Sep 11 ...` (or `... Open
/// Kernel Module for x86_64  580.95.05  Release Build ...`).
pub fn parse_driver_version(proc_text: &str) -> Option<String> {
    let line = proc_text.lines().find(|l| l.starts_with("NVRM version:"))?;
    line.split_whitespace()
        .find(|t| {
            let parts: Vec<&str> = t.split('.').collect();
            parts.len() >= 2
                && parts
                    .iter()
                    .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
        })
        .map(str::to_string)
}

/// `580` of `580.95.05`.
fn driver_major(version: &str) -> Option<u32> {
    version.split('.').next()?.parse().ok()
}

/// Bytes as GiB with one decimal.
fn gib(bytes: u64) -> String {
    format!("{:.1} GiB", bytes as f64 / (1u64 << 30) as f64)
}

/// The one-paragraph message for `failure` on `cuda:{ordinal}` at `stage`: what happened and
/// what to do.
pub fn explain(ordinal: usize, stage: &Stage, failure: CudaFailure, facts: &CudaFacts) -> String {
    let dev = format!("cuda:{ordinal}");
    let visible = facts
        .visible_devices
        .as_deref()
        .map(|v| format!(" (CUDA_VISIBLE_DEVICES={v:?} limits what this process sees)"))
        .unwrap_or_default();
    match failure {
        CudaFailure::NoSuchDevice => match facts.device_count {
            Some(n) if n > 0 => {
                let range = if n == 1 {
                    "cuda:0".to_string()
                } else {
                    format!("cuda:0..cuda:{}", n - 1)
                };
                format!(
                    "{dev} does not exist: this machine has {n} CUDA device(s) ({range}){visible}; pass --device cuda:0"
                )
            }
            _ => format!(
                "{dev} does not exist on this machine{visible}: `nvidia-smi -L` lists its GPUs, numbered from 0; pass --device cuda:0"
            ),
        },
        CudaFailure::NoDevice => format!(
            "{dev}: no CUDA device is visible to this process{visible}: check that `nvidia-smi -L` lists a GPU and that CUDA_VISIBLE_DEVICES does not hide it, or use --device cpu"
        ),
        CudaFailure::DriverTooOld => {
            let version = facts
                .driver_version
                .as_deref()
                .map(|v| format!(" (version {v})"))
                .unwrap_or_default();
            format!(
                "{dev}: the NVIDIA driver{version} is older than the CUDA 13 libraries this build uses: update the driver to >= {MIN_DRIVER_MAJOR}, or build against the CUDA version the driver supports (`nvidia-smi` shows it; README \"GPU builds\"), or use --device cpu"
            )
        }
        CudaFailure::OutOfMemory => {
            let during = match stage {
                Stage::Open => "while opening it".to_string(),
                Stage::Build(what) => format!("while building {what}"),
            };
            let memory = facts
                .memory
                .map(|(free, total)| format!(" ({} free of {} now)", gib(free), gib(total)))
                .unwrap_or_default();
            format!(
                "out of memory on {dev} {during}{memory}: lower the batch size (--set training.batch_size=N), free the GPU (`nvidia-smi` shows which processes hold its memory) or pick another one with --device cuda:N"
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const INVALID: &str = r#"DriverError(CUDA_ERROR_INVALID_DEVICE, "invalid device ordinal")"#;
    const OOM: &str = r#"DriverError(CUDA_ERROR_OUT_OF_MEMORY, "out of memory")"#;

    fn facts(count: usize) -> CudaFacts {
        CudaFacts {
            device_count: Some(count),
            driver_version: Some("580.95.05".into()),
            ..Default::default()
        }
    }

    #[test]
    fn a_device_beyond_the_count_names_the_ones_there_are() {
        let f = facts(1);
        assert_eq!(diagnose(INVALID, &f), Some(CudaFailure::NoSuchDevice));
        let m = explain(3, &Stage::Open, CudaFailure::NoSuchDevice, &f);
        assert_eq!(
            m,
            "cuda:3 does not exist: this machine has 1 CUDA device(s) (cuda:0); pass --device cuda:0"
        );
        let m = explain(8, &Stage::Open, CudaFailure::NoSuchDevice, &facts(4));
        assert!(m.contains("4 CUDA device(s) (cuda:0..cuda:3)"), "{m}");
        let unknown = CudaFacts::default();
        let m = explain(3, &Stage::Open, CudaFailure::NoSuchDevice, &unknown);
        assert!(
            m.starts_with("cuda:3 does not exist") && m.contains("nvidia-smi -L"),
            "{m}"
        );
    }

    #[test]
    fn no_device_at_all_points_at_visibility() {
        assert_eq!(diagnose(INVALID, &facts(0)), Some(CudaFailure::NoDevice));
        let text = r#"DriverError(CUDA_ERROR_NO_DEVICE, "no CUDA-capable device is detected")"#;
        assert_eq!(diagnose(text, &facts(0)), Some(CudaFailure::NoDevice));
        let f = CudaFacts {
            visible_devices: Some("".into()),
            ..facts(0)
        };
        let m = explain(0, &Stage::Open, CudaFailure::NoDevice, &f);
        assert!(m.starts_with("cuda:0: no CUDA device"), "{m}");
        assert!(m.contains("CUDA_VISIBLE_DEVICES=\"\""), "{m}");
        assert!(m.contains("--device cpu"), "{m}");
    }

    #[test]
    fn an_old_driver_is_named_with_its_version_and_the_minimum() {
        for code in [
            "CUDA_ERROR_INSUFFICIENT_DRIVER",
            "CUDA_ERROR_UNSUPPORTED_PTX_VERSION",
            "CUDA_ERROR_SYSTEM_DRIVER_MISMATCH",
        ] {
            let text = format!("DriverError({code}, \"...\") when loading fill");
            assert_eq!(
                diagnose(&text, &facts(1)),
                Some(CudaFailure::DriverTooOld),
                "{code}"
            );
        }
        // cuBLAS only says it could not start; the driver's version tells why.
        let cublas = "CublasError(CUBLAS_STATUS_NOT_INITIALIZED)";
        assert_eq!(diagnose(cublas, &facts(1)), None);
        let old = CudaFacts {
            driver_version: Some("535.104.05".into()),
            ..facts(1)
        };
        assert_eq!(diagnose(cublas, &old), Some(CudaFailure::DriverTooOld));
        let m = explain(0, &Stage::Open, CudaFailure::DriverTooOld, &old);
        assert!(
            m.starts_with("cuda:0: the NVIDIA driver (version 535.104.05) is older than the CUDA 13 libraries"),
            "{m}"
        );
        assert!(m.contains(">= 580"), "{m}");
    }

    #[test]
    fn out_of_memory_says_where_and_how_much_is_free() {
        assert_eq!(diagnose(OOM, &facts(1)), Some(CudaFailure::OutOfMemory));
        let f = CudaFacts {
            memory: Some((512 << 20, 80 << 30)),
            ..facts(1)
        };
        let m = explain(
            0,
            &Stage::Build("task `classification`".into()),
            CudaFailure::OutOfMemory,
            &f,
        );
        assert_eq!(
            m,
            "out of memory on cuda:0 while building task `classification` (0.5 GiB free of 80.0 GiB now): lower the batch size (--set training.batch_size=N), free the GPU (`nvidia-smi` shows which processes hold its memory) or pick another one with --device cuda:N"
        );
    }

    #[test]
    fn other_errors_are_left_to_the_caller() {
        let f = facts(1);
        assert_eq!(diagnose("missing kernel 'affine'", &f), None);
        assert_eq!(diagnose("", &CudaFacts::default()), None);
    }

    #[test]
    fn the_driver_version_is_read_from_proc() {
        let proprietary = "NVRM version: NVIDIA UNIX x86_64 Kernel Module  580.95.05  Thu Sep 11 18:46:45 UTC 2025\nGCC version:  gcc version 12.2.0 (Debian 12.2.0-14)\n";
        assert_eq!(
            parse_driver_version(proprietary).as_deref(),
            Some("580.95.05")
        );
        let open = "NVRM version: NVIDIA UNIX Open Kernel Module for x86_64  550.54.14  Release Build  (dvs-builder@U16-I3-B03-4-3)  Thu Feb 22 01:25:25 UTC 2024\n";
        assert_eq!(parse_driver_version(open).as_deref(), Some("550.54.14"));
        assert_eq!(parse_driver_version("no driver here"), None);
        assert_eq!(driver_major("550.54.14"), Some(550));
    }
}
