//! The `device` setting: `cpu`, `cuda:N` or `metal`.

use std::fmt;

use serde::{Deserialize, Serialize};

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
}
