//! ssd.pytorch's `layers/modules/multibox_loss.py::MultiBoxLoss`: smooth L1 on the matched
//! priors' offsets and cross entropy on the positives plus the hardest negatives (3 per
//! positive), both divided by the number of positives. The matching and the mining are done
//! on the CPU from detached values; the losses are differentiable Candle ops on the heads'
//! own dtype and device.

use candle_core::{DType, Device, Error, Result, Tensor, D};

use super::matching::match_priors;

/// The loss's settings (`MultiBoxLoss(num_classes, overlap_thresh, ..., neg_pos, ...)`):
/// matching IoU `threshold` (0.5), negatives per positive `neg_pos` (3), encoding `variance`
/// (`[0.1, 0.2]`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MultiBoxLoss {
    pub threshold: f64,
    pub neg_pos: usize,
    pub variance: [f64; 2],
}

impl Default for MultiBoxLoss {
    fn default() -> Self {
        MultiBoxLoss {
            threshold: 0.5,
            neg_pos: 3,
            variance: [0.1, 0.2],
        }
    }
}

/// `(loss_l, loss_c)` of [`MultiBoxLoss::loss`] (scalar tensors in the heads' dtype) and `N`,
/// the number of positive priors over the batch.
#[derive(Debug, Clone)]
pub struct MultiBoxOutput {
    pub loc: Tensor,
    pub conf: Tensor,
    pub positives: usize,
}

/// Which rows of the flattened `[B * P, ...]` heads enter each loss, and their targets.
#[derive(Debug, Default, PartialEq)]
struct Selection {
    pos_rows: Vec<u32>,
    loc_targets: Vec<f32>,
    conf_rows: Vec<u32>,
    conf_targets: Vec<u32>,
}

impl MultiBoxLoss {
    /// `MultiBoxLoss.forward((loc, conf, priors), targets)`.
    ///
    /// * `loc` `[B, P, 4]` predicted offsets, `conf` `[B, P, C + 1]` class logits (class 0 is
    ///   background), any float dtype, any device; `priors` the `P` priors `cxcywh`;
    /// * `targets[b]`: image `b`'s truth boxes (normalised `xyxy`) and 0-based labels `< C`.
    ///
    /// Per image, [`match_priors`] gives the targets; positives are the priors with a class.
    /// Hard-negative mining: the value `log Σ exp(conf) - conf[target]` of every prior (a
    /// per-row log-sum-exp here, the reference subtracts the batch's max: the same value up to
    /// rounding), zeroed on the positives, is ranked in decreasing order and the first
    /// `num_neg = min(neg_pos * num_pos, P - 1)` are mined (the reference's `idx_rank <
    /// num_neg`; so an image without positives adds no negatives). Among equal values the
    /// lower prior index ranks first (torch's sort leaves this order undefined).
    ///
    /// `loss_l = Σ_pos smooth_L1(loc - loc_t) / N` (β = 1, summed over the 4 offsets),
    /// `loss_c = Σ_{pos ∪ mined} (logsumexp(conf) - conf[target]) / N`, `N` the positives of
    /// the whole batch. If `N == 0` (the reference divides 0 by 0) both are a zero scalar not
    /// attached to the graph: no gradient reaches the heads, so an optimizer skips the step.
    ///
    /// Errors: shapes that disagree (`P` vs `priors`, `B` vs `targets`, boxes vs labels) or a
    /// label `>= C`.
    pub fn loss(
        &self,
        loc: &Tensor,
        conf: &Tensor,
        priors: &[[f32; 4]],
        targets: &[(Vec<[f32; 4]>, Vec<u32>)],
    ) -> Result<MultiBoxOutput> {
        let (b, p, four) = loc.dims3()?;
        let (cb, cp, nc) = conf.dims3()?;
        if four != 4 || (cb, cp) != (b, p) || p != priors.len() || targets.len() != b || nc < 1 {
            return Err(Error::Msg(format!(
                "MultiBoxLoss: loc {:?}, conf {:?}, {} priors, {} targets do not agree",
                loc.dims(),
                conf.dims(),
                priors.len(),
                targets.len()
            )));
        }
        for (truths, labels) in targets {
            if truths.len() != labels.len() {
                return Err(Error::Msg(format!(
                    "MultiBoxLoss: {} boxes but {} labels",
                    truths.len(),
                    labels.len()
                )));
            }
            if let Some(&l) = labels.iter().find(|&&l| l as usize + 1 >= nc) {
                return Err(Error::Msg(format!(
                    "MultiBoxLoss: label {l} but {} object classes",
                    nc - 1
                )));
            }
        }
        let conf_cpu = conf
            .detach()
            .to_dtype(DType::F32)?
            .to_device(&Device::Cpu)?
            .flatten_all()?
            .to_vec1::<f32>()?;
        let sel = self.select(&conf_cpu, p, nc, priors, targets);
        let n = sel.pos_rows.len();
        if n == 0 {
            let zero = Tensor::zeros((), loc.dtype(), loc.device())?;
            return Ok(MultiBoxOutput {
                loc: zero.clone(),
                conf: zero.to_dtype(conf.dtype())?.to_device(conf.device())?,
                positives: 0,
            });
        }
        let scale = 1.0 / n as f64;
        let loss_l = smooth_l1_sum(loc, &sel, b * p)?.affine(scale, 0.0)?;
        let loss_c = cross_entropy_sum(conf, &sel, b * p, nc)?.affine(scale, 0.0)?;
        Ok(MultiBoxOutput {
            loc: loss_l,
            conf: loss_c,
            positives: n,
        })
    }

