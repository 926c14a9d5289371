//! Dropout with a seeded mask stream (deterministic for a given model seed, unlike Candle's
//! `candle_nn::ops::dropout`, which draws from the thread RNG).

use std::sync::Mutex;

use candle_core::Tensor;
use rand::Rng;
use rand_chacha::ChaCha8Rng;

use crate::builder::ParamBuilder;
use crate::error::{ModelError, Result};

/// `nn.Dropout(p)`: in training mode zero each element with probability `p` and scale the rest
/// by `1 / (1 - p)`; identity in evaluation mode.
#[derive(Debug)]
pub struct Dropout {
    p: f64,
    /// The stream's name (`<layer path>.dropout-mask`), for [`Dropout::reseed`].
    stream: String,
    rng: Mutex<ChaCha8Rng>,
}

impl Dropout {
    /// A dropout layer whose mask stream is seeded by the model seed and the layer path.
    pub fn new(b: &ParamBuilder, p: f64) -> Result<Self> {
        if !(0.0..1.0).contains(&p) {
            return Err(ModelError::Config(format!(
                "layer `{}`: dropout p = {p} must be in [0, 1)",
                b.prefix()
            )));
        }
        let stream = b.path("dropout-mask");
        Ok(Self {
            p,
            rng: Mutex::new(crate::init::stream(b.seed(), &stream)),
            stream,
        })
    }

    /// Restart the mask stream from `seed` (the same stream as a layer built with that seed), so
    /// a task can make the masks of a step a function of `(run seed, step)` and a resumed run
    /// draws the masks an uninterrupted run would.
    pub fn reseed(&self, seed: u64) {
        let mut rng = self.rng.lock().unwrap_or_else(|e| e.into_inner());
        *rng = crate::init::stream(seed, &self.stream);
    }

    /// Apply dropout (training) or the identity (evaluation).
    pub fn forward_t(&self, x: &Tensor, train: bool) -> Result<Tensor> {
        if !train || self.p == 0.0 {
            return Ok(x.clone());
        }
        let keep = 1.0 - self.p;
        let scale = (1.0 / keep) as f32;
        let mask: Vec<f32> = {
            let mut rng = self.rng.lock().unwrap_or_else(|e| e.into_inner());
            (0..x.elem_count())
                .map(|_| {
                    if rng.random::<f64>() < keep {
                        scale
                    } else {
                        0.0
                    }
                })
                .collect()
        };
        let mask = Tensor::from_vec(mask, x.shape(), x.device())?.to_dtype(x.dtype())?;
        Ok((x * mask)?)
    }
}
