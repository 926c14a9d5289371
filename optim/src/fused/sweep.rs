//! The fused sweeps over one chunk of whole rows (channel view) of a parameter.
//!
//! Elements are processed in blocks of `LANES`, loaded into and stored from fixed-size arrays (the
//! last block of a row padded with w = g = state0 = 0 and state1 = 1, which makes every rule's
//! direction exactly 0 even with eps = 0, so padding contributes nothing to any sum and is never
//! stored), so
//! that the compiler vectorises the block body. Reductions go into `LANES` independent f64
//! accumulators per quantity, combined in a fixed order, so the result does not depend on the
//! thread count or the instruction set. Element access is unchecked after the lengths are asserted
//! once per call.

// Index loops over the lanes of a block keep every array access at a constant position after
// unrolling, which is what lets the compiler keep the accumulators in vector registers.
#![allow(clippy::needless_range_loop)]

use super::elems::{Elem, ProjElem};
use crate::projection::{RowPost, RowPre};
use crate::real::Real;

/// Accumulator lanes per reduced quantity.
const LANES: usize = 8;

/// Define `$name` as `$imp` compiled for the best instruction set this CPU has (AVX-512,
/// AVX2+FMA, or the baseline), chosen at run time. The kernels are `#[inline(always)]`, so each
/// variant gets its own copy. No fused multiply-add is ever formed (Rust does not contract
/// `a*b+c`), so every variant gives bit-identical results.
macro_rules! multiversion {
    ($(#[$m:meta])* fn $name:ident [$($g:tt)*] ($($a:ident : $t:ty),*) -> $r:ty => $imp:ident) => {
        $(#[$m])*
        pub(crate) fn $name<$($g)*>($($a: $t),*) -> $r {
            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "avx512f,avx2,fma")]
                unsafe fn v512<$($g)*>($($a: $t),*) -> $r {
                    $imp($($a),*)
                }
                #[target_feature(enable = "avx2,fma")]
                unsafe fn v256<$($g)*>($($a: $t),*) -> $r {
                    $imp($($a),*)
                }
                if std::arch::is_x86_feature_detected!("avx512f") {
                    // SAFETY: the CPU has the features `v512` is compiled for.
                    return unsafe { v512($($a),*) };
                }
                if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma") {
                    // SAFETY: the CPU has the features `v256` is compiled for.
                    return unsafe { v256($($a),*) };
                }
            }
            $imp($($a),*)
        }
    };
}

