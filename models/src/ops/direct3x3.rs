//! Direct 3x3 convolution (stride 1, padding 1, dilation 1, one group) with AVX-512 register
//! tiles: the forward pass of the ResNets' 3x3 convolutions, and (through the transposed, flipped
//! kernel of [`crate::ops::conv2d`]) their input gradient, without an im2col column matrix.
//!
//! Each image's input is copied once into zero-padded planes of width `W + 2`. An output position
//! `q = y * (W + 2) + x` of such a padded-width grid then reads input `q + ki * (W + 2) + kj` for
//! tap `(ki, kj)`: for every tap, a run of consecutive outputs reads a run of consecutive inputs,
//! so a tile of `16 * NP` outputs times `CB` output channels accumulates in `CB * NP` vector
//! registers over all input channels and taps (one unaligned load per input vector, one broadcast
//! weight per channel), and is stored once. The two columns past each row's end (`x = W, W + 1`)
//! are computed and dropped. The im2col path copies every input nine times and then packs it
//! again for the GEMM; that copying was about a third of the forward time (ResNet-20 on CIFAR).
//!
//! Results differ from the GEMM path in rounding only (another summation order); they are the
//! same run to run. CPUs without AVX-512F, other geometries, and more than [`MAX_C_IN`] input
//! channels use the GEMM path.

use super::conv2d::Conv2dGeometry;
use super::util::with_scratch;

/// Output channels per register tile; the direct path needs `c_out % CB == 0`.
const CB: usize = 8;
/// Input channels up to which the direct path is taken: each output is one sequential sum of
/// `9 * c_in` products, whose rounding error grows with its length (measured mean relative error
/// against an f64 sum: 3.5e-7 at 64 channels, as the GEMM path's 3.2e-7; 4.9e-7 at 256 channels,
/// twice the GEMM path's blocked sums).
const MAX_C_IN: usize = 128;
/// f32 lanes of one AVX-512 vector.
const V: usize = 16;

/// Whether [`forward_image`] handles this geometry on this CPU.
pub(crate) fn applies(geo: &Conv2dGeometry) -> bool {
    geo.kh == 3
        && geo.kw == 3
        && geo.stride == 1
        && geo.padding == 1
        && geo.dilation == 1
        && geo.groups == 1
        && geo.c_out.is_multiple_of(CB)
        && has_avx512()
        && geo.c_in <= MAX_C_IN
}

fn has_avx512() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx512f")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// The layout of one image's padded planes and padded-width outputs.
#[derive(Debug, Clone, Copy)]
struct Plan {
    /// Padded row width `W + 2`.
    w2: usize,
    /// Vectors per tile (1 to 3).
    np: usize,
    /// Tiles covering the `H * (W + 2)` padded-width outputs.
    tiles: usize,
    /// Elements per padded input plane (a multiple of `V`, with room for the last tile's reads).
    plane: usize,
}

impl Plan {
    fn new(h: usize, w: usize) -> Self {
        let w2 = w + 2;
        let outs = h * w2;
        // The tile width computing the fewest dropped outputs; ties go to the wider tile.
        let np = (1..=3)
            .rev()
            .min_by_key(|&np| outs.div_ceil(np * V) * np * V)
            .unwrap_or(1);
        let tiles = outs.div_ceil(np * V);
        // The last tile reads up to `tiles * np * V - 1 + 2 * w2 + 2`.
        let plane = ((h + 2) * w2).max(tiles * np * V + 2 * w2 + 2).div_ceil(V) * V;
        Plan {
            w2,
            np,
            tiles,
            plane,
        }
    }
    fn outs(&self) -> usize {
        self.tiles * self.np * V
    }
}

/// `y = conv3x3(x, wt)` for one image: `x` is `[c_in, h, w]`, `wt` `[c_out, c_in, 3, 3]`, `y`
/// `[c_out, h, w]` (overwritten). Only for geometries where [`applies`] holds.
pub(crate) fn forward_image(geo: &Conv2dGeometry, x: &[f32], wt: &[f32], y: &mut [f32]) {
    assert!(applies(geo), "direct3x3: geometry or CPU not supported");
    let (cin, cout, h, w) = (geo.c_in, geo.c_out, geo.h, geo.w);
    assert_eq!(x.len(), cin * h * w, "direct3x3: input length");
    assert_eq!(wt.len(), cout * cin * 9, "direct3x3: kernel length");
    assert_eq!(y.len(), cout * h * w, "direct3x3: output length");
    let plan = Plan::new(h, w);
    with_scratch(cin * plan.plane, |xp| {
        pad_planes(x, cin, h, w, plan, xp);
        with_scratch(CB * plan.outs(), |out| {
            for co in (0..cout).step_by(CB) {
                // SAFETY: `applies` checked AVX-512F; `xp` holds `cin` planes of `plan.plane`
                // elements, which cover every read of every tile (see `Plan::new`); `out` holds
                // `CB` rows of `plan.outs()`; the kernel rows `co..co + CB` exist (`cout % CB == 0`).
                #[cfg(target_arch = "x86_64")]
                unsafe {
                    x86::block(xp, &wt[co * cin * 9..(co + CB) * cin * 9], cin, plan, out)
                };
                for c in 0..CB {
                    let src = &out[c * plan.outs()..];
                    let dst = &mut y[(co + c) * h * w..(co + c + 1) * h * w];
                    for (r, row) in dst.chunks_exact_mut(w).enumerate() {
                        row.copy_from_slice(&src[r * plan.w2..r * plan.w2 + w]);
                    }
                }
            }
        });
    });
}

