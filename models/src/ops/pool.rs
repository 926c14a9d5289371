//! Global average pooling and padded max pooling on the CPU with backward passes.
//! `max_pool2d` matches `torch.nn.MaxPool2d(k, stride, padding)` (implicit `-inf` padding, the
//! first maximum in scan order receives the gradient).

use std::sync::{Arc, Mutex};

use candle_core::{bail, CpuStorage, CustomOp1, Layout, Result, Shape, Tensor};
use rayon::prelude::*;

use super::conv2d::conv_out_len;
use super::profile::{timed, Kernel};
use super::util::{f32_slice, with_f32};

#[derive(Debug, Clone, Copy)]
struct GapOp;

impl CustomOp1 for GapOp {
    fn name(&self) -> &'static str {
        "adamp-global-avg-pool"
    }

    fn cpu_fwd(&self, s: &CpuStorage, l: &Layout) -> Result<(CpuStorage, Shape)> {
        timed(Kernel::Pooling, || {
            let &[n, c, h, w] = l.dims() else {
                bail!("global_avg_pool: expected [N, C, H, W], got {:?}", l.dims())
            };
            let x = f32_slice(s, l, "global_avg_pool")?;
            let hw = h * w;
            let out: Vec<f32> = x
                .par_chunks(hw.max(1))
                .map(|p| (p.iter().map(|&v| f64::from(v)).sum::<f64>() / hw as f64) as f32)
                .collect();
            Ok((CpuStorage::F32(out), Shape::from((n, c))))
        })
    }

    fn bwd(&self, x: &Tensor, _y: &Tensor, dy: &Tensor) -> Result<Option<Tensor>> {
        timed(Kernel::Pooling, || {
            let (_, _, h, w) = x.dims4()?;
            let hw = h * w;
            let dx = with_f32(dy, "global_avg_pool backward", |dy| {
                let mut dx = vec![0.0f32; dy.len() * hw];
                dx.par_chunks_mut(hw)
                    .zip(dy.par_iter())
                    .for_each(|(o, &g)| o.fill(g / hw as f32));
                dx
            })?;
            Ok(Some(Tensor::from_vec(dx, x.shape(), x.device())?))
        })
    }
}

/// Mean over the spatial axes: `[N, C, H, W] -> [N, C]`.
pub fn global_avg_pool(x: &Tensor) -> Result<Tensor> {
    x.contiguous()?.apply_op1(GapOp)
}

#[derive(Debug)]
struct MaxPoolOp {
    k: usize,
    stride: usize,
    pad: usize,
    argmax: Arc<Mutex<Vec<u32>>>,
}

impl CustomOp1 for MaxPoolOp {
    fn name(&self) -> &'static str {
        "adamp-max-pool2d"
    }

    fn cpu_fwd(&self, s: &CpuStorage, l: &Layout) -> Result<(CpuStorage, Shape)> {
        timed(Kernel::Pooling, || {
            let &[n, c, h, w] = l.dims() else {
                bail!("max_pool2d: expected [N, C, H, W], got {:?}", l.dims())
            };
            let (Some(oh), Some(ow)) = (
                conv_out_len(h, self.k, self.stride, self.pad, 1),
                conv_out_len(w, self.k, self.stride, self.pad, 1),
            ) else {
                bail!(
                    "max_pool2d: input {:?} smaller than the {}x{} window",
                    l.dims(),
                    self.k,
                    self.k
                )
            };
            if self.pad * 2 > self.k {
                bail!(
                    "max_pool2d: padding {} must be at most half the kernel {}",
                    self.pad,
                    self.k
                )
            }
            let x = f32_slice(s, l, "max_pool2d")?;
            let (hw, p) = (h * w, oh * ow);
            let mut y = vec![0.0f32; n * c * p];
            let mut arg = vec![0u32; n * c * p];
            y.par_chunks_mut(p)
                .zip(arg.par_chunks_mut(p))
                .enumerate()
                .for_each(|(plane, (yo, ao))| {
                    let src = &x[plane * hw..(plane + 1) * hw];
                    for i in 0..oh {
                        for j in 0..ow {
                            let (mut best, mut at) = (f32::NEG_INFINITY, usize::MAX);
                            for ki in 0..self.k {
                                let ih = (i * self.stride + ki) as isize - self.pad as isize;
                                if ih < 0 || ih >= h as isize {
                                    continue;
                                }
                                for kj in 0..self.k {
                                    let iw = (j * self.stride + kj) as isize - self.pad as isize;
                                    if iw < 0 || iw >= w as isize {
                                        continue;
                                    }
                                    let idx = ih as usize * w + iw as usize;
                                    let v = src[idx];
                                    if at == usize::MAX || v > best || v.is_nan() {
                                        best = v;
                                        at = idx;
                                    }
                                }
                            }
                            yo[i * ow + j] = best;
                            ao[i * ow + j] = at as u32;
                        }
                    }
                });
            *self.argmax.lock().unwrap_or_else(|e| e.into_inner()) = arg;
            Ok((CpuStorage::F32(y), Shape::from((n, c, oh, ow))))
        })
    }

    fn bwd(&self, x: &Tensor, y: &Tensor, dy: &Tensor) -> Result<Option<Tensor>> {
        timed(Kernel::Pooling, || {
            let (_, _, h, w) = x.dims4()?;
            let p = y.dims4()?.2 * y.dims4()?.3;
            let hw = h * w;
            let arg = self
                .argmax
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clone();
            if arg.len() != y.elem_count() {
                bail!("max_pool2d backward: indices of the forward pass are missing")
            }
            let dx = with_f32(dy, "max_pool2d backward", |dy| {
                let mut dx = vec![0.0f32; x.elem_count()];
                dx.par_chunks_mut(hw).enumerate().for_each(|(plane, o)| {
                    for q in plane * p..(plane + 1) * p {
                        o[arg[q] as usize] += dy[q];
                    }
                });
                dx
            })?;
            Ok(Some(Tensor::from_vec(dx, x.shape(), x.device())?))
        })
    }
}

/// `MaxPool2d(k, stride, padding)` on an f32 CPU tensor `[N, C, H, W]`, with backward.
pub fn max_pool2d(x: &Tensor, k: usize, stride: usize, pad: usize) -> Result<Tensor> {
    let op = MaxPoolOp {
        k,
        stride,
        pad,
        argmax: Arc::new(Mutex::new(Vec::new())),
    };
    x.contiguous()?.apply_op1(op)
}
