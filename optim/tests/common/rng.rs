//! A small seeded random source for tests (SplitMix64 + Box-Muller), so the tests are
//! deterministic without depending on Candle's unseeded CPU `randn`.

use candle_core::{DType, Device, Tensor};

/// SplitMix64 (Steele, Lea & Flood 2014): a 64-bit state, good enough for test data.
pub struct SplitMix64(u64);

impl SplitMix64 {
    /// A generator seeded with `seed`.
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `[0, 1)`.
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Standard normal (Box-Muller).
    pub fn normal(&mut self) -> f64 {
        let u1 = 1.0 - self.uniform();
        let u2 = self.uniform();
        (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
    }

    /// `n` independent normals scaled by `std`.
    pub fn normals(&mut self, n: usize, std: f64) -> Vec<f64> {
        (0..n).map(|_| std * self.normal()).collect()
    }

    /// A tensor of normals with standard deviation `std`, of `shape` and `dtype`, on the CPU.
    pub fn tensor(&mut self, shape: &[usize], std: f64, dtype: DType) -> Tensor {
        let n = shape.iter().product();
        Tensor::from_vec(self.normals(n, std), shape, &Device::Cpu)
            .and_then(|t| t.to_dtype(dtype))
            .expect("random tensor")
    }
}
