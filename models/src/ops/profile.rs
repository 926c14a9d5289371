//! Optional per-kernel wall-clock accounting for the training benchmark
//! (`models/examples/bench_train.rs`): off by default (one relaxed atomic load per op).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Instant;

/// The kernels that are timed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kernel {
    /// im2col + GEMM convolution, forward.
    ConvForward,
    /// Convolution input gradient.
    ConvBackwardInput,
    /// Convolution weight gradient.
    ConvBackwardWeight,
    /// Depthwise convolution, forward.
    DepthwiseForward,
    /// Depthwise convolution, input gradient.
    DepthwiseBackwardInput,
    /// Depthwise convolution, weight gradient.
    DepthwiseBackwardWeight,
    /// BatchNorm (+ReLU), training forward.
    BatchNormForward,
    /// BatchNorm (+ReLU), backward.
    BatchNormBackward,
    /// ReLU / ReLU6 forward and backward.
    Activation,
    /// Pooling forward and backward.
    Pooling,
}

const KERNELS: [Kernel; 10] = [
    Kernel::ConvForward,
    Kernel::ConvBackwardInput,
    Kernel::ConvBackwardWeight,
    Kernel::DepthwiseForward,
    Kernel::DepthwiseBackwardInput,
    Kernel::DepthwiseBackwardWeight,
    Kernel::BatchNormForward,
    Kernel::BatchNormBackward,
    Kernel::Activation,
    Kernel::Pooling,
];

impl Kernel {
    /// A short name for tables.
    pub fn as_str(self) -> &'static str {
        match self {
            Kernel::ConvForward => "conv forward",
            Kernel::ConvBackwardInput => "conv backward (input)",
            Kernel::ConvBackwardWeight => "conv backward (weight)",
            Kernel::DepthwiseForward => "depthwise forward",
            Kernel::DepthwiseBackwardInput => "depthwise backward (input)",
            Kernel::DepthwiseBackwardWeight => "depthwise backward (weight)",
            Kernel::BatchNormForward => "batchnorm(+relu) forward",
            Kernel::BatchNormBackward => "batchnorm(+relu) backward",
            Kernel::Activation => "relu/relu6 fwd+bwd",
            Kernel::Pooling => "pooling fwd+bwd",
        }
    }
}

static ENABLED: AtomicBool = AtomicBool::new(false);
static NANOS: [AtomicU64; 10] = [const { AtomicU64::new(0) }; 10];
static CALLS: [AtomicU64; 10] = [const { AtomicU64::new(0) }; 10];

/// Turn accounting on or off.
pub fn set_enabled(on: bool) {
    ENABLED.store(on, Ordering::Relaxed);
}

/// Zero all counters.
pub fn reset() {
    for i in 0..KERNELS.len() {
        NANOS[i].store(0, Ordering::Relaxed);
        CALLS[i].store(0, Ordering::Relaxed);
    }
}

/// `(kernel, seconds, calls)` accumulated since the last [`reset`].
pub fn snapshot() -> Vec<(Kernel, f64, u64)> {
    KERNELS
        .iter()
        .enumerate()
        .map(|(i, &k)| {
            (
                k,
                NANOS[i].load(Ordering::Relaxed) as f64 * 1e-9,
                CALLS[i].load(Ordering::Relaxed),
            )
        })
        .collect()
}

/// Run `f`, adding its wall time to `kernel` when accounting is on.
pub(crate) fn timed<R>(kernel: Kernel, f: impl FnOnce() -> R) -> R {
    if !ENABLED.load(Ordering::Relaxed) {
        return f();
    }
    let t = Instant::now();
    let r = f();
    let i = KERNELS.iter().position(|&k| k == kernel).unwrap_or(0);
    NANOS[i].fetch_add(t.elapsed().as_nanos() as u64, Ordering::Relaxed);
    CALLS[i].fetch_add(1, Ordering::Relaxed);
    r
}