    /// Matching and hard-negative mining for the batch, from the detached logits.
    fn select(
        &self,
        conf: &[f32],
        p: usize,
        nc: usize,
        priors: &[[f32; 4]],
        targets: &[(Vec<[f32; 4]>, Vec<u32>)],
    ) -> Selection {
        let mut sel = Selection::default();
        for (img, (truths, labels)) in targets.iter().enumerate() {
            let m = match_priors(self.threshold, truths, labels, priors, self.variance);
            let rows = &conf[img * p * nc..(img + 1) * p * nc];
            let mining: Vec<f32> = (0..p)
                .map(|i| {
                    if m.conf[i] > 0 {
                        0.0
                    } else {
                        let row = &rows[i * nc..(i + 1) * nc];
                        log_sum_exp(row) - row[m.conf[i] as usize]
                    }
                })
                .collect();
            let num_pos = m.conf.iter().filter(|&&c| c > 0).count();
            let num_neg = (self.neg_pos * num_pos).min(p.saturating_sub(1));
            let mut order: Vec<usize> = (0..p).collect();
            order.sort_by(|&a, &b| mining[b].total_cmp(&mining[a]).then(a.cmp(&b)));
            let mut mined = vec![false; p];
            for &i in order.iter().take(num_neg) {
                mined[i] = true;
            }
            for (i, ((&c, offsets), &is_mined)) in m.conf.iter().zip(&m.loc).zip(&mined).enumerate()
            {
                let row = (img * p + i) as u32;
                if c > 0 {
                    sel.pos_rows.push(row);
                    sel.loc_targets.extend_from_slice(offsets);
                }
                if c > 0 || is_mined {
                    sel.conf_rows.push(row);
                    sel.conf_targets.push(c);
                }
            }
        }
        sel
    }
}

/// `log_sum_exp(x)` for one row, shifted by the row's max.
fn log_sum_exp(row: &[f32]) -> f32 {
    let m = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    row.iter().map(|&v| (v - m).exp()).sum::<f32>().ln() + m
}

