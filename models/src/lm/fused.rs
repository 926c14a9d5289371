//! Fused CPU kernels (with backward passes) for the two row-wise reductions that dominate a
//! Transformer-XL step: the softmax over attention keys and the log-softmax + pick of the
//! (adaptive) softmax criterion. On other devices or dtypes they fall back to the composed
//! [`crate::lm::softmax`] functions with the same values and gradients.

use candle_core::{bail, CpuStorage, CustomOp1, CustomOp2, DType, Layout, Shape, Tensor};
use rayon::prelude::*;

use crate::error::Result;
use crate::lm::softmax::{log_softmax_last, softmax_last as softmax_composed};
use crate::ops::util::{f32_slice, with_f32};

fn fused_ok(x: &Tensor) -> bool {
    x.device().is_cpu() && x.dtype() == DType::F32
}

/// Rows of at least this many elements are processed one task per row; smaller rows in chunks.
fn rows_per_task(cols: usize) -> usize {
    (4096 / cols.max(1)).max(1)
}

fn last_dim(l: &Layout) -> usize {
    l.dims().last().copied().unwrap_or(1).max(1)
}

/// Softmax of one row into `out` (`-inf` entries get 0).
fn softmax_row(x: &[f32], out: &mut [f32]) {
    let max = x.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let mut sum = 0f32;
    for (o, &v) in out.iter_mut().zip(x) {
        let e = (v - max).exp();
        *o = e;
        sum += e;
    }
    let inv = 1.0 / sum;
    out.iter_mut().for_each(|o| *o *= inv);
}

struct SoftmaxLast;

impl CustomOp1 for SoftmaxLast {
    fn name(&self) -> &'static str {
        "adamp-softmax-last"
    }

    fn cpu_fwd(&self, s: &CpuStorage, l: &Layout) -> candle_core::Result<(CpuStorage, Shape)> {
        let x = f32_slice(s, l, "softmax")?;
        let cols = last_dim(l);
        let mut out = vec![0f32; x.len()];
        let chunk = cols * rows_per_task(cols);
        out.par_chunks_mut(chunk)
            .zip(x.par_chunks(chunk))
            .for_each(|(o, x)| {
                for (o, x) in o.chunks_mut(cols).zip(x.chunks(cols)) {
                    softmax_row(x, o);
                }
            });
        Ok((CpuStorage::F32(out), l.shape().clone()))
    }

    fn bwd(&self, _x: &Tensor, y: &Tensor, dy: &Tensor) -> candle_core::Result<Option<Tensor>> {
        Ok(Some(
            y.apply_op2_no_bwd(&dy.contiguous()?, &SoftmaxLastGrad)?,
        ))
    }
}

/// `dx = y * (dy - sum(dy * y))` per row.
struct SoftmaxLastGrad;

impl CustomOp2 for SoftmaxLastGrad {
    fn name(&self) -> &'static str {
        "adamp-softmax-last-grad"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        let y = f32_slice(s1, l1, "softmax backward")?;
        let dy = f32_slice(s2, l2, "softmax backward")?;
        if y.len() != dy.len() {
            bail!("softmax backward: {} vs {} elements", y.len(), dy.len());
        }
        let cols = last_dim(l1);
        let chunk = cols * rows_per_task(cols);
        let mut dx = vec![0f32; y.len()];
        dx.par_chunks_mut(chunk)
            .zip(y.par_chunks(chunk).zip(dy.par_chunks(chunk)))
            .for_each(|(dx, (y, dy))| {
                for ((dx, y), dy) in dx.chunks_mut(cols).zip(y.chunks(cols)).zip(dy.chunks(cols)) {
                    let dot: f32 = y.iter().zip(dy).map(|(a, b)| a * b).sum();
                    for ((o, &yv), &g) in dx.iter_mut().zip(y).zip(dy) {
                        *o = yv * (g - dot);
                    }
                }
            });
        Ok((CpuStorage::F32(dx), l1.shape().clone()))
    }
}

