//! Training-mode BatchNorm2d (optionally fused with the following ReLU) on the CPU: batch
//! statistics, normalisation and affine transform in one op, and a fused backward pass for the
//! input, gain and bias. Matches `torch.nn.functional.batch_norm(training=True)`: the output is
//! normalised with the *biased* batch variance; the caller updates the running statistics from
//! [`BatchStats`] (torch uses the unbiased variance there).

use std::sync::{Arc, Mutex};

use candle_core::{bail, CpuStorage, CustomOp3, Layout, Result, Shape, Tensor};
use rayon::prelude::*;

use super::profile::{timed, Kernel};
use super::util::{f32_slice, new_filled, with_f32};

/// Per-channel statistics of one training-mode forward pass.
#[derive(Debug, Clone, Default)]
pub struct BatchStats {
    /// Batch mean per channel.
    pub mean: Vec<f32>,
    /// Biased batch variance per channel (`sum (x - mean)^2 / M`).
    pub var: Vec<f32>,
    /// Elements per channel `M = N * H * W`.
    pub count: usize,
}

/// The activation fused after the normalisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FusedActivation {
    /// None.
    Identity,
    /// `max(y, 0)`; gradient where the output is positive (torch `threshold_backward`).
    Relu,
    /// `min(max(y, 0), 6)`; gradient where `0 < y < 6` (torch `hardtanh_backward`).
    Relu6,
}

impl FusedActivation {
    /// `(clamp, lo, hi)`: whether to clamp, and the open interval where the gradient passes.
    fn bounds(self) -> (bool, f32, f32) {
        match self {
            FusedActivation::Identity => (false, f32::NEG_INFINITY, f32::INFINITY),
            FusedActivation::Relu => (true, 0.0, f32::INFINITY),
            FusedActivation::Relu6 => (true, 0.0, 6.0),
        }
    }
}

#[derive(Debug)]
struct BatchNormOp {
    eps: f64,
    act: FusedActivation,
    stats: Arc<Mutex<BatchStats>>,
    /// The forward pass's per-channel f32 `(scale, shift)`, `y = act(x * scale + shift)`. The
    /// backward pass recomputes the activation's gate from `x` with them (bit-identical to the
    /// forward's `y`), so it never reads `y`.
    affine: Mutex<Vec<(f32, f32)>>,
}

fn dims(x: &[usize]) -> Result<(usize, usize, usize)> {
    match *x {
        [n, c, h, w] => Ok((n, c, h * w)),
        [n, c] => Ok((n, c, 1)),
        _ => bail!("batch_norm: expected a [N, C, H, W] or [N, C] input, got {x:?}"),
    }
}

/// Sum of `f(v)` over a slice with eight f32 accumulator lanes (vectorises).
#[inline]
fn lane_sum(v: &[f32], f: impl Fn(f32) -> f32) -> f32 {
    let mut acc = [0f32; 8];
    let n8 = v.len() / 8 * 8;
    for c in v[..n8].chunks_exact(8) {
        for l in 0..8 {
            acc[l] += f(c[l]);
        }
    }
    acc.iter().sum::<f32>() + v[n8..].iter().map(|&x| f(x)).sum::<f32>()
}

/// Mean and biased variance of channel `c` (per-plane f32 lane sums, added in f64; two passes,
/// the second around the mean, so a large mean costs no precision).
fn channel_stats(x: &[f32], n: usize, c_all: usize, hw: usize, c: usize) -> (f64, f64) {
    let m = (n * hw) as f64;
    let plane = |i: usize| &x[(i * c_all + c) * hw..][..hw];
    let mean = (0..n)
        .map(|i| f64::from(lane_sum(plane(i), |v| v)))
        .sum::<f64>()
        / m;
    let mf = mean as f32;
    let q = (0..n)
        .map(|i| f64::from(lane_sum(plane(i), |v| (v - mf) * (v - mf))))
        .sum::<f64>();
    // Correct for rounding `mean` to f32: sum (v - mf)^2 = q_true + m (mean - mf)^2.
    let d = mean - f64::from(mf);
    (mean, (q / m - d * d).max(0.0))
}

