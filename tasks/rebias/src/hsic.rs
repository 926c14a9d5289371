//! The Hilbert-Schmidt independence criterion with RBF kernels, as ReBias computes it (Bahng et
//! al., ICML 2020, Section 3; clovaai/rebias `criterions/hsic.py`, `RbfHSIC`), differentiable
//! through Candle.
//!
//! - Kernel: `K_ij = exp(-|x_i - x_j|^2 / (2 sigma^2))` on the rows of a `[n, d]` feature
//!   matrix, with `|x_i - x_j|^2 = |x_i|^2 + |x_j|^2 - 2 x_i . x_j` (not clamped at 0, as the
//!   reference).
//! - Unbiased estimator (the reference's default and the paper's; Song et al., "Feature
//!   selection via dependence maximization", JMLR 2012): with `K~`, `L~` the kernels with zero
//!   diagonals, `[tr(K~ L~) + 1'K~1 1'L~1 / ((n-1)(n-2)) - 2/(n-2) 1'K~L~1] / (n(n-3))`; needs
//!   `n >= 4`. The reference builds `K~` as `K - diag(K)` broadcast over rows, i.e. `K - 1` for
//!   an RBF kernel: its diagonal is zero and its off-diagonal entries are shifted by the same
//!   constant, to which this estimator is exactly invariant (every shift term cancels in the
//!   U-statistic), so the value is the same as with the diagonal zeroed, which is what is
//!   computed here.
//! - Biased estimator (Gretton et al., ALT 2005): `tr(K H L H) / (n-1)^2`, `H = I - 11'/n`.
//! - [`median_sigma`]: the median heuristic of `criterions/sigma_utils.py` (`median_distance`).

use candle_core::{DType, Device, Tensor, D};
use serde::{Deserialize, Serialize};

/// Which finite-sample estimator of HSIC.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Estimator {
    /// Song et al. 2012 (the reference's `algorithm = 'unbiased'`, used in the paper).
    #[default]
    Unbiased,
    /// Gretton et al. 2005.
    Biased,
}

/// Squared Euclidean distances between the rows of `x [n, d]`: `[n, n]`.
pub fn squared_distances(x: &Tensor) -> candle_core::Result<Tensor> {
    let xx = x.matmul(&x.t()?)?;
    let sq = x.sqr()?.sum_keepdim(1)?;
    sq.broadcast_add(&sq.t()?)?.sub(&(xx * 2.0)?)
}

/// The RBF kernel matrix of the rows of `x [n, d]` with width `sigma`.
pub fn rbf_kernel(x: &Tensor, sigma: f64) -> candle_core::Result<Tensor> {
    let gamma = 1.0 / (2.0 * sigma * sigma);
    (squared_distances(x)? * -gamma)?.exp()
}

/// HSIC between the rows of `x [n, dx]` and `y [n, dy]` (same `n`), kernel widths `sigma_x`,
/// `sigma_y`: a scalar tensor through which gradients flow into both.
pub fn hsic(
    x: &Tensor,
    y: &Tensor,
    sigma_x: f64,
    sigma_y: f64,
    estimator: Estimator,
) -> candle_core::Result<Tensor> {
    let n = x.dim(0)?;
    if y.dim(0)? != n {
        candle_core::bail!("hsic: {n} rows of x but {} of y", y.dim(0)?);
    }
    let k = rbf_kernel(&x.flatten_from(1)?, sigma_x)?;
    let l = rbf_kernel(&y.flatten_from(1)?, sigma_y)?;
    match estimator {
        Estimator::Unbiased => unbiased(&k, &l, n),
        Estimator::Biased => biased(&k, &l, n),
    }
}

