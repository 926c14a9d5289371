//! Vector kernels (AVX-512, AVX2) for one channel-view row of an f32 SGDP or AdamP step
//! (`adamp` 0.3.0 `sgdp.py::SGDP.step` / `adamp.py::AdamP.step` with `_channel_view`): advance
//! the state, form the direction, project it off the row's weight direction, update the row and
//! take its post-step sums, in two sweeps over the row while it is in cache.
//!
//! They compute exactly what the generic sweep (`sweep::advance_dot`, `project_apply_scratch`,
//! `row_post`) computes for [`SgdpElem<f32>`] and [`AdamPElem<f32>`], bit for bit: the same f32
//! operations in the same order with no fused multiply-add; the f64 `<w, u>` of the first sweep
//! in the same 8 lanes (lane `l` takes the row's elements `l, l+8, ...`; a 16-wide block adds its
//! low half before its high half), summed in lane order; and the step sums of the second sweep
//! in `row_post`'s 16 f32 lanes, flushed into 16 f64 lanes every `POST_FLUSH` elements and
//! summed in lane order (the AVX2 kernel keeps the 16 lanes as two 8-lane halves: blocks at
//! offsets 0 and 8 modulo 16). The generic code gives the compiler 8-wide
//! blocks through fixed-size arrays; on these rules it produced partly scalar code (about 45
//! instructions per 8 elements for AdamP's first sweep), which made a memory-bound row update
//! compute-bound.

use std::arch::x86_64::*;

use super::elems::{AdamPElem, SgdpElem};
use super::sweep::{POST_FLUSH, POST_LANES};
use crate::projection::{coefficient, RowPost};
use crate::real::Real;

/// Which vector kernel runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Isa {
    /// 16-wide blocks with masked tails.
    Avx512,
    /// 8-wide blocks (the generic sweep's) with masked tails.
    Avx2,
}

impl Isa {
    /// Whether this CPU has the instruction set.
    fn supported(self) -> bool {
        match self {
            Isa::Avx512 => std::arch::is_x86_feature_detected!("avx512f"),
            Isa::Avx2 => std::arch::is_x86_feature_detected!("avx2"),
        }
    }

    /// The best kernel this CPU runs, if any.
    fn best() -> Option<Isa> {
        [Isa::Avx512, Isa::Avx2].into_iter().find(|i| i.supported())
    }
}

/// AdamP's f32 scalars (see [`AdamPElem`]).
#[derive(Clone, Copy)]
struct AdamPV {
    beta1: f32,
    one_minus_beta1: f32,
    beta2: f32,
    one_minus_beta2: f32,
    bias_correction2_sqrt: f32,
    eps: f32,
    nesterov: bool,
}

/// SGDP's f32 scalars (see [`SgdpElem`]).
#[derive(Clone, Copy)]
struct SgdpV {
    momentum: f32,
    one_minus_dampening: f32,
    nesterov: bool,
}

/// The rule a kernel runs.
#[derive(Clone, Copy)]
enum Rule {
    AdamP(AdamPV),
    Sgdp(SgdpV),
}

/// A vector row kernel for one step of one f32 parameter: the rule's scalars, the decay and
/// step of `apply`, and the instruction set.
#[derive(Clone, Copy)]
pub(crate) struct RowKernel {
    isa: Isa,
    rule: Rule,
    /// `1 - lr*wd*wd_ratio` (SGDP: `/(1-momentum)`).
    decay: f32,
    /// `-step_size` (AdamP) or `-lr` (SGDP).
    neg_step: f32,
}

/// `x` as f32 where `T` is f32 (exact).
fn f<T: Real>(x: T) -> f32 {
    x.to_f64() as f32
}

fn is_f32<T: Real>() -> bool {
    std::any::TypeId::of::<T>() == std::any::TypeId::of::<f32>()
}

