//! ReLU and ReLU6 with one-pass backward kernels (Candle's built-in ReLU backward builds a mask
//! tensor, converts and multiplies: three passes and allocations).

use candle_core::{CpuStorage, CustomOp1, Layout, Result, Shape, Tensor};

use super::profile::{timed, Kernel};
use super::util::{f32_slice, new_filled, with_f32};

const PAR_MIN: usize = 1 << 15;

fn map(src: &[f32], f: impl Fn(f32) -> f32 + Sync) -> Vec<f32> {
    new_filled(src.len(), PAR_MIN, true, |ci, o| {
        let s = &src[ci * PAR_MIN..ci * PAR_MIN + o.len()];
        for (o, &v) in o.iter_mut().zip(s) {
            *o = f(v);
        }
    })
}

/// `clamp(x, 0, cap)`; gradient passes where `0 < x < cap` (torch's `threshold_backward` /
/// `hardtanh_backward`, which use the output for ReLU and the input for ReLU6).
#[derive(Debug, Clone, Copy)]
struct ClampOp {
    cap: f32,
}

impl CustomOp1 for ClampOp {
    fn name(&self) -> &'static str {
        "adamp-relu"
    }

    fn cpu_fwd(&self, s: &CpuStorage, l: &Layout) -> Result<(CpuStorage, Shape)> {
        timed(Kernel::Activation, || {
            let x = f32_slice(s, l, "relu")?;
            let cap = self.cap;
            Ok((
                CpuStorage::F32(map(x, |v| v.max(0.0).min(cap))),
                l.shape().clone(),
            ))
        })
    }

    fn bwd(&self, x: &Tensor, y: &Tensor, dy: &Tensor) -> Result<Option<Tensor>> {
        timed(Kernel::Activation, || {
            let cap = self.cap;
            let dx = with_f32(x, "relu backward", |x| {
                with_f32(y, "relu backward", |y| {
                    with_f32(dy, "relu backward", |dy| {
                        new_filled(dy.len(), PAR_MIN, true, |ci, o| {
                            let r = ci * PAR_MIN..ci * PAR_MIN + o.len();
                            // ReLU: gradient where the output is positive; ReLU6: where 0 < x < 6.
                            // Branch-free bit masks so the loop vectorises.
                            let mask = |pass: bool| u32::from(pass).wrapping_neg();
                            if cap.is_finite() {
                                for ((o, &xv), &d) in o.iter_mut().zip(&x[r.clone()]).zip(&dy[r]) {
                                    *o =
                                        f32::from_bits(d.to_bits() & mask((xv > 0.0) & (xv < cap)));
                                }
                            } else {
                                for ((o, &yv), &d) in o.iter_mut().zip(&y[r.clone()]).zip(&dy[r]) {
                                    *o = f32::from_bits(d.to_bits() & mask(yv > 0.0));
                                }
                            }
                        })
                    })
                })
            })???;
            Ok(Some(Tensor::from_vec(dx, x.shape(), x.device())?))
        })
    }
}

/// `max(x, 0)` on an f32 CPU tensor, with backward.
pub fn relu(x: &Tensor) -> Result<Tensor> {
    x.contiguous()?.apply_op1(ClampOp { cap: f32::INFINITY })
}

/// `min(max(x, 0), 6)` on an f32 CPU tensor, with backward.
pub fn relu6(x: &Tensor) -> Result<Tensor> {
    x.contiguous()?.apply_op1(ClampOp { cap: 6.0 })
}
