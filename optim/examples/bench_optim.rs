//! Optimizer step benchmark on the ResNet-18 parameter shapes (issue item 6).
//!
//! `make bench-optim` = `cargo run --release -p adamp-optim --example bench_optim`.
//! Times one step (median after warm-up) of our SGD (momentum 0.9, wd), SGDP, Adam, AdamW and
//! AdamP (fused CPU path, and AdamP on the tensor-op path), candle-nn's AdamW, and -- if
//! `ADAMP_TORCH_PYTHON` or the project's `.venv/bin/python` exists -- `adamp.AdamP`/`adamp.SGDP`
//! and `torch.optim.AdamW`/`SGD` with the same thread count (`bench_optim_torch.py`). Measures a
//! streaming bandwidth (an in-place update over the same threads: read four arrays, write three
//! of them back, as Adam does; see [`update_bandwidth`]) and prints each optimizer's time over its
//! bandwidth floor: the bytes it must move per step (f32: SGD/SGDP read w, g, buf and write w, buf
//! = 5 x 4 bytes/param; Adam/AdamW/AdamP read w, g, m, v and write w, m, v = 7 x 4 bytes/param)
//! divided by that bandwidth.
//! Writes `results/bench/optim.csv` (optimizer, implementation, ms_per_step, floor_ms) atomically.
//!
//! Gradients: conv weights get per-row gradients orthogonal to the weight (as a conv followed by
//! BatchNorm has, so SGDP/AdamP take their common channel-view path); all others random.
//!
//! `--device cuda` (build with `--features cuda`; `metal` likewise) times the same steps on the GPU
//! beside candle-nn's AdamW and -- with `ADAMP_TORCH_PYTHON` -- `adamp.AdamP` / `adamp.SGDP` and
//! `torch.optim` (AdamW and SGD, each default, `foreach=True` and `fused=True`) on the same GPU;
//! every timed step ends with a device synchronize. The floor there comes from the device's copy
//! bandwidth, measured in the same run ([`copy_bandwidth`]: a 1 GiB device-to-device copy, bytes
//! read + written over time). Our AdamP is timed with its statistics on (what every step of a run
//! computes unless told otherwise) and, where the optimizers can turn them off
//! ([`set_stats`]), off. Writes `results/bench/optim_cuda.csv`, and with `--summary FILE` the
//! figures the GPU check compares against the targets as JSON
//! (`tools/gpu_check/summary.py` reads it).

use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

use adamp_optim::*;
use candle_core::backprop::GradStore;
use candle_core::{Device, Tensor, Var};
use rayon::prelude::*;

const WARMUP: usize = 3;
const ITERS: usize = 11;
/// Interleaved AdamW/AdamP step pairs for [`paired_ratio`].
const PAIRED: usize = 101;

/// The 62 parameter tensors of torchvision's resnet18 (11,689,512 parameters).
fn resnet18_shapes() -> Vec<(String, Vec<usize>)> {
    let mut s: Vec<(String, Vec<usize>)> = vec![
        ("conv1.weight".into(), vec![64, 3, 7, 7]),
        ("bn1.weight".into(), vec![64]),
        ("bn1.bias".into(), vec![64]),
    ];
    let mut inplanes = 64;
    for (li, planes) in [64usize, 128, 256, 512].into_iter().enumerate() {
        for b in 0..2 {
            let cin = if b == 0 { inplanes } else { planes };
            let pre = format!("layer{}.{b}", li + 1);
            s.push((format!("{pre}.conv1.weight"), vec![planes, cin, 3, 3]));
            s.push((format!("{pre}.bn1.weight"), vec![planes]));
            s.push((format!("{pre}.bn1.bias"), vec![planes]));
            s.push((format!("{pre}.conv2.weight"), vec![planes, planes, 3, 3]));
            s.push((format!("{pre}.bn2.weight"), vec![planes]));
            s.push((format!("{pre}.bn2.bias"), vec![planes]));
            if b == 0 && li > 0 {
                s.push((
                    format!("{pre}.downsample.0.weight"),
                    vec![planes, cin, 1, 1],
                ));
                s.push((format!("{pre}.downsample.1.weight"), vec![planes]));
                s.push((format!("{pre}.downsample.1.bias"), vec![planes]));
            }
        }
        inplanes = planes;
    }
    s.push(("fc.weight".into(), vec![1000, 512]));
    s.push(("fc.bias".into(), vec![1000]));
    s
}

