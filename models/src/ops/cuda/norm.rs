//! Training-mode BatchNorm(+activation) and residual `relu(a + b)` on the kernels of
//! `kernels.cu`, as Candle custom ops.
//!
//! BatchNorm: a statistics op writes the per-channel "params" `[5, C]` (mean, biased variance,
//! `invstd`, `scale = gamma * invstd`, `shift = beta - mean * scale`), then the normalisation op
//! `(x, gamma, beta) -> act(x * scale + shift)` holds them for its backward pass: a reduction op
//! gives `(dgamma, dbeta)` and an elementwise op `dx`, both recomputing the activation's gate from
//! `x` exactly as the forward did (the CPU kernel's scheme, `ops/batch_norm.rs`).

use super::cuda_only;
use candle_core::cuda_backend::cudarc::driver::{CudaSlice, LaunchConfig};
use candle_core::{
    bail, CpuStorage, CudaStorage, CustomOp2, CustomOp3, Layout, Result, Shape, Tensor,
};

use super::ptx::{elementwise, launch, view, with_view, BLOCK};
use crate::ops::FusedActivation;

fn mode(act: FusedActivation) -> i32 {
    match act {
        FusedActivation::Identity => 0,
        FusedActivation::Relu => 1,
        FusedActivation::Relu6 => 2,
    }
}

/// `(n, c, hw)` of an `[N, C, H, W]` or `[N, C]` shape.
fn dims(x: &[usize]) -> Result<(usize, usize, usize)> {
    match *x {
        [n, c, h, w] => Ok((n, c, h * w)),
        [n, c] => Ok((n, c, 1)),
        _ => bail!("batch_norm: expected a [N, C, H, W] or [N, C] input, got {x:?}"),
    }
}

/// A size as the kernels' 32-bit index (at most `i32::MAX`, so grid-stride steps cannot wrap).
fn idx(v: usize, what: &str) -> Result<u32> {
    match i32::try_from(v) {
        Ok(v) => Ok(v as u32),
        Err(_) => bail!("CUDA kernels: {what} {v} exceeds 2^31 - 1 elements"),
    }
}

/// Blocks per channel for the reductions: about 8192 values each, at most 128.
fn splits(n: usize, hw: usize) -> usize {
    (n * hw).div_ceil(8192).clamp(1, 128)
}

/// A launch of one block per (channel, split).
fn per_channel(c: usize, splits: usize) -> LaunchConfig {
    LaunchConfig {
        grid_dim: (c as u32, splits as u32, 1),
        block_dim: (BLOCK, 1, 1),
        shared_mem_bytes: 0,
    }
}

/// One thread per channel.
fn channel_threads(c: usize) -> LaunchConfig {
    LaunchConfig {
        grid_dim: (c.div_ceil(BLOCK as usize) as u32, 1, 1),
        block_dim: (BLOCK, 1, 1),
        shared_mem_bytes: 0,
    }
}

/// `(x, gamma, beta) -> params [5, C]`.
#[derive(Debug, Clone, Copy)]
struct Stats {
    eps: f64,
}