/// `softmax(x, -1)`.
pub(crate) fn softmax_last(x: &Tensor) -> Result<Tensor> {
    if fused_ok(x) {
        Ok(x.contiguous()?.apply_op1(SoftmaxLast)?)
    } else {
        softmax_composed(x)
    }
}

/// Per-row negative log-likelihood `logsumexp(x[r]) - x[r, t_r]` of `[N, V]` logits.
struct RowNll {
    targets: Vec<u32>,
}

fn lse(x: &[f32]) -> f32 {
    let max = x.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let s: f32 = x.iter().map(|&v| (v - max).exp()).sum();
    max + s.ln()
}

impl CustomOp1 for RowNll {
    fn name(&self) -> &'static str {
        "adamp-row-nll"
    }

    fn cpu_fwd(&self, s: &CpuStorage, l: &Layout) -> candle_core::Result<(CpuStorage, Shape)> {
        let x = f32_slice(s, l, "nll")?;
        let cols = last_dim(l);
        let rows = x.len() / cols;
        if rows != self.targets.len() {
            bail!("nll: {rows} rows but {} targets", self.targets.len());
        }
        let out: Vec<f32> = x
            .par_chunks(cols)
            .zip(self.targets.par_iter())
            .map(|(row, &t)| lse(row) - row[t as usize])
            .collect();
        Ok((CpuStorage::F32(out), Shape::from(rows)))
    }

    fn bwd(&self, x: &Tensor, _y: &Tensor, dy: &Tensor) -> candle_core::Result<Option<Tensor>> {
        let g = with_f32(dy, "nll backward", |g| g.to_vec())?;
        let grad = RowNllGrad {
            targets: self.targets.clone(),
            dy: g,
        };
        Ok(Some(x.apply_op1_no_bwd(&grad)?))
    }
}

/// `dx[r] = dy[r] * (softmax(x[r]) - onehot(t_r))`.
struct RowNllGrad {
    targets: Vec<u32>,
    dy: Vec<f32>,
}

impl CustomOp1 for RowNllGrad {
    fn name(&self) -> &'static str {
        "adamp-row-nll-grad"
    }

    fn cpu_fwd(&self, s: &CpuStorage, l: &Layout) -> candle_core::Result<(CpuStorage, Shape)> {
        let x = f32_slice(s, l, "nll backward")?;
        let cols = last_dim(l);
        let mut dx = vec![0f32; x.len()];
        dx.par_chunks_mut(cols)
            .zip(x.par_chunks(cols))
            .zip(self.targets.par_iter().zip(self.dy.par_iter()))
            .for_each(|((o, row), (&t, &g))| {
                softmax_row(row, o);
                o[t as usize] -= 1.0;
                o.iter_mut().for_each(|v| *v *= g);
            });
        Ok((CpuStorage::F32(dx), l.shape().clone()))
    }
}

/// `-log_softmax(logits)[r, targets[r]]` for `[N, V]` logits: `[N]`.
pub(crate) fn row_nll(logits: &Tensor, targets: &[u32]) -> Result<Tensor> {
    if fused_ok(logits) {
        let op = RowNll {
            targets: targets.to_vec(),
        };
        return Ok(logits.contiguous()?.apply_op1(op)?);
    }
    let n = targets.len();
    let idx = Tensor::from_slice(targets, (n, 1), logits.device())?;
    Ok(log_softmax_last(logits)?
        .gather(&idx, 1)?
        .squeeze(1)?
        .neg()?)
}

/// Column sums of a row-major `[rows, cols]` slice (optionally of `a * b` elementwise), one
/// cache-friendly pass per block of rows, blocks in parallel.
fn column_sums(a: &[f32], b: Option<&[f32]>, cols: usize) -> Vec<f32> {
    let block = cols * (16384 / cols.max(1)).max(1);
    let partial = |(i, chunk): (usize, &[f32])| {
        let mut acc = vec![0f32; cols];
        match b {
            None => {
                for row in chunk.chunks(cols) {
                    acc.iter_mut().zip(row).for_each(|(s, &v)| *s += v);
                }
            }
            Some(b) => {
                let b = &b[i * block..i * block + chunk.len()];
                for (row, brow) in chunk.chunks(cols).zip(b.chunks(cols)) {
                    acc.iter_mut()
                        .zip(row.iter().zip(brow))
                        .for_each(|(s, (&u, &v))| *s += u * v);
                }
            }
        }
        acc
    };
    a.par_chunks(block).enumerate().map(partial).reduce(
        || vec![0f32; cols],
        |mut x, y| {
            x.iter_mut().zip(&y).for_each(|(s, v)| *s += v);
            x
        },
    )
}