multiversion! {
    /// Per-row `<g,w>`, `||g||^2`, `||w||^2` over a chunk, and whether every gradient element is
    /// finite (see [`pre_rows_impl`]).
    fn pre_rows[T: Real](w: &[T], g: &[T], row_len: usize) -> (Vec<RowPre>, bool) => pre_rows_impl
}
multiversion! {
    /// Whether every element of `g` is finite.
    fn all_finite[T: Real](g: &[T]) -> bool => all_finite_impl
}
multiversion! {
    /// See [`plain_impl`].
    fn plain[T: Real, E: Elem<T>](e: &E, c: Chunk<'_, T>, row_len: usize) -> Vec<(RowPre, RowPost)> => plain_impl
}
multiversion! {
    /// See [`channel_impl`].
    fn channel[T: Real, E: ProjElem<T>](e: &E, c: Chunk<'_, T>, row_len: usize, pre: &[RowPre], eps: f64) -> Vec<RowPost> => channel_impl
}
multiversion! {
    /// See [`layer_advance_impl`].
    fn layer_advance[T: Real, E: ProjElem<T>](e: &E, c: Chunk<'_, T>) -> f64 => layer_advance_impl
}
multiversion! {
    /// See [`layer_apply_impl`].
    fn layer_apply[T: Real, E: ProjElem<T>](e: &E, c: Chunk<'_, T>, row_len: usize, coef: T) -> Vec<RowPost> => layer_apply_impl
}

/// The arrays of one block: weights, gradient and the two state slots.
struct Block<T> {
    w: [T; LANES],
    g: [T; LANES],
    a: [T; LANES],
    b: [T; LANES],
    /// The update direction, for sweeps that keep it in a row-sized scratch buffer.
    u: [T; LANES],
}

/// Mutable views of one chunk: weights, gradient, and up to two state buffers (empty if unused).
pub(crate) struct Chunk<'a, T> {
    pub w: &'a mut [T],
    pub g: &'a [T],
    pub a: &'a mut [T],
    pub b: &'a mut [T],
}

impl<T: Real> Chunk<'_, T> {
    fn check(&self, slots: usize) -> usize {
        let n = self.w.len();
        assert_eq!(self.g.len(), n, "fused chunk: grad length");
        if slots > 0 {
            assert_eq!(self.a.len(), n, "fused chunk: state 0 length");
        }
        if slots > 1 {
            assert_eq!(self.b.len(), n, "fused chunk: state 1 length");
        }
        n
    }
}

/// Raw pointers to a chunk's buffers, valid for indices `< n` (checked by [`Chunk::check`]).
struct Ptrs<T> {
    w: *mut T,
    g: *const T,
    a: *mut T,
    b: *mut T,
}

impl<T: Real> Ptrs<T> {
    fn new(c: &mut Chunk<'_, T>) -> Self {
        Ptrs {
            w: c.w.as_mut_ptr(),
            g: c.g.as_ptr(),
            a: c.a.as_mut_ptr(),
            b: c.b.as_mut_ptr(),
        }
    }
}

/// # Safety
/// `p` is valid for reading `m <= LANES` elements.
#[inline(always)]
unsafe fn load<T: Real>(p: *const T, m: usize, pad: T) -> [T; LANES] {
    if m == LANES {
        (p as *const [T; LANES]).read_unaligned()
    } else {
        let mut v = [pad; LANES];
        std::ptr::copy_nonoverlapping(p, v.as_mut_ptr(), m);
        v
    }
}

/// # Safety
/// `p` is valid for writing `m <= LANES` elements.
#[inline(always)]
unsafe fn store<T: Real>(p: *mut T, v: &[T; LANES], m: usize) {
    if m == LANES {
        (p as *mut [T; LANES]).write_unaligned(*v);
    } else {
        std::ptr::copy_nonoverlapping(v.as_ptr(), p, m);
    }
}

/// Which arrays [`blocks`] loads and stores besides `w` (always loaded).
#[derive(Clone, Copy)]
struct Io<T> {
    /// Load `g`.
    load_g: bool,
    /// State slots loaded (0..=2).
    slots_in: usize,
    /// State slots stored (0..=2).
    slots_out: usize,
    /// Store `w`.
    write_w: bool,
    /// Load `Block::u` from here (indexed from `start`), if not null.
    u_in: *const T,
    /// Store `Block::u` here (indexed from `start`), if not null.
    u_out: *mut T,
}

impl<T> Io<T> {
    #[inline(always)]
    fn new(load_g: bool, slots_in: usize, slots_out: usize, write_w: bool) -> Self {
        Io {
            load_g,
            slots_in,
            slots_out,
            write_w,
            u_in: std::ptr::null(),
            u_out: std::ptr::null_mut(),
        }
    }
}

/// Run `body` over `[start, start+len)` of the chunk block by block, with `$b: &mut Block<T>` and
/// `$acc: &mut [[f64; LANES]; K]` in scope, and evaluate to the `K` lane-summed quantities it
/// accumulates; `io` says which arrays are loaded and stored. A macro rather than a function
/// taking a closure, so the body is always compiled inline into the caller's instruction-set
/// variant (a closure the optimiser declines to inline runs without AVX).
///
/// Safety (the caller's `unsafe`): `start + len` is within the chunk checked by
/// [`Chunk::check`] with at least `io.slots_in` and `io.slots_out` slots; `io.u_in`/`io.u_out`,
/// if not null, are valid for `len` elements.
/// Ties an [`Io`]'s element type to the chunk's (for [`blocks!`]).
#[inline(always)]
fn same_type<T>(_: &Ptrs<T>, io: Io<T>) -> Io<T> {
    io
}

macro_rules! blocks {
    ($k:literal; $p:expr, $io:expr, $start:expr, $len:expr, |$b:ident, $acc:ident| $body:block $(,)?) => {{
        let p: &Ptrs<_> = $p;
        let io = same_type(p, $io);
        let start: usize = $start;
        let end = start + $len;
        let mut acc = [[0.0f64; LANES]; $k];
        let mut o = start;
        // Full blocks, then at most one padded block: two copies of the body, so the full-block
        // loop has only fixed-size loads and stores.
        while o + LANES <= end {
            block_step!(LANES, p, io, start, o, acc, |$b, $acc| $body);
            o += LANES;
        }
        if o < end {
            let m = end - o;
            block_step!(m, p, io, start, o, acc, |$b, $acc| $body);
        }
        let mut out = [0.0f64; $k];
        for k in 0..$k {
            let mut s = 0.0;
            for l in 0..LANES {
                s += acc[k][l];
            }
            out[k] = s;
        }
        out
    }};
}

/// One block of [`blocks!`]: `m` elements at `o` (`m == LANES` for full blocks).
macro_rules! block_step {
    ($m:expr, $p:ident, $io:ident, $start:ident, $o:ident, $accv:ident, |$b:ident, $acc:ident| $body:block) => {{
        let m: usize = $m;
        let mut blk = Block {
            w: load($p.w.add($o), m, Real::ZERO),
            g: if $io.load_g {
                load($p.g.add($o), m, Real::ZERO)
            } else {
                [Real::ZERO; LANES]
            },
            a: if $io.slots_in > 0 {
                load($p.a.add($o), m, Real::ZERO)
            } else {
                [Real::ZERO; LANES]
            },
            b: if $io.slots_in > 1 {
                load($p.b.add($o), m, Real::ONE)
            } else {
                [Real::ONE; LANES]
            },
            u: if $io.u_in.is_null() {
                [Real::ZERO; LANES]
            } else {
                load($io.u_in.add($o - $start), m, Real::ZERO)
            },
        };
        {
            let $b = &mut blk;
            let $acc = &mut $accv;
            $body
        }
        if $io.write_w {
            store($p.w.add($o), &blk.w, m);
        }
        if $io.slots_out > 0 {
            store($p.a.add($o), &blk.a, m);
        }
        if $io.slots_out > 1 {
            store($p.b.add($o), &blk.b, m);
        }
        if !$io.u_out.is_null() {
            store($io.u_out.add($o - $start), &blk.u, m);
        }
    }};
}

/// The block's elements widened to f64 (for the reductions).
#[inline(always)]
fn widen<T: Real>(v: &[T; LANES]) -> [f64; LANES] {
    let mut out = [0.0; LANES];
    for l in 0..LANES {
        out[l] = v[l].to_f64();
    }
    out
}

/// `acc[l] += x[l] * y[l]` for every lane. One quantity per call, so each is a single
/// `LANES`-wide vector multiply and add (interleaving several quantities lane by lane left the
/// compiler emitting scalar and 2-wide code).
#[inline(always)]
fn add_products(acc: &mut [f64; LANES], x: &[f64; LANES], y: &[f64; LANES]) {
    for l in 0..LANES {
        acc[l] += x[l] * y[l];
    }
}

/// One row's `[<g,w>, ||g||^2, ||w||^2, sum(g*0)]` (the last is 0 exactly when every `g` is
/// finite), in `LANES` f64 accumulators (lane `l` takes the elements `l, l+LANES, ...`) summed in
/// lane order. f32 rows use explicit AVX2 code where the CPU has it (AVX-512 intrinsics, stable since Rust 1.89,
/// are not used here yet): the compiler turned
/// the portable loop into scalar and 2-wide code, which made this read-only pass compute-bound.
/// Every path does the same f64 operations lane by lane (no fused multiply-add), so the sums are
/// bit-identical whichever runs.
#[inline(always)]
fn row_pre<T: Real>(w: &[T], g: &[T]) -> [f64; 4] {
    #[cfg(target_arch = "x86_64")]
    if std::any::TypeId::of::<T>() == std::any::TypeId::of::<f32>() {
        // SAFETY: `T` is `f32`, so the slices are `f32` slices of the same lengths.
        let (w32, g32) = unsafe {
            (
                std::slice::from_raw_parts(w.as_ptr() as *const f32, w.len()),
                std::slice::from_raw_parts(g.as_ptr() as *const f32, g.len()),
            )
        };
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU has AVX2 (and AVX).
            return unsafe { x86::row_pre_f32_avx2(w32, g32) };
        }
    }
    row_pre_portable(w, g)
}

/// [`row_pre`] without explicit SIMD (the reference the vector versions must match bit for bit).
#[inline(always)]
fn row_pre_portable<T: Real>(w: &[T], g: &[T]) -> [f64; 4] {
    let (mut acc, k) = ([[0.0f64; LANES]; 4], w.len().min(g.len()) / LANES * LANES);
    let mut o = 0;
    while o < k {
        let (mut wb, mut gb) = ([T::ZERO; LANES], [T::ZERO; LANES]);
        wb.copy_from_slice(&w[o..o + LANES]);
        gb.copy_from_slice(&g[o..o + LANES]);
        add_pre(&mut acc, &widen(&wb), &widen(&gb));
        o += LANES;
    }
    finish_pre(acc, &w[k..], &g[k..])
}

/// `acc += [g*w, g*g, w*w, g*0]` lane by lane.
#[inline(always)]
fn add_pre(acc: &mut [[f64; LANES]; 4], wf: &[f64; LANES], gf: &[f64; LANES]) {
    add_products(&mut acc[0], gf, wf);
    add_products(&mut acc[1], gf, gf);
    add_products(&mut acc[2], wf, wf);
    add_products(&mut acc[3], gf, &[0.0; LANES]);
}

/// Add the row's last partial block (padded with w = g = 0, which adds 0 to every sum) and sum
/// the lanes.
#[inline(always)]
fn finish_pre<T: Real>(mut acc: [[f64; LANES]; 4], wt: &[T], gt: &[T]) -> [f64; 4] {
    if !wt.is_empty() {
        let (mut wb, mut gb) = ([T::ZERO; LANES], [T::ZERO; LANES]);
        wb[..wt.len()].copy_from_slice(wt);
        gb[..gt.len()].copy_from_slice(gt);
        add_pre(&mut acc, &widen(&wb), &widen(&gb));
    }
    [
        lane_sum(&acc[0]),
        lane_sum(&acc[1]),
        lane_sum(&acc[2]),
        lane_sum(&acc[3]),
    ]
}

/// Elements per flush of the post-step lane accumulators of [`row_post`] (a multiple of
/// [`POST_LANES`]): bounds the f32 accumulation to 64 terms per lane, a relative error below
/// 64 * 2^-24 ~ 4e-6 of each partial sum.
pub(crate) const POST_FLUSH: usize = 1024;

/// f32 accumulator lanes of [`row_post`]: one AVX-512 register (AVX2 code uses two halves).
pub(crate) const POST_LANES: usize = 16;

/// One row's step sums `[<w0, d>, ||d||^2]` with `d = w1 - w0` (see [`RowPost`]), from the old
/// row `w0` and the new row `w1`, as the channel-view vector kernels (`proj_row.rs`) compute them
/// bit for bit: `d` in `T`; lane `l` (of [`POST_LANES`]) takes the elements `l, l+16, ...` of each
/// [`POST_FLUSH`]-element segment of the row, summing `w0*d` and `d*d` in `T`; at the end of
/// each segment every lane is added (as f64) into its f64 lane, and the row's sum is the f64
/// lanes summed in lane order. The statistics need a few significant digits, not f64 products
/// of every element: this keeps the second in-cache sweep of a projected row from being bound
/// by f64 conversions (it was about a tenth of an AdamP step).
#[inline(always)]
fn row_post<T: Real>(w0: &[T], w1: &[T]) -> [f64; 2] {
    assert_eq!(w0.len(), w1.len(), "fused row_post: row lengths");
    let mut wide = [[0.0f64; POST_LANES]; 2];
    for (s0, s1) in w0.chunks(POST_FLUSH).zip(w1.chunks(POST_FLUSH)) {
        let mut acc = [[T::ZERO; POST_LANES]; 2];
        for (b0, b1) in s0.chunks(POST_LANES).zip(s1.chunks(POST_LANES)) {
            for l in 0..b0.len() {
                let d = b1[l] - b0[l];
                acc[0][l] = acc[0][l] + b0[l] * d;
                acc[1][l] = acc[1][l] + d * d;
            }
        }
        for q in 0..2 {
            for l in 0..POST_LANES {
                wide[q][l] += acc[q][l].to_f64();
            }
        }
    }
    wide.map(|lanes| lanes.iter().fold(0.0, |s, x| s + x))
}

/// Explicit-SIMD versions of [`row_pre`] for f32 rows (lane `l` of the f64 vectors is
/// accumulator lane `l`).
#[cfg(target_arch = "x86_64")]
mod x86 {
    use super::{finish_pre, LANES};
    use std::arch::x86_64::*;

    /// # Safety
    /// The CPU supports AVX2.
    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn row_pre_f32_avx2(w: &[f32], g: &[f32]) -> [f64; 4] {
        let k = w.len().min(g.len()) / LANES * LANES;
        // [quantity][half]: lanes 0..4 and 4..8.
        let mut v = [[_mm256_setzero_pd(); 2]; 4];
        let zero = _mm256_setzero_pd();
        let mut o = 0;
        while o < k {
            for h in 0..2 {
                // SAFETY: o + LANES <= k <= len.
                let wf = _mm256_cvtps_pd(_mm_loadu_ps(w.as_ptr().add(o + 4 * h)));
                let gf = _mm256_cvtps_pd(_mm_loadu_ps(g.as_ptr().add(o + 4 * h)));
                v[0][h] = _mm256_add_pd(v[0][h], _mm256_mul_pd(gf, wf));
                v[1][h] = _mm256_add_pd(v[1][h], _mm256_mul_pd(gf, gf));
                v[2][h] = _mm256_add_pd(v[2][h], _mm256_mul_pd(wf, wf));
                v[3][h] = _mm256_add_pd(v[3][h], _mm256_mul_pd(gf, zero));
            }
            o += LANES;
        }
        let mut acc = [[0.0f64; LANES]; 4];
        for (a, q) in acc.iter_mut().zip(v) {
            _mm256_storeu_pd(a.as_mut_ptr(), q[0]);
            _mm256_storeu_pd(a.as_mut_ptr().add(4), q[1]);
        }
        finish_pre(acc, &w[k..], &g[k..])
    }
}

/// The lanes of an accumulator summed in lane order.
#[inline(always)]
fn lane_sum(acc: &[f64; LANES]) -> f64 {
    let mut s = 0.0;
    for a in acc {
        s += a;
    }
    s
}

/// Per-row `<g,w>`, `||g||^2`, `||w||^2` over a chunk, and whether every gradient element is
/// finite (`g * 0` is NaN exactly for NaN/Inf).
#[inline(always)]
fn pre_rows_impl<T: Real>(w: &[T], g: &[T], row_len: usize) -> (Vec<RowPre>, bool) {
    assert_eq!(w.len(), g.len(), "fused pre_rows: grad length");
    let n = w.len();
    let row_len = row_len.max(1);
    let mut rows = Vec::with_capacity(n / row_len + 1);
    let mut finite = true;
    let mut start = 0;
    while start < n {
        let len = row_len.min(n - start);
        let [gw, gg, ww, z] = row_pre(&w[start..start + len], &g[start..start + len]);
        finite &= z == 0.0;
        rows.push(RowPre { gw, gg, ww });
        start += len;
    }
    (rows, finite)
}

/// Whether every element of `g` is finite.
#[inline(always)]
fn all_finite_impl<T: Real>(g: &[T]) -> bool {
    let p = Ptrs {
        w: g.as_ptr() as *mut T,
        g: g.as_ptr(),
        a: std::ptr::null_mut(),
        b: std::ptr::null_mut(),
    };
    // SAFETY: in bounds; nothing is written.
    let [z] = unsafe {
        blocks!(1; &p, Io::new(true, 0, 0, false), 0, g.len(), |b, acc| {
            for l in 0..LANES {
                acc[0][l] += b.g[l].to_f64() * 0.0;
            }
        })
    };
    z == 0.0
}

/// One sweep without projection: advance the state, write `w' = apply(w, u)`; returns per-row
/// pre-step sums (raw gradient vs weight) and post-step sums.
#[inline(always)]
fn plain_impl<T: Real, E: Elem<T>>(
    e: &E,
    mut c: Chunk<'_, T>,
    row_len: usize,
) -> Vec<(RowPre, RowPost)> {
    let n = c.check(E::SLOTS);
    let p = Ptrs::new(&mut c);
    let row_len = row_len.max(1);
    let mut out = Vec::with_capacity(n / row_len + 1);
    let mut start = 0;
    while start < n {
        let len = row_len.min(n - start);
        // SAFETY: in bounds of the checked chunk.
        let [gw, gg, ww, wd, dd] = unsafe {
            blocks!(5;
                &p,
                Io::new(true, E::SLOTS, E::SLOTS, true),
                start,
                len,
                |b, acc| {
                    for l in 0..LANES {
                        let (w, g) = (b.w[l], b.g[l]);
                        let u = e.advance(w, g, &mut b.a[l], &mut b.b[l]);
                        let w1 = e.apply(w, u);
                        b.w[l] = w1;
                        let (wf, gf, w1f) = (w.to_f64(), g.to_f64(), w1.to_f64());
                        acc[0][l] += gf * wf;
                        acc[1][l] += gf * gf;
                        acc[2][l] += wf * wf;
                        let d = w1f - wf;
                        acc[3][l] += wf * d;
                        acc[4][l] += d * d;
                    }
                },
            )
        };
        out.push((RowPre { gw, gg, ww }, RowPost { wd, dd }));
        start += len;
    }
    out
}

/// First sweep of a projected update over `[start, start+len)`: advance the state and return
/// `<w, u>` (f64).
///
/// # Safety
/// As [`blocks`].
#[inline(always)]
unsafe fn advance_dot<T: Real, E: ProjElem<T>>(
    e: &E,
    p: &Ptrs<T>,
    start: usize,
    len: usize,
    u_out: *mut T,
) -> f64 {
    let io = Io {
        u_out,
        ..Io::new(true, E::SLOTS, E::SLOTS, false)
    };
    let [wu] = blocks!(1; p, io, start, len, |b, acc| {
        for l in 0..LANES {
            let u = e.advance(b.w[l], b.g[l], &mut b.a[l], &mut b.b[l]);
            b.u[l] = u;
            acc[0][l] += b.w[l].to_f64() * u.to_f64();
        }
    });
    wu
}

/// Second sweep of a projected update over `[start, start+len)`: `u' = u - coef*w`, write back
/// where the reference aliases the state (slot 0), then `w' = apply(w, u')`; returns the
/// post-step sums.
///
/// # Safety
/// As [`blocks`].
#[inline(always)]
unsafe fn project_apply<T: Real, E: ProjElem<T>>(
    e: &E,
    p: &Ptrs<T>,
    start: usize,
    len: usize,
    coef: T,
) -> RowPost {
    let slots_out = if E::ALIASES_SLOT0 { 1 } else { 0 };
    let [wd, dd] = blocks!(2;
        p,
        Io::new(true, E::SLOTS, slots_out, true),
        start,
        len,
        |b, acc| {
            for l in 0..LANES {
                let w = b.w[l];
                let u = e.recompute(b.g[l], b.a[l], b.b[l]) - coef * w;
                e.store_projected(u, &mut b.a[l]);
                let w1 = e.apply(w, u);
                b.w[l] = w1;
                let wf = w.to_f64();
                let d = w1.to_f64() - wf;
                acc[0][l] += wf * d;
                acc[1][l] += d * d;
            }
        },
    );
    RowPost { wd, dd }
}

/// Second sweep of a channel-view projected update of one row, with the row's directions kept in
/// `u` by [`advance_dot`]: `u' = u - coef*w`, written back where the reference aliases the state
/// (slot 0), `w' = apply(w, u')`; returns the post-step sums.
///
/// The old weights are kept in `u` (in cache, in place of the directions just used), so that the
/// step sums can be taken from the old and new rows by [`row_post`].
///
/// # Safety
/// As [`blocks`]; `u` holds `len` elements and does not overlap the chunk.
#[inline(always)]
unsafe fn project_apply_scratch<T: Real, E: ProjElem<T>>(
    e: &E,
    p: &Ptrs<T>,
    start: usize,
    len: usize,
    coef: T,
    u: *mut T,
) -> RowPost {
    let slots = if E::ALIASES_SLOT0 { 1 } else { 0 };
    let io = Io {
        u_in: u,
        u_out: u,
        ..Io::new(false, slots, slots, true)
    };
    // One (unused) accumulator: `blocks!` needs at least one.
    let [_] = blocks!(1; p, io, start, len, |b, _acc| {
        for l in 0..LANES {
            let w = b.w[l];
            let u = b.u[l] - coef * w;
            e.store_projected(u, &mut b.a[l]);
            b.w[l] = e.apply(w, u);
            b.u[l] = w;
        }
    });
    let w0 = std::slice::from_raw_parts(u as *const T, len);
    let w1 = std::slice::from_raw_parts(p.w.add(start) as *const T, len);
    let [wd, dd] = row_post(w0, w1);
    RowPost { wd, dd }
}

/// Channel-view projected update of a chunk of whole rows; `pre` holds this chunk's rows.
/// Each row is advanced (its directions kept in a row-sized scratch buffer), its coefficient
/// computed, and then rewritten while still in cache.
#[inline(always)]
fn channel_impl<T: Real, E: ProjElem<T>>(
    e: &E,
    mut c: Chunk<'_, T>,
    row_len: usize,
    pre: &[RowPre],
    eps: f64,
) -> Vec<RowPost> {
    let n = c.check(E::SLOTS);
    assert_eq!(pre.len() * row_len, n, "fused channel: rows");
    let p = Ptrs::new(&mut c);
    let mut scratch = vec![T::ZERO; row_len];
    let u = scratch.as_mut_ptr();
    // A plain loop (no iterator closures), so the whole body is compiled into the caller's
    // instruction-set variant.
    let mut out = Vec::with_capacity(pre.len());
    #[cfg(target_arch = "x86_64")]
    if let Some(k) = e.row_kernel() {
        for (r, rp) in pre.iter().enumerate() {
            let start = r * row_len;
            // SAFETY: a kernel exists only for f32 elements (so `T` is f32); start + row_len
            // <= n; `scratch` holds row_len elements and is separate from the chunk.
            out.push(unsafe {
                k.row(&super::proj_row::Row {
                    w: p.w.add(start) as *mut f32,
                    g: p.g.add(start) as *const f32,
                    a: p.a.add(start) as *mut f32,
                    // Empty (never read) for SGDP.
                    b: p.b.wrapping_add(start) as *mut f32,
                    u: u as *mut f32,
                    len: row_len,
                    ww: rp.ww,
                    eps,
                })
            });
        }
        return out;
    }
    for (r, rp) in pre.iter().enumerate() {
        let start = r * row_len;
        // SAFETY: start + row_len <= n; `scratch` holds row_len elements.
        unsafe {
            let wu = advance_dot(e, &p, start, row_len, u);
            let coef = T::from_f64(crate::projection::coefficient(rp.ww, wu, eps));
            out.push(project_apply_scratch(e, &p, start, row_len, coef, u));
        }
    }
    out
}

/// Layer view, pass 1 over a chunk: advance the state; returns `<w, u>` over the chunk.
#[inline(always)]
fn layer_advance_impl<T: Real, E: ProjElem<T>>(e: &E, mut c: Chunk<'_, T>) -> f64 {
    let n = c.check(E::SLOTS);
    let p = Ptrs::new(&mut c);
    // SAFETY: the whole checked chunk.
    unsafe { advance_dot(e, &p, 0, n, std::ptr::null_mut()) }
}

/// Layer view, pass 2 over a chunk of whole rows: project with the tensor's single coefficient
/// and write; returns per-row post-step sums.
#[inline(always)]
fn layer_apply_impl<T: Real, E: ProjElem<T>>(
    e: &E,
    mut c: Chunk<'_, T>,
    row_len: usize,
    coef: T,
) -> Vec<RowPost> {
    let n = c.check(E::SLOTS);
    let p = Ptrs::new(&mut c);
    let row_len = row_len.max(1);
    let mut out = Vec::with_capacity(n.div_ceil(row_len));
    let mut start = 0;
    while start < n {
        let len = row_len.min(n - start);
        // SAFETY: start + len <= n.
        out.push(unsafe { project_apply(e, &p, start, len, coef) });
        start += len;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Deterministic f32 values of mixed sign and magnitude (a small LCG).
    fn values(n: usize, seed: u32) -> Vec<f32> {
        let mut x = seed;
        (0..n)
            .map(|_| {
                x = x.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                ((x >> 8) as f32 / (1u32 << 24) as f32 - 0.5) * 3.0
            })
            .collect()
    }

    fn bits<const K: usize>(v: [f64; K]) -> [u64; K] {
        v.map(f64::to_bits)
    }

    /// Run one row through the generic sweep (what `channel_impl` runs without a vector
    /// kernel) and through `kernel`; assert identical bits for `w`, the state and the sums.
    #[cfg(target_arch = "x86_64")]
    fn check_row_kernel<E: ProjElem<f32>>(
        e: &E,
        kernel: &crate::fused::proj_row::RowKernel,
        n: usize,
        ctx: &str,
    ) {
        let w0 = values(n, 11);
        let g = values(n, 12);
        let a0 = values(n, 13);
        let b0: Vec<f32> = if E::SLOTS > 1 {
            values(n, 14).iter().map(|x| x * x).collect()
        } else {
            Vec::new()
        };
        let ww: f64 = w0.iter().map(|&x| x as f64 * x as f64).sum();
        let eps = 1e-8;

        let (mut w, mut a, mut b) = (w0.clone(), a0.clone(), b0.clone());
        let mut scratch = vec![0f32; n];
        let mut c = Chunk {
            w: &mut w,
            g: &g,
            a: &mut a,
            b: &mut b,
        };
        let p = Ptrs::new(&mut c);
        // SAFETY: one row of n elements; scratch holds n.
        let want = unsafe {
            let wu = advance_dot(e, &p, 0, n, scratch.as_mut_ptr());
            let coef = f32::from_f64(crate::projection::coefficient(ww, wu, eps));
            project_apply_scratch(e, &p, 0, n, coef, scratch.as_mut_ptr())
        };

        let (mut w2, mut a2, mut b2) = (w0.clone(), a0.clone(), b0.clone());
        let mut u = vec![0f32; n];
        // SAFETY: the buffers hold n elements (`b` is empty and unread for one-slot rules).
        let got = unsafe {
            kernel.row(&crate::fused::proj_row::Row {
                w: w2.as_mut_ptr(),
                g: g.as_ptr(),
                a: a2.as_mut_ptr(),
                b: b2.as_mut_ptr(),
                u: u.as_mut_ptr(),
                len: n,
                ww,
                eps,
            })
        };
        let bits32 = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_ne!(bits32(&a), bits32(&a0), "{ctx}: state did not move");
        // A 1-element row's direction is projected away entirely; longer rows move.
        if n > 1 {
            assert_ne!(bits32(&w), bits32(&w0), "{ctx}: the step changed nothing");
        }
        assert_eq!(bits32(&w2), bits32(&w), "{ctx}: weights");
        assert_eq!(bits32(&a2), bits32(&a), "{ctx}: state slot 0");
        assert_eq!(bits32(&b2), bits32(&b), "{ctx}: state slot 1");
        assert_eq!(
            bits([got.wd, got.dd]),
            bits([want.wd, want.dd]),
            "{ctx}: post-step sums"
        );
    }

    /// Row lengths with and without partial 16- and 8-element blocks.
    #[cfg(target_arch = "x86_64")]
    const ROW_LENS: [usize; 11] = [1, 7, 8, 9, 15, 16, 17, 31, 147, 576, 4608 + 5];

    /// Each vector AdamP row kernel this CPU supports (AVX-512, AVX2) updates `w`, both moments
    /// and the post-step sums bit for bit as the generic sweep does, with and without nesterov,
    /// weight decay and bias correction. A kernel the CPU lacks is skipped with a message.
    #[cfg(target_arch = "x86_64")]
    #[test]
    fn vector_adamp_rows_match_the_generic_sweep_bit_for_bit() {
        use crate::fused::elems::AdamPElem;
        use crate::fused::proj_row::{Isa, RowKernel};
        for isa in [Isa::Avx512, Isa::Avx2] {
            for nesterov in [false, true] {
                for (step, decay) in [(1i32, 1.0f64), (7, 1.0 - 0.1 * 1e-2 * 0.1)] {
                    let (b1, b2) = (0.9f64, 0.999f64);
                    let (bc1, bc2) = (1.0 - b1.powi(step), 1.0 - b2.powi(step));
                    let e = AdamPElem::<f32> {
                        beta1: b1 as f32,
                        one_minus_beta1: (1.0 - b1) as f32,
                        beta2: b2 as f32,
                        one_minus_beta2: (1.0 - b2) as f32,
                        bias_correction2_sqrt: bc2.sqrt() as f32,
                        eps: 1e-8,
                        nesterov,
                        decay: decay as f32,
                        neg_step: (-(1e-3 / bc1)) as f32,
                    };
                    let Some(k) = RowKernel::adamp(&e, Some(isa)) else {
                        eprintln!(
                            "this CPU lacks {isa:?}: that AdamP row kernel is not tested here"
                        );
                        continue;
                    };
                    for n in ROW_LENS {
                        check_row_kernel(
                            &e,
                            &k,
                            n,
                            &format!("AdamP {isa:?} n={n} nesterov={nesterov} step={step}"),
                        );
                    }
                }
            }
        }
    }

    /// As above for SGDP, including the momentum buffer taking the projected direction when
    /// nesterov is off (`sgdp.py`'s aliasing), dampening and the `1/(1-momentum)` decay.
    #[cfg(target_arch = "x86_64")]
    #[test]
    fn vector_sgdp_rows_match_the_generic_sweep_bit_for_bit() {
        use crate::fused::elems::SgdpElem;
        use crate::fused::proj_row::{Isa, RowKernel};
        for isa in [Isa::Avx512, Isa::Avx2] {
            for nesterov in [false, true] {
                for (dampening, wd) in [(0.0f64, 0.0f64), (0.1, 1e-4)] {
                    let (lr, momentum) = (0.1f64, 0.9f64);
                    let e = SgdpElem::<f32> {
                        momentum: momentum as f32,
                        one_minus_dampening: (1.0 - dampening) as f32,
                        nesterov,
                        decay: (1.0 - lr * wd * 0.1 / (1.0 - momentum)) as f32,
                        neg_lr: (-lr) as f32,
                    };
                    let Some(k) = RowKernel::sgdp(&e, Some(isa)) else {
                        eprintln!(
                            "this CPU lacks {isa:?}: that SGDP row kernel is not tested here"
                        );
                        continue;
                    };
                    for n in ROW_LENS {
                        check_row_kernel(
                            &e,
                            &k,
                            n,
                            &format!(
                                "SGDP {isa:?} n={n} nesterov={nesterov} dampening={dampening}"
                            ),
                        );
                    }
                }
            }
        }
    }

    /// The row sums of the vector code (whichever this CPU runs) equal the portable loop's bit
    /// for bit, with and without a partial last block, and the non-finite check still fires.
    #[test]
    fn vector_row_sums_match_the_portable_loop_bit_for_bit() {
        for n in [0, 1, 7, 8, 9, 147, 576, 4608 + 5] {
            let (w, mut g) = (values(n, 1), values(n, 2));
            assert_eq!(
                bits(row_pre(&w, &g)),
                bits(row_pre_portable(&w, &g)),
                "pre, n={n}"
            );
            if n > 0 {
                g[n - 1] = f32::INFINITY;
                assert!(row_pre(&w, &g)[3].is_nan(), "inf not caught, n={n}");
                assert!(row_pre_portable(&w, &g)[3].is_nan());
            }
        }
    }

    /// The f32-lane step sums of `row_post` stay within 1e-6 (relative) of f64 sums of the
    /// same products, on rows shorter and much longer than a flush segment, for a small step
    /// (`w1` near `w0`, as in training) and a large one. (Measured: about 2e-8; with the whole
    /// 300,000-element row summed in f32 lanes, without the flush, `||d||^2` of the large step
    /// is 1.5e-6 off and this fails.)
    #[test]
    fn row_step_sums_are_close_to_f64_sums() {
        for n in [1, 17, 1000, 4608, 300_000] {
            for scale in [1e-3f32, 0.7] {
                let w0 = values(n, 3);
                let w1: Vec<f32> = w0
                    .iter()
                    .zip(values(n, 4))
                    .map(|(a, b)| a + scale * b)
                    .collect();
                let [wd, dd] = row_post(&w0, &w1);
                let (mut xwd, mut xdd) = (0.0f64, 0.0f64);
                for (a, b) in w0.iter().zip(&w1) {
                    let d = (*b - *a) as f64;
                    xwd += *a as f64 * d;
                    xdd += d * d;
                }
                let close = |x: f64, y: f64, scale_of: f64| (x - y).abs() <= 1e-6 * scale_of;
                assert!(close(dd, xdd, xdd), "dd n={n} scale={scale}: {dd} vs {xdd}");
                // <w0, d> has terms of both signs: relative to the sum of |terms|' bound.
                let bound = (w0.iter().map(|a| (*a as f64).powi(2)).sum::<f64>() * xdd).sqrt();
                assert!(
                    close(wd, xwd, bound),
                    "wd n={n} scale={scale}: {wd} vs {xwd}"
                );
            }
        }
    }
}
