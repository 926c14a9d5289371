//! Dropout whose masks are a pure function of (call seed, layer path): a training step passes a
//! seed (e.g. derived from the run seed and the step) and every dropout site draws its mask from
//! a ChaCha8 stream seeded by that seed and its own path, so a resumed run redraws the same masks.

use candle_core::Tensor;
use rand::Rng;

use crate::error::Result;

/// The dropout randomness of one forward call (`None`: evaluation, no dropout).
#[derive(Debug, Clone, Copy)]
pub(crate) struct DropoutStream {
    seed: Option<u64>,
}

impl DropoutStream {
    pub(crate) fn new(seed: Option<u64>) -> Self {
        Self { seed }
    }

    /// `nn.Dropout(p)` on `x` at the dropout site `path`: zero each element with probability
    /// `p`, scale the rest by `1 / (1 - p)`; the identity in evaluation or when `p = 0`.
    pub(crate) fn apply(&self, x: &Tensor, p: f64, path: &str) -> Result<Tensor> {
        let Some(seed) = self.seed else {
            return Ok(x.clone());
        };
        if p == 0.0 {
            return Ok(x.clone());
        }
        let keep = 1.0 - p;
        let scale = (1.0 / keep) as f32;
        // keep an element when a uniform u32 falls below keep * 2^32
        let threshold = (keep * 4_294_967_296.0).min(u32::MAX as f64) as u32;
        let mut rng = crate::init::stream(seed, path);
        let mask: Vec<f32> = (0..x.elem_count())
            .map(|_| {
                if rng.random::<u32>() < threshold {
                    scale
                } else {
                    0.0
                }
            })
            .collect();
        let mask = Tensor::from_vec(mask, x.shape(), x.device())?.to_dtype(x.dtype())?;
        Ok((x * mask)?)
    }
}
