//! The reference's losses (minzwon/data-driven-harmonic-filters `training/solver.py`,
//! `get_loss_function`): `nn.BCELoss()` on the sigmoid outputs for the tagging datasets,
//! `nn.CrossEntropyLoss()` on the logits for keywords, both means over the batch.
//!
//! The BCE is computed from the logits, `max(x, 0) − x·y + log(1 + e^{−|x|})`, which equals
//! `BCELoss(sigmoid(x), y)` wherever torch's clamp of `log` at −100 is not reached (a logit
//! beyond ±100), and stays finite where the sigmoid rounds to 0 or 1 in f32.

use candle_core::{DType, Tensor, D};

/// Mean binary cross-entropy of `sigmoid(logits)` against multi-hot `targets`, both `[B, K]`.
pub fn bce_with_logits(logits: &Tensor, targets: &Tensor) -> candle_core::Result<Tensor> {
    let softplus = (logits.abs()?.neg()?.exp()? + 1.0)?.log()?;
    (logits.relu()? - (logits * targets)?)?
        .add(&softplus)?
        .mean_all()
}

/// Mean cross-entropy of `logits` `[B, K]` against class indices `labels` `[B]`.
pub fn cross_entropy(logits: &Tensor, labels: &Tensor) -> candle_core::Result<Tensor> {
    let logp = candle_nn::ops::log_softmax(logits, D::Minus1)?;
    let picked = logp.gather(&labels.to_dtype(DType::U32)?.unsqueeze(1)?, 1)?;
    picked.neg()?.mean_all()
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;

    #[test]
    fn bce_matches_the_sigmoid_form_and_ce_the_hand_computation() {
        let dev = Device::Cpu;
        let x = [[2.0f32, -1.0, 0.5], [-3.0, 0.0, 4.0]];
        let y = [[1.0f32, 0.0, 1.0], [0.0, 1.0, 0.0]];
        let got = bce_with_logits(
            &Tensor::new(&x, &dev).unwrap(),
            &Tensor::new(&y, &dev).unwrap(),
        )
        .unwrap()
        .to_scalar::<f32>()
        .unwrap();
        let mut want = 0.0f64;
        for (xr, yr) in x.iter().zip(&y) {
            for (&xv, &yv) in xr.iter().zip(yr) {
                let p = 1.0 / (1.0 + (-(xv as f64)).exp());
                want -= yv as f64 * p.ln() + (1.0 - yv as f64) * (1.0 - p).ln();
            }
        }
        want /= 6.0;
        assert!((got as f64 - want).abs() < 1e-6, "{got} vs {want}");
        // Far logits stay finite.
        let far = bce_with_logits(
            &Tensor::new(&[[200.0f32, -200.0]], &dev).unwrap(),
            &Tensor::new(&[[0.0f32, 1.0]], &dev).unwrap(),
        )
        .unwrap()
        .to_scalar::<f32>()
        .unwrap();
        assert!((far - 200.0).abs() < 1e-3, "{far}");

        let logits = Tensor::new(&[[1.0f32, 2.0, 3.0], [0.5, 0.5, -1.0]], &dev).unwrap();
        let labels = Tensor::new(&[2u32, 0], &dev).unwrap();
        let ce = cross_entropy(&logits, &labels)
            .unwrap()
            .to_scalar::<f32>()
            .unwrap();
        let lse0 = (1f32.exp() + 2f32.exp() + 3f32.exp()).ln();
        let lse1 = (0.5f32.exp() * 2.0 + (-1f32).exp()).ln();
        assert!((ce - ((lse0 - 3.0) + (lse1 - 0.5)) / 2.0).abs() < 1e-6);
    }
}
