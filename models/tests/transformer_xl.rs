//! Transformer-XL (`adamp_models::lm`) against the torch port of kimiyoung/transformer-xl in
//! `tools/gen_transformer_xl_fixtures.py`: per-token NLL and memories of three consecutive
//! segments, gradients of two of them; plus the model's own invariants (weight-norm scale
//! invariance, memory use, dropout streams) and its input checks.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use adamp_models::lm::{rel_shift, Mems, SegmentSpec, TransformerXl, TransformerXlConfig};
use adamp_optim::ParamKind;
use anyhow::{anyhow, Context, Result};
use candle_core::{DType, Device, Tensor};

fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/transformer_xl")
}

struct Fixture {
    cfg: TransformerXlConfig,
    spec: SegmentSpec,
    path: PathBuf,
    tensors: HashMap<String, Tensor>,
    params: Vec<String>,
    num_params: usize,
    segments: usize,
    grad_segments: Vec<usize>,
}

fn load_fixture(case: &str) -> Result<Fixture> {
    let dir = fixture_dir();
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join(format!("{case}.json")))?)?;
    let c = &json["config"];
    let u = |k: &str| -> Result<usize> {
        c[k].as_u64()
            .map(|v| v as usize)
            .ok_or_else(|| anyhow!("{case}.json: config.{k}"))
    };
    let f = |k: &str| c[k].as_f64().unwrap();
    let b = |k: &str| c[k].as_bool().unwrap();
    let cfg = TransformerXlConfig {
        n_token: u("n_token")?,
        n_layer: u("n_layer")?,
        n_head: u("n_head")?,
        d_model: u("d_model")?,
        d_head: u("d_head")?,
        d_inner: u("d_inner")?,
        d_embed: u("d_embed")?,
        dropout: f("dropout"),
        dropatt: f("dropatt"),
        pre_lnorm: b("pre_lnorm"),
        cutoffs: c["cutoffs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_u64().unwrap() as usize)
            .collect(),
        div_val: u("div_val")?,
        tie_weight: b("tie_weight"),
        tie_projs: b("tie_projs"),
        weight_norm: b("weight_norm"),
        init_std: f("init_std"),
        proj_init_std: f("proj_init_std"),
        seed: 0,
    };
    let spec = SegmentSpec {
        mem_len: u("mem_len")?,
        ext_len: u("ext_len")?,
        clamp_len: u("clamp_len")?,
        same_length: b("same_length"),
    };
    let path = dir.join(format!("{case}.safetensors"));
    let tensors = candle_core::safetensors::load(&path, &Device::Cpu)?;
    let params = json["params"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    Ok(Fixture {
        cfg,
        spec,
        path,
        tensors,
        params,
        num_params: json["num_params"].as_u64().unwrap() as usize,
        segments: json["segments"].as_u64().unwrap() as usize,
        grad_segments: json["grad_segments"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_u64().unwrap() as usize)
            .collect(),
    })
}

impl Fixture {
    fn get(&self, name: &str) -> Result<&Tensor> {
        self.tensors
            .get(name)
            .ok_or_else(|| anyhow!("{}: no tensor `{name}`", self.path.display()))
    }

    fn ids(&self, name: &str) -> Result<Tensor> {
        Ok(self.get(name)?.to_dtype(DType::U32)?)
    }

    /// The model with the fixture's parameters loaded by name.
    fn model(&self) -> Result<TransformerXl> {
        let model = TransformerXl::new(&self.cfg, &Device::Cpu)?;
        let n = model
            .weights()
            .load_safetensors_except(&self.path, &["seg"])?;
        assert_eq!(n, self.params.len(), "every reference parameter loads");
        assert_eq!(model.num_params(), self.num_params);
        Ok(model)
    }
}

/// `|got - want| <= abs + rel * |want|` everywhere.
fn assert_close(what: &str, got: &Tensor, want: &Tensor, abs: f32, rel: f32) -> Result<()> {
    assert_eq!(got.dims(), want.dims(), "{what}: shape");
    let g = got.flatten_all()?.to_vec1::<f32>()?;
    let w = want.to_dtype(DType::F32)?.flatten_all()?.to_vec1::<f32>()?;
    let mut worst = (0.0f32, 0usize);
    for (i, (a, b)) in g.iter().zip(&w).enumerate() {
        let excess = (a - b).abs() - (abs + rel * b.abs());
        if excess > worst.0 || excess.is_nan() {
            worst = (excess, i);
        }
    }
    if worst.0 > 0.0 || g.iter().any(|v| !v.is_finite()) {
        return Err(anyhow!(
            "{what}: element {} is {} but the reference has {} (tolerance {abs} + {rel}·|ref|)",
            worst.1,
            g[worst.1],
            w[worst.1]
        ));
    }
    Ok(())
}

fn check_case(case: &str) -> Result<()> {
    let fx = load_fixture(case)?;
    let model = fx.model()?;
    let mut mems = model.empty_mems(fx.cfg_batch()?, &Device::Cpu)?;
    for k in 0..fx.segments {
        let data = fx.ids(&format!("seg{k}.data"))?;
        let target = fx.ids(&format!("seg{k}.target"))?;
        let out = model.forward(&data, &target, &mems, &fx.spec, None)?;
        assert_close(
            &format!("{case} seg{k} nll"),
            &out.nll,
            fx.get(&format!("seg{k}.nll"))?,
            1e-5,
            1e-5,
        )?;
        assert_eq!(out.mems.layers.len(), fx.cfg.n_layer + 1);
        for (i, m) in out.mems.layers.iter().enumerate() {
            assert_close(
                &format!("{case} seg{k} mems[{i}]"),
                m,
                fx.get(&format!("seg{k}.mems.{i}"))?,
                1e-5,
                1e-5,
            )?;
        }
        if fx.grad_segments.contains(&k) {
            let grads = out.nll.mean_all()?.backward()?;
            for p in model.weights().params().params() {
                let g = grads
                    .get(p.var.as_tensor())
                    .ok_or_else(|| anyhow!("{case}: no gradient for {}", p.name))?;
                assert_close(
                    &format!("{case} seg{k} grad {}", p.name),
                    g,
                    fx.get(&format!("seg{k}.grad.{}", p.name))?,
                    1e-4,
                    1e-4,
                )?;
            }
        }
        mems = out.mems;
    }
    Ok(())
}

impl Fixture {
    fn cfg_batch(&self) -> Result<usize> {
        Ok(self.get("seg0.data")?.dims()[1])
    }
}

#[test]
fn matches_reference_adaptive_post() -> Result<()> {
    check_case("adaptive_post")
}

#[test]
fn matches_reference_adaptive_div2_pre() -> Result<()> {
    check_case("adaptive_div2_pre")
}

#[test]
fn matches_reference_weight_norm() -> Result<()> {
    check_case("weight_norm")
}

#[test]
fn matches_reference_plain_softmax() -> Result<()> {
    check_case("plain_softmax")
}

#[test]
fn rel_shift_hand_example() -> Result<()> {
    // qlen 2, klen 3: padded [0 a b c | 0 d e f], drop 2, read 2 rows of 3
    let x = Tensor::new(&[[[1f32, 2., 3.], [4., 5., 6.]]], &Device::Cpu)?;
    let got = rel_shift(&x)?.to_vec3::<f32>()?;
    assert_eq!(got[0], vec![vec![2., 3., 0.], vec![4., 5., 6.]]);
    Ok(())
}

fn small_cfg() -> TransformerXlConfig {
    TransformerXlConfig {
        n_token: 40,
        n_layer: 2,
        n_head: 2,
        d_model: 16,
        d_head: 8,
        d_inner: 32,
        d_embed: 16,
        dropout: 0.0,
        dropatt: 0.0,
        pre_lnorm: false,
        cutoffs: vec![10, 20],
        div_val: 1,
        tie_weight: true,
        tie_projs: true,
        weight_norm: false,
        init_std: 0.3,
        proj_init_std: 0.3,
        seed: 7,
    }
}

const SPEC: SegmentSpec = SegmentSpec {
    mem_len: 6,
    ext_len: 0,
    clamp_len: 0,
    same_length: false,
};

fn ids(len: usize, batch: usize, n_token: usize, seed: u32) -> Result<Tensor> {
    let v: Vec<u32> = (0..len * batch)
        .map(|i| ((i as u32 * 7919 + seed * 104729) ^ (seed * 31)) % n_token as u32)
        .collect();
    Ok(Tensor::from_vec(v, (len, batch), &Device::Cpu)?)
}

fn max_abs_diff(a: &Tensor, b: &Tensor) -> Result<f32> {
    Ok((a - b)?.abs()?.flatten_all()?.max(0)?.to_scalar::<f32>()?)
}

#[test]
fn weight_norm_loss_is_invariant_to_scaling_v() -> Result<()> {
    let fx = load_fixture("weight_norm")?;
    let model = fx.model()?;
    let data = fx.ids("seg0.data")?;
    let target = fx.ids("seg0.target")?;
    let mems = model.empty_mems(3, &Device::Cpu)?;
    let base = model.forward(&data, &target, &mems, &fx.spec, None)?.nll;
    let params = model.weights().params();
    let v = &params
        .params()
        .iter()
        .find(|p| p.name == "layers.0.dec_attn.qkv_net.weight_v")
        .context("weight_v")?
        .var;
    let original = v.as_tensor().copy()?;
    for c in [0.5, 3.0] {
        v.set(&(&original * c)?)?;
        let nll = model.forward(&data, &target, &mems, &fx.spec, None)?.nll;
        let d = max_abs_diff(&nll, &base)?;
        assert!(d <= 1e-5, "scaling weight_v by {c} changed the NLL by {d}");
    }
    // scaling g instead does change it (the check can fail)
    v.set(&original)?;
    let g = &params
        .params()
        .iter()
        .find(|p| p.name == "layers.0.dec_attn.qkv_net.weight_g")
        .context("weight_g")?
        .var;
    g.set(&(g.as_tensor() * 3.0)?)?;
    let nll = model.forward(&data, &target, &mems, &fx.spec, None)?.nll;
    assert!(max_abs_diff(&nll, &base)? > 1e-3);
    Ok(())
}

#[test]
fn memory_is_used_and_bounded() -> Result<()> {
    let cfg = small_cfg();
    let model = TransformerXl::new(&cfg, &Device::Cpu)?;
    let dev = Device::Cpu;
    let segs: Vec<(Tensor, Tensor)> = (0..3)
        .map(|k| Ok((ids(5, 2, 40, k)?, ids(5, 2, 40, k + 10)?)))
        .collect::<Result<_>>()?;
    let mut mems = model.empty_mems(2, &dev)?;
    let mut lens = Vec::new();
    let mut last = None;
    for (d, t) in &segs {
        let out = model.forward(d, t, &mems, &SPEC, None)?;
        mems = out.mems;
        lens.push(mems.mlen());
        last = Some(out.nll);
    }
    assert_eq!(lens, vec![5, 6, 6], "mems grow to mem_len and stay there");
    let fresh = model.forward(
        &segs[2].0,
        &segs[2].1,
        &model.empty_mems(2, &dev)?,
        &SPEC,
        None,
    )?;
    assert!(
        max_abs_diff(&fresh.nll, last.as_ref().unwrap())? > 1e-3,
        "the carried memory changes the prediction"
    );

    let no_mem = SegmentSpec { mem_len: 0, ..SPEC };
    let mut mems = model.empty_mems(2, &dev)?;
    for (d, t) in &segs {
        mems = model.forward(d, t, &mems, &no_mem, None)?.mems;
        assert_eq!(mems.mlen(), 0);
        assert_eq!(mems.batch(), 2);
    }
    Ok(())
}

#[test]
fn dropout_masks_follow_the_seed() -> Result<()> {
    let cfg = TransformerXlConfig {
        dropout: 0.2,
        dropatt: 0.2,
        ..small_cfg()
    };
    let model = TransformerXl::new(&cfg, &Device::Cpu)?;
    let (d, t) = (ids(5, 2, 40, 1)?, ids(5, 2, 40, 2)?);
    let mems = model.empty_mems(2, &Device::Cpu)?;
    let run = |seed: Option<u64>| model.forward(&d, &t, &mems, &SPEC, seed).map(|o| o.nll);
    let a = run(Some(11))?;
    assert_eq!(max_abs_diff(&a, &run(Some(11))?)?, 0.0);
    assert!(max_abs_diff(&a, &run(Some(12))?)? > 1e-4);
    let e = run(None)?;
    assert_eq!(max_abs_diff(&e, &run(None)?)?, 0.0);
    assert!(max_abs_diff(&a, &e)? > 1e-4);
    Ok(())
}

#[test]
fn metadata_and_tying() -> Result<()> {
    let plain = TransformerXl::new(&small_cfg(), &Device::Cpu)?;
    let params = plain.weights().params();
    let names: Vec<&str> = params.params().iter().map(|p| p.name.as_str()).collect();
    assert!(names.contains(&"word_emb.emb_layers.0.weight"));
    assert!(
        !names.contains(&"crit.out_layers.0.weight"),
        "tied weight appears once"
    );
    assert!(names.contains(&"crit.out_layers.0.bias"));
    assert!(params.params().iter().all(|p| !p.meta.followed_by_norm));
    let kind = |n: &str| {
        params
            .params()
            .iter()
            .find(|p| p.name == n)
            .unwrap()
            .meta
            .kind
    };
    assert_eq!(kind("r_w_bias"), ParamKind::Other);
    assert_eq!(kind("word_emb.emb_layers.0.weight"), ParamKind::Embedding);
    assert_eq!(
        kind("layers.0.pos_ff.layer_norm.weight"),
        ParamKind::NormGain
    );
    assert_eq!(kind("layers.0.pos_ff.CoreNet.0.bias"), ParamKind::Bias);
    assert_eq!(kind("layers.0.dec_attn.qkv_net.weight"), ParamKind::Linear);

    let wn = TransformerXl::new(
        &TransformerXlConfig {
            weight_norm: true,
            ..small_cfg()
        },
        &Device::Cpu,
    )?;
    let mut n_v = 0;
    for p in wn.weights().params().params() {
        if p.name.ends_with("weight_v") {
            assert!(p.meta.followed_by_norm && p.meta.kind == ParamKind::Linear);
            n_v += 1;
        } else if p.name.ends_with("weight_g") {
            assert_eq!(p.meta.kind, ParamKind::NormGain);
            assert_eq!(p.var.dims()[1], 1, "{}: g is [out, 1]", p.name);
        } else {
            assert!(!p.meta.followed_by_norm, "{}", p.name);
        }
    }
    assert_eq!(n_v, 5 * 2);
    Ok(())
}

#[test]
fn initialisation_follows_train_py() -> Result<()> {
    let cfg = TransformerXlConfig {
        n_token: 300,
        d_model: 64,
        d_embed: 32,
        d_inner: 128,
        n_head: 4,
        d_head: 16,
        cutoffs: vec![100, 200],
        div_val: 2,
        init_std: 0.02,
        proj_init_std: 0.01,
        weight_norm: true,
        ..small_cfg()
    };
    let model = TransformerXl::new(&cfg, &Device::Cpu)?;
    let params = model.weights().params();
    let get = |n: &str| -> Tensor {
        params
            .params()
            .iter()
            .find(|p| p.name == n)
            .unwrap_or_else(|| panic!("{n}"))
            .var
            .as_tensor()
            .clone()
    };
    let stats = |t: &Tensor| -> (f64, f64) {
        let v = t.flatten_all().unwrap().to_vec1::<f32>().unwrap();
        let m = v.iter().map(|&x| x as f64).sum::<f64>() / v.len() as f64;
        let s = (v.iter().map(|&x| (x as f64 - m).powi(2)).sum::<f64>() / v.len() as f64).sqrt();
        (m, s)
    };
    let (_, s) = stats(&get("layers.0.dec_attn.qkv_net.weight_v"));
    assert!((s - 0.02).abs() < 0.002, "qkv std {s}");
    let (_, s) = stats(&get("word_emb.emb_projs.1"));
    assert!((s - 0.01).abs() < 0.002, "projection std {s}");
    let (m, s) = stats(&get("layers.1.pos_ff.layer_norm.weight"));
    assert!(
        (m - 1.0).abs() < 0.02 && s > 0.005 && s < 0.04,
        "layer norm {m} {s}"
    );
    let (m, s) = stats(&get("crit.cluster_bias"));
    assert_eq!((m, s), (0.0, 0.0));
    // weight norm starts at g = ||v|| (effective weight = v)
    let v = get("layers.0.pos_ff.CoreNet.0.weight_v");
    let g = get("layers.0.pos_ff.CoreNet.0.weight_g");
    let norm = v.sqr()?.sum_keepdim(1)?.sqrt()?;
    assert!(max_abs_diff(&norm, &g)? < 1e-6);
    // div_val 2: tails tied to the embedding projections, the head projection separate
    let names: Vec<String> = params.params().iter().map(|p| p.name.clone()).collect();
    assert!(names.contains(&"crit.out_projs.0".to_string()));
    assert!(!names.contains(&"crit.out_projs.1".to_string()));
    Ok(())
}

#[test]
fn bad_input_is_a_clear_error() -> Result<()> {
    let model = TransformerXl::new(&small_cfg(), &Device::Cpu)?;
    let dev = Device::Cpu;
    let mems = model.empty_mems(2, &dev)?;
    let good = ids(5, 2, 40, 1)?;
    let msg = |r: adamp_models::Result<adamp_models::lm::SegmentOutput>| match r {
        Ok(_) => panic!("accepted bad input"),
        Err(e) => e.to_string(),
    };

    let mut v = good.flatten_all()?.to_vec1::<u32>()?;
    v[3] = 40;
    let bad = Tensor::from_vec(v, (5, 2), &dev)?;
    let e = msg(model.forward(&bad, &good, &mems, &SPEC, None));
    assert!(
        e.contains("data") && e.contains("40") && e.contains("n_token"),
        "{e}"
    );
    let e = msg(model.forward(&good, &bad, &mems, &SPEC, None));
    assert!(e.contains("target"), "{e}");

    let e = msg(model.forward(&good.reshape((5, 2, 1))?, &good, &mems, &SPEC, None));
    assert!(e.contains("data shape"), "{e}");
    let e = msg(model.forward(&good.to_dtype(DType::F32)?, &good, &mems, &SPEC, None));
    assert!(e.contains("dtype"), "{e}");
    let e = msg(model.forward(&good, &ids(5, 3, 40, 1)?, &mems, &SPEC, None));
    assert!(e.contains("target shape"), "{e}");

    let other: Mems = model
        .forward(
            &ids(5, 3, 40, 1)?,
            &ids(5, 3, 40, 2)?,
            &model.empty_mems(3, &dev)?,
            &SPEC,
            None,
        )?
        .mems;
    let e = msg(model.forward(&good, &good, &other, &SPEC, None));
    assert!(e.contains("mems[0]"), "{e}");
    let e = msg(model.forward(
        &good,
        &good,
        &mems,
        &SegmentSpec {
            mem_len: 0,
            same_length: true,
            ..SPEC
        },
        None,
    ));
    assert!(e.contains("same_length"), "{e}");

    let bad_cfgs = [
        (
            TransformerXlConfig {
                cutoffs: vec![20, 10],
                ..small_cfg()
            },
            "cutoffs",
        ),
        (
            TransformerXlConfig {
                cutoffs: vec![10, 40],
                ..small_cfg()
            },
            "cutoffs",
        ),
        (
            TransformerXlConfig {
                d_model: 15,
                ..small_cfg()
            },
            "d_model",
        ),
        (
            TransformerXlConfig {
                dropout: 1.0,
                ..small_cfg()
            },
            "dropout",
        ),
        (
            TransformerXlConfig {
                n_head: 0,
                ..small_cfg()
            },
            "n_head",
        ),
        (
            TransformerXlConfig {
                div_val: 4,
                d_embed: 8,
                ..small_cfg()
            },
            "div_val",
        ),
    ];
    for (cfg, field) in bad_cfgs {
        let e = TransformerXl::new(&cfg, &dev)
            .expect_err("invalid config")
            .to_string();
        assert!(e.contains(field), "{field}: {e}");
    }
    // d_model != n_head * d_head is allowed, as in the reference
    let cfg = TransformerXlConfig {
        n_head: 3,
        ..small_cfg()
    };
    cfg.validate()?;
    Ok(())
}

#[test]
fn extended_context_scores_the_last_tgt_len_positions() -> Result<()> {
    // ext_len: data carries ext_len more tokens than the target; the last tgt_len hidden states
    // are scored and the final ext_len positions are not cached.
    let model = TransformerXl::new(&small_cfg(), &Device::Cpu)?;
    let spec = SegmentSpec { ext_len: 2, ..SPEC };
    let mems = model.empty_mems(2, &Device::Cpu)?;
    let out = model.forward(&ids(7, 2, 40, 1)?, &ids(5, 2, 40, 2)?, &mems, &spec, None)?;
    assert_eq!(out.nll.dims(), &[5, 2]);
    assert_eq!(out.mems.mlen(), 5, "end = mlen + qlen - ext_len = 5");
    let out = model.forward(
        &ids(7, 2, 40, 3)?,
        &ids(5, 2, 40, 4)?,
        &out.mems,
        &spec,
        None,
    )?;
    assert_eq!(out.mems.mlen(), 6, "capped at mem_len");
    Ok(())
}