/// `dw += dconv3x3/dw` over `b` images: `x` is `[b, c_in, h, w]`, `dy` `[b, c_out, h, w]`, `dw`
/// `[c_out, c_in, 3, 3]`: `dw[o, c, ki, kj] += sum_q dy[o, q] x[c, q + ki * (W + 2) + kj]` over the
/// padded-width grid (`dy` is laid out on it with zeros in the dropped columns). A register tile
/// holds up to three output channels times the nine taps of one input channel (27 vectors, each
/// loaded input vector feeding three products), summed over all `b` images before its lanes are
/// added up. Only for geometries where [`applies`] holds.
pub(crate) fn add_weight_grad_images(
    geo: &Conv2dGeometry,
    x: &[f32],
    dy: &[f32],
    b: usize,
    dw: &mut [f32],
) {
    assert!(applies(geo), "direct3x3: geometry or CPU not supported");
    let (cin, cout, h, w) = (geo.c_in, geo.c_out, geo.h, geo.w);
    assert_eq!(x.len(), b * cin * h * w, "direct3x3: input length");
    assert_eq!(dy.len(), b * cout * h * w, "direct3x3: gradient length");
    assert_eq!(
        dw.len(),
        cout * cin * 9,
        "direct3x3: kernel gradient length"
    );
    let plan = Plan::new(h, w);
    let outs = plan.outs();
    with_scratch(b * cin * plan.plane, |xp| {
        with_scratch(b * cout * outs, |dyp| {
            for i in 0..b {
                let xi = &x[i * cin * h * w..(i + 1) * cin * h * w];
                pad_planes(
                    xi,
                    cin,
                    h,
                    w,
                    plan,
                    &mut xp[i * cin * plan.plane..][..cin * plan.plane],
                );
                for o in 0..cout {
                    let d = &mut dyp[(i * cout + o) * outs..(i * cout + o + 1) * outs];
                    d.fill(0.0);
                    let src = &dy[((i * cout + o) * h) * w..][..h * w];
                    for (r, row) in src.chunks_exact(w).enumerate() {
                        d[r * plan.w2..r * plan.w2 + w].copy_from_slice(row);
                    }
                }
            }
            let mut o = 0;
            while o < cout {
                let rows = (cout - o).min(3);
                for c in 0..cin {
                    let mut sums = [[0.0f32; 9]; 3];
                    // SAFETY: AVX-512F checked by `applies`; `xp` holds `b * cin` planes and
                    // `dyp` `b * cout` rows of `outs`; every read is inside them (see
                    // `Plan::new`); `o + rows <= cout`, `c < cin`.
                    #[cfg(target_arch = "x86_64")]
                    unsafe {
                        x86::weight_taps(xp, dyp, b, cin, cout, plan, o, rows, c, &mut sums)
                    };
                    for (r, s) in sums.iter().take(rows).enumerate() {
                        let row = &mut dw[((o + r) * cin + c) * 9..][..9];
                        for (d, v) in row.iter_mut().zip(s) {
                            *d += v;
                        }
                    }
                }
                o += rows;
            }
        });
    });
}

/// Images per call of [`add_weight_grad_images`]: as many as keep its padded copies of `x` and
/// `dy` within about 512 KiB (in the core's L2 cache), at least one.
pub(crate) fn weight_grad_batch(geo: &Conv2dGeometry) -> usize {
    let plan = Plan::new(geo.h, geo.w);
    let per_image = geo.c_in * plan.plane + geo.c_out * plan.outs();
    ((128 << 10) / per_image.max(1)).max(1)
}