impl CustomOp3 for Stats {
    fn name(&self) -> &'static str {
        "adamp-cuda-bn-stats"
    }

    fn cpu_fwd(
        &self,
        _: &CpuStorage,
        _: &Layout,
        _: &CpuStorage,
        _: &Layout,
        _: &CpuStorage,
        _: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        cuda_only(self.name())
    }

    fn cuda_fwd(
        &self,
        xs: &CudaStorage,
        xl: &Layout,
        gs: &CudaStorage,
        gl: &Layout,
        bs: &CudaStorage,
        bl: &Layout,
    ) -> Result<(CudaStorage, Shape)> {
        let dev = &xs.device;
        let (n, c, hw) = dims(xl.dims())?;
        let x = view(xs, xl, self.name())?;
        let (gamma, beta) = (view(gs, gl, self.name())?, view(bs, bl, self.name())?);
        if gamma.len() != c || beta.len() != c {
            bail!(
                "batch_norm: {c} channels but gain/bias of {}/{}",
                gamma.len(),
                beta.len()
            )
        }
        let s = splits(n, hw);
        // SAFETY: every element is written by bn_stats_partial.
        let partial: CudaSlice<f64> = unsafe { dev.alloc(c * s * 3)? };
        // SAFETY: every element is written by bn_stats_final.
        let params = unsafe { dev.alloc::<f32>(5 * c)? };
        let (ni, ci, hwi, si) = (
            idx(n, "batch")?,
            idx(c, "channels")?,
            idx(hw, "plane size")?,
            idx(s, "splits")?,
        );
        launch!(
            dev,
            "bn_stats_partial",
            per_channel(c, s),
            &x,
            &partial,
            &ni,
            &ci,
            &hwi,
            &si
        );
        let eps = self.eps as f32;
        launch!(
            dev,
            "bn_stats_final",
            channel_threads(c),
            &partial,
            &gamma,
            &beta,
            &params,
            &ci,
            &si,
            &eps
        );
        Ok((
            CudaStorage::wrap_cuda_slice(params, dev.clone()),
            Shape::from((5, c)),
        ))
    }
}

/// `(x, gamma, beta) -> act(x * scale + shift)` with the statistics op's `params`.
#[derive(Debug, Clone)]
struct Normalize {
    params: Tensor,
    act: FusedActivation,
}

impl CustomOp3 for Normalize {
    fn name(&self) -> &'static str {
        "adamp-cuda-bn"
    }

    fn cpu_fwd(
        &self,
        _: &CpuStorage,
        _: &Layout,
        _: &CpuStorage,
        _: &Layout,
        _: &CpuStorage,
        _: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        cuda_only(self.name())
    }

    fn cuda_fwd(
        &self,
        xs: &CudaStorage,
        xl: &Layout,
        _: &CudaStorage,
        _: &Layout,
        _: &CudaStorage,
        _: &Layout,
    ) -> Result<(CudaStorage, Shape)> {
        let dev = &xs.device;
        let (_, c, hw) = dims(xl.dims())?;
        let x = view(xs, xl, self.name())?;
        let total = x.len();
        // SAFETY: every element is written by bn_apply.
        let y = unsafe { dev.alloc::<f32>(total)? };
        with_view(&self.params, self.name(), |params| {
            let (t, ci, hwi, m) = (
                idx(total, "tensor size")?,
                idx(c, "channels")?,
                idx(hw, "plane size")?,
                mode(self.act),
            );
            launch!(
                dev,
                "bn_apply",
                elementwise(total),
                &x,
                &params,
                &y,
                &t,
                &ci,
                &hwi,
                &m
            );
            Ok(())
        })?;
        Ok((
            CudaStorage::wrap_cuda_slice(y, dev.clone()),
            xl.shape().clone(),
        ))
    }

    fn bwd(
        &self,
        x: &Tensor,
        gamma: &Tensor,
        beta: &Tensor,
        _y: &Tensor,
        dy: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>, Option<Tensor>)> {
        let dy = dy.contiguous()?;
        let sums = x.apply_op2_no_bwd(
            &dy,
            &GradSums {
                params: self.params.clone(),
                act: self.act,
            },
        )?;
        let dx = match x.track_op() {
            true => Some(x.apply_op3_no_bwd(
                &dy,
                &sums,
                &InputGrad {
                    params: self.params.clone(),
                    act: self.act,
                },
            )?),
            false => None,
        };
        let dgamma = gamma.track_op().then(|| sums.get(0)).transpose()?;
        let dbeta = beta.track_op().then(|| sums.get(1)).transpose()?;
        Ok((dx, dgamma, dbeta))
    }
}

/// `(x, dy) -> [2, C]`: `dgamma = sum g * xhat`, `dbeta = sum g`, `g` = `dy` gated by the
/// activation.
#[derive(Debug, Clone)]
struct GradSums {
    params: Tensor,
    act: FusedActivation,
}

