//! The triplet margin loss with semi-hard mining, as the ProxyAnchor codebase's `TripletLoss`
//! (`tjddus9597/Proxy-Anchor-CVPR2020`, `code/losses.py`) builds it from pytorch-metric-learning
//! (pinned 2.9.0 for the fixtures): `miners.TripletMarginMiner(margin, type_of_triplets =
//! 'semihard')` followed by `losses.TripletMarginLoss(margin = margin)`, margin 0.1, both with
//! their default distance `LpDistance(normalize_embeddings=True, p=2, power=1)` and the loss's
//! default `AvgNonZeroReducer`:
//!
//! ```text
//! x_i     = x_i / max(||x_i||, 1e-12)                          (F.normalize)
//! d(i, j) = || x_i - x_j ||_2                                  (torch.cdist, p = 2)
//! triplets: every (a, p, n) with label a = label p, a != p, label n != label a
//! mined:   0 < d(a, n) - d(a, p) <= margin                      (semi-hard; under no_grad)
//! loss:    mean over the mined triplets with l > 0 of  l = relu(d(a, p) - d(a, n) + margin)
//!          0 (with zero gradients) when no triplet is mined or none has l > 0
//! ```
//!
//! The miner decides on the same distances the loss uses (computed once here, in f32), so a
//! triplet at the boundary is decided as torch decides it up to the rounding of the distance
//! itself. `torch.cdist` computes the distances directly for at most 25 rows and through
//! `||x||^2 + ||y||^2 - 2 x.y` above (`_euclidean_dist`); both have the gradient
//! `(x_i - x_j) / d(i, j)`, zero where `d = 0`, which is what this direct computation gives (the
//! squared distance is clamped at 1e-30 before the square root, so coinciding embeddings get a
//! zero gradient instead of NaN). The two torch paths differ only in rounding.

use candle_core::{Result, Tensor};

/// The squared distance is clamped from below by this before the square root.
pub const MIN_SQUARED_DISTANCE: f64 = 1e-30;

/// `F.normalize`'s `eps`: the norm is clamped from below by it.
pub const NORMALIZE_EPS: f64 = 1e-12;

/// Triplet margin loss over semi-hard mined triplets.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SemiHardTriplet {
    /// The miner's and the loss's margin (ProxyAnchor codebase: 0.1).
    pub margin: f64,
}

/// The loss and how many triplets it averaged.
#[derive(Debug, Clone)]
pub struct TripletOutput {
    /// The scalar loss (gradients to the embeddings).
    pub loss: Tensor,
    /// Triplets the miner kept.
    pub mined: usize,
    /// Mined triplets with a positive loss (the ones averaged).
    pub active: usize,
}

/// `F.normalize(x, p=2, dim=1)`: rows divided by `max(||x||, 1e-12)`.
pub fn normalize(x: &Tensor) -> Result<Tensor> {
    let norm = x
        .sqr()?
        .sum_keepdim(1)?
        .sqrt()?
        .clamp(NORMALIZE_EPS, f64::INFINITY)?;
    x.broadcast_div(&norm)
}

/// The `[B, B]` matrix of Euclidean distances `||x_i - x_j||` of the rows of `x`
/// (`torch.cdist(x, x, p=2)`).
pub fn pairwise_distances(x: &Tensor) -> Result<Tensor> {
    let (b, d) = x.dims2()?;
    let diff = x
        .unsqueeze(1)?
        .broadcast_as((b, b, d))?
        .broadcast_sub(&x.unsqueeze(0)?)?;
    diff.sqr()?
        .sum(2)?
        .clamp(MIN_SQUARED_DISTANCE, f64::INFINITY)?
        .sqrt()
}

/// Every semi-hard triplet `(a, p, n)` of `labels` under the distance matrix `dist` (row-major
/// `B x B`, f32 as torch computes it), in the order of pytorch-metric-learning's
/// `get_all_triplets_indices` (anchor, then positive, then negative, ascending). The test is
/// torch's in f32: `0 < d(a, n) - d(a, p) <= margin` with the margin rounded to f32.
pub fn mine_semi_hard(dist: &[f32], labels: &[u32], margin: f64) -> Vec<(usize, usize, usize)> {
    let b = labels.len();
    let margin = margin as f32;
    let mut out = Vec::new();
    for a in 0..b {
        for p in 0..b {
            if p == a || labels[p] != labels[a] {
                continue;
            }
            let ap = dist[a * b + p];
            for n in 0..b {
                if labels[n] == labels[a] {
                    continue;
                }
                let m = dist[a * b + n] - ap;
                if m > 0.0 && m <= margin {
                    out.push((a, p, n));
                }
            }
        }
    }
    out
}

impl SemiHardTriplet {
    /// The loss of f32 embeddings `x` `[B, D]` with `labels`.
    pub fn loss(&self, x: &Tensor, labels: &[u32]) -> Result<TripletOutput> {
        let (b, _) = x.dims2()?;
        if labels.len() != b {
            candle_core::bail!("{} labels for {b} embeddings", labels.len());
        }
        let dist = pairwise_distances(&normalize(x)?)?;
        let host: Vec<f32> = dist.detach().flatten_all()?.to_vec1()?;
        let mined = mine_semi_hard(&host, labels, self.margin);
        // pytorch-metric-learning's zero loss, `torch.sum(embeddings * 0)`: 0 with zero (not
        // absent) gradients, so the optimizer still steps (weight decay, moments) as torch's
        // does. (Candle's backprop drops a multiplication by the constant 0, hence a tensor.)
        let zero = TripletOutput {
            loss: (x * x.zeros_like()?)?.sum_all()?,
            mined: mined.len(),
            active: 0,
        };
        if mined.is_empty() {
            return Ok(zero);
        }
        let flat = dist.flatten_all()?;
        let index = |pick: &dyn Fn(&(usize, usize, usize)) -> usize| {
            let ids: Vec<u32> = mined.iter().map(|t| pick(t) as u32).collect();
            let n = ids.len();
            Tensor::from_vec(ids, n, x.device())
        };
        let ap = flat.index_select(&index(&|&(a, p, _)| a * b + p)?, 0)?;
        let an = flat.index_select(&index(&|&(a, _, n)| a * b + n)?, 0)?;
        let losses = ((ap - an)? + self.margin)?.relu()?;
        // AvgNonZeroReducer: the mean over the triplets whose loss is > 0 (relu passes no
        // gradient to the others, so the sum over all divided by their count is that mean).
        let values: Vec<f32> = losses.detach().to_vec1()?;
        let active = values.iter().filter(|&&v| v > 0.0).count();
        if active == 0 {
            return Ok(zero);
        }
        Ok(TripletOutput {
            loss: (losses.sum_all()? / active as f64)?,
            mined: mined.len(),
            active,
        })
    }
}
