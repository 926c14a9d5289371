//! `im2col` / `col2im` for one image and one channel group (the lowering behind
//! [`crate::ops::conv2d`]; Chellapilla et al. 2006, as in PyTorch's `slow_conv2d`).
//!
//! Column layout: row `k = (c * kh + ki) * kw + kj` (matching a weight `[out, c, kh, kw]` reshaped
//! to `[out, K]`), column `p = oh * ow_len + ow`, row stride `ld` (several images can share one
//! column matrix side by side: image `b` starts at column `b * P`).

/// Geometry of one spatial axis: output positions `o` read input `o * stride + k * dilation - pad`.
#[derive(Debug, Clone, Copy)]
pub struct Axis {
    /// Input length.
    pub input: usize,
    /// Output length.
    pub output: usize,
    /// Stride.
    pub stride: usize,
    /// Zero padding on both sides.
    pub pad: usize,
    /// Dilation.
    pub dilation: usize,
}

impl Axis {
    /// Output positions `[lo, hi)` whose input index `o * stride + off - pad` lies inside the input,
    /// for kernel offset `off = k * dilation`.
    #[inline]
    pub fn valid(&self, off: usize) -> (usize, usize) {
        let s = self.stride;
        let lo = if self.pad > off {
            (self.pad - off).div_ceil(s)
        } else {
            0
        };
        let hi = if self.input + self.pad > off {
            ((self.input - 1 + self.pad - off) / s + 1).min(self.output)
        } else {
            0
        };
        (lo.min(hi), hi)
    }
}

/// Copy one image's channel group `x` (`[c, H, W]`) into `col` (rows of length `P = OH*OW` at
/// stride `ld`, starting at column 0 of the slice).
#[allow(clippy::too_many_arguments)] // the lowering's geometry, kept flat for the hot loop
pub fn im2col(
    x: &[f32],
    c: usize,
    kh: usize,
    kw: usize,
    ya: Axis,
    xa: Axis,
    col: &mut [f32],
    ld: usize,
) {
    let same = ya.stride == 1 && xa.stride == 1 && ya.output == ya.input && xa.output == xa.input;
    if same {
        im2col_same(x, c, kh, kw, ya, xa, col, ld)
    } else {
        im2col_general(x, c, kh, kw, ya, xa, col, ld)
    }
}

/// Zero a slice that is usually 0-2 elements long (the padding columns of one output row)
/// without a `memset` call per row, which cost more than the copy it pads.
#[inline(always)]
fn zero_short(d: &mut [f32]) {
    match d.len() {
        0 => {}
        1 => d[0] = 0.0,
        2 => {
            d[0] = 0.0;
            d[1] = 0.0;
        }
        _ => d.fill(0.0),
    }
}

/// [`im2col`] for stride 1 and "same" padding (output size = input size; the 3x3 / pad 1
/// convolutions that dominate the ResNets): each column row is the input plane shifted by
/// `(ki - pad) * W + (kj - pad)`, so its valid part is ONE contiguous copy; the wrapped-around
/// border elements are then zeroed per output row. Bit-identical to [`im2col_general`] (a copy).
#[allow(clippy::too_many_arguments)]
fn im2col_same(
    x: &[f32],
    c: usize,
    kh: usize,
    kw: usize,
    ya: Axis,
    xa: Axis,
    col: &mut [f32],
    ld: usize,
) {
    let (h, w) = (ya.input, xa.input);
    let hw = h * w;
    for ci in 0..c {
        let plane = &x[ci * hw..(ci + 1) * hw];
        for ki in 0..kh {
            let offy = ki * ya.dilation;
            let (oh_lo, oh_hi) = ya.valid(offy);
            for kj in 0..kw {
                let k = (ci * kh + ki) * kw + kj;
                let row = &mut col[k * ld..k * ld + hw];
                let offx = kj * xa.dilation;
                let (ow_lo, ow_hi) = xa.valid(offx);
                if oh_lo >= oh_hi || ow_lo >= ow_hi {
                    row.fill(0.0);
                    continue;
                }
                row[..oh_lo * w].fill(0.0);
                row[oh_hi * w..].fill(0.0);
                // Output position p = oh * w + ow reads input p + (offy - pad_y) * W + offx - pad_x.
                let (start, end) = (oh_lo * w + ow_lo, (oh_hi - 1) * w + ow_hi);
                let src_start = (oh_lo + offy - ya.pad) * w + ow_lo + offx - xa.pad;
                row[start..end].copy_from_slice(&plane[src_start..src_start + (end - start)]);
                for oh in oh_lo..oh_hi {
                    zero_short(&mut row[oh * w..oh * w + ow_lo]);
                    zero_short(&mut row[oh * w + ow_hi..(oh + 1) * w]);
                }
            }
        }
    }
}

