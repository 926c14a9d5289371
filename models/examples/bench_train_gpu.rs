//! GPU training-throughput benchmark: images/s of whole training steps (forward, cross-entropy,
//! backward, SGD with momentum 0.9) for ResNet-18 at 224x224 (1000 classes) and CIFAR ResNet-20 at
//! 32x32 (10 classes), batch 128, f32, on this crate's layers (`fast`: cuDNN convolutions and the
//! fused BatchNorm / residual kernels of `ops::cuda`) and on Candle's built-in CUDA ops
//! (`candle`), optionally next to PyTorch on the same device (`tools/bench_train_torch.py
//! --device cuda`). The device is synchronised before and after the timed steps.
//!
//! ```text
//! cargo run --release -p adamp-models --features cuda --example bench_train_gpu --
//!     [--device cuda|cpu] [--models resnet18,resnet20] [--impls fast,candle] [--batch 128]
//!     [--warmup 3] [--iters 20] [--no-tf32] [--torch PYTHON] [--out results/bench/train_gpu.csv]
//! ```
//!
//! Prints one `model=... impl=... images_per_s=...` line per measurement and writes them to the
//! CSV (atomically). cuDNN may use TF32 tensor-core math (PyTorch's default for convolutions);
//! `--no-tf32` forbids it. `--torch PYTHON` runs the PyTorch script with that interpreter.

use std::path::{Path, PathBuf};
use std::time::Instant;

use adamp_models::{build_with, ops, LayerImpl, ModelConfig, ModelKind};
#[path = "common/torch_bench.rs"]
mod torch_bench;

use adamp_optim::{Optimizer, Sgd, SgdConfig};
use anyhow::{bail, Context, Result};
use candle_core::{DType, Device, Tensor};

struct Args {
    device: String,
    models: Vec<ModelKind>,
    impls: Vec<LayerImpl>,
    batch: usize,
    warmup: usize,
    iters: usize,
    tf32: bool,
    torch: Option<PathBuf>,
    out: PathBuf,
}

fn parse_args() -> Result<Args> {
    let mut a = Args {
        device: "cuda".into(),
        models: vec![ModelKind::ResNet18, ModelKind::ResNet20],
        impls: vec![LayerImpl::Fast, LayerImpl::Candle],
        batch: 128,
        warmup: 3,
        iters: 20,
        tf32: true,
        torch: None,
        out: PathBuf::from("results/bench/train_gpu.csv"),
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().with_context(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--device" => a.device = value()?,
            "--models" => {
                a.models = value()?
                    .split(',')
                    .map(|s| s.parse())
                    .collect::<Result<_, _>>()?;
            }
            "--impls" => {
                a.impls = value()?
                    .split(',')
                    .map(|s| match s {
                        "fast" => Ok(LayerImpl::Fast),
                        "candle" => Ok(LayerImpl::Candle),
                        other => bail!("unknown implementation `{other}`; expected fast or candle"),
                    })
                    .collect::<Result<_>>()?;
            }
            "--batch" => a.batch = value()?.parse()?,
            "--warmup" => a.warmup = value()?.parse()?,
            "--iters" => a.iters = value()?.parse()?,
            "--no-tf32" => a.tf32 = false,
            "--torch" => a.torch = Some(PathBuf::from(value()?)),
            "--out" => a.out = PathBuf::from(value()?),
            other => bail!(
                "unknown argument `{other}`; see the header of models/examples/bench_train_gpu.rs"
            ),
        }
    }
    if a.iters == 0 || a.batch == 0 {
        bail!("--iters and --batch must be >= 1");
    }
    Ok(a)
}

/// Input size and classes of the benchmark for `kind`.
fn geometry(kind: ModelKind) -> Result<(usize, usize)> {
    Ok(match kind {
        ModelKind::ResNet18 => (224, 1000),
        ModelKind::ResNet20 => (32, 10),
        other => bail!("bench_train_gpu measures resnet18 and resnet20, not {other}"),
    })
}