/// Deterministic values in [-scale, scale).
fn values(n: usize, seed: u64, scale: f32) -> Vec<f32> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            ((x >> 40) as f32 / (1u64 << 24) as f32 * 2.0 - 1.0) * scale
        })
        .collect()
}

struct Model {
    /// Where the parameters live (`--device`).
    device: Device,
    params: Vec<(String, Var)>,
    /// Initial weights (every optimizer starts from them).
    init: Vec<Tensor>,
    /// Random gradients before the per-row projection of conv weights.
    base: Vec<Vec<f32>>,
}

/// The device `--device cpu|cuda|cuda:N|metal` names (default cpu).
fn bench_device() -> candle_core::Result<Device> {
    let spec = std::env::args()
        .skip_while(|a| a != "--device")
        .nth(1)
        .unwrap_or_else(|| "cpu".into());
    match spec.as_str() {
        "cpu" => Ok(Device::Cpu),
        "cuda" => Device::new_cuda(0),
        "metal" => Device::new_metal(0),
        s => match s.strip_prefix("cuda:").and_then(|n| n.parse().ok()) {
            Some(n) => Device::new_cuda(n),
            None => Err(candle_core::Error::Msg(format!(
                "--device `{s}`: expected cpu, cuda, cuda:N or metal"
            ))),
        },
    }
}

fn model(device: &Device) -> candle_core::Result<Model> {
    let mut params = Vec::new();
    let mut init = Vec::new();
    let mut base = Vec::new();
    for (i, (name, dims)) in resnet18_shapes().into_iter().enumerate() {
        let n: usize = dims.iter().product();
        let w = Tensor::from_vec(
            values(n, 2 * i as u64 + 1, 0.05),
            dims.as_slice(),
            &Device::Cpu,
        )?
        .to_device(device)?;
        params.push((name, Var::from_tensor(&w)?));
        init.push(w);
        base.push(values(n, 2 * i as u64 + 2, 1e-3));
    }
    Ok(Model {
        device: device.clone(),
        params,
        init,
        base,
    })
}

/// Put the initial weights back.
fn reset(m: &Model) -> candle_core::Result<()> {
    for ((_, v), w) in m.params.iter().zip(&m.init) {
        v.set(w)?;
    }
    Ok(())
}

/// Gradients for the current weights: conv weights get the base gradient minus its projection on
/// each output channel of the weight (what a conv followed by BatchNorm receives), the others the
/// base gradient. Recomputed before every timed step (untimed), as training would.
fn grad_store(m: &Model) -> candle_core::Result<GradStore> {
    let mut gs = GradStore::default();
    for ((_, v), base) in m.params.iter().zip(&m.base) {
        let mut g = base.clone();
        if v.rank() == 4 {
            let w = v.as_tensor().flatten_all()?.to_vec1::<f32>()?;
            let rows = v.dims()[0];
            let len = w.len() / rows;
            g.par_chunks_mut(len)
                .zip(w.par_chunks(len))
                .for_each(|(gr, wr)| {
                    let dot: f64 = wr
                        .iter()
                        .zip(gr.iter())
                        .map(|(a, b)| *a as f64 * *b as f64)
                        .sum();
                    let ww: f64 = wr.iter().map(|a| *a as f64 * *a as f64).sum();
                    let c = (dot / ww) as f32;
                    gr.iter_mut().zip(wr).for_each(|(b, a)| *b -= c * a);
                });
        }
        gs.insert(
            v.as_tensor(),
            Tensor::from_vec(g, v.dims(), &Device::Cpu)?.to_device(&m.device)?,
        );
    }
    Ok(gs)
}

