//! Deterministic parameter initialisation from a seed (torch.nn.init equivalents).
//!
//! Every tensor draws from its own ChaCha8 stream seeded by `(seed, name)`, so a tensor's initial
//! values depend only on the model seed and its full name, not on construction order.
//! The distributions follow `torch.nn.init` (`kaiming_normal_`, `kaiming_uniform_(a=sqrt(5))`, ...);
//! the random streams are of course not PyTorch's.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// How to fill a freshly created parameter.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Init {
    /// Every element equal to the value (BatchNorm gain 1, biases 0).
    Const(f64),
    /// Normal with mean 0 and this standard deviation.
    Normal {
        /// Standard deviation.
        std: f64,
    },
    /// Uniform on `[-bound, bound)`.
    Uniform {
        /// Half-width.
        bound: f64,
    },
}

impl Init {
    /// `kaiming_normal_(mode='fan_out', nonlinearity='relu')`: std `sqrt(2 / fan_out)` where
    /// `fan_out = shape[0] * prod(shape[2..])` (torch's definition, also for grouped convolutions).
    pub fn kaiming_normal_fan_out(shape: &[usize]) -> Self {
        let fan_out = shape[0] * shape[2..].iter().product::<usize>();
        Init::Normal {
            std: (2.0 / fan_out.max(1) as f64).sqrt(),
        }
    }

    /// `kaiming_normal_(mode='fan_in', nonlinearity='relu')`: std `sqrt(2 / fan_in)` with
    /// `fan_in = prod(shape[1..])`.
    pub fn kaiming_normal_fan_in(shape: &[usize]) -> Self {
        let fan_in = shape[1..].iter().product::<usize>();
        Init::Normal {
            std: (2.0 / fan_in.max(1) as f64).sqrt(),
        }
    }

    /// `xavier_uniform_` (gain 1): `U(-b, b)` with `b = sqrt(6 / (fan_in + fan_out))`,
    /// `fan_in = prod(shape[1..])`, `fan_out = shape[0] * prod(shape[2..])` (ssd.pytorch's
    /// `weights_init` for its extra layers and heads).
    pub fn xavier_uniform(shape: &[usize]) -> Self {
        let rf = shape[2..].iter().product::<usize>();
        let fan_in = shape[1] * rf;
        let fan_out = shape[0] * rf;
        Init::Uniform {
            bound: (6.0 / (fan_in + fan_out).max(1) as f64).sqrt(),
        }
    }

    /// PyTorch's default for `nn.Linear`/`nn.Conv2d` weights and biases
    /// (`kaiming_uniform_(a=sqrt(5))` = `U(-1/sqrt(fan_in), 1/sqrt(fan_in))`), with `fan_in`
    /// the weight's `prod(shape[1..])`.
    pub fn torch_default(fan_in: usize) -> Self {
        Init::Uniform {
            bound: 1.0 / (fan_in.max(1) as f64).sqrt(),
        }
    }

    /// Draw `n` values for the tensor called `name` under model seed `seed`.
    pub fn sample(self, seed: u64, name: &str, n: usize) -> Vec<f32> {
        match self {
            Init::Const(v) => vec![v as f32; n],
            Init::Normal { std } => {
                let mut rng = stream(seed, name);
                let mut out = Vec::with_capacity(n);
                while out.len() < n {
                    // Box-Muller: two independent standard normals per pair of uniforms.
                    let u1: f64 = 1.0 - rng.random::<f64>();
                    let u2: f64 = rng.random::<f64>();
                    let r = (-2.0 * u1.ln()).sqrt();
                    let t = 2.0 * std::f64::consts::PI * u2;
                    out.push((std * r * t.cos()) as f32);
                    if out.len() < n {
                        out.push((std * r * t.sin()) as f32);
                    }
                }
                out
            }
            Init::Uniform { bound } => {
                let mut rng = stream(seed, name);
                (0..n)
                    .map(|_| ((rng.random::<f64>() * 2.0 - 1.0) * bound) as f32)
                    .collect()
            }
        }
    }
}

/// The random stream for one named tensor: ChaCha8 seeded by `seed` mixed with FNV-1a of `name`.
pub(crate) fn stream(seed: u64, name: &str) -> ChaCha8Rng {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in name.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    ChaCha8Rng::seed_from_u64(seed ^ h.rotate_left(17))
}
