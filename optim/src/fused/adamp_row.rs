//! Vector kernels (AVX-512, AVX2) for one channel-view row of an f32 AdamP step (`adamp` 0.3.0
//! `adamp.py::AdamP.step` with `_channel_view`): advance both moments, form `perturb`, project it
//! off the row's weight direction, update the row and take its post-step sums.
//!
//! It computes exactly what the generic sweep (`sweep::advance_dot`, `project_apply_scratch`,
//! `row_post`) computes for [`AdamPElem<f32>`], bit for bit: the same f32 operations in the same
//! order with no fused multiply-add, and the f64 reductions in the same 8 lanes (lane `l` takes
//! the row's elements `l, l+8, ...`, a 16-wide block adding its low half before its high half),
//! summed in lane order. The generic code gives the compiler 8-wide blocks through fixed-size
//! arrays; on AdamP it produced partly scalar code (about 45 instructions per 8 elements for the
//! first sweep), which made the row update compute-bound on a memory-bound step.

use std::arch::x86_64::*;

use super::elems::AdamPElem;
use crate::projection::{coefficient, RowPost};
use crate::real::Real;

/// Which vector kernel this CPU runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Isa {
    /// 16-wide blocks with masked tails ([`channel_row_avx512`]).
    Avx512,
    /// 8-wide blocks, AVX2 without FMA ([`channel_row_avx2`]).
    Avx2,
}

/// The f32 scalars of an [`AdamPElem<f32>`], and the kernel that runs them.
#[derive(Clone, Copy)]
pub(crate) struct AdamPF32 {
    /// The kernel for this CPU.
    pub isa: Isa,
    beta1: f32,
    one_minus_beta1: f32,
    beta2: f32,
    one_minus_beta2: f32,
    bias_correction2_sqrt: f32,
    eps: f32,
    nesterov: bool,
    decay: f32,
    neg_step: f32,
}

impl AdamPF32 {
    /// The scalars of `e` when its element type is f32 and this CPU has AVX-512F or AVX2;
    /// `None` otherwise (the generic sweep runs).
    pub(crate) fn for_elem<T: Real>(e: &AdamPElem<T>) -> Option<Self> {
        if std::any::TypeId::of::<T>() != std::any::TypeId::of::<f32>() {
            return None;
        }
        let isa = if std::arch::is_x86_feature_detected!("avx512f") {
            Isa::Avx512
        } else if std::arch::is_x86_feature_detected!("avx2") {
            Isa::Avx2
        } else {
            return None;
        };
        Self::with_isa(e, isa)
    }

    /// As [`AdamPF32::for_elem`] with the kernel chosen by the caller (tests run each kernel
    /// the CPU supports); `None` if `T` is not f32 or the CPU lacks `isa`.
    pub(crate) fn with_isa<T: Real>(e: &AdamPElem<T>, isa: Isa) -> Option<Self> {
        let supported = match isa {
            Isa::Avx512 => std::arch::is_x86_feature_detected!("avx512f"),
            Isa::Avx2 => std::arch::is_x86_feature_detected!("avx2"),
        };
        if std::any::TypeId::of::<T>() != std::any::TypeId::of::<f32>() || !supported {
            return None;
        }
        // Exact: `T` is f32.
        let f = |x: T| x.to_f64() as f32;
        Some(AdamPF32 {
            isa,
            beta1: f(e.beta1),
            one_minus_beta1: f(e.one_minus_beta1),
            beta2: f(e.beta2),
            one_minus_beta2: f(e.one_minus_beta2),
            bias_correction2_sqrt: f(e.bias_correction2_sqrt),
            eps: f(e.eps),
            nesterov: e.nesterov,
            decay: f(e.decay),
            neg_step: f(e.neg_step),
        })
    }
}

/// The mask of the 16-wide block at `o` of a row of `len` elements.
#[inline(always)]
fn block_mask(o: usize, len: usize) -> __mmask16 {
    let m = (len - o).min(16);
    if m == 16 {
        0xffff
    } else {
        ((1u32 << m) - 1) as __mmask16
    }
}

/// `acc += lo(x) * lo(y)` then `acc += hi(x) * hi(y)`, widened to f64 (the generic sweep's
/// order: two consecutive 8-element blocks into the same 8 lanes).
#[inline(always)]
unsafe fn add_products(acc: __m512d, x: __m512, y: __m512) -> __m512d {
    let lo = |v: __m512| _mm512_cvtps_pd(_mm512_castps512_ps256(v));
    let hi = |v: __m512| {
        _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd::<1>(
            _mm512_castps_pd(v),
        )))
    };
    let acc = _mm512_add_pd(acc, _mm512_mul_pd(lo(x), lo(y)));
    _mm512_add_pd(acc, _mm512_mul_pd(hi(x), hi(y)))
}