/// `F.smooth_l1_loss(loc_p, loc_t, size_average=False)` over the positive rows, written as
/// `m (|d| - m / 2)` with `m = min(|d|, 1)` (that is `d² / 2` below 1, `|d| - 1/2` above).
fn smooth_l1_sum(loc: &Tensor, sel: &Selection, rows: usize) -> Result<Tensor> {
    let dev = loc.device();
    let idx = Tensor::from_slice(&sel.pos_rows, sel.pos_rows.len(), dev)?;
    let pred = loc.reshape((rows, 4))?.index_select(&idx, 0)?;
    let target = Tensor::from_slice(&sel.loc_targets, (sel.pos_rows.len(), 4), dev)?
        .to_dtype(loc.dtype())?;
    let d = (pred - target)?;
    let a = d.abs()?;
    let m = a.clamp(0.0, 1.0)?;
    (&m * (a - m.affine(0.5, 0.0)?)?)?.sum_all()
}

/// `F.cross_entropy(conf_p, targets_weighted, size_average=False)` over the selected rows.
fn cross_entropy_sum(conf: &Tensor, sel: &Selection, rows: usize, nc: usize) -> Result<Tensor> {
    let dev = conf.device();
    let k = sel.conf_rows.len();
    let idx = Tensor::from_slice(&sel.conf_rows, k, dev)?;
    let logits = conf.reshape((rows, nc))?.index_select(&idx, 0)?;
    let max = logits.max_keepdim(D::Minus1)?.detach();
    let lse = (logits
        .broadcast_sub(&max)?
        .exp()?
        .sum_keepdim(D::Minus1)?
        .log()?
        + max)?;
    let target = Tensor::from_slice(&sel.conf_targets, (k, 1), dev)?;
    let picked = logits.gather(&target, D::Minus1)?;
    (lse - picked)?.sum_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_prior_by_hand() {
        // Two priors, one truth equal to prior 0 (offsets 0): loc loss = smooth L1 of the
        // prediction; prior 1 is the one mined negative (min(3 * 1, P - 1) = 1).
        let dev = Device::Cpu;
        let priors = [[0.25f32, 0.25, 0.5, 0.5], [0.75, 0.75, 0.5, 0.5]];
        let targets = vec![(vec![[0.0f32, 0.0, 0.5, 0.5]], vec![1u32])];
        let loc = Tensor::new(&[[[0.5f32, -2.0, 0.0, 0.0], [9.0, 9.0, 9.0, 9.0]]], &dev).unwrap();
        let conf = Tensor::new(&[[[0.0f32, 0.0, 0.0], [1.0, 0.0, 0.0]]], &dev).unwrap();
        let out = MultiBoxLoss::default()
            .loss(&loc, &conf, &priors, &targets)
            .unwrap();
        assert_eq!(out.positives, 1);
        let l = out.loc.to_scalar::<f32>().unwrap();
        assert!((l - (0.125 + 1.5)).abs() < 1e-6, "{l}");
        let c = out.conf.to_scalar::<f32>().unwrap();
        let want = 3f32.ln() + ((1f32.exp() + 2.0).ln() - 1.0);
        assert!((c - want).abs() < 1e-6, "{c} vs {want}");
        // Label 2 needs 4 classes.
        let bad = vec![(vec![[0.0f32, 0.0, 0.5, 0.5]], vec![2u32])];
        assert!(MultiBoxLoss::default()
            .loss(&loc, &conf, &priors, &bad)
            .is_err());
    }

    #[test]
    fn no_positive_is_zero() {
        let dev = Device::Cpu;
        let priors = [[0.5f32, 0.5, 0.5, 0.5]];
        let loc = Tensor::zeros((2, 1, 4), DType::F64, &dev).unwrap();
        let conf = Tensor::ones((2, 1, 3), DType::F64, &dev).unwrap();
        let targets = vec![(vec![], vec![]), (vec![], vec![])];
        let out = MultiBoxLoss::default()
            .loss(&loc, &conf, &priors, &targets)
            .unwrap();
        assert_eq!(out.positives, 0);
        assert_eq!(out.loc.to_scalar::<f64>().unwrap(), 0.0);
        assert_eq!(out.conf.to_scalar::<f64>().unwrap(), 0.0);
    }
}
