//! Training-throughput benchmark: images/s of forward + backward + SGD step (batch 128, CIFAR
//! shape 3x32x32, 10 classes) for ResNet-20 and MobileNetV2 with (a) this crate's CPU layers,
//! (b) Candle's built-in ops, and (c) PyTorch CPU (`tools/bench_train_torch.py`, same
//! architecture and thread count) when a torch interpreter is found (`ADAMP_TORCH_PYTHON`, else
//! the project's `.venv/bin/python`, see tools/README.md). (a) and (b) are measured interleaved,
//! step by step, so background load affects both alike. Writes `results/bench/train.csv` (atomically) and prints
//! ratios and a per-kernel time profile of (a).
//!
//! ```text
//! cargo run --release -p adamp-models --example bench_train -- [--models resnet20,mobilenet_v2]
//!     [--batch 128] [--warmup 1] [--iters 3] [--rounds 1] [--threads N] [--no-torch] [--no-candle]
//!     [--out results/bench/train.csv] [--malloc-default]
//! ```
//!
//! `--rounds N` repeats the whole measurement (PyTorch before, ours and Candle, PyTorch after) N
//! times per model and reports the median of the per-round ratios with their range; the CSV then
//! holds each implementation's median images/s. On a shared machine whose load moves single
//! measurements by +-15%, a median over 5-9 rounds is the number to quote.
//!
//! Like the `adamp` binary, it first keeps freed memory in the process
//! ([`adamp_models::alloc::keep_freed_memory`]); `--malloc-default` leaves malloc as it is.

use std::path::{Path, PathBuf};
use std::time::Instant;

use adamp_models::ops::profile;
use adamp_models::{build_with, LayerImpl, Model, ModelConfig, ModelKind};
#[path = "common/torch_bench.rs"]
mod torch_bench;

use adamp_optim::{Optimizer, Sgd, SgdConfig};
use anyhow::{bail, Context, Result};
use candle_core::{Device, Tensor};

struct Args {
    models: Vec<ModelKind>,
    batch: usize,
    warmup: usize,
    iters: usize,
    rounds: usize,
    threads: usize,
    torch: bool,
    candle: bool,
    out: PathBuf,
}

fn parse_args() -> Result<Args> {
    let mut a = Args {
        models: vec![ModelKind::ResNet20, ModelKind::MobileNetV2],
        batch: 128,
        warmup: 1,
        iters: 3,
        rounds: 1,
        threads: std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1),
        torch: true,
        candle: true,
        out: PathBuf::from("results/bench/train.csv"),
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().with_context(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--models" => {
                a.models = value()?
                    .split(',')
                    .map(|s| s.parse())
                    .collect::<Result<_, _>>()?;
            }
            "--batch" => a.batch = value()?.parse()?,
            "--warmup" => a.warmup = value()?.parse()?,
            "--iters" => a.iters = value()?.parse()?,
            "--rounds" => a.rounds = value()?.parse()?,
            "--threads" => a.threads = value()?.parse()?,
            "--out" => a.out = PathBuf::from(value()?),
            "--no-torch" => a.torch = false,
            "--no-candle" => a.candle = false,
            "--malloc-default" => {}
            other => bail!(
                "unknown argument `{other}`; see the header of models/examples/bench_train.rs"
            ),
        }
    }
    if a.iters == 0 || a.rounds == 0 || a.batch < 2 {
        bail!("--iters and --rounds must be >= 1 and --batch >= 2");
    }
    Ok(a)
}

struct Trainer {
    model: Model,
    opt: Sgd,
}

impl Trainer {
    fn new(kind: ModelKind, imp: LayerImpl) -> Result<Self> {
        let cfg = ModelConfig {
            kind,
            in_channels: 3,
            num_classes: 10,
            input_hw: (32, 32),
            seed: 0,
            layer_impl: imp,
        };
        let model = build_with(&cfg, &Device::Cpu)?;
        let opt = Sgd::new(
            model.params(),
            SgdConfig {
                momentum: 0.9,
                ..SgdConfig::new(0.01)
            },
        )?;
        Ok(Self { model, opt })
    }

