//! # adamp-task-toy
//!
//! The paper's toy problems (Heo et al., ICLR 2021, arXiv 2006.08217, the 2D and 3D toy examples of
//! its problem analysis):
//! - [`Toy2d`]: minimise the scale-invariant `-(w/||w||).(w*/||w*||)` in the plane, where plain GD,
//!   momentum GD and momentum GD with projection (SGDP) grow `||w||` very differently;
//! - [`Toy3d`]: Rosenbrock on a hemisphere with a redundant radial axis `r = ||w||`.
//!
//! Both train a single Candle `Var` of shape `[1, n]` (one output channel, so the SGDP channel
//! view and layer view are both the whole vector) in `f64`, with gradients from Candle autograd
//! and the real optimizers of `adamp-optim`.

pub mod fit;
pub mod toy2d;
pub mod toy3d;
mod vector;

pub use fit::{fit_learning_rate, LrFit};
pub use toy2d::{Toy2d, Toy2dSettings};
pub use toy3d::{Toy3d, Toy3dSettings};
