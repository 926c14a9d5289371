//! The dataset's per-channel normalisation as the first, differentiable op of the network.
//!
//! The attack's ball and its `[0, 1]` clamp live in pixel space (Madry et al. 2018, "Towards
//! Deep Learning Models Resistant to Adversarial Attacks": ε on the image), so the loaders of
//! this task hand out un-normalised `[0, 1]` images and the task normalises inside the forward
//! pass: `(x − mean[c]) / std[c]`, the same function the loaders apply for classification, with
//! gradients flowing back to the pixels.

use adamp_datasets::transforms::Normalize;
use candle_core::{Device, Result, Tensor};

/// `(x − mean) / std` per channel, for `[B, C, H, W]` inputs.
#[derive(Debug, Clone)]
pub struct InputNorm {
    mean: Tensor,
    std: Tensor,
}

impl InputNorm {
    /// From a dataset's statistics (means and standard deviations of `[0, 1]` pixels).
    pub fn new(n: &Normalize, device: &Device) -> Result<Self> {
        let c = n.mean.len();
        Ok(Self {
            mean: Tensor::from_slice(&n.mean, (1, c, 1, 1), device)?,
            std: Tensor::from_slice(&n.std, (1, c, 1, 1), device)?,
        })
    }

    /// The normalised images.
    pub fn apply(&self, x: &Tensor) -> Result<Tensor> {
        x.broadcast_sub(&self.mean)?.broadcast_div(&self.std)
    }
}

/// The normalisation that leaves `x / 255` unchanged (mean 0, std 1 per channel): what this
/// task's loaders apply, so their batches are `[0, 1]` pixels.
pub fn unit_range(channels: usize) -> Normalize {
    Normalize {
        mean: vec![0.0; channels],
        std: vec![1.0; channels],
    }
}