    /// One training step; returns (forward, backward, optimizer) seconds.
    fn step(&mut self, x: &Tensor, y: &Tensor) -> Result<[f64; 3]> {
        let t0 = Instant::now();
        let logits = self.model.forward_t(x, true)?;
        let loss = candle_nn::loss::cross_entropy(&logits, y)?;
        let t1 = Instant::now();
        let grads = loss.backward()?;
        let t2 = Instant::now();
        self.opt.step(&grads)?;
        let t3 = Instant::now();
        Ok([
            (t1 - t0).as_secs_f64(),
            (t2 - t1).as_secs_f64(),
            (t3 - t2).as_secs_f64(),
        ])
    }
}

fn torch_python() -> Option<PathBuf> {
    let p = std::env::var_os("ADAMP_TORCH_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(".venv/bin/python"));
    p.exists().then_some(p)
}

fn torch_images_per_s(py: &Path, kind: ModelKind, a: &Args) -> Result<f64> {
    let args = [
        "--model".to_string(),
        kind.to_string(),
        "--batch".into(),
        a.batch.to_string(),
        "--threads".into(),
        a.threads.to_string(),
        "--warmup".into(),
        (a.warmup + 1).to_string(),
        "--iters".into(),
        (a.iters + 2).to_string(),
    ];
    torch_bench::torch_images_per_s(py, &args)
}

fn main() -> Result<()> {
    let a = parse_args()?;
    // As the `adamp` binary does; `--malloc-default` measures without it.
    if !std::env::args().any(|x| x == "--malloc-default") {
        adamp_models::alloc::keep_freed_memory();
    }
    rayon::ThreadPoolBuilder::new()
        .num_threads(a.threads)
        .build_global()
        .ok();
    let dev = Device::Cpu;
    let x = Tensor::randn(0f32, 1f32, (a.batch, 3, 32, 32), &dev)?;
    let y = Tensor::from_vec(
        (0..a.batch as u32).map(|i| i % 10).collect::<Vec<_>>(),
        a.batch,
        &dev,
    )?;
    let py = if a.torch { torch_python() } else { None };
    let mut rows: Vec<(String, &str, f64)> = Vec::new();
    println!("training throughput, batch {}, 3x32x32, {} threads (ours and Candle interleaved step by step;", a.batch, a.threads);
    println!("other processes on this machine add noise to both)");
    for &kind in &a.models {
        let mut ours = Trainer::new(kind, LayerImpl::Fast)?;
        let mut candle = if a.candle {
            Some(Trainer::new(kind, LayerImpl::Candle)?)
        } else {
            None
        };
        // Per round: (ours, candle, pytorch) images/s.
        let mut rounds: Vec<(f64, f64, Option<f64>)> = Vec::new();
        for round in 0..a.rounds {
            if a.rounds > 1 {
                println!("\n[{kind}, round {} of {}]", round + 1, a.rounds);
            }
            // PyTorch runs in its own process, so it cannot be interleaved step by step: measure it
            // right before and right after ours/Candle and average, to share the background load.
            let torch_before = py.as_ref().map(|py| torch_images_per_s(py, kind, &a));
            let (mut t_ours, mut t_candle) = ([0.0f64; 3], [0.0f64; 3]);
            for i in 0..a.warmup + a.iters {
                let so = ours.step(&x, &y)?;
                let sc = match candle.as_mut() {
                    Some(c) => c.step(&x, &y)?,
                    None => [f64::NAN; 3],
                };
                if i >= a.warmup {
                    for k in 0..3 {
                        t_ours[k] += so[k];
                        t_candle[k] += sc[k];
                    }
                }
            }
            let ips = |t: [f64; 3]| (a.batch * a.iters) as f64 / t.iter().sum::<f64>();
            let (io, ic) = (ips(t_ours), ips(t_candle));
            let mut it_round = None;
            let per = |t: [f64; 3]| t.map(|s| 1e3 * s / a.iters as f64);
            let (po, pc) = (per(t_ours), per(t_candle));
            if a.candle {
                println!(
                    "\n{kind}: ours {io:.1} img/s, candle {ic:.1} img/s, ours/candle {:.2}x",
                    io / ic
                );
                println!(
                    "  ms/step fwd/bwd/opt: ours {:.0}/{:.0}/{:.0}, candle {:.0}/{:.0}/{:.0}",
                    po[0], po[1], po[2], pc[0], pc[1], pc[2]
                );
            } else {
                println!("\n{kind}: ours {io:.1} img/s");
                println!(
                    "  ms/step fwd/bwd/opt: ours {:.0}/{:.0}/{:.0}",
                    po[0], po[1], po[2]
                );
            }
            if let (Some(py), Some(before)) = (&py, torch_before) {
                match before.and_then(|b| Ok((b, torch_images_per_s(py, kind, &a)?))) {
                    Ok((b, after)) => {
                        let it = 0.5 * (b + after);
                        it_round = Some(it);
                        println!("  pytorch {it:.1} img/s (before {b:.1}, after {after:.1}), ours/pytorch {:.2}x", io / it);
                    }
                    Err(e) => println!("  pytorch: skipped ({e:#})"),
                }
            }
            rounds.push((io, ic, it_round));
        }
        rows.push((kind.to_string(), "ours", median(rounds.iter().map(|r| r.0))));
        if a.candle {
            rows.push((
                kind.to_string(),
                "candle",
                median(rounds.iter().map(|r| r.1)),
            ));
        }
        let torch: Vec<(f64, f64)> = rounds
            .iter()
            .filter_map(|r| r.2.map(|t| (r.0, t)))
            .collect();
        if !torch.is_empty() {
            rows.push((
                kind.to_string(),
                "pytorch",
                median(torch.iter().map(|r| r.1)),
            ));
        }
        if a.rounds > 1 {
            let ratios: Vec<f64> = torch.iter().map(|(o, t)| o / t).collect();
            print!(
                "\n{kind} over {} rounds: ours {:.1} img/s (median)",
                a.rounds,
                median(rounds.iter().map(|r| r.0))
            );
            if ratios.is_empty() {
                println!();
            } else {
                let lo = ratios.iter().copied().fold(f64::INFINITY, f64::min);
                let hi = ratios.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                println!(
                    ", ours/pytorch median {:.2}x (range {lo:.2}-{hi:.2}x over {} rounds)",
                    median(ratios.iter().copied()),
                    ratios.len()
                );
            }
        }
        // Per-kernel profile of our layers over the same number of steps.
        profile::reset();
        profile::set_enabled(true);
        let t = Instant::now();
        for _ in 0..a.iters {
            ours.step(&x, &y)?;
        }
        let total = t.elapsed().as_secs_f64();
        profile::set_enabled(false);
        println!(
            "  profile of ours ({} steps, {:.0} ms/step):",
            a.iters,
            1e3 * total / a.iters as f64
        );
        let mut accounted = 0.0;
        let mut prof = profile::snapshot();
        prof.sort_by(|p, q| q.1.total_cmp(&p.1));
        for (k, secs, calls) in prof.into_iter().filter(|p| p.2 > 0) {
            accounted += secs;
            println!(
                "    {:<28} {:>7.1} ms/step {:>5.1}%  ({} calls/step)",
                k.as_str(),
                1e3 * secs / a.iters as f64,
                100.0 * secs / total,
                calls / a.iters as u64
            );
        }
        println!("    {:<28} {:>7.1} ms/step {:>5.1}%  (Candle ops: adds, linear, loss, grad sums, optimizer)", "other", 1e3 * (total - accounted) / a.iters as f64, 100.0 * (total - accounted) / total);
    }
    write_csv(&a.out, &rows, a.threads, a.batch)?;
    println!("\nwrote {}", a.out.display());
    Ok(())
}

/// The median (the mean of the two middle values for an even count; NaN if empty).
fn median(v: impl Iterator<Item = f64>) -> f64 {
    let mut v: Vec<f64> = v.collect();
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    let m = v.len() / 2;
    if v.len() % 2 == 1 {
        v[m]
    } else {
        0.5 * (v[m - 1] + v[m])
    }
}

fn write_csv(
    path: &Path,
    rows: &[(String, &str, f64)],
    threads: usize,
    batch: usize,
) -> Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let mut text = String::from("model,implementation,threads,batch,images_per_s\n");
    for (m, imp, ips) in rows {
        text.push_str(&format!("{m},{imp},{threads},{batch},{ips:.2}\n"));
    }
    let tmp = path.with_extension("csv.tmp");
    std::fs::write(&tmp, text).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("renaming to {}", path.display()))?;
    Ok(())
}