/// The lanes of `acc` summed in lane order.
#[inline(always)]
unsafe fn lane_sum(acc: __m512d) -> f64 {
    let mut lanes = [0.0f64; 8];
    _mm512_storeu_pd(lanes.as_mut_ptr(), acc);
    let mut s = 0.0;
    for x in lanes {
        s += x;
    }
    s
}

/// Update one row of `len` elements in place: the moments `a` (`exp_avg`) and `b`
/// (`exp_avg_sq`), then `w`, with the row's direction projected off `w` using the row's
/// `||w||^2 = ww` from pass A. `u` is row-sized scratch. Returns the row's post-step sums.
///
/// # Safety
/// `k` came from [`AdamPF32::for_elem`] or [`AdamPF32::with_isa`] (so the CPU has `k.isa`);
/// `w`, `g`, `a`, `b` and `u` are valid for `len` elements and `u` does not overlap the others.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
pub(crate) unsafe fn channel_row(
    k: &AdamPF32,
    w: *mut f32,
    g: *const f32,
    a: *mut f32,
    b: *mut f32,
    u: *mut f32,
    len: usize,
    ww: f64,
    eps: f64,
) -> RowPost {
    match k.isa {
        Isa::Avx512 => channel_row_avx512(k, w, g, a, b, u, len, ww, eps),
        Isa::Avx2 => channel_row_avx2(k, w, g, a, b, u, len, ww, eps),
    }
}

/// [`channel_row`] in 16-wide AVX-512 blocks (masked loads and stores for the tail).
///
/// # Safety
/// As [`channel_row`], with AVX-512F.
#[target_feature(enable = "avx512f")]
#[allow(clippy::too_many_arguments)]
unsafe fn channel_row_avx512(
    k: &AdamPF32,
    w: *mut f32,
    g: *const f32,
    a: *mut f32,
    b: *mut f32,
    u: *mut f32,
    len: usize,
    ww: f64,
    eps: f64,
) -> RowPost {
    let s = _mm512_set1_ps;
    let (beta1, omb1, beta2, omb2) = (
        s(k.beta1),
        s(k.one_minus_beta1),
        s(k.beta2),
        s(k.one_minus_beta2),
    );
    let (bc2, eps32, one) = (s(k.bias_correction2_sqrt), s(k.eps), s(1.0));

    // Sweep 1: advance the moments, keep `perturb` in `u`, accumulate <w, perturb>.
    let mut wu = _mm512_setzero_pd();
    let mut o = 0;
    while o < len {
        let m = block_mask(o, len);
        // Padding as the generic sweep: w = g = exp_avg = 0, exp_avg_sq = 1 (direction 0).
        let gv = _mm512_maskz_loadu_ps(m, g.add(o));
        let wv = _mm512_maskz_loadu_ps(m, w.add(o));
        let av = _mm512_maskz_loadu_ps(m, a.add(o));
        let bv = _mm512_mask_loadu_ps(one, m, b.add(o));
        // `exp_avg.mul_(beta1).add_(grad, alpha=1 - beta1)`
        let a1 = _mm512_add_ps(_mm512_mul_ps(av, beta1), _mm512_mul_ps(omb1, gv));
        // `exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)`
        let b1 = _mm512_add_ps(
            _mm512_mul_ps(bv, beta2),
            _mm512_mul_ps(_mm512_mul_ps(omb2, gv), gv),
        );
        // `denom = (exp_avg_sq.sqrt() / math.sqrt(bias_correction2)).add_(eps)`
        let denom = _mm512_add_ps(_mm512_div_ps(_mm512_sqrt_ps(b1), bc2), eps32);
        let numerator = if k.nesterov {
            _mm512_add_ps(_mm512_mul_ps(beta1, a1), _mm512_mul_ps(omb1, gv))
        } else {
            a1
        };
        let uv = _mm512_div_ps(numerator, denom);
        _mm512_mask_storeu_ps(a.add(o), m, a1);
        _mm512_mask_storeu_ps(b.add(o), m, b1);
        _mm512_mask_storeu_ps(u.add(o), m, uv);
        wu = add_products(wu, wv, uv);
        o += 16;
    }
    let coef = s(coefficient(ww, lane_sum(wu), eps) as f32);

    // Sweep 2 (the row is in cache): `perturb -= coef * w`, decay and step, post-step sums.
    let (decay, neg_step) = (s(k.decay), s(k.neg_step));
    let (mut w2, mut dd) = (_mm512_setzero_pd(), _mm512_setzero_pd());
    let mut o = 0;
    while o < len {
        let m = block_mask(o, len);
        let wv = _mm512_maskz_loadu_ps(m, w.add(o));
        let uv = _mm512_sub_ps(_mm512_maskz_loadu_ps(m, u.add(o)), _mm512_mul_ps(coef, wv));
        // `p.data.mul_(1 - lr*wd*wd_ratio)` then `p.data.add_(perturb, alpha=-step_size)`
        let w1 = _mm512_add_ps(_mm512_mul_ps(wv, decay), _mm512_mul_ps(neg_step, uv));
        _mm512_mask_storeu_ps(w.add(o), m, w1);
        w2 = add_products(w2, w1, w1);
        // `(w1 - w0)^2` in f64, each half widened before the subtraction.
        let widen_lo = |v: __m512| _mm512_cvtps_pd(_mm512_castps512_ps256(v));
        let widen_hi = |v: __m512| {
            _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd::<1>(
                _mm512_castps_pd(v),
            )))
        };
        let d_lo = _mm512_sub_pd(widen_lo(w1), widen_lo(wv));
        let d_hi = _mm512_sub_pd(widen_hi(w1), widen_hi(wv));
        dd = _mm512_add_pd(dd, _mm512_mul_pd(d_lo, d_lo));
        dd = _mm512_add_pd(dd, _mm512_mul_pd(d_hi, d_hi));
        o += 16;
    }
    RowPost {
        w2: lane_sum(w2),
        dd: lane_sum(dd),
    }
}

