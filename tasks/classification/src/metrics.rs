//! The classification loss and accuracy.

use candle_core::{DType, Tensor, D};

/// Mean cross-entropy of `logits [B, K]` against integer `labels [B]`
/// (`torch.nn.functional.cross_entropy` with mean reduction).
pub fn cross_entropy(logits: &Tensor, labels: &Tensor) -> candle_core::Result<Tensor> {
    let logp = candle_nn::ops::log_softmax(logits, D::Minus1)?;
    let picked = logp.gather(&labels.to_dtype(DType::U32)?.unsqueeze(1)?, 1)?;
    picked.neg()?.mean_all()
}

/// Mean cross-entropy against soft targets `[B, K]` (rows sum to 1): CutMix's
/// `lam * CE(y_a) + (1 - lam) * CE(y_b)` written as one sum.
pub fn soft_cross_entropy(logits: &Tensor, targets: &Tensor) -> candle_core::Result<Tensor> {
    let logp = candle_nn::ops::log_softmax(logits, D::Minus1)?;
    let batch = logits.dim(0)? as f64;
    (logp * targets)?.sum_all()?.neg()? / batch
}

/// How many rows of `logits` have their label among the `k` largest logits (ties count as
/// misses only when strictly more than `k - 1` other classes score higher).
pub fn correct_top_k(logits: &[f32], classes: usize, labels: &[u32], k: usize) -> usize {
    logits
        .chunks(classes)
        .zip(labels)
        .filter(|(row, &y)| {
            let target = row[y as usize];
            let higher = row.iter().filter(|&&v| v > target).count();
            higher < k
        })
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;

    #[test]
    fn cross_entropy_matches_hand_computation() {
        let dev = Device::Cpu;
        let logits = Tensor::new(&[[1.0f32, 2.0, 3.0], [0.5, 0.5, -1.0]], &dev).unwrap();
        let labels = Tensor::new(&[2u32, 0], &dev).unwrap();
        let got = cross_entropy(&logits, &labels)
            .unwrap()
            .to_scalar::<f32>()
            .unwrap();
        let lse0 = (1f32.exp() + 2f32.exp() + 3f32.exp()).ln();
        let lse1 = (0.5f32.exp() * 2.0 + (-1f32).exp()).ln();
        let want = ((lse0 - 3.0) + (lse1 - 0.5)) / 2.0;
        assert!((got - want).abs() < 1e-6, "{got} vs {want}");
    }

    #[test]
    fn soft_targets_with_one_hot_equal_hard_labels() {
        let dev = Device::Cpu;
        let logits = Tensor::new(&[[1.0f32, 2.0, 3.0], [0.5, 0.5, -1.0]], &dev).unwrap();
        let labels = Tensor::new(&[1u32, 2], &dev).unwrap();
        let onehot = Tensor::new(&[[0f32, 1.0, 0.0], [0.0, 0.0, 1.0]], &dev).unwrap();
        let a = cross_entropy(&logits, &labels)
            .unwrap()
            .to_scalar::<f32>()
            .unwrap();
        let b = soft_cross_entropy(&logits, &onehot)
            .unwrap()
            .to_scalar::<f32>()
            .unwrap();
        assert!((a - b).abs() < 1e-6);
        // A 0.3 / 0.7 mix is the same mix of the two losses.
        let mix = Tensor::new(&[[0.3f32, 0.7, 0.0], [0.3, 0.7, 0.0]], &dev).unwrap();
        let l0 = cross_entropy(&logits, &Tensor::new(&[0u32, 0], &dev).unwrap()).unwrap();
        let l1 = cross_entropy(&logits, &Tensor::new(&[1u32, 1], &dev).unwrap()).unwrap();
        let want = 0.3 * l0.to_scalar::<f32>().unwrap() + 0.7 * l1.to_scalar::<f32>().unwrap();
        let got = soft_cross_entropy(&logits, &mix)
            .unwrap()
            .to_scalar::<f32>()
            .unwrap();
        assert!((got - want).abs() < 1e-5, "{got} vs {want}");
    }

    #[test]
    fn top_k_counts() {
        let logits = [0.1f32, 0.9, 0.0, 0.8, 0.1, 0.2, 0.3, 0.2, 0.5];
        // rows: argmax 1, argmax 0, argmax 2
        assert_eq!(correct_top_k(&logits, 3, &[1, 1, 2], 1), 2);
        assert_eq!(correct_top_k(&logits, 3, &[0, 1, 0], 2), 2);
        assert_eq!(correct_top_k(&logits, 3, &[0, 1, 0], 3), 3);
    }
}