/// `d` where `lo < v < hi` (or always, without `clamp`), else 0 -- branch-free (a bit mask), so
/// the loops vectorise and random signs cost no mispredictions. `v = x * scale + shift` is the
/// forward's pre-activation value, computed with the same f32 operations, so the gate is exactly
/// the one the output `y = clamp(v, lo, hi)` gives (`lo < y < hi` iff `lo < v < hi`).
#[inline(always)]
fn gate(clamp: bool, lo: f32, hi: f32, v: f32, d: f32) -> f32 {
    let pass = !clamp | ((v > lo) & (v < hi));
    f32::from_bits(d.to_bits() & (u32::from(pass)).wrapping_neg())
}

/// `(sum g, sum g * (x - mu))` over one plane, `g = dy` masked by [`gate`] of the forward's
/// pre-activation `x * scale + shift` (eight accumulator lanes so the loop vectorises).
#[inline]
fn plane_sums(
    x: &[f32],
    dy: &[f32],
    (scale, shift): (f32, f32),
    (clamp, lo, hi): (bool, f32, f32),
    mu: f32,
) -> (f32, f32) {
    let (mut a, mut b) = ([0f32; 8], [0f32; 8]);
    let n8 = x.len() / 8 * 8;
    let chunks = x[..n8].chunks_exact(8).zip(dy[..n8].chunks_exact(8));
    for (xc, dc) in chunks {
        for l in 0..8 {
            let g = gate(clamp, lo, hi, xc[l] * scale + shift, dc[l]);
            a[l] += g;
            b[l] += g * (xc[l] - mu);
        }
    }
    let (mut sa, mut sb) = (a.iter().sum::<f32>(), b.iter().sum::<f32>());
    for j in n8..x.len() {
        let g = gate(clamp, lo, hi, x[j] * scale + shift, dy[j]);
        sa += g;
        sb += g * (x[j] - mu);
    }
    (sa, sb)
}

impl CustomOp3 for BatchNormOp {
    fn name(&self) -> &'static str {
        "adamp-batch-norm-train"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
        s3: &CpuStorage,
        l3: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        timed(Kernel::BatchNormForward, || {
            self.forward(s1, l1, s2, l2, s3, l3)
        })
    }

    fn bwd(
        &self,
        x: &Tensor,
        g: &Tensor,
        b: &Tensor,
        _y: &Tensor,
        dy: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>, Option<Tensor>)> {
        timed(Kernel::BatchNormBackward, || self.backward(x, g, b, dy))
    }
}

impl BatchNormOp {
    #[allow(clippy::too_many_arguments)]
    fn forward(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
        s3: &CpuStorage,
        l3: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let (n, c, hw) = dims(l1.dims())?;
        let x = f32_slice(s1, l1, "batch_norm")?;
        let g = f32_slice(s2, l2, "batch_norm")?;
        let b = f32_slice(s3, l3, "batch_norm")?;
        if g.len() != c || b.len() != c {
            bail!(
                "batch_norm: {c} channels but gain/bias have {}/{} elements",
                g.len(),
                b.len()
            )
        }
        let stats: Vec<(f64, f64)> = (0..c)
            .into_par_iter()
            .map(|ch| channel_stats(x, n, c, hw, ch))
            .collect();
        let scale_shift: Vec<(f32, f32)> = stats
            .iter()
            .enumerate()
            .map(|(ch, &(mean, var))| {
                let invstd = 1.0 / (var + self.eps).sqrt();
                let scale = f64::from(g[ch]) * invstd;
                (scale as f32, (f64::from(b[ch]) - mean * scale) as f32)
            })
            .collect();
        let (clamp, lo, hi) = self.act.bounds();
        let y = new_filled(x.len(), hw, true, |plane, out| {
            let (scale, shift) = scale_shift[plane % c];
            let src = &x[plane * hw..(plane + 1) * hw];
            if clamp {
                for (o, &v) in out.iter_mut().zip(src) {
                    *o = (v * scale + shift).max(lo).min(hi);
                }
            } else {
                for (o, &v) in out.iter_mut().zip(src) {
                    *o = v * scale + shift;
                }
            }
        });
        *self.affine.lock().unwrap_or_else(|e| e.into_inner()) = scale_shift;
        let mut st = self.stats.lock().unwrap_or_else(|e| e.into_inner());
        st.mean = stats.iter().map(|s| s.0 as f32).collect();
        st.var = stats.iter().map(|s| s.1 as f32).collect();
        st.count = n * hw;
        Ok((CpuStorage::F32(y), l1.shape().clone()))
    }