impl RowKernel {
    /// The kernel for an f32 AdamP step on this CPU (`isa` forces one, for tests); `None` if
    /// `T` is not f32 or the CPU lacks the instruction set (the generic sweep runs).
    pub(crate) fn adamp<T: Real>(e: &AdamPElem<T>, isa: Option<Isa>) -> Option<Self> {
        let isa = pick(isa)?;
        is_f32::<T>().then(|| RowKernel {
            isa,
            rule: Rule::AdamP(AdamPV {
                beta1: f(e.beta1),
                one_minus_beta1: f(e.one_minus_beta1),
                beta2: f(e.beta2),
                one_minus_beta2: f(e.one_minus_beta2),
                bias_correction2_sqrt: f(e.bias_correction2_sqrt),
                eps: f(e.eps),
                nesterov: e.nesterov,
            }),
            decay: f(e.decay),
            neg_step: f(e.neg_step),
        })
    }

    /// As [`RowKernel::adamp`] for an f32 SGDP step.
    pub(crate) fn sgdp<T: Real>(e: &SgdpElem<T>, isa: Option<Isa>) -> Option<Self> {
        let isa = pick(isa)?;
        is_f32::<T>().then(|| RowKernel {
            isa,
            rule: Rule::Sgdp(SgdpV {
                momentum: f(e.momentum),
                one_minus_dampening: f(e.one_minus_dampening),
                nesterov: e.nesterov,
            }),
            decay: f(e.decay),
            neg_step: f(e.neg_lr),
        })
    }

    /// Update one row in place: the state `a` (AdamP `exp_avg`, SGDP `momentum`) and `b` (AdamP
    /// `exp_avg_sq`; unused by SGDP), then `w`, with the row's direction projected off `w` using
    /// the row's `||w||^2` from pass A. Returns the row's step sums (`RowPost`).
    ///
    /// # Safety
    /// The pointers of `r` are valid for `r.len` elements (`b` only for AdamP); `u` overlaps
    /// none of the others.
    #[inline(always)]
    pub(crate) unsafe fn row(&self, r: &Row) -> RowPost {
        // SAFETY: a kernel is only built for an instruction set the CPU has (`pick`).
        match (self.isa, self.rule) {
            (Isa::Avx512, Rule::AdamP(v)) => row_avx512(&v, self, r),
            (Isa::Avx512, Rule::Sgdp(v)) => row_avx512(&v, self, r),
            (Isa::Avx2, Rule::AdamP(v)) => row_avx2(&v, self, r),
            (Isa::Avx2, Rule::Sgdp(v)) => row_avx2(&v, self, r),
        }
    }
}

/// `isa` if given and supported, else the best supported one.
fn pick(isa: Option<Isa>) -> Option<Isa> {
    match isa {
        Some(i) => i.supported().then_some(i),
        None => Isa::best(),
    }
}

/// One row of a parameter: pointers to its weights, gradient, state slots and a row-sized
/// scratch buffer, its length, its `||w||^2` from pass A, and the projection's `eps`.
pub(crate) struct Row {
    pub w: *mut f32,
    pub g: *const f32,
    pub a: *mut f32,
    pub b: *mut f32,
    pub u: *mut f32,
    pub len: usize,
    pub ww: f64,
    pub eps: f64,
}

/// A rule's first-sweep element arithmetic on 16 and 8 lanes: new `a`, new `b`, direction.
trait VecRule {
    /// Whether the rule has the second state slot `b`.
    const TWO_SLOTS: bool;
    /// Whether the projected direction is written back into `a` (SGDP without nesterov: the
    /// reference's `d_p` is the momentum buffer itself).
    fn stores_projected(&self) -> bool;
    /// # Safety
    /// AVX-512F.
    unsafe fn advance16(&self, g: __m512, a: __m512, b: __m512) -> (__m512, __m512, __m512);
    /// # Safety
    /// AVX.
    unsafe fn advance8(&self, g: __m256, a: __m256, b: __m256) -> (__m256, __m256, __m256);
}

