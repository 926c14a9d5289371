//! A small conv -> BatchNorm (train mode) -> ReLU -> conv(1x1) -> BatchNorm -> ReLU -> global
//! average pool -> linear network built from candle-core ops, with named parameters and the
//! structural metadata a model builder records. Same architecture as the `*_convbn_net` fixtures
//! of `tools/gen_optim_fixtures.py`.

use adamp_optim::{Param, ParamKind, ParamList, ParamMeta};
use candle_core::{DType, Result, Tensor, Var};

use super::rng::SplitMix64;

/// The network's parameters. Both convolutions feed a BatchNorm in train mode, so each output
/// channel of their weights is scale-invariant (paper, Section 2.1).
pub struct ConvBnNet {
    pub conv1: Var,
    pub bn1_weight: Var,
    pub bn1_bias: Var,
    pub conv2: Var,
    pub bn2_weight: Var,
    pub bn2_bias: Var,
    pub fc_weight: Var,
    pub fc_bias: Var,
    /// BatchNorm's `eps` (torch's default is 1e-5; 0 makes the scale invariance exact).
    pub bn_eps: f64,
}

/// One batch: inputs `[n, 4, 8, 8]` and one-hot labels `[n, 10]`.
pub struct Batch {
    pub x: Tensor,
    pub one_hot: Tensor,
}

fn var(rng: &mut SplitMix64, shape: &[usize], std: f64, mean: f64, dtype: DType) -> Var {
    let t = (rng.tensor(shape, std, dtype) + mean).expect("init");
    Var::from_tensor(&t).expect("Var")
}

impl ConvBnNet {
    /// Random initialisation (He-normal convolutions, gains near 1).
    pub fn new(rng: &mut SplitMix64, dtype: DType, bn_eps: f64) -> Self {
        Self {
            conv1: var(rng, &[8, 4, 3, 3], (2.0f64 / 36.0).sqrt(), 0.0, dtype),
            bn1_weight: var(rng, &[8], 0.1, 1.0, dtype),
            bn1_bias: var(rng, &[8], 0.1, 0.0, dtype),
            conv2: var(rng, &[16, 8, 1, 1], (2.0f64 / 8.0).sqrt(), 0.0, dtype),
            bn2_weight: var(rng, &[16], 0.1, 1.0, dtype),
            bn2_bias: var(rng, &[16], 0.1, 0.0, dtype),
            fc_weight: var(rng, &[10, 16], 0.25, 0.0, dtype),
            fc_bias: var(rng, &[10], 0.1, 0.0, dtype),
            bn_eps,
        }
    }

    /// The parameters with the metadata a model builder would record.
    pub fn param_list(&self) -> ParamList {
        let p = |name: &str, var: &Var, meta: ParamMeta| Param {
            name: name.to_string(),
            var: var.clone(),
            meta,
            group: 0,
        };
        ParamList::new(vec![
            p(
                "conv1.weight",
                &self.conv1,
                ParamMeta::scale_invariant(ParamKind::Conv),
            ),
            p(
                "bn1.weight",
                &self.bn1_weight,
                ParamMeta::new(ParamKind::NormGain),
            ),
            p("bn1.bias", &self.bn1_bias, ParamMeta::new(ParamKind::Bias)),
            p(
                "conv2.weight",
                &self.conv2,
                ParamMeta::scale_invariant(ParamKind::Conv),
            ),
            p(
                "bn2.weight",
                &self.bn2_weight,
                ParamMeta::new(ParamKind::NormGain),
            ),
            p("bn2.bias", &self.bn2_bias, ParamMeta::new(ParamKind::Bias)),
            p(
                "fc.weight",
                &self.fc_weight,
                ParamMeta::new(ParamKind::Linear),
            ),
            p("fc.bias", &self.fc_bias, ParamMeta::new(ParamKind::Bias)),
        ])
        .expect("parameter list")
    }

    /// A random batch of `n` examples.
    pub fn batch(rng: &mut SplitMix64, n: usize, dtype: DType) -> Batch {
        let x = rng.tensor(&[n, 4, 8, 8], 1.0, dtype);
        let mut one_hot = vec![0.0; n * 10];
        for i in 0..n {
            one_hot[i * 10 + (rng.next_u64() % 10) as usize] = 1.0;
        }
        let one_hot = Tensor::from_vec(one_hot, (n, 10), &candle_core::Device::Cpu)
            .and_then(|t| t.to_dtype(dtype))
            .expect("labels");
        Batch { x, one_hot }
    }

    /// Mean cross-entropy of the batch, with `conv1_weight` in place of `conv1` when given.
    pub fn loss(&self, batch: &Batch, conv1_weight: Option<&Tensor>) -> Result<Tensor> {
        self.loss_with(batch, conv1_weight, None)
    }

    /// Mean cross-entropy, optionally replacing conv1's weight and/or the head's weight.
    pub fn loss_with(
        &self,
        batch: &Batch,
        conv1_weight: Option<&Tensor>,
        fc_weight: Option<&Tensor>,
    ) -> Result<Tensor> {
        let conv1 = conv1_weight.unwrap_or(self.conv1.as_tensor());
        let fc = fc_weight.unwrap_or(self.fc_weight.as_tensor());
        let h = batch.x.conv2d(conv1, 1, 1, 1, 1)?;
        let h = batch_norm_train(&h, &self.bn1_weight, &self.bn1_bias, self.bn_eps)?.relu()?;
        let h = h.conv2d(self.conv2.as_tensor(), 0, 1, 1, 1)?;
        let h = batch_norm_train(&h, &self.bn2_weight, &self.bn2_bias, self.bn_eps)?.relu()?;
        let pooled = h.mean((2, 3))?;
        let logits = pooled
            .matmul(&fc.t()?)?
            .broadcast_add(self.fc_bias.as_tensor())?;
        let log_probs = logits.broadcast_sub(&logits.log_sum_exp(1)?.unsqueeze(1)?)?;
        let n = batch.x.dim(0)? as f64;
        (log_probs * &batch.one_hot)?
            .sum_all()?
            .affine(-1.0 / n, 0.0)
    }
}

/// BatchNorm2d in train mode: normalise each channel with the batch mean and biased variance
/// over (N, H, W), then scale by `gamma` and shift by `beta`.
pub fn batch_norm_train(x: &Tensor, gamma: &Var, beta: &Var, eps: f64) -> Result<Tensor> {
    let c = x.dim(1)?;
    let mean = x.mean_keepdim((0, 2, 3))?;
    let centered = x.broadcast_sub(&mean)?;
    let var = centered.sqr()?.mean_keepdim((0, 2, 3))?;
    let normed = centered.broadcast_div(&(var + eps)?.sqrt()?)?;
    normed
        .broadcast_mul(&gamma.as_tensor().reshape((1, c, 1, 1))?)?
        .broadcast_add(&beta.as_tensor().reshape((1, c, 1, 1))?)
}