/// `y = x * w + b` with `w`, `b` of shape `[C]` broadcast over the rows of `x` `[.., C]`
/// (`w = None`: `x + b`). The backward pass sums the parameter gradients over rows in one
/// cache-friendly pass (Candle's generic reduction over a leading axis is strided).
struct RowAffine {
    has_weight: bool,
}

impl RowAffine {
    fn run(&self, x: &[f32], w: Option<&[f32]>, b: &[f32], cols: usize) -> Vec<f32> {
        let mut out = vec![0f32; x.len()];
        let chunk = cols * rows_per_task(cols);
        out.par_chunks_mut(chunk)
            .zip(x.par_chunks(chunk))
            .for_each(|(o, x)| {
                for (o, x) in o.chunks_mut(cols).zip(x.chunks(cols)) {
                    match w {
                        Some(w) => {
                            for j in 0..cols {
                                o[j] = x[j] * w[j] + b[j];
                            }
                        }
                        None => {
                            for j in 0..cols {
                                o[j] = x[j] + b[j];
                            }
                        }
                    }
                }
            });
        out
    }
}

impl CustomOp2 for RowAffine {
    fn name(&self) -> &'static str {
        "adamp-row-bias"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        let x = f32_slice(s1, l1, "bias add")?;
        let b = f32_slice(s2, l2, "bias add")?;
        let cols = last_dim(l1);
        if b.len() != cols {
            bail!("bias add: bias of {} for rows of {cols}", b.len());
        }
        Ok((
            CpuStorage::F32(self.run(x, None, b, cols)),
            l1.shape().clone(),
        ))
    }

    fn bwd(
        &self,
        x: &Tensor,
        b: &Tensor,
        _y: &Tensor,
        dy: &Tensor,
    ) -> candle_core::Result<(Option<Tensor>, Option<Tensor>)> {
        let cols = x.dims().last().copied().unwrap_or(1);
        let db = with_f32(dy, "bias add backward", |g| column_sums(g, None, cols))?;
        let db = Tensor::from_vec(db, b.shape(), b.device())?;
        Ok((Some(dy.clone()), Some(db)))
    }
}

impl candle_core::CustomOp3 for RowAffine {
    fn name(&self) -> &'static str {
        "adamp-row-affine"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
        s3: &CpuStorage,
        l3: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        let x = f32_slice(s1, l1, "row affine")?;
        let w = f32_slice(s2, l2, "row affine")?;
        let b = f32_slice(s3, l3, "row affine")?;
        let cols = last_dim(l1);
        if b.len() != cols || w.len() != cols || !self.has_weight {
            bail!(
                "row affine: weight {} / bias {} for rows of {cols}",
                w.len(),
                b.len()
            );
        }
        Ok((
            CpuStorage::F32(self.run(x, Some(w), b, cols)),
            l1.shape().clone(),
        ))
    }

    fn bwd(
        &self,
        x: &Tensor,
        w: &Tensor,
        b: &Tensor,
        _y: &Tensor,
        dy: &Tensor,
    ) -> candle_core::Result<(Option<Tensor>, Option<Tensor>, Option<Tensor>)> {
        let cols = x.dims().last().copied().unwrap_or(1);
        let dy = dy.contiguous()?;
        let db = with_f32(&dy, "row affine backward", |g| column_sums(g, None, cols))?;
        let dw = with_f32(&dy, "row affine backward", |g| {
            with_f32(x, "row affine backward", |xv| {
                column_sums(g, Some(xv), cols)
            })
        })??;
        let dx = dy.broadcast_mul(w)?;
        Ok((
            Some(dx),
            Some(Tensor::from_vec(dw, w.shape(), w.device())?),
            Some(Tensor::from_vec(db, b.shape(), b.device())?),
        ))
    }
}

