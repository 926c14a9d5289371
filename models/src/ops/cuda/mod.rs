//! The CUDA path of the fast layers (feature `cuda`): f32 NCHW tensors on a CUDA device.
//!
//! * Convolutions ([`conv2d`]) run on cuDNN for the forward pass, the input gradient
//!   (`cudnnConvolutionBackwardData`) and the weight gradient (`cudnnConvolutionBackwardFilter`),
//!   any stride, padding, dilation and groups (depthwise included). Candle 0.11's own CUDA
//!   convolution computes the input gradient with a direct transposed-convolution kernel, which
//!   made a ResNet-18 training step about 19x slower than PyTorch's on an H200. Algorithms come
//!   from cuDNN's heuristics (`cudnnGetConvolution*Algorithm_v7`, as PyTorch with
//!   `cudnn.benchmark = False`), cached per geometry; cuDNN handles are kept per device and
//!   thread (as Candle does: they are neither `Send` nor `Sync`); workspaces are allocated per
//!   call on the device's stream. TF32 tensor-core math is allowed by default, as PyTorch's
//!   `torch.backends.cudnn.allow_tf32 = True`; [`set_allow_tf32`]`(false)` restricts cuDNN to
//!   FMA (full f32) kernels.
//! * Training-mode BatchNorm, optionally fused with ReLU/ReLU6 ([`batch_norm_train`]), and the
//!   residual `relu(a + b)` ([`add_relu`]) run on this crate's kernels (`kernels.cu`, compiled to
//!   PTX by `models/build.rs` with `nvcc -arch=compute_$CUDA_COMPUTE_CAP`). Per-channel
//!   statistics are reduced over (channel, split) blocks and merged in f64 in a fixed order.
//!
//! Every op has a backward pass built from further custom ops on the same device, so training
//! graphs never leave the GPU. Without the `cuda` feature the functions here return an error
//! (the layers never call them: [`crate::layers`] only dispatches here for CUDA tensors). The
//! GPU parity test is `models/tests/cuda_parity.rs`.

#[cfg(feature = "cuda")]
mod conv;
#[cfg(feature = "cuda")]
mod norm;

use candle_core::{Result, Tensor};

use super::FusedActivation;

/// The CPU side of this module's custom ops: they run on CUDA tensors only.
#[cfg(feature = "cuda")]
fn cuda_only(op: &str) -> Result<(candle_core::CpuStorage, candle_core::Shape)> {
    candle_core::bail!("{op}: runs on CUDA tensors only")
}

#[cfg(feature = "cuda")]
pub use conv::{allow_tf32, set_allow_tf32};

/// Whether TF32 math is allowed in cuDNN convolutions (always false without the `cuda` feature).
#[cfg(not(feature = "cuda"))]
pub fn allow_tf32() -> bool {
    false
}

/// Allow or forbid TF32 math in cuDNN convolutions (a no-op without the `cuda` feature).
#[cfg(not(feature = "cuda"))]
pub fn set_allow_tf32(_on: bool) {}

/// `conv2d(x, w)` on f32 CUDA tensors through cuDNN, with backward for both arguments. `x` is
/// `[n, c_in, h, w]`, `w` is `[c_out, c_in / groups, kh, kw]`; no bias.
pub fn conv2d(
    x: &Tensor,
    w: &Tensor,
    stride: usize,
    padding: usize,
    dilation: usize,
    groups: usize,
) -> Result<Tensor> {
    #[cfg(feature = "cuda")]
    {
        conv::conv2d(x, w, stride, padding, dilation, groups)
    }
    #[cfg(not(feature = "cuda"))]
    {
        let _ = (x, w, stride, padding, dilation, groups);
        candle_core::bail!("conv2d: this build has no CUDA support (feature `cuda`)")
    }
}