impl CustomOp2 for GradSums {
    fn name(&self) -> &'static str {
        "adamp-cuda-bn-backward-sums"
    }

    fn cpu_fwd(
        &self,
        _: &CpuStorage,
        _: &Layout,
        _: &CpuStorage,
        _: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        cuda_only(self.name())
    }

    fn cuda_fwd(
        &self,
        xs: &CudaStorage,
        xl: &Layout,
        ds: &CudaStorage,
        dl: &Layout,
    ) -> Result<(CudaStorage, Shape)> {
        let dev = &xs.device;
        let (n, c, hw) = dims(xl.dims())?;
        let (x, dy) = (view(xs, xl, self.name())?, view(ds, dl, self.name())?);
        if x.len() != dy.len() {
            bail!(
                "batch_norm backward: gradient of {} values for {}",
                dy.len(),
                x.len()
            )
        }
        let s = splits(n, hw);
        // SAFETY: every element is written by bn_bwd_partial.
        let partial: CudaSlice<f64> = unsafe { dev.alloc(c * s * 2)? };
        // SAFETY: every element is written by bn_bwd_final.
        let sums = unsafe { dev.alloc::<f32>(2 * c)? };
        let (ni, ci, hwi, si, m) = (
            idx(n, "batch")?,
            idx(c, "channels")?,
            idx(hw, "plane size")?,
            idx(s, "splits")?,
            mode(self.act),
        );
        with_view(&self.params, self.name(), |params| {
            launch!(
                dev,
                "bn_bwd_partial",
                per_channel(c, s),
                &x,
                &dy,
                &params,
                &partial,
                &ni,
                &ci,
                &hwi,
                &si,
                &m
            );
            Ok(())
        })?;
        launch!(
            dev,
            "bn_bwd_final",
            channel_threads(c),
            &partial,
            &sums,
            &ci,
            &si
        );
        Ok((
            CudaStorage::wrap_cuda_slice(sums, dev.clone()),
            Shape::from((2, c)),
        ))
    }
}

/// `(x, dy, sums) -> dx`.
#[derive(Debug, Clone)]
struct InputGrad {
    params: Tensor,
    act: FusedActivation,
}

impl CustomOp3 for InputGrad {
    fn name(&self) -> &'static str {
        "adamp-cuda-bn-backward-input"
    }

    fn cpu_fwd(
        &self,
        _: &CpuStorage,
        _: &Layout,
        _: &CpuStorage,
        _: &Layout,
        _: &CpuStorage,
        _: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        cuda_only(self.name())
    }

    fn cuda_fwd(
        &self,
        xs: &CudaStorage,
        xl: &Layout,
        ds: &CudaStorage,
        dl: &Layout,
        ss: &CudaStorage,
        sl: &Layout,
    ) -> Result<(CudaStorage, Shape)> {
        let dev = &xs.device;
        let (n, c, hw) = dims(xl.dims())?;
        let (x, dy) = (view(xs, xl, self.name())?, view(ds, dl, self.name())?);
        let sums = view(ss, sl, self.name())?;
        let total = x.len();
        // SAFETY: every element is written by bn_bwd_dx.
        let dx = unsafe { dev.alloc::<f32>(total)? };
        let (t, ci, hwi, inv_m, m) = (
            idx(total, "tensor size")?,
            idx(c, "channels")?,
            idx(hw, "plane size")?,
            (1.0 / (n * hw) as f64) as f32,
            mode(self.act),
        );
        with_view(&self.params, self.name(), |params| {
            launch!(
                dev,
                "bn_bwd_dx",
                elementwise(total),
                &x,
                &dy,
                &params,
                &sums,
                &dx,
                &t,
                &ci,
                &hwi,
                &inv_m,
                &m
            );
            Ok(())
        })?;
        Ok((
            CudaStorage::wrap_cuda_slice(dx, dev.clone()),
            xl.shape().clone(),
        ))
    }
}