/// `x + b` with `b` `[C]` broadcast over the rows of `x` `[.., C]`.
pub(crate) fn bias_add(x: &Tensor, b: &Tensor) -> Result<Tensor> {
    if fused_ok(x) && b.rank() == 1 {
        Ok(x.contiguous()?
            .apply_op2(&b.contiguous()?, RowAffine { has_weight: false })?)
    } else {
        Ok(x.broadcast_add(b)?)
    }
}

/// `x * w + b` with `w`, `b` `[C]` broadcast over the rows of `x` `[.., C]`.
pub(crate) fn scale_shift(x: &Tensor, w: &Tensor, b: &Tensor) -> Result<Tensor> {
    if fused_ok(x) && b.rank() == 1 && w.rank() == 1 {
        Ok(x.contiguous()?.apply_op3(
            &w.contiguous()?,
            &b.contiguous()?,
            RowAffine { has_weight: true },
        )?)
    } else {
        Ok(x.broadcast_mul(w)?.broadcast_add(b)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{Device, Var};

    fn var(shape: (usize, usize), seed: u64) -> Var {
        let n = shape.0 * shape.1;
        let mut s = seed;
        let v: Vec<f32> = (0..n)
            .map(|_| {
                s = s
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                ((s >> 40) as f32 / (1u64 << 24) as f32) * 6.0 - 3.0
            })
            .collect();
        Var::from_tensor(&Tensor::from_vec(v, shape, &Device::Cpu).unwrap()).unwrap()
    }

    fn max_diff(a: &Tensor, b: &Tensor) -> f32 {
        (a - b)
            .unwrap()
            .abs()
            .unwrap()
            .flatten_all()
            .unwrap()
            .max(0)
            .unwrap()
            .to_scalar()
            .unwrap()
    }

    /// The fused kernels and the composed fallback (used off the CPU) agree in value and gradient.
    #[test]
    fn fused_kernels_match_the_composed_ops() -> Result<()> {
        let x = var((7, 13), 1);
        let w = Var::from_tensor(&var((1, 13), 2).as_tensor().reshape(13)?)?;
        let b = Var::from_tensor(&var((1, 13), 3).as_tensor().reshape(13)?)?;
        let (w, b) = (w.as_tensor().clone(), b.as_tensor().clone());
        let coef = var((7, 13), 4);
        let targets: Vec<u32> = (0..7).map(|i| (i * 5 % 13) as u32).collect();
        let idx = Tensor::from_slice(&targets, (7, 1), &Device::Cpu)?;

        let fused = |x: &Tensor| -> Result<Tensor> {
            let y = scale_shift(&bias_add(x, &b)?, &w, &b)?;
            let s = (softmax_last(&y)? * coef.as_tensor())?.sum_all()?;
            Ok((row_nll(&y, &targets)?.sum_all()? + s)?)
        };
        let composed = |x: &Tensor| -> Result<Tensor> {
            let y = x.broadcast_add(&b)?.broadcast_mul(&w)?.broadcast_add(&b)?;
            let s = (softmax_composed(&y)? * coef.as_tensor())?.sum_all()?;
            let nll = log_softmax_last(&y)?.gather(&idx, 1)?.neg()?.sum_all()?;
            Ok((nll + s)?)
        };
        let (lf, lc) = (fused(x.as_tensor())?, composed(x.as_tensor())?);
        assert!(max_diff(&lf, &lc) < 1e-4, "values");
        let (gf, gc) = (lf.backward()?, lc.backward()?);
        for t in [x.as_tensor(), &w, &b] {
            let d = max_diff(gf.get(t).unwrap(), gc.get(t).unwrap());
            assert!(d < 1e-4, "gradient differs by {d}");
        }
        Ok(())
    }
}