fn param_list(m: &Model) -> Result<ParamList> {
    ParamList::new(
        m.params
            .iter()
            .map(|(name, var)| Param {
                name: name.clone(),
                var: var.clone(),
                meta: ParamMeta::new(if var.rank() > 1 {
                    ParamKind::Conv
                } else {
                    ParamKind::Bias
                }),
                group: 0,
            })
            .collect(),
    )
}

/// Median wall time of `step` over `ITERS` runs after `WARMUP`, with `prepare` (untimed) before
/// each.
///
/// `prepare`'s value is dropped after the clock stops (freeing the gradients is not part of a
/// step). `--min` reports the fastest run instead of the median (steadier on a shared machine).
fn median_ms<P>(mut prepare: impl FnMut() -> P, mut step: impl FnMut(&P)) -> f64 {
    let mut t = Vec::new();
    for i in 0..WARMUP + ITERS {
        let p = prepare();
        let s = Instant::now();
        step(&p);
        let ms = s.elapsed().as_secs_f64() * 1e3;
        drop(p);
        if i >= WARMUP {
            t.push(ms);
        }
    }
    t.sort_by(|a, b| a.total_cmp(b));
    if std::env::args().any(|a| a == "--min") {
        t[0]
    } else {
        t[t.len() / 2]
    }
}

/// The AdamP every timing uses: the defaults with weight decay 1e-2 (AdamW's default).
fn adamp_config() -> AdamPConfig {
    AdamPConfig {
        weight_decay: 1e-2,
        ..Default::default()
    }
}

/// [`paired_ratio`]'s result: the median and quartiles of the per-pair ratios, and the ratio
/// of the two optimizers' fastest steps over the same pairs (noise on a shared host only ever
/// adds time, so each side's fastest step is its least disturbed one).
#[derive(Clone, Copy)]
struct Paired {
    median: f64,
    quartiles: (f64, f64),
    fastest: f64,
}

/// Steps of two optimizers timed alternately (`a, b`, then `b, a`, ...) on fresh gradients,
/// `PAIRED` pairs after `WARMUP`: the median of the per-pair ratios `b / a` with its interquartile
/// range, and the ratio of the fastest steps (see [`Paired`]). Each pair runs within a few milliseconds, so a slow phase of a shared host (other
/// tenants' memory traffic) slows both sides of a pair alike, where two medians taken a second
/// apart (the table above) can differ by 15% on their own.
fn paired_ratio(m: &Model, a: &mut dyn Optimizer, b: &mut dyn Optimizer) -> Result<Paired> {
    let time = |o: &mut dyn Optimizer| -> Result<f64> {
        let gs = grad_store(m)?;
        let s = Instant::now();
        o.step(&gs)?;
        m.device.synchronize()?;
        Ok(s.elapsed().as_secs_f64())
    };
    let (mut r, mut fastest) = (Vec::new(), (f64::INFINITY, f64::INFINITY));
    for i in 0..WARMUP + PAIRED {
        // Alternate which runs first, so neither side always follows the other's traffic.
        let (ta, tb) = if i % 2 == 0 {
            let ta = time(a)?;
            (ta, time(b)?)
        } else {
            let tb = time(b)?;
            (time(a)?, tb)
        };
        if i >= WARMUP {
            r.push(tb / ta);
            fastest = (fastest.0.min(ta), fastest.1.min(tb));
        }
    }
    r.sort_by(|x, y| x.total_cmp(y));
    let q = |f: f64| r[((r.len() - 1) as f64 * f).round() as usize];
    Ok(Paired {
        median: q(0.5),
        quartiles: (q(0.25), q(0.75)),
        fastest: fastest.1 / fastest.0,
    })
}

