//! The two floating-point element types the fused CPU kernels support (f32, f64).
//!
//! Element arithmetic happens in the parameter's own type with scalars cast to it, as
//! `torch.optim` does for a float tensor and a Python-float hyperparameter; reductions (row sums
//! for the cosine test, the projection and the statistics) accumulate in f64.

use std::ops::{Add, Div, Mul, Neg, Sub};

/// A floating-point element type of a parameter (implemented for `f32` and `f64`).
pub(crate) trait Real:
    Copy
    + Send
    + Sync
    + PartialOrd
    + Add<Output = Self>
    + Sub<Output = Self>
    + Mul<Output = Self>
    + Div<Output = Self>
    + Neg<Output = Self>
    + 'static
{
    /// Zero.
    const ZERO: Self;
    /// One.
    const ONE: Self;
    /// Convert (round) an f64 hyperparameter to this type.
    fn from_f64(x: f64) -> Self;
    /// Widen to f64 for accumulation.
    fn to_f64(self) -> f64;
    /// Square root.
    fn sqrt(self) -> Self;
}

impl Real for f32 {
    const ZERO: Self = 0.0;
    const ONE: Self = 1.0;
    #[inline(always)]
    fn from_f64(x: f64) -> Self {
        x as f32
    }
    #[inline(always)]
    fn to_f64(self) -> f64 {
        self as f64
    }
    #[inline(always)]
    fn sqrt(self) -> Self {
        f32::sqrt(self)
    }
}

impl Real for f64 {
    const ZERO: Self = 0.0;
    const ONE: Self = 1.0;
    #[inline(always)]
    fn from_f64(x: f64) -> Self {
        x
    }
    #[inline(always)]
    fn to_f64(self) -> f64 {
        self
    }
    #[inline(always)]
    fn sqrt(self) -> Self {
        f64::sqrt(self)
    }
}
