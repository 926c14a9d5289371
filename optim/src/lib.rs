//! # adamp-optim
//!
//! SGD (momentum, Nesterov), Adam, AdamW and the paper's SGDP and AdamP for Candle (Heo et al.,
//! "AdamP: Slowing Down the Slowdown for Momentum Optimizers on Scale-invariant Weights", ICLR 2021),
//! numerically identical to `torch.optim` and to the reference package `adamp` 0.3.0.
//!
//! On CPU every step runs fused in-place kernels over the parameters' storage (`fused/`); on CUDA
//! (feature `cuda`) fused GPU kernels update all parameters of a dtype in a few launches per step
//! (`gpu/`); on other devices (and anywhere with [`StepBackend::TensorOps`]) the same update runs
//! as Candle tensor ops (`tensor_ops.rs`). With the feature `candle-nn`, every optimizer also implements
//! `candle_nn::Optimizer`.

mod adam;
mod adamp;
mod adamw;
mod algo;
mod any;
mod compat;
#[cfg(feature = "serde")]
mod config_serde;
mod engine;
pub mod error;
mod fused;
#[cfg(any(feature = "cuda", feature = "gpu-emulator"))]
mod gpu;
mod hyper;
mod macros;
pub mod optimizer;
pub mod param;
mod projection;
mod real;
mod sgd;
mod sgdp;
mod state;
mod tensor_ops;
#[cfg(test)]
mod tests;

pub use adam::{Adam, AdamConfig};
pub use adamp::{AdamP, AdamPConfig};
pub use adamw::{AdamW, AdamWConfig};
pub use any::OptimizerConfig;
pub use compat::anonymous_params;
pub use engine::StepBackend;
pub use error::{OptimError, Result};
pub use optimizer::{Optimizer, ParamStepStats, ProjectionView, StepReport};
pub use param::{Param, ParamGroup, ParamKind, ParamList, ParamMeta};
pub use sgd::{Sgd, SgdConfig};
pub use sgdp::{Sgdp, SgdpConfig};
