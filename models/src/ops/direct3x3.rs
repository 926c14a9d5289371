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