/// [`im2col`] for any geometry: one copy per output row.
#[allow(clippy::too_many_arguments)]
fn im2col_general(
    x: &[f32],
    c: usize,
    kh: usize,
    kw: usize,
    ya: Axis,
    xa: Axis,
    col: &mut [f32],
    ld: usize,
) {
    let (h, w) = (ya.input, xa.input);
    let (oh_len, ow_len) = (ya.output, xa.output);
    for ci in 0..c {
        let plane = &x[ci * h * w..(ci + 1) * h * w];
        for ki in 0..kh {
            let (oh_lo, oh_hi) = ya.valid(ki * ya.dilation);
            for kj in 0..kw {
                let k = (ci * kh + ki) * kw + kj;
                let row = &mut col[k * ld..k * ld + oh_len * ow_len];
                let offj = kj * xa.dilation;
                let (ow_lo, ow_hi) = xa.valid(offj);
                row[..oh_lo * ow_len].fill(0.0);
                row[oh_hi * ow_len..].fill(0.0);
                for oh in oh_lo..oh_hi {
                    let ih = oh * ya.stride + ki * ya.dilation - ya.pad;
                    let src = &plane[ih * w..(ih + 1) * w];
                    let dst = &mut row[oh * ow_len..(oh + 1) * ow_len];
                    dst[..ow_lo].fill(0.0);
                    dst[ow_hi..].fill(0.0);
                    if ow_lo < ow_hi {
                        let base = ow_lo * xa.stride + offj - xa.pad;
                        if xa.stride == 1 {
                            dst[ow_lo..ow_hi].copy_from_slice(&src[base..base + (ow_hi - ow_lo)]);
                        } else {
                            for (i, d) in dst[ow_lo..ow_hi].iter_mut().enumerate() {
                                *d = src[base + i * xa.stride];
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Accumulate `col` (layout as in [`im2col`]) back into one image's channel group `dx`
/// (`[c, H, W]`, added to, not overwritten).
#[allow(clippy::too_many_arguments)] // the lowering's geometry, kept flat for the hot loop
pub fn col2im(
    col: &[f32],
    c: usize,
    kh: usize,
    kw: usize,
    ya: Axis,
    xa: Axis,
    dx: &mut [f32],
    ld: usize,
) {
    let (h, w) = (ya.input, xa.input);
    let ow_len = xa.output;
    for ci in 0..c {
        let plane = &mut dx[ci * h * w..(ci + 1) * h * w];
        for ki in 0..kh {
            let (oh_lo, oh_hi) = ya.valid(ki * ya.dilation);
            for kj in 0..kw {
                let k = (ci * kh + ki) * kw + kj;
                let row = &col[k * ld..];
                let offj = kj * xa.dilation;
                let (ow_lo, ow_hi) = xa.valid(offj);
                if ow_lo >= ow_hi {
                    continue;
                }
                for oh in oh_lo..oh_hi {
                    let ih = oh * ya.stride + ki * ya.dilation - ya.pad;
                    let dst = &mut plane[ih * w..(ih + 1) * w];
                    let src = &row[oh * ow_len + ow_lo..oh * ow_len + ow_hi];
                    let base = ow_lo * xa.stride + offj - xa.pad;
                    if xa.stride == 1 {
                        for (d, s) in dst[base..base + src.len()].iter_mut().zip(src) {
                            *d += s;
                        }
                    } else {
                        for (i, s) in src.iter().enumerate() {
                            dst[base + i * xa.stride] += s;
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The contiguous-copy path equals the row-by-row path bit for bit on every "same"
    /// geometry it takes (kernel 1/3/5/7, padding and dilation to match, odd sizes, a column
    /// matrix wider than one image).
    #[test]
    fn same_padding_path_matches_the_general_path() {
        for (k, dil, h, w) in [
            (3, 1, 8, 8),
            (3, 1, 5, 7),
            (3, 2, 9, 6),
            (5, 1, 7, 5),
            (7, 1, 9, 11),
            (1, 1, 4, 3),
            (3, 1, 1, 1),
            (3, 1, 2, 9),
        ] {
            let pad = (k - 1) * dil / 2;
            let axis = |n| Axis {
                input: n,
                output: n,
                stride: 1,
                pad,
                dilation: dil,
            };
            let (ya, xa) = (axis(h), axis(w));
            let c = 3;
            let x: Vec<f32> = (0..c * h * w).map(|i| i as f32 * 0.5 - 7.0).collect();
            let ld = h * w + 5;
            let rows = c * k * k;
            let mut fast = vec![f32::NAN; rows * ld];
            let mut slow = vec![f32::NAN; rows * ld];
            im2col_same(&x, c, k, k, ya, xa, &mut fast, ld);
            im2col_general(&x, c, k, k, ya, xa, &mut slow, ld);
            for r in 0..rows {
                for p in 0..h * w {
                    let (a, b) = (fast[r * ld + p], slow[r * ld + p]);
                    assert_eq!(
                        a.to_bits(),
                        b.to_bits(),
                        "k{k} d{dil} {h}x{w}: row {r}, col {p}"
                    );
                }
                // Columns past this image belong to the next one: untouched.
                assert!(fast[r * ld + h * w..(r + 1) * ld]
                    .iter()
                    .all(|v| v.is_nan()));
            }
        }
    }
}