/// Copy `x` (`[c, h, w]`) into zero-padded planes of `plan.plane` elements: row `r` of plane `c`
/// starts at `c * plan.plane + (r + 1) * w2 + 1`.
fn pad_planes(x: &[f32], c: usize, h: usize, w: usize, plan: Plan, xp: &mut [f32]) {
    let w2 = plan.w2;
    for ci in 0..c {
        let p = &mut xp[ci * plan.plane..(ci + 1) * plan.plane];
        p[..w2 + 1].fill(0.0);
        for r in 0..h {
            let row = (r + 1) * w2 + 1;
            p[row..row + w].copy_from_slice(&x[(ci * h + r) * w..][..w]);
            // The right pad of this row and the left pad of the next.
            p[row + w..row + w + 2].fill(0.0);
        }
        p[(h + 1) * w2 + 1..].fill(0.0);
    }
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use super::{Plan, CB, V};
    use std::arch::x86_64::*;

    /// All tiles of one block of `CB` output channels into `out` (`CB` rows of `plan.outs()`).
    ///
    /// # Safety
    /// The CPU has AVX-512F; `xp` holds `cin` planes of `plan.plane` elements; `wt` is
    /// `[CB, cin, 3, 3]`; `out` holds `CB * plan.outs()` elements.
    #[target_feature(enable = "avx512f")]
    pub(super) unsafe fn block(xp: &[f32], wt: &[f32], cin: usize, plan: Plan, out: &mut [f32]) {
        assert!(xp.len() >= cin * plan.plane && wt.len() == CB * cin * 9);
        assert!(out.len() >= CB * plan.outs());
        let offs = [
            0,
            1,
            2,
            plan.w2,
            plan.w2 + 1,
            plan.w2 + 2,
            2 * plan.w2,
            2 * plan.w2 + 1,
            2 * plan.w2 + 2,
        ];
        for t in 0..plan.tiles {
            let q = t * plan.np * V;
            match plan.np {
                3 => tile::<3>(xp, wt, cin, plan, &offs, q, out),
                2 => tile::<2>(xp, wt, cin, plan, &offs, q, out),
                _ => tile::<1>(xp, wt, cin, plan, &offs, q, out),
            }
        }
    }

    /// The nine tap sums of output channels `o..o + rows` (`rows` 1 to 3) against input channel
    /// `c`, over `b` images, into `sums[..rows]`: `sum_q dyp[i, o + r, q] * xp[i, c, q + off]`.
    ///
    /// # Safety
    /// The CPU has AVX-512F; `xp` holds `b * cin` planes of `plan.plane` elements; `dyp` holds
    /// `b * cout` rows of `plan.outs()`; `o + rows <= cout`, `c < cin`.
    #[allow(clippy::too_many_arguments)]
    #[target_feature(enable = "avx512f")]
    pub(super) unsafe fn weight_taps(
        xp: &[f32],
        dyp: &[f32],
        b: usize,
        cin: usize,
        cout: usize,
        plan: Plan,
        o: usize,
        rows: usize,
        c: usize,
        sums: &mut [[f32; 9]; 3],
    ) {
        let outs = plan.outs();
        assert!((1..=3).contains(&rows) && o + rows <= cout && c < cin);
        assert!(xp.len() >= b * cin * plan.plane && dyp.len() >= b * cout * outs);
        match rows {
            3 => taps::<3>(xp, dyp, b, cin, cout, plan, o, c, sums),
            2 => taps::<2>(xp, dyp, b, cin, cout, plan, o, c, sums),
            _ => taps::<1>(xp, dyp, b, cin, cout, plan, o, c, sums),
        }
    }

    /// [`weight_taps`] for `R` output channels.
    ///
    /// # Safety
    /// As [`weight_taps`] with `rows == R`.
    #[allow(clippy::too_many_arguments)]
    #[target_feature(enable = "avx512f")]
    unsafe fn taps<const R: usize>(
        xp: &[f32],
        dyp: &[f32],
        b: usize,
        cin: usize,
        cout: usize,
        plan: Plan,
        o: usize,
        c: usize,
        sums: &mut [[f32; 9]; 3],
    ) {
        let outs = plan.outs();
        let mut acc = [[_mm512_setzero_ps(); 9]; R];
        for i in 0..b {
            let xc = xp.as_ptr().add((i * cin + c) * plan.plane);
            let d0 = dyp.as_ptr().add((i * cout + o) * outs);
            image_taps::<R>(xc, d0, outs, plan.w2, &mut acc);
        }
        for (r, a) in acc.iter().enumerate() {
            for (tap, v) in a.iter().enumerate() {
                sums[r][tap] = _mm512_reduce_add_ps(*v);
            }
        }
    }

    /// One image of [`taps`]: `R` gradient rows at `d0` (row stride `outs`) against the padded
    /// plane `xc`. The accumulators are copied into locals, advanced over the image's positions
    /// in one flat loop with the taps written out, and stored back: kept out of the image loop,
    /// where the compiler spilled them to the stack on every step.
    ///
    /// # Safety
    /// As [`weight_taps`] for this image.
    #[inline(never)]
    #[target_feature(enable = "avx512f")]
    unsafe fn image_taps<const R: usize>(
        xc: *const f32,
        d0: *const f32,
        outs: usize,
        w2: usize,
        acc: &mut [[__m512; 9]; R],
    ) {
        let mut a = *acc;
        let (r1, r2) = (xc.add(w2), xc.add(2 * w2));
        let mut q = 0;
        while q < outs {
            let mut g = [_mm512_setzero_ps(); R];
            for (r, gr) in g.iter_mut().enumerate() {
                *gr = _mm512_loadu_ps(d0.add(r * outs + q));
            }
            // In bounds: q + V - 1 + 2 * w2 + 2 < plan.plane (see `Plan::new`).
            macro_rules! tap {
                ($($row:ident $k:literal $t:literal),*) => {$(
                    let xv = _mm512_loadu_ps($row.add(q + $k));
                    for r in 0..R {
                        a[r][$t] = _mm512_fmadd_ps(g[r], xv, a[r][$t]);
                    }
                )*};
            }
            tap!(xc 0 0, xc 1 1, xc 2 2, r1 0 3, r1 1 4, r1 2 5, r2 0 6, r2 1 7, r2 2 8);
            q += V;
        }
        *acc = a;
    }

    /// One tile: outputs `q..q + NP * V` of `CB` channels.
    ///
    /// # Safety
    /// As [`block`]; `q + NP * V <= plan.outs()`.
    #[inline]
    #[target_feature(enable = "avx512f")]
    unsafe fn tile<const NP: usize>(
        xp: &[f32],
        wt: &[f32],
        cin: usize,
        plan: Plan,
        offs: &[usize; 9],
        q: usize,
        out: &mut [f32],
    ) {
        let mut acc = [[_mm512_setzero_ps(); NP]; CB];
        let (x0, w0) = (xp.as_ptr(), wt.as_ptr());
        let wrs = cin * 9;
        for ci in 0..cin {
            let xc = x0.add(ci * plan.plane + q);
            let wc = w0.add(ci * 9);
            for (tap, &off) in offs.iter().enumerate() {
                let mut xv = [_mm512_setzero_ps(); NP];
                for (j, v) in xv.iter_mut().enumerate() {
                    // In bounds: q + NP * V - 1 + off < plan.plane (see `Plan::new`).
                    *v = _mm512_loadu_ps(xc.add(off + j * V));
                }
                for (c, a) in acc.iter_mut().enumerate() {
                    let wv = _mm512_set1_ps(*wc.add(c * wrs + tap));
                    for j in 0..NP {
                        a[j] = _mm512_fmadd_ps(wv, xv[j], a[j]);
                    }
                }
            }
        }
        let o = out.as_mut_ptr();
        let outs = plan.outs();
        for (c, a) in acc.iter().enumerate() {
            for (j, v) in a.iter().enumerate() {
                _mm512_storeu_ps(o.add(c * outs + q + j * V), *v);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reference: the textbook sum, in f64.
    fn reference(x: &[f32], wt: &[f32], cin: usize, cout: usize, h: usize, w: usize) -> Vec<f32> {
        let mut y = vec![0.0f32; cout * h * w];
        for co in 0..cout {
            for r in 0..h {
                for c in 0..w {
                    let mut s = 0.0f64;
                    for ci in 0..cin {
                        for ki in 0..3 {
                            for kj in 0..3 {
                                let (yy, xx) = (r + ki, c + kj);
                                if yy < 1 || xx < 1 || yy > h || xx > w {
                                    continue;
                                }
                                let xv = x[(ci * h + yy - 1) * w + xx - 1];
                                s += f64::from(xv)
                                    * f64::from(wt[((co * cin + ci) * 3 + ki) * 3 + kj]);
                            }
                        }
                    }
                    y[(co * h + r) * w + c] = s as f32;
                }
            }
        }
        y
    }

    fn values(n: usize, seed: u32) -> Vec<f32> {
        let mut s = seed;
        (0..n)
            .map(|_| {
                s = s.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                (s >> 8) as f32 / (1u32 << 24) as f32 - 0.5
            })
            .collect()
    }

    #[test]
    fn matches_the_direct_sum_on_edge_shapes() {
        if !has_avx512() {
            eprintln!("no AVX-512F on this CPU: the direct 3x3 path is not used here");
            return;
        }
        // (c_in, c_out, h, w): tile widths 1-3, non-square, 1-pixel images, odd channel counts.
        for &(cin, cout, h, w) in &[
            (3, 16, 32, 32),
            (16, 16, 16, 16),
            (64, 8, 8, 8),
            (5, 24, 7, 5),
            (1, 8, 1, 1),
            (2, 8, 3, 17),
            (7, 16, 13, 2),
            (MAX_C_IN, 8, 4, 4),
        ] {
            let geo = Conv2dGeometry::new(&[1, cin, h, w], &[cout, cin, 3, 3], 1, 1, 1, 1).unwrap();
            assert!(applies(&geo));
            let x = values(cin * h * w, 1 + cin as u32);
            let wt = values(cout * cin * 9, 7 + cout as u32);
            let mut y = vec![f32::NAN; cout * h * w];
            forward_image(&geo, &x, &wt, &mut y);
            let r = reference(&x, &wt, cin, cout, h, w);
            for (i, (a, b)) in y.iter().zip(&r).enumerate() {
                assert!(
                    (a - b).abs() <= 1e-5 * (1.0 + b.abs()),
                    "{cin}->{cout} {h}x{w}: element {i}: {a} vs {b}"
                );
            }
        }
    }

    #[test]
    fn weight_gradient_matches_the_direct_sum_on_edge_shapes() {
        if !has_avx512() {
            eprintln!("no AVX-512F on this CPU: the direct 3x3 path is not used here");
            return;
        }
        // Output channel counts with 0, 1 and 2 left after the blocks of three.
        for &(b, cin, cout, h, w) in &[
            (3, 3, 16, 32, 32),
            (2, 16, 32, 16, 16),
            (5, 64, 8, 8, 8),
            (1, 5, 24, 7, 5),
            (4, 1, 8, 1, 1),
            (2, 7, 16, 13, 2),
        ] {
            let geo = Conv2dGeometry::new(&[b, cin, h, w], &[cout, cin, 3, 3], 1, 1, 1, 1).unwrap();
            let x = values(b * cin * h * w, 3 + cin as u32);
            let dy = values(b * cout * h * w, 5 + cout as u32);
            let init = values(cout * cin * 9, 9);
            let mut dw = init.clone();
            add_weight_grad_images(&geo, &x, &dy, b, &mut dw);
            for o in 0..cout {
                for c in 0..cin {
                    for (ki, kj) in (0..3).flat_map(|i| (0..3).map(move |j| (i, j))) {
                        let mut s = 0.0f64;
                        for i in 0..b {
                            for r in 0..h {
                                for q in 0..w {
                                    let (yy, xx) = (r + ki, q + kj);
                                    if yy < 1 || xx < 1 || yy > h || xx > w {
                                        continue;
                                    }
                                    let xv = x[((i * cin + c) * h + yy - 1) * w + xx - 1];
                                    let d = dy[((i * cout + o) * h + r) * w + q];
                                    s += f64::from(xv) * f64::from(d);
                                }
                            }
                        }
                        let k = ((o * cin + c) * 3 + ki) * 3 + kj;
                        let want = f64::from(init[k]) + s;
                        assert!(
                            (f64::from(dw[k]) - want).abs() <= 1e-5 * (1.0 + want.abs()),
                            "b={b} {cin}->{cout} {h}x{w}: dw[{o},{c},{ki},{kj}] {} vs {want}",
                            dw[k]
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn other_geometries_are_not_taken() {
        let g = |k: &[usize], s, p, d, groups| {
            Conv2dGeometry::new(&[1, 16, 8, 8], k, s, p, d, groups).unwrap()
        };
        assert!(!applies(&g(&[16, 16, 3, 3], 2, 1, 1, 1)), "stride 2");
        assert!(!applies(&g(&[16, 16, 3, 3], 1, 2, 2, 1)), "dilation 2");
        assert!(!applies(&g(&[16, 8, 3, 3], 1, 1, 1, 2)), "groups");
        assert!(
            !applies(&g(&[12, 16, 3, 3], 1, 1, 1, 1)),
            "c_out not a multiple of 8"
        );
        assert!(!applies(&g(&[16, 16, 1, 1], 1, 0, 1, 1)), "1x1");
        let wide = Conv2dGeometry::new(
            &[1, MAX_C_IN + 8, 4, 4],
            &[8, MAX_C_IN + 8, 3, 3],
            1,
            1,
            1,
            1,
        );
        assert!(
            !applies(&wide.unwrap()),
            "more than MAX_C_IN input channels"
        );
    }
}