/// Training-mode `act(batch_norm(x))` on f32 CUDA tensors (`[N, C, H, W]` or `[N, C]`) with
/// backward for `x`, `weight` and `bias`; returns `(y, batch mean, biased batch variance)`, the
/// statistics as `[C]` tensors for the caller's running-average update.
pub fn batch_norm_train(
    x: &Tensor,
    weight: &Tensor,
    bias: &Tensor,
    eps: f64,
    act: FusedActivation,
) -> Result<(Tensor, Tensor, Tensor)> {
    #[cfg(feature = "cuda")]
    {
        norm::batch_norm_train(x, weight, bias, eps, act)
    }
    #[cfg(not(feature = "cuda"))]
    {
        let _ = (x, weight, bias, eps, act);
        candle_core::bail!("batch_norm: this build has no CUDA support (feature `cuda`)")
    }
}

/// `max(a + b, 0)` on same-shaped f32 CUDA tensors, with backward (gradient where the output is
/// positive).
pub fn add_relu(a: &Tensor, b: &Tensor) -> Result<Tensor> {
    #[cfg(feature = "cuda")]
    {
        norm::add_relu(a, b)
    }
    #[cfg(not(feature = "cuda"))]
    {
        let _ = (a, b);
        candle_core::bail!("add_relu: this build has no CUDA support (feature `cuda`)")
    }
}

/// The PTX of `kernels.cu` and helpers to launch it.
#[cfg(feature = "cuda")]
pub(crate) mod ptx {
    use candle_core::cuda_backend::cudarc::driver::{CudaView, LaunchConfig};
    use candle_core::{bail, CudaStorage, Layout, Result, Storage, Tensor};

    /// `kernels.cu` compiled by `models/build.rs`.
    pub(crate) const PTX: &str = include_str!(concat!(env!("OUT_DIR"), "/adamp_kernels.ptx"));
    /// The module name the PTX is loaded under (once per device).
    pub(crate) const MODULE: &str = "adamp_models_kernels";
    /// Threads per block (`BLOCK` in `kernels.cu`).
    pub(super) const BLOCK: u32 = 256;

    /// Launch kernel `name` of `kernels.cu` (loaded once per device) with `cfg` and the given
    /// arguments, in order.
    macro_rules! launch {
        ($dev:expr, $name:expr, $cfg:expr, $($arg:expr),+ $(,)?) => {{
            use candle_core::cuda_backend::cudarc::driver::PushKernelArg as _;
            use candle_core::cuda_backend::WrapErr as _;
            let func = $dev.get_or_load_custom_func(
                $name,
                $crate::ops::cuda::ptx::MODULE,
                $crate::ops::cuda::ptx::PTX,
            )?;
            let mut builder = func.builder();
            $( builder.arg($arg); )+
            // SAFETY: the arguments match the kernel's signature in kernels.cu (checked by the
            // GPU parity test), and every buffer holds the element count passed with it.
            unsafe { builder.launch($cfg) }.w()?;
        }};
    }
    pub(crate) use launch;

    /// The contiguous f32 elements of `s` under `l`.
    pub(super) fn view<'a>(s: &'a CudaStorage, l: &Layout, op: &str) -> Result<CudaView<'a, f32>> {
        let Some((start, end)) = l.contiguous_offsets() else {
            bail!("{op}: expected a contiguous tensor")
        };
        Ok(s.as_cuda_slice::<f32>()?.slice(start..end))
    }

    /// Run `f` on the f32 elements of a contiguous CUDA tensor held by an op.
    pub(super) fn with_view<R>(
        t: &Tensor,
        op: &str,
        f: impl FnOnce(CudaView<'_, f32>) -> Result<R>,
    ) -> Result<R> {
        let (storage, layout) = t.storage_and_layout();
        match &*storage {
            Storage::Cuda(s) => f(view(s, layout, op)?),
            _ => bail!("{op}: expected a CUDA tensor"),
        }
    }

    /// A grid-stride launch over `total` elements.
    pub(super) fn elementwise(total: usize) -> LaunchConfig {
        let blocks = total.div_ceil(BLOCK as usize).clamp(1, 1 << 16) as u32;
        LaunchConfig {
            grid_dim: (blocks, 1, 1),
            block_dim: (BLOCK, 1, 1),
            shared_mem_bytes: 0,
        }
    }
}