/// Eight f32 lanes widened to two f64 halves (lanes 0-3, 4-7).
#[inline(always)]
unsafe fn widen8(v: __m256) -> (__m256d, __m256d) {
    (
        _mm256_cvtps_pd(_mm256_castps256_ps128(v)),
        _mm256_cvtps_pd(_mm256_extractf128_ps::<1>(v)),
    )
}

/// `acc += x * y` lane by lane in f64 (two halves of 4 lanes).
#[inline(always)]
unsafe fn add_products8(acc: &mut [__m256d; 2], x: __m256, y: __m256) {
    let ((xl, xh), (yl, yh)) = (widen8(x), widen8(y));
    acc[0] = _mm256_add_pd(acc[0], _mm256_mul_pd(xl, yl));
    acc[1] = _mm256_add_pd(acc[1], _mm256_mul_pd(xh, yh));
}

/// The 8 lanes of `acc` summed in lane order.
#[inline(always)]
unsafe fn lane_sum8(acc: [__m256d; 2]) -> f64 {
    let mut lanes = [0.0f64; 8];
    _mm256_storeu_pd(lanes.as_mut_ptr(), acc[0]);
    _mm256_storeu_pd(lanes.as_mut_ptr().add(4), acc[1]);
    let mut s = 0.0;
    for x in lanes {
        s += x;
    }
    s
}

/// The AVX2 lane mask of the first `m <= 8` lanes.
#[inline(always)]
unsafe fn mask8(m: usize) -> __m256i {
    _mm256_cmpgt_epi32(
        _mm256_set1_epi32(m as i32),
        _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7),
    )
}

/// The AdamP scalars as AVX2 vectors.
struct Consts8 {
    beta1: __m256,
    omb1: __m256,
    beta2: __m256,
    omb2: __m256,
    bc2: __m256,
    eps: __m256,
    nesterov: bool,
}

/// Advance one 8-element block: the new `exp_avg`, `exp_avg_sq` and `perturb`.
#[inline(always)]
unsafe fn advance8(c: &Consts8, gv: __m256, av: __m256, bv: __m256) -> (__m256, __m256, __m256) {
    // `exp_avg.mul_(beta1).add_(grad, alpha=1 - beta1)`
    let a1 = _mm256_add_ps(_mm256_mul_ps(av, c.beta1), _mm256_mul_ps(c.omb1, gv));
    // `exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)`
    let b1 = _mm256_add_ps(
        _mm256_mul_ps(bv, c.beta2),
        _mm256_mul_ps(_mm256_mul_ps(c.omb2, gv), gv),
    );
    // `denom = (exp_avg_sq.sqrt() / math.sqrt(bias_correction2)).add_(eps)`
    let denom = _mm256_add_ps(_mm256_div_ps(_mm256_sqrt_ps(b1), c.bc2), c.eps);
    let numerator = if c.nesterov {
        _mm256_add_ps(_mm256_mul_ps(c.beta1, a1), _mm256_mul_ps(c.omb1, gv))
    } else {
        a1
    };
    (a1, b1, _mm256_div_ps(numerator, denom))
}

