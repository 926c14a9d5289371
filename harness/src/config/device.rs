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
