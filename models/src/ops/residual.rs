//! `relu(a + b)` for residual connections, fused: one pass forward, one pass backward (Candle's
//! separate add and ReLU cost two passes, two allocations and two gradient accumulations each).

use candle_core::{bail, CpuStorage, CustomOp2, Layout, Result, Shape, Tensor};

use super::profile::{timed, Kernel};
use super::util::{f32_slice, new_filled, with_f32};

const PAR_MIN: usize = 1 << 15;

#[derive(Debug, Clone, Copy)]
struct AddReluOp;

impl CustomOp2 for AddReluOp {
    fn name(&self) -> &'static str {
        "adamp-add-relu"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        timed(Kernel::Activation, || {
            if l1.dims() != l2.dims() {
                bail!(
                    "add_relu: shapes {:?} and {:?} differ",
                    l1.dims(),
                    l2.dims()
                )
            }
            let a = f32_slice(s1, l1, "add_relu")?;
            let b = f32_slice(s2, l2, "add_relu")?;
            let y = new_filled(a.len(), PAR_MIN, true, |ci, o| {
                let r = ci * PAR_MIN..ci * PAR_MIN + o.len();
                for ((o, &a), &b) in o.iter_mut().zip(&a[r.clone()]).zip(&b[r]) {
                    *o = (a + b).max(0.0);
                }
            });
            Ok((CpuStorage::F32(y), l1.shape().clone()))
        })
    }

    fn bwd(
        &self,
        a: &Tensor,
        b: &Tensor,
        y: &Tensor,
        dy: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>)> {
        timed(Kernel::Activation, || {
            let g = with_f32(y, "add_relu backward", |y| {
                with_f32(dy, "add_relu backward", |dy| {
                    new_filled(y.len(), PAR_MIN, true, |ci, o| {
                        let r = ci * PAR_MIN..ci * PAR_MIN + o.len();
                        for ((o, &y), &d) in o.iter_mut().zip(&y[r.clone()]).zip(&dy[r]) {
                            *o = f32::from_bits(d.to_bits() & u32::from(y > 0.0).wrapping_neg());
                        }
                    })
                })
            })??;
            let g = Tensor::from_vec(g, y.shape(), y.device())?;
            let ga = a.track_op().then(|| g.clone());
            let gb = b.track_op().then_some(g);
            Ok((ga, gb))
        })
    }
}

/// `max(a + b, 0)` for same-shaped contiguous f32 CPU tensors, with backward (gradient where the
/// output is positive, as torch's `threshold_backward`).
pub fn add_relu(a: &Tensor, b: &Tensor) -> Result<Tensor> {
    a.contiguous()?.apply_op2(&b.contiguous()?, AddReluOp)
}