/// Project, decay and step one 8-element block; accumulate the post-step sums.
#[inline(always)]
unsafe fn apply8(
    coef: __m256,
    decay: __m256,
    neg_step: __m256,
    wv: __m256,
    uv: __m256,
    w2: &mut [__m256d; 2],
    dd: &mut [__m256d; 2],
) -> __m256 {
    // `perturb -= coef * w`; `p.data.mul_(1 - lr*wd*wd_ratio)`; `p.data.add_(perturb, alpha=-step_size)`
    let uv = _mm256_sub_ps(uv, _mm256_mul_ps(coef, wv));
    let w1 = _mm256_add_ps(_mm256_mul_ps(wv, decay), _mm256_mul_ps(neg_step, uv));
    add_products8(w2, w1, w1);
    let ((w1l, w1h), (w0l, w0h)) = (widen8(w1), widen8(wv));
    let (dl, dh) = (_mm256_sub_pd(w1l, w0l), _mm256_sub_pd(w1h, w0h));
    dd[0] = _mm256_add_pd(dd[0], _mm256_mul_pd(dl, dl));
    dd[1] = _mm256_add_pd(dd[1], _mm256_mul_pd(dh, dh));
    w1
}

/// [`channel_row`] in 8-wide AVX2 blocks (the generic sweep's blocks; the tail block through
/// masked loads and stores, padded as the generic sweep pads). No FMA, as everywhere in the
/// fused step.
///
/// # Safety
/// As [`channel_row`], with AVX2.
#[target_feature(enable = "avx2")]
#[allow(clippy::too_many_arguments)]
unsafe fn channel_row_avx2(
    k: &AdamPF32,
    w: *mut f32,
    g: *const f32,
    a: *mut f32,
    b: *mut f32,
    u: *mut f32,
    len: usize,
    ww: f64,
    eps: f64,
) -> RowPost {
    let s = _mm256_set1_ps;
    let c = Consts8 {
        beta1: s(k.beta1),
        omb1: s(k.one_minus_beta1),
        beta2: s(k.beta2),
        omb2: s(k.one_minus_beta2),
        bc2: s(k.bias_correction2_sqrt),
        eps: s(k.eps),
        nesterov: k.nesterov,
    };
    let full = len / 8 * 8;
    let tail = mask8(len - full);
    let one = s(1.0);

    // Sweep 1: advance the moments, keep `perturb` in `u`, accumulate <w, perturb>.
    let mut wu = [_mm256_setzero_pd(); 2];
    let mut o = 0;
    while o < full {
        let (a1, b1, uv) = advance8(
            &c,
            _mm256_loadu_ps(g.add(o)),
            _mm256_loadu_ps(a.add(o)),
            _mm256_loadu_ps(b.add(o)),
        );
        _mm256_storeu_ps(a.add(o), a1);
        _mm256_storeu_ps(b.add(o), b1);
        _mm256_storeu_ps(u.add(o), uv);
        add_products8(&mut wu, _mm256_loadu_ps(w.add(o)), uv);
        o += 8;
    }
    if full < len {
        // Padding as the generic sweep: w = g = exp_avg = 0, exp_avg_sq = 1 (direction 0).
        let bv = _mm256_blendv_ps(
            one,
            _mm256_maskload_ps(b.add(o), tail),
            _mm256_castsi256_ps(tail),
        );
        let (a1, b1, uv) = advance8(
            &c,
            _mm256_maskload_ps(g.add(o), tail),
            _mm256_maskload_ps(a.add(o), tail),
            bv,
        );
        _mm256_maskstore_ps(a.add(o), tail, a1);
        _mm256_maskstore_ps(b.add(o), tail, b1);
        _mm256_maskstore_ps(u.add(o), tail, uv);
        add_products8(&mut wu, _mm256_maskload_ps(w.add(o), tail), uv);
    }
    let coef = s(coefficient(ww, lane_sum8(wu), eps) as f32);

    // Sweep 2 (the row is in cache).
    let (decay, neg_step) = (s(k.decay), s(k.neg_step));
    let (mut w2, mut dd) = ([_mm256_setzero_pd(); 2], [_mm256_setzero_pd(); 2]);
    let mut o = 0;
    while o < full {
        let w1 = apply8(
            coef,
            decay,
            neg_step,
            _mm256_loadu_ps(w.add(o)),
            _mm256_loadu_ps(u.add(o)),
            &mut w2,
            &mut dd,
        );
        _mm256_storeu_ps(w.add(o), w1);
        o += 8;
    }
    if full < len {
        let w1 = apply8(
            coef,
            decay,
            neg_step,
            _mm256_maskload_ps(w.add(o), tail),
            _mm256_maskload_ps(u.add(o), tail),
            &mut w2,
            &mut dd,
        );
        _mm256_maskstore_ps(w.add(o), tail, w1);
    }
    RowPost {
        w2: lane_sum8(w2),
        dd: lane_sum8(dd),
    }
}
