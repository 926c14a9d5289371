//! Dropout whose masks are a pure function of (call seed, layer path): a training step passes a
//! seed (e.g. derived from the run seed and the step) and every dropout site draws its mask from
//! a ChaCha8 stream seeded by that seed and its own path, so a resumed run redraws the same masks.

use candle_core::Tensor;
use rand::Rng;
use rayon::prelude::*;

use crate::error::Result;

/// Elements per independently seeded block of a dropout mask.
const MASK_BLOCK: usize = 1 << 16;

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
        // Blocks of the mask come from their own streams (seed, site, block), so the mask does
        // not depend on the number of threads that draw it.
        let mut mask = vec![0f32; x.elem_count()];
        mask.par_chunks_mut(MASK_BLOCK)
            .enumerate()
            .for_each(|(i, block)| {
                let mut rng = crate::init::stream(seed, &format!("{path}#{i}"));
                for m in block {
                    *m = if rng.random::<u32>() < threshold {
                        scale
                    } else {
                        0.0
                    };
                }
            });
        let mask = Tensor::from_vec(mask, x.shape(), x.device())?.to_dtype(x.dtype())?;
        Ok((x * mask)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;

    #[test]
    fn drops_p_and_scales_the_rest() -> Result<()> {
        let x = Tensor::ones(200_000, candle_core::DType::F32, &Device::Cpu)?;
        let y = DropoutStream::new(Some(3))
            .apply(&x, 0.25, "site")?
            .to_vec1::<f32>()?;
        let zeros = y.iter().filter(|&&v| v == 0.0).count() as f64 / y.len() as f64;
        assert!((zeros - 0.25).abs() < 0.01, "dropped fraction {zeros}");
        assert!(y.iter().all(|&v| v == 0.0 || (v - 4.0 / 3.0).abs() < 1e-6));
        let other = DropoutStream::new(Some(3))
            .apply(&x, 0.25, "other site")?
            .to_vec1::<f32>()?;
        assert_ne!(y, other, "each site has its own stream");
        let eval = DropoutStream::new(None)
            .apply(&x, 0.25, "site")?
            .to_vec1::<f32>()?;
        assert!(eval.iter().all(|&v| v == 1.0));
        Ok(())
    }
}
