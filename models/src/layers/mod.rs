//! Layers with named parameters: each is built from a [`crate::ParamBuilder`] (which records its
//! parameters and buffers) and runs on this crate's CPU kernels ([`crate::ops`]) for f32 CPU
//! tensors under [`LayerImpl::Fast`] (with the `cuda` feature, on cuDNN and this crate's CUDA
//! kernels for f32 CUDA tensors, [`crate::ops::cuda`]), or on Candle's built-in ops otherwise.

pub mod activation;
pub mod batch_norm;
pub mod conv;
pub mod conv_transpose;
pub mod dropout;
pub mod linear;
pub mod pool;

pub use activation::{add_relu, relu, relu6};
pub use batch_norm::BatchNorm2d;
pub use conv::{Conv2d, Conv2dConfig};
pub use conv_transpose::ConvTranspose2d;
pub use dropout::Dropout;
pub use linear::Linear;
pub use pool::{global_avg_pool, max_pool2d};

use candle_core::{DType, Tensor};

use crate::builder::LayerImpl;

/// Whether the fast CPU kernels apply to `x` under `imp`.
pub(crate) fn use_fast(imp: LayerImpl, x: &Tensor) -> bool {
    match imp {
        LayerImpl::Fast => x.device().is_cpu() && x.dtype() == DType::F32,
        LayerImpl::Candle => false,
    }
}

/// Whether this crate's CUDA path ([`crate::ops::cuda`]: cuDNN convolutions, fused BatchNorm and
/// residual-add kernels) applies to `x` under `imp`: f32 tensors on a CUDA device in a build with
/// the `cuda` feature.
pub(crate) fn use_cuda(imp: LayerImpl, x: &Tensor) -> bool {
    cfg!(feature = "cuda")
        && imp == LayerImpl::Fast
        && x.device().is_cuda()
        && x.dtype() == DType::F32
}

/// `[n, c, h, w]` of a 4-D tensor, or a shape error naming `layer`.
pub(crate) fn dims4(layer: &str, x: &Tensor) -> crate::Result<(usize, usize, usize, usize)> {
    match *x.dims() {
        [n, c, h, w] => Ok((n, c, h, w)),
        _ => Err(crate::error::shape_err(
            layer,
            "input rank",
            "[N, C, H, W]",
            format!("{:?}", x.dims()),
        )),
    }
}