/// Streaming bandwidth in bytes/s of an in-place update with the optimizers' access pattern:
/// four 64 MiB f32 arrays are read and three of them written back (Adam's `w, g, m, v` in, `w, m,
/// v` out), on the rayon pool. The written lines were just read, so exactly the 7 x 4 bytes per
/// element counted move (a STREAM triad's store to an unread array also pulls that array in
/// first, traffic the triad does not count). On the development host both kernels measured the
/// same 36-38 GB/s. AdamW still runs under this floor (about 0.8x), presumably because part of
/// the gradients, written just before each timed step, is still in the 32 MiB last-level cache.
fn update_bandwidth() -> f64 {
    let n = 16 << 20;
    let (mut a, b, mut c, mut d) = (vec![1f32; n], vec![1f32; n], vec![1f32; n], vec![1f32; n]);
    let ms = median_ms(
        || (),
        |_| {
            a.par_chunks_mut(1 << 16)
                .zip(b.par_chunks(1 << 16))
                .zip(c.par_chunks_mut(1 << 16))
                .zip(d.par_chunks_mut(1 << 16))
                .for_each(|(((a, b), c), d)| {
                    for i in 0..a.len() {
                        // Averages keep the values near 1 (no overflow, no subnormals).
                        let x = 0.5 * (a[i] + b[i]);
                        let y = 0.5 * (c[i] + x);
                        a[i] = x;
                        c[i] = y;
                        d[i] = 0.5 * (d[i] + y);
                    }
                });
        },
    );
    std::hint::black_box((&a, &c, &d));
    (7 * 4 * n) as f64 / (ms / 1e3)
}

/// Copy bandwidth of a GPU in bytes/s: a 1 GiB f32 buffer copied into another on the device
/// (`cuMemcpyDtoD` through `Var::set`), median of `ITERS` copies after `WARMUP`, each ended by a
/// synchronize; 2 GiB (read + written) per copy. The floor of an optimizer step on a GPU is the
/// bytes it must move over this bandwidth.
fn copy_bandwidth(device: &Device) -> candle_core::Result<f64> {
    let n = 1usize << 28;
    let src = Tensor::ones(n, candle_core::DType::F32, device)?;
    let dst = Var::zeros(n, candle_core::DType::F32, device)?;
    device.synchronize()?;
    let ms = median_ms(
        || (),
        |_| {
            dst.set(&src).expect("device copy");
            device.synchronize().expect("synchronize");
        },
    );
    Ok((2 * 4 * n) as f64 / (ms / 1e3))
}

/// Turn AdamP's per-step statistics on or off (`Optimizer::set_stats`, on by default; only the
/// GPU step skips them when off). Returns whether the statistics-off timing is meaningful.
fn set_stats(o: &mut AdamP, on: bool) -> bool {
    o.set_stats(on);
    true
}

