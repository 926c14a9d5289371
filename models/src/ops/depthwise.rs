//! Direct depthwise convolution (`groups == in_channels == out_channels`, MobileNetV2's 3x3
//! layers): one small stencil per channel plane instead of `C` separate GEMMs.

use rayon::prelude::*;

use super::conv2d::Conv2dGeometry;
use super::im2col::Axis;

fn axes(geo: &Conv2dGeometry) -> (Axis, Axis) {
    (
        Axis {
            input: geo.h,
            output: geo.oh,
            stride: geo.stride,
            pad: geo.padding,
            dilation: geo.dilation,
        },
        Axis {
            input: geo.w,
            output: geo.ow,
            stride: geo.stride,
            pad: geo.padding,
            dilation: geo.dilation,
        },
    )
}

/// `y[n, c] = x[n, c] (*) w[c]` for every plane; planes in parallel.
pub fn forward(geo: &Conv2dGeometry, x: &[f32], wt: &[f32], y: &mut [f32]) {
    let (ya, xa) = axes(geo);
    let (hw, p, kk) = (geo.h * geo.w, geo.oh * geo.ow, geo.kh * geo.kw);
    y.par_chunks_mut(p).enumerate().for_each(|(plane, out)| {
        let c = plane % geo.c_in;
        let src = &x[plane * hw..(plane + 1) * hw];
        let w = &wt[c * kk..(c + 1) * kk];
        out.fill(0.0);
        for ki in 0..geo.kh {
            let (oh_lo, oh_hi) = ya.valid(ki * ya.dilation);
            for kj in 0..geo.kw {
                let wv = w[ki * geo.kw + kj];
                let offj = kj * xa.dilation;
                let (ow_lo, ow_hi) = xa.valid(offj);
                if ow_lo >= ow_hi {
                    continue;
                }
                for oh in oh_lo..oh_hi {
                    let ih = oh * ya.stride + ki * ya.dilation - ya.pad;
                    let row = &src[ih * geo.w..(ih + 1) * geo.w];
                    let dst = &mut out[oh * geo.ow + ow_lo..oh * geo.ow + ow_hi];
                    let base = ow_lo * xa.stride + offj - xa.pad;
                    if xa.stride == 1 {
                        for (d, s) in dst.iter_mut().zip(&row[base..base + (ow_hi - ow_lo)]) {
                            *d += wv * s;
                        }
                    } else {
                        for (i, d) in dst.iter_mut().enumerate() {
                            *d += wv * row[base + i * xa.stride];
                        }
                    }
                }
            }
        }
    });
}

/// `dx[n, c] = dy[n, c] (*)^T w[c]`; planes in parallel (each writes only its own plane).
pub fn backward_input(geo: &Conv2dGeometry, dy: &[f32], wt: &[f32], dx: &mut [f32]) {
    let (ya, xa) = axes(geo);
    let (hw, p, kk) = (geo.h * geo.w, geo.oh * geo.ow, geo.kh * geo.kw);
    dx.par_chunks_mut(hw)
        .enumerate()
        .for_each(|(plane, dst_plane)| {
            let c = plane % geo.c_in;
            let g = &dy[plane * p..(plane + 1) * p];
            let w = &wt[c * kk..(c + 1) * kk];
            dst_plane.fill(0.0);
            for ki in 0..geo.kh {
                let (oh_lo, oh_hi) = ya.valid(ki * ya.dilation);
                for kj in 0..geo.kw {
                    let wv = w[ki * geo.kw + kj];
                    let offj = kj * xa.dilation;
                    let (ow_lo, ow_hi) = xa.valid(offj);
                    if ow_lo >= ow_hi {
                        continue;
                    }
                    for oh in oh_lo..oh_hi {
                        let ih = oh * ya.stride + ki * ya.dilation - ya.pad;
                        let row = &mut dst_plane[ih * geo.w..(ih + 1) * geo.w];
                        let src = &g[oh * geo.ow + ow_lo..oh * geo.ow + ow_hi];
                        let base = ow_lo * xa.stride + offj - xa.pad;
                        if xa.stride == 1 {
                            for (d, s) in row[base..base + src.len()].iter_mut().zip(src) {
                                *d += wv * s;
                            }
                        } else {
                            for (i, s) in src.iter().enumerate() {
                                row[base + i * xa.stride] += wv * s;
                            }
                        }
                    }
                }
            }
        });
}

/// `dw[c, ki, kj] = sum_n sum_{oh, ow} dy[n, c, oh, ow] x[n, c, ih, iw]`; channels in parallel,
/// images summed in order (deterministic).
pub fn backward_weight(geo: &Conv2dGeometry, x: &[f32], dy: &[f32], dw: &mut [f32]) {
    let (ya, xa) = axes(geo);
    let (hw, p, kk) = (geo.h * geo.w, geo.oh * geo.ow, geo.kh * geo.kw);
    dw.par_chunks_mut(kk).enumerate().for_each(|(c, wc)| {
        wc.fill(0.0);
        for ki in 0..geo.kh {
            let (oh_lo, oh_hi) = ya.valid(ki * ya.dilation);
            for kj in 0..geo.kw {
                let offj = kj * xa.dilation;
                let (ow_lo, ow_hi) = xa.valid(offj);
                if ow_lo >= ow_hi {
                    continue;
                }
                let base = ow_lo * xa.stride + offj - xa.pad;
                let mut acc = 0.0f32;
                for n in 0..geo.n {
                    let plane = n * geo.c_in + c;
                    let src = &x[plane * hw..(plane + 1) * hw];
                    let g = &dy[plane * p..(plane + 1) * p];
                    for oh in oh_lo..oh_hi {
                        let ih = oh * ya.stride + ki * ya.dilation - ya.pad;
                        let row = &src[ih * geo.w..(ih + 1) * geo.w];
                        let gr = &g[oh * geo.ow + ow_lo..oh * geo.ow + ow_hi];
                        if xa.stride == 1 {
                            acc += gr
                                .iter()
                                .zip(&row[base..base + gr.len()])
                                .map(|(a, b)| a * b)
                                .sum::<f32>();
                        } else {
                            acc += gr
                                .iter()
                                .enumerate()
                                .map(|(i, a)| a * row[base + i * xa.stride])
                                .sum::<f32>();
                        }
                    }
                }
                wc[ki * geo.kw + kj] = acc;
            }
        }
    });
}
