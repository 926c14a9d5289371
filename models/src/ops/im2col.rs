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