/// Images/s over `iters` steps after `warmup` steps.
fn measure(kind: ModelKind, imp: LayerImpl, dev: &Device, a: &Args) -> Result<f64> {
    let (hw, classes) = geometry(kind)?;
    let cfg = ModelConfig {
        kind,
        in_channels: 3,
        num_classes: classes,
        input_hw: (hw, hw),
        seed: 0,
        layer_impl: imp,
    };
    let model = build_with(&cfg, dev)?;
    let mut opt = Sgd::new(
        model.params(),
        SgdConfig {
            momentum: 0.9,
            ..SgdConfig::new(0.01)
        },
    )?;
    let x = Tensor::randn(0f32, 1f32, (a.batch, 3, hw, hw), dev)?;
    let y = Tensor::from_vec(
        (0..a.batch as u32)
            .map(|i| i % classes as u32)
            .collect::<Vec<_>>(),
        a.batch,
        dev,
    )?;
    let mut step = || -> Result<Tensor> {
        let logits = model.forward_t(&x, true)?;
        let loss = candle_nn::loss::cross_entropy(&logits, &y)?;
        let grads = loss.backward()?;
        opt.step(&grads)?;
        Ok(loss)
    };
    for _ in 0..a.warmup {
        step()?;
    }
    dev.synchronize()?;
    let t = Instant::now();
    let mut loss = None;
    for _ in 0..a.iters {
        // No host read-back inside the timed loop (as the PyTorch script).
        loss = Some(step()?);
    }
    dev.synchronize()?;
    let secs = t.elapsed().as_secs_f64();
    let last = match loss {
        Some(l) => l.to_dtype(DType::F32)?.to_scalar::<f32>()?,
        None => f32::NAN,
    };
    if !last.is_finite() {
        bail!("{kind} ({imp:?}): the loss is not finite ({last})");
    }
    Ok((a.batch * a.iters) as f64 / secs)
}

fn torch_images_per_s(py: &Path, kind: ModelKind, a: &Args) -> Result<f64> {
    let mut args: Vec<String> = [
        "--model",
        &kind.to_string(),
        "--device",
        &a.device,
        "--batch",
        &a.batch.to_string(),
        "--warmup",
        &a.warmup.to_string(),
        "--iters",
        &a.iters.to_string(),
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    if !a.tf32 {
        args.push("--no-tf32".into());
    }
    torch_bench::torch_images_per_s(py, &args)
}

fn main() -> Result<()> {
    let a = parse_args()?;
    let dev = match a.device.as_str() {
        "cuda" => Device::new_cuda(0).context("opening CUDA device 0")?,
        "cpu" => Device::Cpu,
        other => bail!("unknown device `{other}`; expected cuda or cpu"),
    };
    ops::cuda::set_allow_tf32(a.tf32);
    let mut rows = Vec::new();
    for &kind in &a.models {
        let mut ours = None;
        for &imp in &a.impls {
            let name = match imp {
                LayerImpl::Fast => "fast",
                LayerImpl::Candle => "candle",
            };
            let ips = measure(kind, imp, &dev, &a)?;
            println!(
                "model={kind} impl={name} device={} batch={} tf32={} images_per_s={ips:.1}",
                a.device, a.batch, a.tf32
            );
            if imp == LayerImpl::Fast {
                ours = Some(ips);
            }
            rows.push((kind.to_string(), name.to_string(), ips));
        }
        if let Some(py) = &a.torch {
            match torch_images_per_s(py, kind, &a) {
                Ok(ips) => {
                    let ratio = ours.map(|o| format!(" fast/pytorch={:.2}", o / ips));
                    println!(
                        "model={kind} impl=pytorch device={} batch={} images_per_s={ips:.1}{}",
                        a.device,
                        a.batch,
                        ratio.unwrap_or_default()
                    );
                    rows.push((kind.to_string(), "pytorch".into(), ips));
                }
                Err(e) => println!("model={kind} impl=pytorch skipped ({e:#})"),
            }
        }
    }
    write_csv(&a, &rows)?;
    println!("wrote {}", a.out.display());
    Ok(())
}

fn write_csv(a: &Args, rows: &[(String, String, f64)]) -> Result<()> {
    if let Some(dir) = a.out.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let mut text = String::from("model,implementation,device,batch,tf32,images_per_s\n");
    for (m, imp, ips) in rows {
        text.push_str(&format!(
            "{m},{imp},{},{},{},{ips:.2}\n",
            a.device, a.batch, a.tf32
        ));
    }
    let tmp = a.out.with_extension("csv.tmp");
    std::fs::write(&tmp, text).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, &a.out).with_context(|| format!("renaming to {}", a.out.display()))?;
    Ok(())
}