/// The same formula on both widths: `$ps!(op, x, y)` is the width's packed f32 op.
macro_rules! adamp_advance {
    ($v:expr, $g:expr, $a:expr, $b:expr, $set1:ident, $add:ident, $mul:ident, $div:ident, $sqrt:ident) => {{
        let v = $v;
        let (g, a, b) = ($g, $a, $b);
        // `exp_avg.mul_(beta1).add_(grad, alpha=1 - beta1)`
        let a1 = $add($mul(a, $set1(v.beta1)), $mul($set1(v.one_minus_beta1), g));
        // `exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)`
        let b1 = $add(
            $mul(b, $set1(v.beta2)),
            $mul($mul($set1(v.one_minus_beta2), g), g),
        );
        // `denom = (exp_avg_sq.sqrt() / math.sqrt(bias_correction2)).add_(eps)`
        let denom = $add(
            $div($sqrt(b1), $set1(v.bias_correction2_sqrt)),
            $set1(v.eps),
        );
        // `perturb = (beta1*exp_avg + (1-beta1)*grad) / denom` (nesterov) else `exp_avg / denom`
        let numerator = if v.nesterov {
            $add($mul($set1(v.beta1), a1), $mul($set1(v.one_minus_beta1), g))
        } else {
            a1
        };
        (a1, b1, $div(numerator, denom))
    }};
}

macro_rules! sgdp_advance {
    ($v:expr, $g:expr, $a:expr, $b:expr, $set1:ident, $add:ident, $mul:ident) => {{
        let v = $v;
        let (g, a) = ($g, $a);
        // `buf.mul_(momentum).add_(grad, alpha=1 - dampening)`
        let a1 = $add(
            $mul(a, $set1(v.momentum)),
            $mul($set1(v.one_minus_dampening), g),
        );
        // `d_p = grad + momentum * buf` (nesterov) else `d_p = buf`
        let d = if v.nesterov {
            $add(g, $mul($set1(v.momentum), a1))
        } else {
            a1
        };
        (a1, $b, d)
    }};
}

impl VecRule for AdamPV {
    const TWO_SLOTS: bool = true;
    fn stores_projected(&self) -> bool {
        false
    }
    #[inline(always)]
    unsafe fn advance16(&self, g: __m512, a: __m512, b: __m512) -> (__m512, __m512, __m512) {
        adamp_advance!(
            self,
            g,
            a,
            b,
            _mm512_set1_ps,
            _mm512_add_ps,
            _mm512_mul_ps,
            _mm512_div_ps,
            _mm512_sqrt_ps
        )
    }
    #[inline(always)]
    unsafe fn advance8(&self, g: __m256, a: __m256, b: __m256) -> (__m256, __m256, __m256) {
        adamp_advance!(
            self,
            g,
            a,
            b,
            _mm256_set1_ps,
            _mm256_add_ps,
            _mm256_mul_ps,
            _mm256_div_ps,
            _mm256_sqrt_ps
        )
    }
}

impl VecRule for SgdpV {
    const TWO_SLOTS: bool = false;
    fn stores_projected(&self) -> bool {
        !self.nesterov
    }
    #[inline(always)]
    unsafe fn advance16(&self, g: __m512, a: __m512, b: __m512) -> (__m512, __m512, __m512) {
        sgdp_advance!(self, g, a, b, _mm512_set1_ps, _mm512_add_ps, _mm512_mul_ps)
    }
    #[inline(always)]
    unsafe fn advance8(&self, g: __m256, a: __m256, b: __m256) -> (__m256, __m256, __m256) {
        sgdp_advance!(self, g, a, b, _mm256_set1_ps, _mm256_add_ps, _mm256_mul_ps)
    }
}

/// The mask of the 16-wide block at `o` of a row of `len` elements.
#[inline(always)]
fn mask16(o: usize, len: usize) -> __mmask16 {
    let m = (len - o).min(16);
    if m == 16 {
        0xffff
    } else {
        ((1u32 << m) - 1) as __mmask16
    }
}

