//! Transformer-XL training throughput: tokens/s of a training step (forward, backward of the mean
//! NLL with the memory carried, one AdamW step) on a small model, for this crate's
//! [`adamp_models::lm::TransformerXl`] and `adamp_optim::AdamW`; compare with PyTorch
//! CPU on the same configuration through `tools/bench_transformer_xl_torch.py` (same thread count).
//!
//! ```text
//! RAYON_NUM_THREADS=1 cargo run --release -p adamp-models --example bench_transformer_xl -- [steps]
//! python3 tools/bench_transformer_xl_torch.py --threads 1 [--steps N]
//! ```

use std::time::Instant;

use adamp_models::lm::{SegmentSpec, TransformerXl, TransformerXlConfig};
use adamp_optim::{AdamW, AdamWConfig, Optimizer};
use candle_core::{Device, Tensor};

fn main() -> anyhow::Result<()> {
    let steps: usize = std::env::args()
        .nth(1)
        .map(|s| s.parse())
        .transpose()?
        .unwrap_or(10);
    // keep in sync with tools/bench_transformer_xl_torch.py
    let cfg = TransformerXlConfig {
        n_token: 10000,
        n_layer: 4,
        n_head: 4,
        d_model: 128,
        d_head: 32,
        d_inner: 512,
        d_embed: 128,
        dropout: 0.1,
        dropatt: 0.0,
        pre_lnorm: false,
        cutoffs: vec![2000, 4000],
        div_val: 1,
        tie_weight: true,
        tie_projs: true,
        weight_norm: std::env::var("BENCH_WN").is_ok(),
        init_std: 0.02,
        proj_init_std: 0.01,
        seed: 0,
    };
    let (tgt_len, batch) = (64usize, 16usize);
    let spec = SegmentSpec {
        mem_len: 64,
        ext_len: 0,
        clamp_len: 0,
        same_length: false,
    };
    let dev = Device::Cpu;
    let model = TransformerXl::new(&cfg, &dev)?;
    let mut mems = model.empty_mems(batch, &dev)?;
    let mut opt = AdamW::new(model.weights().params(), AdamWConfig::default())?;
    let mut s = 12345u64;
    let mut ids = |n: usize| -> Vec<u32> {
        (0..n)
            .map(|_| {
                s = s
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                ((s >> 33) % cfg.n_token as u64) as u32
            })
            .collect()
    };
    let warmup = 2;
    let mut start = Instant::now();
    for step in 0..warmup + steps {
        if step == warmup {
            start = Instant::now();
        }
        let data = Tensor::from_vec(ids(tgt_len * batch), (tgt_len, batch), &dev)?;
        let target = Tensor::from_vec(ids(tgt_len * batch), (tgt_len, batch), &dev)?;
        let out = model.forward(&data, &target, &mems, &spec, Some(step as u64))?;
        let grads = out.nll.mean_all()?.backward()?;
        opt.step(&grads)?;
        mems = out.mems;
    }
    let secs = start.elapsed().as_secs_f64();
    let tps = (steps * tgt_len * batch) as f64 / secs;
    println!("params={} tokens_per_s={tps:.0}", model.num_params());
    Ok(())
}