fn unbiased(k: &Tensor, l: &Tensor, n: usize) -> candle_core::Result<Tensor> {
    if n < 4 {
        candle_core::bail!("the unbiased HSIC estimator needs at least 4 samples, got {n}");
    }
    let off = off_diagonal(n, k.dtype(), k.device())?;
    let tk = (k * &off)?;
    let tl = (l * &off)?;
    let nf = n as f64;
    // tr(K~ L~) = sum(K~ ∘ L~) for symmetric matrices.
    let trace = (&tk * &tl)?.sum_all()?;
    let sums = (tk.sum_all()? * tl.sum_all()?)? / ((nf - 1.0) * (nf - 2.0));
    // 1'K~L~1 = (column sums of K~) . (row sums of L~).
    let cross = (tk.sum(0)? * tl.sum(1)?)?.sum_all()? * (2.0 / (nf - 2.0));
    ((trace + sums?)? - cross?)? / (nf * (nf - 3.0))
}

fn biased(k: &Tensor, l: &Tensor, n: usize) -> candle_core::Result<Tensor> {
    if n < 2 {
        candle_core::bail!("the biased HSIC estimator needs at least 2 samples, got {n}");
    }
    // K H = K - column means, as the reference's `K - K.mean(0, keepdim=True)`.
    let kh = k.broadcast_sub(&k.mean_keepdim(0)?)?;
    let lh = l.broadcast_sub(&l.mean_keepdim(0)?)?;
    // tr(KH LH) = sum((KH) ∘ (LH)').
    (kh * lh.t()?)?.sum_all()? / ((n as f64 - 1.0).powi(2))
}

/// `1 - I` of size `n`.
fn off_diagonal(n: usize, dtype: DType, device: &Device) -> candle_core::Result<Tensor> {
    let eye = Tensor::eye(n, dtype, device)?;
    eye.ones_like()? - eye
}

/// `sqrt(median)` of every entry of the squared-distance matrices of the batches' features (the
/// zeros of the diagonals and both triangles included, as the reference pools them), NumPy's
/// median (the mean of the two middle values for an even count). `None` without values.
///
/// Deviation: the distances are computed in f64 (the reference: f32). Features of one batch can
/// be close to each other next to their norms, and `|x|^2 + |y|^2 - 2 x.y` in f32 then leaves
/// rounding noise around 0 whose median can be 0 or negative, i.e. no usable width.
pub fn median_sigma(batches: &[Tensor]) -> candle_core::Result<Option<f64>> {
    let mut all: Vec<f64> = Vec::new();
    for feats in batches {
        let x = feats.flatten_from(1)?.to_dtype(DType::F64)?;
        all.extend(squared_distances(&x)?.flatten_all()?.to_vec1::<f64>()?);
    }
    if all.is_empty() {
        return Ok(None);
    }
    all.sort_by(|a, b| a.total_cmp(b));
    let m = all.len();
    let median = if m % 2 == 1 {
        all[m / 2]
    } else {
        (all[m / 2 - 1] + all[m / 2]) / 2.0
    };
    Ok(Some(median.max(0.0).sqrt()))
}

/// Rows of `[n, d]` as `Vec<Vec<f64>>` (for tests and logging).
pub fn rows(x: &Tensor) -> candle_core::Result<Vec<Vec<f64>>> {
    x.to_dtype(DType::F64)?.to_vec2::<f64>()
}

/// The last axis' argmax of `logits [n, k]`, as the predictions (the first maximum on ties).
pub fn argmax(logits: &Tensor) -> candle_core::Result<Vec<u32>> {
    logits.argmax(D::Minus1)?.to_vec1::<u32>()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances_and_kernel_match_by_hand() {
        let x = Tensor::new(&[[0f32, 0.0], [3.0, 4.0], [1.0, 0.0]], &Device::Cpu).unwrap();
        let d = rows(&squared_distances(&x).unwrap()).unwrap();
        assert_eq!(d[0], [0.0, 25.0, 1.0]);
        assert_eq!(d[1][2], 20.0);
        let k = rows(&rbf_kernel(&x, 2.0).unwrap()).unwrap();
        assert!((k[0][2] - (-1.0f64 / 8.0).exp()).abs() < 1e-6);
        // Median of the 9 entries {0, 0, 0, 1, 1, 20, 20, 25, 25} is 1.
        assert_eq!(median_sigma(&[x]).unwrap(), Some(1.0));
    }
}
