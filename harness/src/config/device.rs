//! The `device` setting: `cpu`, `cuda:N` or `metal`, and opening it with errors a user can act
//! on ([`super::cuda_error`] words them).

use std::fmt;

use serde::{Deserialize, Serialize};

use super::cuda_error::{self, CudaFacts, Stage};

/// Where a run computes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum DeviceSpec {
    /// The CPU.
    Cpu,
    /// CUDA device `N` (needs the `cuda` feature).
    Cuda(usize),
    /// The Metal device (needs the `metal` feature).
    Metal,
}

impl DeviceSpec {
    /// Parse `cpu`, `cuda`, `cuda:N` or `metal`.
    pub fn parse(text: &str) -> Result<Self, String> {
        match text {
            "cpu" => Ok(DeviceSpec::Cpu),
            "metal" => Ok(DeviceSpec::Metal),
            "cuda" => Ok(DeviceSpec::Cuda(0)),
            other => other
                .strip_prefix("cuda:")
                .and_then(|n| n.parse().ok())
                .map(DeviceSpec::Cuda)
                .ok_or_else(|| format!("expected \"cpu\", \"cuda:N\" or \"metal\", got {other:?}")),
        }
    }

    /// Open the Candle device (errors if this build lacks the backend).
    pub fn open(self) -> candle_core::Result<candle_core::Device> {
        match self {
            DeviceSpec::Cpu => Ok(candle_core::Device::Cpu),
            DeviceSpec::Cuda(n) => candle_core::Device::new_cuda(n),
            DeviceSpec::Metal => candle_core::Device::new_metal(0),
        }
    }

    /// Open the device for a run; on CUDA also run one small kernel, so that a driver too old
    /// for this build's PTX fails here, before anything is written. The error is one paragraph
    /// naming the device, what happened and what to do (without the config file: callers add it).
    pub fn open_checked(self) -> Result<candle_core::Device, String> {
        let opened = self.open().and_then(|d| {
            probe(&d)?;
            Ok(d)
        });
        opened.map_err(|e| {
            let text = format!("{e} {e:?}");
            self.explain_failure(None, &Stage::Open, &text)
                .unwrap_or_else(|| {
                    // Candle appends a backtrace on the lines after the error.
                    let shown = e.to_string();
                    let first = shown.lines().next().unwrap_or_default().trim();
                    format!("cannot open `{self}` ({first}); {}", self.open_hint())
                })
        })
    }

    /// The message for a CUDA failure of this device whose error reads `error_text` (None when
    /// this is no CUDA device or the failure has no known remedy; see [`cuda_error::diagnose`]).
    /// `device`, when open, reports its free memory for an out-of-memory failure.
    pub fn explain_failure(
        self,
        device: Option<&candle_core::Device>,
        stage: &Stage,
        error_text: &str,
    ) -> Option<String> {
        let DeviceSpec::Cuda(ordinal) = self else {
            return None;
        };
        let facts = cuda_facts(device);
        let failure = cuda_error::diagnose(error_text, &facts)?;
        Some(cuda_error::explain(ordinal, stage, failure, &facts))
    }

    /// What to do when [`Self::open`] fails: build the backend in, or (where it is built in)
    /// check the driver and the device number.
    pub fn open_hint(self) -> &'static str {
        match self {
            DeviceSpec::Cpu => "",
            DeviceSpec::Cuda(_) if !cfg!(feature = "cuda") => {
                "this build has no CUDA backend: build with `--features cuda` (README \"GPU builds\") or use `--device cpu`"
            }
            DeviceSpec::Cuda(_) => {
                "check that `nvidia-smi -L` lists the GPU (devices count from 0), that the driver is at least as new as the CUDA 13.0 libraries and that those are on LD_LIBRARY_PATH; or use `--device cpu`"
            }
            DeviceSpec::Metal if !cfg!(feature = "metal") => {
                "this build has no Metal backend: build with `--features metal` on macOS or use `--device cpu`"
            }
            DeviceSpec::Metal => "check that this Mac has a Metal GPU; or use `--device cpu`",
        }
    }
}

/// One small kernel on a CUDA device (fill, affine, reduction, copy back): loading the PTX is
/// where a driver older than the build's CUDA fails (`CUDA_ERROR_UNSUPPORTED_PTX_VERSION`).
fn probe(device: &candle_core::Device) -> candle_core::Result<()> {
    if device.is_cuda() {
        let x = candle_core::Tensor::ones(16, candle_core::DType::F32, device)?;
        let sum = x.affine(2.0, 1.0)?.sum_all()?.to_scalar::<f32>()?;
        if sum != 48.0 {
            candle_core::bail!("a test kernel on the device computed {sum} instead of 48");
        }
    }
    Ok(())
}

/// The machine's CUDA facts for an error message: device count, driver version, the free memory
/// of `device` (when open) and `CUDA_VISIBLE_DEVICES`.
#[cfg(feature = "cuda")]
fn cuda_facts(device: Option<&candle_core::Device>) -> CudaFacts {
    use candle_core::cuda_backend::cudarc::driver::CudaContext;
    CudaFacts {
        device_count: CudaContext::device_count()
            .ok()
            .and_then(|n| usize::try_from(n).ok()),
        driver_version: std::fs::read_to_string("/proc/driver/nvidia/version")
            .ok()
            .and_then(|t| cuda_error::parse_driver_version(&t)),
        memory: device
            .and_then(|d| d.as_cuda_device().ok())
            .and_then(|d| d.cuda_stream().context().mem_get_info().ok())
            .map(|(free, total)| (free as u64, total as u64)),
        visible_devices: std::env::var("CUDA_VISIBLE_DEVICES").ok(),
    }
}

/// Without the CUDA backend nothing is known (and no CUDA device ever opens).
#[cfg(not(feature = "cuda"))]
fn cuda_facts(_device: Option<&candle_core::Device>) -> CudaFacts {
    CudaFacts::default()
}

impl fmt::Display for DeviceSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DeviceSpec::Cpu => write!(f, "cpu"),
            DeviceSpec::Cuda(n) => write!(f, "cuda:{n}"),
            DeviceSpec::Metal => write!(f, "metal"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_open_hint_fits_the_build() {
        let cuda = DeviceSpec::Cuda(3).open_hint();
        if cfg!(feature = "cuda") {
            assert!(cuda.contains("nvidia-smi"), "{cuda}");
        } else {
            assert!(cuda.contains("--features cuda"), "{cuda}");
        }
        assert_eq!(DeviceSpec::Cpu.open_hint(), "");
    }

    #[test]
    fn opening_the_cpu_never_fails_and_explains_nothing() {
        assert!(DeviceSpec::Cpu.open_checked().unwrap().is_cpu());
        let oom = r#"DriverError(CUDA_ERROR_OUT_OF_MEMORY, "out of memory")"#;
        assert_eq!(
            DeviceSpec::Cpu.explain_failure(None, &Stage::Open, oom),
            None
        );
    }

    #[cfg(not(feature = "cuda"))]
    #[test]
    fn without_the_backend_cuda_says_how_to_build_it() {
        let e = DeviceSpec::Cuda(3).open_checked().unwrap_err();
        assert!(e.starts_with("cannot open `cuda:3` ("), "{e}");
        assert!(e.contains("--features cuda"), "{e}");
    }
}