/// See [`super::batch_norm_train`].
pub(super) fn batch_norm_train(
    x: &Tensor,
    weight: &Tensor,
    bias: &Tensor,
    eps: f64,
    act: FusedActivation,
) -> Result<(Tensor, Tensor, Tensor)> {
    let (_, c, _) = dims(x.dims())?;
    let x = x.contiguous()?;
    let (weight, bias) = (weight.contiguous()?, bias.contiguous()?);
    if weight.dims() != [c] || bias.dims() != [c] {
        bail!(
            "batch_norm: {c} channels but gain {:?} and bias {:?}",
            weight.dims(),
            bias.dims()
        )
    }
    let params = x.apply_op3_no_bwd(&weight, &bias, &Stats { eps })?;
    let y = x.apply_op3(
        &weight,
        &bias,
        Normalize {
            params: params.clone(),
            act,
        },
    )?;
    Ok((y, params.get(0)?, params.get(1)?))
}

/// `relu(a + b)`.
#[derive(Debug, Clone, Copy)]
struct AddRelu;

impl CustomOp2 for AddRelu {
    fn name(&self) -> &'static str {
        "adamp-cuda-add-relu"
    }

    fn cpu_fwd(
        &self,
        _: &CpuStorage,
        _: &Layout,
        _: &CpuStorage,
        _: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        cuda_only(self.name())
    }

    fn cuda_fwd(
        &self,
        s1: &CudaStorage,
        l1: &Layout,
        s2: &CudaStorage,
        l2: &Layout,
    ) -> Result<(CudaStorage, Shape)> {
        if l1.dims() != l2.dims() {
            bail!(
                "add_relu: shapes {:?} and {:?} differ",
                l1.dims(),
                l2.dims()
            )
        }
        let dev = &s1.device;
        let (a, b) = (view(s1, l1, self.name())?, view(s2, l2, self.name())?);
        let total = a.len();
        // SAFETY: every element is written by add_relu_fwd.
        let y = unsafe { dev.alloc::<f32>(total)? };
        let t = idx(total, "tensor size")?;
        launch!(dev, "add_relu_fwd", elementwise(total), &a, &b, &y, &t);
        Ok((
            CudaStorage::wrap_cuda_slice(y, dev.clone()),
            l1.shape().clone(),
        ))
    }

    fn bwd(
        &self,
        a: &Tensor,
        b: &Tensor,
        y: &Tensor,
        dy: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>)> {
        let g = y.apply_op2_no_bwd(&dy.contiguous()?, &ReluGrad)?;
        Ok((a.track_op().then(|| g.clone()), b.track_op().then_some(g)))
    }
}

/// `(y, dy) -> dy` where `y > 0`, else 0.
#[derive(Debug, Clone, Copy)]
struct ReluGrad;

impl CustomOp2 for ReluGrad {
    fn name(&self) -> &'static str {
        "adamp-cuda-relu-backward"
    }

    fn cpu_fwd(
        &self,
        _: &CpuStorage,
        _: &Layout,
        _: &CpuStorage,
        _: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        cuda_only(self.name())
    }

    fn cuda_fwd(
        &self,
        s1: &CudaStorage,
        l1: &Layout,
        s2: &CudaStorage,
        l2: &Layout,
    ) -> Result<(CudaStorage, Shape)> {
        let dev = &s1.device;
        let (y, dy) = (view(s1, l1, self.name())?, view(s2, l2, self.name())?);
        if y.len() != dy.len() {
            bail!(
                "add_relu backward: gradient of {} values for {}",
                dy.len(),
                y.len()
            )
        }
        let total = y.len();
        // SAFETY: every element is written by relu_bwd.
        let g = unsafe { dev.alloc::<f32>(total)? };
        let t = idx(total, "tensor size")?;
        launch!(dev, "relu_bwd", elementwise(total), &y, &dy, &g, &t);
        Ok((
            CudaStorage::wrap_cuda_slice(g, dev.clone()),
            l1.shape().clone(),
        ))
    }
}

/// See [`super::add_relu`].
pub(super) fn add_relu(a: &Tensor, b: &Tensor) -> Result<Tensor> {
    a.contiguous()?.apply_op2(&b.contiguous()?, AddRelu)
}