    fn backward(
        &self,
        x: &Tensor,
        g: &Tensor,
        b: &Tensor,
        dy: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>, Option<Tensor>)> {
        let (n, c, hw) = dims(x.dims())?;
        let (mean, var) = {
            let st = self.stats.lock().unwrap_or_else(|e| e.into_inner());
            (st.mean.clone(), st.var.clone())
        };
        let affine = self
            .affine
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        if mean.len() != c || affine.len() != c {
            bail!("batch_norm backward: statistics of the forward pass are missing")
        }
        let invstd: Vec<f64> = var
            .iter()
            .map(|&v| 1.0 / (f64::from(v) + self.eps).sqrt())
            .collect();
        let gain = g.to_vec1::<f32>()?;
        let m = (n * hw) as f64;
        let bounds = self.act.bounds();
        let (clamp, lo, hi) = bounds;
        let dev = x.device();
        let (dx, sums) = with_f32(x, "batch_norm backward", |x| {
            with_f32(dy, "batch_norm backward", |dy| {
                // Per channel: sum dy and sum dy * xhat.
                let sums: Vec<(f64, f64)> = (0..c)
                    .into_par_iter()
                    .map(|ch| {
                        let (muf, is) = (mean[ch], invstd[ch]);
                        let (mut s1, mut s2) = (0.0f64, 0.0f64);
                        for i in 0..n {
                            let r = (i * c + ch) * hw..(i * c + ch + 1) * hw;
                            let (a, b) = plane_sums(&x[r.clone()], &dy[r], affine[ch], bounds, muf);
                            s1 += f64::from(a);
                            s2 += f64::from(b);
                        }
                        // (sum dy, sum dy * xhat) with xhat = (x - mu) * invstd
                        (s1, s2 * is)
                    })
                    .collect();
                let dx = new_filled(x.len(), hw, true, |plane, out| {
                    let ch = plane % c;
                    let (s1, s2) = sums[ch];
                    let is = invstd[ch];
                    let k = f64::from(gain[ch]) * is;
                    // dx = k * (dy - s1/m - xhat * s2/m), xhat = (x - mu) * is
                    let a = (k * s2 / m * is) as f32;
                    let bconst = (k * (f64::from(mean[ch]) * is * s2 / m - s1 / m)) as f32;
                    let kf = k as f32;
                    let (scale, shift) = affine[ch];
                    let r = plane * hw..(plane + 1) * hw;
                    let it = out.iter_mut().zip(&x[r.clone()]).zip(&dy[r]);
                    for ((o, &xv), &dv) in it {
                        let g = gate(clamp, lo, hi, xv * scale + shift, dv);
                        *o = kf * g - a * xv + bconst;
                    }
                });
                (dx, sums)
            })
        })??;
        let dx = if x.track_op() {
            Some(Tensor::from_vec(dx, x.shape(), dev)?)
        } else {
            None
        };
        let dg = if g.track_op() {
            Some(Tensor::from_vec(
                sums.iter().map(|s| s.1 as f32).collect::<Vec<_>>(),
                c,
                dev,
            )?)
        } else {
            None
        };
        let db = if b.track_op() {
            Some(Tensor::from_vec(
                sums.iter().map(|s| s.0 as f32).collect::<Vec<_>>(),
                c,
                dev,
            )?)
        } else {
            None
        };
        Ok((dx, dg, db))
    }
}

/// Training-mode batch norm of a contiguous f32 CPU tensor `[N, C, H, W]` (or `[N, C]`) with
/// gain `g` and bias `b` (`[C]`), followed by the activation `act`. Returns the output and the
/// batch statistics for the running-average update.
pub fn batch_norm_train(
    x: &Tensor,
    g: &Tensor,
    b: &Tensor,
    eps: f64,
    act: FusedActivation,
) -> Result<(Tensor, BatchStats)> {
    let stats = Arc::new(Mutex::new(BatchStats::default()));
    let op = BatchNormOp {
        eps,
        act,
        stats: stats.clone(),
        affine: Mutex::new(Vec::new()),
    };
    let y = x
        .contiguous()?
        .apply_op3(&g.contiguous()?, &b.contiguous()?, op)?;
    let st = stats.lock().unwrap_or_else(|e| e.into_inner()).clone();
    Ok((y, st))
}
