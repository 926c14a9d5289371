//! # adamp-optim
//!
//! SGD (momentum, Nesterov), Adam, AdamW and the paper's SGDP and AdamP for Candle (Heo et al.,
//! "AdamP: Slowing Down the Slowdown for Momentum Optimizers on Scale-invariant Weights", ICLR 2021),
//! numerically identical to `torch.optim` and to the reference package `adamp` 0.3.0.

pub mod error;
pub mod optimizer;
pub mod param;

pub use error::{OptimError, Result};
pub use optimizer::{Optimizer, ParamStepStats, ProjectionView, StepReport};
pub use param::{Param, ParamGroup, ParamKind, ParamList, ParamMeta};