/// Run `bench_optim_torch.py` if a PyTorch interpreter exists; its JSON output.
fn torch_times(threads: usize, device: &str) -> Option<serde_json::Value> {
    let py = std::env::var("ADAMP_TORCH_PYTHON").unwrap_or_else(|_| ".venv/bin/python".into());
    if !std::path::Path::new(&py).exists() {
        eprintln!("no PyTorch interpreter at {py} (set ADAMP_TORCH_PYTHON): skipping the torch comparison");
        return None;
    }
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples/bench_optim_torch.py");
    let out = std::process::Command::new(&py)
        .arg(&script)
        .args([
            threads.to_string(),
            WARMUP.to_string(),
            ITERS.to_string(),
            device.to_string(),
        ])
        .output()
        .ok()?;
    if !out.status.success() {
        eprintln!(
            "bench_optim_torch.py failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        return None;
    }
    serde_json::from_slice(&out.stdout).ok()
}

struct Row {
    optimizer: &'static str,
    implementation: String,
    ms: f64,
    floor_ms: f64,
}

fn main() -> anyhow_free::Result {
    let threads = rayon::current_num_threads();
    let device = bench_device()?;
    let gpu = !device.is_cpu();
    let device_name = match &device {
        Device::Cpu => "cpu",
        Device::Cuda(_) => "cuda",
        Device::Metal(_) => "metal",
    };
    let m = model(&device)?;
    let numel: usize = m.params.iter().map(|(_, v)| v.elem_count()).sum();
    assert_eq!(
        (m.params.len(), numel),
        (62, 11_689_512),
        "ResNet-18 shapes"
    );
    // The floor: host memory's update bandwidth on the CPU, the device's copy bandwidth on a GPU.
    let bw = match &device {
        Device::Cpu => update_bandwidth(),
        Device::Cuda(_) => copy_bandwidth(&device)?,
        Device::Metal(_) => f64::NAN,
    };
    let floor = |arrays: usize| (arrays * 4 * numel) as f64 / bw * 1e3;
    if gpu {
        println!(
            "ResNet-18 shapes: {} tensors, {numel} params; device {device_name}; copy bandwidth (1 GiB device-to-device) {:.0} GB/s",
            m.params.len(),
            bw / 1e9
        );
    } else {
        println!("ResNet-18 shapes: {} tensors, {numel} params; {threads} threads; in-place update bandwidth {:.1} GB/s", m.params.len(), bw / 1e9);
    }
    let ours_label = if gpu {
        format!("adamp-optim ({device_name})")
    } else {
        "adamp-optim fused".to_string()
    };

    {
        // Which projection each tensor takes (SGDP/AdamP use the same test).
        let mut probe = AdamP::new(param_list(&m)?, AdamPConfig::default())?;
        let r = probe.step(&grad_store(&m)?)?;
        reset(&m)?;
        let count = |v: ProjectionView| r.params.iter().filter(|(_, s)| s.projection == v).count();
        println!(
            "AdamP projection views: channel {}, layer {}, none {}",
            count(ProjectionView::Channel),
            count(ProjectionView::Layer),
            count(ProjectionView::None)
        );
    }
    let mut rows: Vec<Row> = Vec::new();
    let mut ours = |optimizer: &'static str,
                    arrays: usize,
                    mut o: Box<dyn Optimizer + Send>,
                    label: &str|
     -> Result<f64> {
        // `--only NAME`: time just that optimizer (for profiling); the others report 0.
        let only = std::env::args().skip_while(|a| a != "--only").nth(1);
        if only.as_deref().is_some_and(|n| n != optimizer) {
            return Ok(0.0);
        }
        reset(&m)?;
        let ms = median_ms(
            || grad_store(&m).expect("gradients"),
            |gs| {
                o.step(gs).expect("step");
                m.device.synchronize().expect("synchronize");
            },
        );
        rows.push(Row {
            optimizer,
            implementation: label.into(),
            ms,
            floor_ms: floor(arrays),
        });
        Ok(ms)
    };
    let sgd = ours(
        "sgd",
        5,
        Box::new(Sgd::new(
            param_list(&m)?,
            SgdConfig {
                momentum: 0.9,
                weight_decay: 1e-4,
                ..SgdConfig::new(0.1)
            },
        )?),
        &ours_label,
    )?;
    let sgdp = ours(
        "sgdp",
        5,
        Box::new(Sgdp::new(
            param_list(&m)?,
            SgdpConfig {
                momentum: 0.9,
                weight_decay: 1e-4,
                ..SgdpConfig::new(0.1)
            },
        )?),
        &ours_label,
    )?;
    let _adam = ours(
        "adam",
        7,
        Box::new(Adam::new(
            param_list(&m)?,
            AdamConfig {
                weight_decay: 1e-2,
                ..Default::default()
            },
        )?),
        &ours_label,
    )?;
    let adamw = ours(
        "adamw",
        7,
        Box::new(AdamW::new(param_list(&m)?, AdamWConfig::default())?),
        &ours_label,
    )?;
    let adamp = ours(
        "adamp",
        7,
        Box::new(AdamP::new(param_list(&m)?, adamp_config())?),
        &ours_label,
    )?;
    // AdamP without its statistics (what a step that is not logged computes), where available.
    let adamp_no_stats = {
        let mut o = AdamP::new(param_list(&m)?, adamp_config())?;
        if gpu && set_stats(&mut o, false) {
            Some(ours(
                "adamp",
                7,
                Box::new(o),
                &format!("{ours_label}, statistics off"),
            )?)
        } else {
            None
        }
    };
    // AdamP / AdamW again, from interleaved steps (see `paired_ratio`).
    let paired = if std::env::args().any(|a| a == "--only") {
        None
    } else {
        reset(&m)?;
        let mut w = AdamW::new(param_list(&m)?, AdamWConfig::default())?;
        let mut p = AdamP::new(param_list(&m)?, adamp_config())?;
        Some(paired_ratio(&m, &mut w, &mut p)?)
    };
    let paired_line = |p: Paired| {
        format!(
            "AdamP / AdamW (ours), {PAIRED} interleaved step pairs: median {:.3} (quartiles {:.3}-{:.3}); fastest over fastest {:.3}  (target <= 1.3)",
            p.median, p.quartiles.0, p.quartiles.1, p.fastest
        )
    };
    // `--quick`: only our fused optimizers (for profiling the kernels).
    let quick = std::env::args().any(|a| a == "--quick") && !gpu;
    if quick {
        println!(
            "AdamP / AdamW {:.3}; SGDP / SGD {:.3}; floors: sgd {:.2} ms, adam {:.2} ms",
            adamp / adamw,
            sgdp / sgd,
            floor(5),
            floor(7)
        );
        for r in &rows {
            println!(
                "{:<8} {:>8.2} ms  x floor {:.2}",
                r.optimizer,
                r.ms,
                r.ms / r.floor_ms
            );
        }
        if let Some(p) = paired {
            println!("{}", paired_line(p));
        }
        return Ok(());
    }
    let mut tensor_adamp = AdamP::new(param_list(&m)?, adamp_config())?;
    tensor_adamp.set_backend(StepBackend::TensorOps);
    if !gpu {
        ours("adamp", 7, Box::new(tensor_adamp), "adamp-optim tensor-ops")?;
    }

    // candle-nn's AdamW on the same shapes.
    {
        use candle_nn::Optimizer as _;
        let vars: Vec<Var> = m.params.iter().map(|(_, v)| v.clone()).collect();
        let mut o = candle_nn::AdamW::new(
            vars,
            candle_nn::ParamsAdamW {
                lr: 1e-3,
                weight_decay: 1e-2,
                ..Default::default()
            },
        )?;
        reset(&m)?;
        let ms = median_ms(
            || grad_store(&m).expect("gradients"),
            |gs| {
                o.step(gs).expect("candle-nn step");
                m.device.synchronize().expect("synchronize");
            },
        );
        rows.push(Row {
            optimizer: "adamw",
            implementation: "candle-nn 0.11.1".into(),
            ms,
            floor_ms: floor(7),
        });
    }
    let mut torch_copy_gb_per_s = None;
    if let Some(t) = torch_times(threads, device_name) {
        let ver = t["torch_version"].as_str().unwrap_or("?").to_string();
        torch_copy_gb_per_s = t["copy_gb_per_s"].as_f64();
        if let Some(g) = torch_copy_gb_per_s {
            println!("copy bandwidth measured by torch {ver} on the same device: {g:.0} GB/s");
        }
        for (key, opt, arrays) in [
            ("adamp.AdamP", "adamp", 7),
            ("torch.optim.AdamW", "adamw", 7),
            ("torch.optim.AdamW(foreach)", "adamw", 7),
            ("torch.optim.AdamW(fused)", "adamw", 7),
            ("adamp.SGDP", "sgdp", 5),
            ("torch.optim.SGD", "sgd", 5),
            ("torch.optim.SGD(foreach)", "sgd", 5),
            ("torch.optim.SGD(fused)", "sgd", 5),
        ] {
            if let Some(ms) = t[key].as_f64() {
                rows.push(Row {
                    optimizer: opt,
                    implementation: format!("{key} (torch {ver})"),
                    ms,
                    floor_ms: floor(arrays),
                });
            }
        }
    }

    println!(
        "{:<8} {:<40} {:>10} {:>10} {:>8}",
        "optim", "implementation", "ms/step", "floor ms", "x floor"
    );
    let or_dash = |x: f64| {
        if x.is_finite() {
            format!("{x:.2}")
        } else {
            "-".into()
        }
    };
    for r in &rows {
        println!(
            "{:<8} {:<40} {:>10.2} {:>10} {:>8}",
            r.optimizer,
            r.implementation,
            r.ms,
            or_dash(r.floor_ms),
            or_dash(r.ms / r.floor_ms)
        );
    }
    println!(
        "AdamP / AdamW (ours): {:.3}  (from the medians above)",
        adamp / adamw
    );
    if let Some(p) = paired {
        println!("{}", paired_line(p));
    }
    println!("SGDP / SGD (ours):    {:.3}", sgdp / sgd);
    if !gpu {
        println!(
            "AdamP / floor:        {:.3}  (target <= 1.5)",
            adamp / floor(7)
        );
    } else {
        println!(
            "AdamP (ours, statistics on): {adamp:.3} ms = {:.2}x its floor  (target <= 1 ms)",
            adamp / floor(7)
        );
        match adamp_no_stats {
            Some(ms) => println!("AdamP (ours, statistics off): {ms:.3} ms"),
            None => println!("AdamP (ours, statistics off): not timed (this build's optimizers always compute their statistics)"),
        }
    }
    if let Some(r) = rows
        .iter()
        .find(|r| r.implementation.starts_with("adamp.AdamP"))
    {
        println!(
            "adamp.AdamP / AdamP (ours): {:.2}x (ours faster if > 1)",
            r.ms / adamp
        );
    }
    if let Some(r) = rows
        .iter()
        .find(|r| r.implementation.starts_with("candle-nn"))
    {
        println!("candle-nn AdamW / AdamW (ours): {:.2}x", r.ms / adamw);
    }

    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../results/bench");
    std::fs::create_dir_all(&dir)?;
    let file = if gpu {
        format!("optim_{device_name}.csv")
    } else {
        "optim.csv".to_string()
    };
    let tmp = dir.join(format!("{file}.tmp"));
    {
        let mut f = std::fs::File::create(&tmp)?;
        writeln!(f, "optimizer,implementation,ms_per_step,floor_ms")?;
        for r in &rows {
            let floor = if r.floor_ms.is_finite() {
                format!("{:.4}", r.floor_ms)
            } else {
                String::new()
            };
            writeln!(
                f,
                "{},{},{:.4},{floor}",
                r.optimizer, r.implementation, r.ms
            )?;
        }
    }
    std::fs::rename(&tmp, dir.join(&file))?;
    println!("wrote {}", dir.join(&file).display());
    if let Some(path) = std::env::args().skip_while(|a| a != "--summary").nth(1) {
        let fastest = |prefix: &str| {
            rows.iter()
                .filter(|r| r.implementation.starts_with(prefix))
                .map(|r| r.ms)
                .min_by(f64::total_cmp)
        };
        let torch = |key: &str| {
            rows.iter()
                .find(|r| r.implementation.starts_with(&format!("{key} (torch")))
                .map(|r| r.ms)
        };
        let summary = serde_json::json!({
            "device": device_name,
            "bandwidth_gb_per_s": bw / 1e9,
            "torch_copy_gb_per_s": torch_copy_gb_per_s,
            "floor_ms_adam": floor(7),
            "floor_ms_sgd": floor(5),
            "adamp_ms": adamp,
            "adamp_no_stats_ms": adamp_no_stats,
            "adamw_ms": adamw,
            "sgd_ms": sgd,
            "sgdp_ms": sgdp,
            "adamp_over_adamw_paired": paired.map(|p| p.median),
            "candle_nn_adamw_ms": fastest("candle-nn"),
            "torch_adamw_fused_ms": torch("torch.optim.AdamW(fused)"),
            "torch_adamw_ms": torch("torch.optim.AdamW"),
            "torch_sgd_fused_ms": torch("torch.optim.SGD(fused)"),
            "adamp_AdamP_ms": torch("adamp.AdamP"),
            "adamp_SGDP_ms": torch("adamp.SGDP"),
        });
        let tmp = format!("{path}.tmp");
        std::fs::write(&tmp, serde_json::to_string_pretty(&summary)?)?;
        std::fs::rename(&tmp, &path)?;
    }
    Ok(())
}

/// A boxed error for `main` (the crate keeps anyhow out of its dependencies).
mod anyhow_free {
    /// `main`'s result.
    pub type Result = std::result::Result<(), Box<dyn std::error::Error>>;
}