/// The two f64 halves (lanes 0-7, 8-15) of 16 f32 lanes.
#[inline(always)]
unsafe fn widen16(v: __m512) -> (__m512d, __m512d) {
    (
        _mm512_cvtps_pd(_mm512_castps512_ps256(v)),
        _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd::<1>(
            _mm512_castps_pd(v),
        ))),
    )
}

/// `acc += lo(x) * lo(y)` then `acc += hi(x) * hi(y)`, in f64 (the generic sweep's order: two
/// consecutive 8-element blocks into the same 8 lanes).
#[inline(always)]
unsafe fn add_products16(acc: __m512d, x: __m512, y: __m512) -> __m512d {
    let ((xl, xh), (yl, yh)) = (widen16(x), widen16(y));
    let acc = _mm512_add_pd(acc, _mm512_mul_pd(xl, yl));
    _mm512_add_pd(acc, _mm512_mul_pd(xh, yh))
}

/// The lanes of `acc` summed in lane order.
#[inline(always)]
unsafe fn lane_sum16(acc: __m512d) -> f64 {
    let mut lanes = [0.0f64; 8];
    _mm512_storeu_pd(lanes.as_mut_ptr(), acc);
    lanes.iter().fold(0.0, |s, x| s + x)
}

/// The row update in 16-wide AVX-512 blocks (masked loads and stores for the tail, padded as
/// the generic sweep pads: `w = g = a = 0`, `b = 1`, which makes the direction exactly 0).
///
/// # Safety
/// AVX-512F; the pointers of `r` as [`RowKernel::row`] requires.
#[target_feature(enable = "avx512f")]
unsafe fn row_avx512<R: VecRule>(rule: &R, k: &RowKernel, r: &Row) -> RowPost {
    let (one, zero) = (_mm512_set1_ps(1.0), _mm512_setzero_ps());
    // Sweep 1: advance the state, keep the direction in `u`, accumulate <w, u>.
    let mut wu = _mm512_setzero_pd();
    let mut o = 0;
    while o < r.len {
        let m = mask16(o, r.len);
        let bv = if R::TWO_SLOTS {
            _mm512_mask_loadu_ps(one, m, r.b.add(o))
        } else {
            zero
        };
        let (a1, b1, uv) = rule.advance16(
            _mm512_maskz_loadu_ps(m, r.g.add(o)),
            _mm512_maskz_loadu_ps(m, r.a.add(o)),
            bv,
        );
        _mm512_mask_storeu_ps(r.a.add(o), m, a1);
        if R::TWO_SLOTS {
            _mm512_mask_storeu_ps(r.b.add(o), m, b1);
        }
        _mm512_mask_storeu_ps(r.u.add(o), m, uv);
        wu = add_products16(wu, _mm512_maskz_loadu_ps(m, r.w.add(o)), uv);
        o += 16;
    }
    let coef = _mm512_set1_ps(coefficient(r.ww, lane_sum16(wu), r.eps) as f32);

    // Sweep 2: `u -= coef * w` (written back into `a` where the reference aliases it), then
    // `w' = w * decay + neg_step * u` and the step sums `<w, d>`, `||d||^2` of `d = w' - w` in 16
    // f32 lanes, added into 16 f64 lanes every `POST_FLUSH` elements (`sweep::row_post`).
    let (decay, neg_step) = (_mm512_set1_ps(k.decay), _mm512_set1_ps(k.neg_step));
    let store_u = rule.stores_projected();
    // [quantity][lanes 0-7, lanes 8-15].
    let mut wide = [[_mm512_setzero_pd(); 2]; 2];
    let mut o = 0;
    while o < r.len {
        let end = (o + POST_FLUSH).min(r.len);
        let (mut wd, mut dd) = (_mm512_setzero_ps(), _mm512_setzero_ps());
        while o < end {
            let m = mask16(o, r.len);
            let wv = _mm512_maskz_loadu_ps(m, r.w.add(o));
            let uv = _mm512_sub_ps(
                _mm512_maskz_loadu_ps(m, r.u.add(o)),
                _mm512_mul_ps(coef, wv),
            );
            if store_u {
                _mm512_mask_storeu_ps(r.a.add(o), m, uv);
            }
            let w1 = _mm512_add_ps(_mm512_mul_ps(wv, decay), _mm512_mul_ps(neg_step, uv));
            _mm512_mask_storeu_ps(r.w.add(o), m, w1);
            let d = _mm512_sub_ps(w1, wv);
            wd = _mm512_add_ps(wd, _mm512_mul_ps(wv, d));
            dd = _mm512_add_ps(dd, _mm512_mul_ps(d, d));
            o += 16;
        }
        for (q, acc) in [wd, dd].into_iter().enumerate() {
            let (lo, hi) = widen16(acc);
            wide[q][0] = _mm512_add_pd(wide[q][0], lo);
            wide[q][1] = _mm512_add_pd(wide[q][1], hi);
        }
    }
    let sum = |[lo, hi]: [__m512d; 2]| {
        let mut lanes = [0.0f64; POST_LANES];
        _mm512_storeu_pd(lanes.as_mut_ptr(), lo);
        _mm512_storeu_pd(lanes.as_mut_ptr().add(8), hi);
        lanes.iter().fold(0.0, |s, x| s + x)
    };
    RowPost {
        wd: sum(wide[0]),
        dd: sum(wide[1]),
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
    lanes.iter().fold(0.0, |s, x| s + x)
}

/// The AVX2 lane mask of the first `m <= 8` lanes.
#[inline(always)]
unsafe fn mask8(m: usize) -> __m256i {
    _mm256_cmpgt_epi32(
        _mm256_set1_epi32(m as i32),
        _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7),
    )
}

