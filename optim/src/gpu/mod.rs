//! The fused GPU step (issue: paper scale on a GPU): every parameter of one dtype updated by a
//! handful of kernel launches per step (multi-tensor apply), the SGDP/AdamP cosine test and
//! projection inside the kernels, the statistics reduced on the device and read back in one
//! small copy on logged steps only.
//!
//! - `kernels.cu`: the kernels (one source for the GPU and for the host emulation);
//! - `desc.rs`: the per-parameter descriptor the kernels read;
//! - `plan.rs`: the launch sequence and read-back, generic over the device;
//! - `cuda.rs`: the CUDA device (feature `cuda`);
//! - `emulated.rs` + `emu.h`: the kernels on the host (feature `gpu-emulator`), so the tests
//!   check the GPU path against the fused CPU path without a GPU.

#[cfg(feature = "cuda")]
pub(crate) mod cuda;
pub(crate) mod desc;
#[cfg(feature = "gpu-emulator")]
pub(crate) mod emulated;
pub(crate) mod plan;

/// One parameter of a GPU step: its variable, gradient, state and this step's scalars.
pub(crate) struct Job<'a> {
    pub var: &'a candle_core::Var,
    pub grad: &'a candle_core::Tensor,
    pub state: &'a mut crate::state::ParamState,
    pub ctx: crate::algo::StepCtx,
}
