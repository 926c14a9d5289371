//! Fast CPU kernels for the layers, as Candle custom ops with backward passes.
//!
//! Each op runs on contiguous f32 CPU tensors; the layers in [`crate::layers`] only call them for
//! f32 tensors on the CPU. With the `cuda` feature, f32 CUDA tensors go to [`cuda`] (cuDNN
//! convolutions, fused BatchNorm and residual-add kernels); everything else (Metal, other dtypes,
//! the remaining ops on CUDA) uses Candle's built-in ops.
//! Every op is tested against Candle's built-in op (forward, and backward through Candle's
//! autograd) and against finite differences in `models/tests/ops_*.rs`.
//!
//! Determinism: reductions over the batch (weight gradients, BatchNorm statistics) are split into
//! a number of partial sums that depends only on the shapes and the rayon thread count, and the
//! partials are added in a fixed order, so results are bit-identical run to run on one machine.

pub mod activation;
pub mod batch_norm;
pub mod conv2d;
pub mod cuda;
pub mod depthwise;
mod direct3x3;
pub mod im2col;
pub mod pool;
pub mod profile;
pub mod residual;
pub(crate) mod util;

pub use activation::{relu, relu6};
pub use batch_norm::{batch_norm_train, BatchStats, FusedActivation};
pub use conv2d::{conv2d, Conv2dGeometry};
pub use pool::{global_avg_pool, max_pool2d};
pub use residual::add_relu;