/// Load 8 lanes at `p` (only the `mask` lanes, the rest 0, where a mask is given).
#[inline(always)]
unsafe fn load8(p: *const f32, mask: Option<__m256i>) -> __m256 {
    match mask {
        None => _mm256_loadu_ps(p),
        Some(k) => _mm256_maskload_ps(p, k),
    }
}

/// Store 8 lanes at `p` (only the `mask` lanes where a mask is given).
#[inline(always)]
unsafe fn store8(p: *mut f32, mask: Option<__m256i>, v: __m256) {
    match mask {
        None => _mm256_storeu_ps(p, v),
        Some(k) => _mm256_maskstore_ps(p, k, v),
    }
}

/// Sweep 1 on one 8-element block at `o` (`mask` selects the lanes loaded and stored; all
/// lanes for full blocks).
#[inline(always)]
unsafe fn sweep1_8<R: VecRule>(
    rule: &R,
    r: &Row,
    o: usize,
    mask: Option<__m256i>,
    wu: &mut [__m256d; 2],
) {
    let (load, store) = (|p| load8(p, mask), |p, v| store8(p, mask, v));
    let bv = if !R::TWO_SLOTS {
        _mm256_setzero_ps()
    } else {
        match mask {
            None => _mm256_loadu_ps(r.b.add(o)),
            Some(k) => _mm256_blendv_ps(
                _mm256_set1_ps(1.0),
                _mm256_maskload_ps(r.b.add(o), k),
                _mm256_castsi256_ps(k),
            ),
        }
    };
    let (a1, b1, uv) = rule.advance8(load(r.g.add(o)), load(r.a.add(o)), bv);
    store(r.a.add(o), a1);
    if R::TWO_SLOTS {
        store(r.b.add(o), b1);
    }
    store(r.u.add(o), uv);
    add_products8(wu, load(r.w.add(o)), uv);
}

/// Sweep 2 on one 8-element block at `o` (see [`row_avx512`]), adding its step sums into the
/// f32 lane accumulators `acc` (`[<w,d>, ||d||^2]` of the block's 8 lanes).
#[inline(always)]
unsafe fn sweep2_8(
    k: &RowKernel,
    r: &Row,
    o: usize,
    mask: Option<__m256i>,
    coef: __m256,
    store_u: bool,
    acc: &mut [__m256; 2],
) {
    let (load, store) = (|p| load8(p, mask), |p, v| store8(p, mask, v));
    let wv = load(r.w.add(o));
    let uv = _mm256_sub_ps(load(r.u.add(o)), _mm256_mul_ps(coef, wv));
    if store_u {
        store(r.a.add(o), uv);
    }
    let w1 = _mm256_add_ps(
        _mm256_mul_ps(wv, _mm256_set1_ps(k.decay)),
        _mm256_mul_ps(_mm256_set1_ps(k.neg_step), uv),
    );
    store(r.w.add(o), w1);
    let d = _mm256_sub_ps(w1, wv);
    acc[0] = _mm256_add_ps(acc[0], _mm256_mul_ps(wv, d));
    acc[1] = _mm256_add_ps(acc[1], _mm256_mul_ps(d, d));
}

/// The row update in 8-wide AVX2 blocks: a branch-free loop over the full blocks, then the
/// tail block through masked loads and stores (padded as [`row_avx512`] pads).
///
/// # Safety
/// AVX2; the pointers of `r` as [`RowKernel::row`] requires.
#[target_feature(enable = "avx2")]
unsafe fn row_avx2<R: VecRule>(rule: &R, k: &RowKernel, r: &Row) -> RowPost {
    let full = r.len / 8 * 8;
    let tail = (full < r.len).then(|| mask8(r.len - full));
    let mut wu = [_mm256_setzero_pd(); 2];
    let mut o = 0;
    while o < full {
        sweep1_8(rule, r, o, None, &mut wu);
        o += 8;
    }
    if tail.is_some() {
        sweep1_8(rule, r, full, tail, &mut wu);
    }
    let coef = _mm256_set1_ps(coefficient(r.ww, lane_sum8(wu), r.eps) as f32);
    let store_u = rule.stores_projected();
    // The 16 lanes of `sweep::row_post` as two 8-lane halves: the blocks at offsets 0 and 8
    // (mod 16) of a segment. f32 `[half][quantity]`, f64 `[quantity][lanes 0-3, 4-7, 8-11, 12-15]`.
    let mut wide = [[_mm256_setzero_pd(); 4]; 2];
    let mut o = 0;
    while o < r.len {
        let end = (o + POST_FLUSH).min(r.len);
        let mut acc = [[_mm256_setzero_ps(); 2]; 2];
        while o + 16 <= end {
            sweep2_8(k, r, o, None, coef, store_u, &mut acc[0]);
            sweep2_8(k, r, o + 8, None, coef, store_u, &mut acc[1]);
            o += 16;
        }
        // The row's last 1..15 elements (segments are whole multiples of 16 before the last).
        if o + 8 <= end {
            sweep2_8(k, r, o, None, coef, store_u, &mut acc[0]);
            o += 8;
            if o < end {
                sweep2_8(k, r, o, Some(mask8(end - o)), coef, store_u, &mut acc[1]);
            }
        } else if o < end {
            sweep2_8(k, r, o, Some(mask8(end - o)), coef, store_u, &mut acc[0]);
        }
        o = end;
        for (h, half) in acc.iter().enumerate() {
            for (q, v) in half.iter().enumerate() {
                let (lo, hi) = widen8(*v);
                wide[q][2 * h] = _mm256_add_pd(wide[q][2 * h], lo);
                wide[q][2 * h + 1] = _mm256_add_pd(wide[q][2 * h + 1], hi);
            }
        }
    }
    let sum = |q: [__m256d; 4]| {
        let mut lanes = [0.0f64; POST_LANES];
        for (i, v) in q.iter().enumerate() {
            _mm256_storeu_pd(lanes.as_mut_ptr().add(4 * i), *v);
        }
        lanes.iter().fold(0.0, |s, x| s + x)
    };
    RowPost {
        wd: sum(wide[0]),
        dd: sum(wide[1]),
    }
}
