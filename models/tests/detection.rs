//! CenterNet and SSD on ResNet backbones (`adamp_models::detection`): output shapes at the
//! embedded and the paper's sizes, gradients to every parameter, metadata, deterministic init,
//! backbone loading by name, and the multi-scale stage outputs they are built on.

use adamp_models::detection::{CenterNet, CenterNetConfig, SsdConfig, SsdNet};
use adamp_models::layers::ConvTranspose2d;
use adamp_models::{build, Init, LayerImpl, ModelKind, ParamBuilder};
use adamp_optim::ParamList;
use candle_core::{DType, Device, Tensor};

const CPU: &Device = &Device::Cpu;

fn centernet(kind: ModelKind, hw: usize, classes: usize, seed: u64) -> CenterNet {
    let mut cfg = CenterNetConfig::new(kind, 3, classes, (hw, hw));
    cfg.seed = seed;
    CenterNet::new(&cfg, CPU).unwrap()
}

/// ssd.pytorch's SSD300 anchors: 4 on the first and the last two sources, 6 elsewhere.
fn ssd300_anchors(sizes: &[usize]) -> Vec<usize> {
    let n = sizes.len();
    (0..n)
        .map(|k| if k == 0 || k + 2 >= n { 4 } else { 6 })
        .collect()
}

fn ssd(kind: ModelKind, input: usize, classes: usize, seed: u64) -> SsdNet {
    let cfg = SsdConfig {
        backbone: kind,
        in_channels: 3,
        num_classes: classes,
        input,
        seed,
        layer_impl: LayerImpl::Fast,
    };
    SsdNet::new(&cfg, &ssd300_anchors, CPU).unwrap()
}

fn image(n: usize, hw: usize) -> Tensor {
    Tensor::randn(0f32, 1.0, (n, 3, hw, hw), CPU).unwrap()
}

fn values(params: &ParamList, name: &str) -> Vec<f32> {
    params
        .get(name)
        .unwrap_or_else(|| panic!("no parameter {name}"))
        .var
        .flatten_all()
        .unwrap()
        .to_vec1::<f32>()
        .unwrap()
}

#[test]
fn backbones_give_every_stage_output() {
    let r18 = build(ModelKind::ResNet18, 3, 10, (64, 64), 0, CPU).unwrap();
    let x = image(2, 64);
    let stages = r18.stages_t(&x, false).unwrap();
    let dims: Vec<_> = stages.iter().map(|t| t.dims().to_vec()).collect();
    assert_eq!(
        dims,
        [
            [2, 64, 16, 16],
            [2, 128, 8, 8],
            [2, 256, 4, 4],
            [2, 512, 2, 2]
        ]
    );
    let f = r18.features_t(&x, false).unwrap();
    let diff = (f - &stages[3]).unwrap().abs().unwrap().max_all().unwrap();
    assert_eq!(diff.to_scalar::<f32>().unwrap(), 0.0);
    let r20 = build(ModelKind::ResNet20, 3, 10, (32, 32), 0, CPU).unwrap();
    let stages = r20.stages_t(&image(2, 32), false).unwrap();
    let dims: Vec<_> = stages.iter().map(|t| t.dims().to_vec()).collect();
    assert_eq!(dims, [[2, 16, 32, 32], [2, 32, 16, 16], [2, 64, 8, 8]]);
    let mb = build(ModelKind::MobileNetV2, 3, 10, (32, 32), 0, CPU).unwrap();
    let msg = mb.stages_t(&image(1, 32), false).unwrap_err().to_string();
    assert!(msg.contains("no stage outputs"), "{msg}");
}

#[test]
fn centernet_shapes_at_the_embedded_size() {
    let net = centernet(ModelKind::ResNet20, 64, 5, 0);
    assert_eq!(net.num_up_stages(), 0);
    assert_eq!(net.output_stride(), 4);
    let out = net.forward_t(&image(2, 64), true).unwrap();
    assert_eq!(out.hm.dims(), [2, 5, 16, 16]);
    assert_eq!(out.wh.dims(), [2, 2, 16, 16]);
    assert_eq!(out.reg.dims(), [2, 2, 16, 16]);
    assert!(net.params().get("deconv_layers.0.weight").is_none());
    // Heads sit directly on the 64-channel backbone map.
    assert_eq!(
        net.params().get("hm.0.weight").unwrap().var.dims(),
        [64, 64, 3, 3]
    );
}

#[test]
fn centernet_resnet18_at_512_pixels_predicts_128x128_maps() {
    let net = centernet(ModelKind::ResNet18, 512, 80, 0);
    assert_eq!(net.num_up_stages(), 3);
    let p = net.params();
    assert_eq!(
        p.get("deconv_layers.0.weight").unwrap().var.dims(),
        [256, 512, 3, 3]
    );
    assert_eq!(
        p.get("deconv_layers.3.weight").unwrap().var.dims(),
        [256, 256, 4, 4]
    );
    assert_eq!(
        p.get("deconv_layers.15.weight").unwrap().var.dims(),
        [64, 64, 4, 4]
    );
    assert!(p.get("deconv_layers.18.weight").is_none());
    let out = net.forward_t(&image(1, 512), false).unwrap();
    assert_eq!(out.hm.dims(), [1, 80, 128, 128]);
    assert_eq!(out.wh.dims(), [1, 2, 128, 128]);
    assert_eq!(out.reg.dims(), [1, 2, 128, 128]);
    // Reference head init: the heatmap prior bias, near-zero wh/reg weights with zero bias.
    assert!(values(&p, "hm.2.bias").iter().all(|&v| v == -2.19));
    assert!(values(&p, "wh.2.bias").iter().all(|&v| v == 0.0));
    assert!(values(&p, "reg.0.weight").iter().all(|v| v.abs() < 0.01));
    // fill_up_weights: the bilinear kernel in w[c, 0] for every c.
    let up = p
        .get("deconv_layers.9.weight")
        .unwrap()
        .var
        .as_tensor()
        .clone();
    let k = [0.25f32, 0.75, 0.75, 0.25];
    for c in [0, 77, 127] {
        let w = up.get(c).unwrap().get(0).unwrap().to_vec2::<f32>().unwrap();
        for i in 0..4 {
            for j in 0..4 {
                assert!((w[i][j] - k[i] * k[j]).abs() < 1e-6, "{c} {i} {j}");
            }
        }
    }
}

#[test]
fn centernet_configuration_errors_name_the_problem() {
    let mut cfg = CenterNetConfig::new(ModelKind::ResNet18, 3, 80, (64, 64));
    cfg.up_channels = vec![256, 128];
    let msg = CenterNet::new(&cfg, CPU).unwrap_err().to_string();
    assert!(msg.contains("3 up-sampling stages"), "{msg}");
    cfg.backbone = ModelKind::MobileNetV2;
    let msg = CenterNet::new(&cfg, CPU).unwrap_err().to_string();
    assert!(msg.contains("no stage outputs"), "{msg}");
    let net = centernet(ModelKind::ResNet20, 32, 3, 0);
    let bad = Tensor::zeros((1, 1, 32, 32), DType::F32, CPU).unwrap();
    assert!(net.forward_t(&bad, false).is_err());
}

#[test]
fn ssd300_on_resnet18_has_the_reference_sources_and_8732_priors() {
    let net = ssd(ModelKind::ResNet18, 300, 80, 0);
    assert_eq!(net.source_sizes(), [38, 19, 10, 5, 3, 1]);
    assert_eq!(net.anchors_per_cell(), [4, 6, 6, 6, 4, 4]);
    assert_eq!(net.num_priors(), 8732);
    let p = net.params();
    // add_extras for SSD300 (after layer4's 512 channels).
    for (name, dims) in [
        ("extras.0.weight", [256, 512, 1, 1]),
        ("extras.1.weight", [512, 256, 3, 3]),
        ("extras.2.weight", [128, 512, 1, 1]),
        ("extras.3.weight", [256, 128, 3, 3]),
        ("extras.5.weight", [256, 128, 3, 3]),
        ("loc.0.weight", [16, 128, 3, 3]),
        ("conf.1.weight", [6 * 81, 256, 3, 3]),
        ("conf.5.weight", [4 * 81, 256, 3, 3]),
    ] {
        assert_eq!(p.get(name).unwrap().var.dims(), dims, "{name}");
    }
    assert!(p.get("extras.6.weight").is_none());
    let out = net.forward_t(&image(1, 300), false).unwrap();
    assert_eq!(out.loc.dims(), [1, 8732, 4]);
    assert_eq!(out.conf.dims(), [1, 8732, 81]);
}

#[test]
fn ssd_shapes_at_the_embedded_size() {
    let net = ssd(ModelKind::ResNet20, 64, 5, 0);
    assert_eq!(net.source_sizes(), [16, 8, 4, 2, 1]);
    assert_eq!(net.num_priors(), 16 * 16 * 4 + 64 * 6 + 16 * 6 + 4 * 4 + 4);
    let p = net.params();
    assert_eq!(p.get("extras.0.weight").unwrap().var.dims(), [32, 64, 1, 1]);
    assert_eq!(p.get("extras.1.weight").unwrap().var.dims(), [64, 32, 3, 3]);
    assert_eq!(p.get("extras.7.weight").unwrap().var.dims(), [32, 16, 3, 3]);
    let out = net.forward_t(&image(2, 64), true).unwrap();
    assert_eq!(out.loc.dims(), [2, net.num_priors(), 4]);
    assert_eq!(out.conf.dims(), [2, net.num_priors(), 6]);
    // Wrong input size or anchor counts are errors.
    assert!(net.forward_t(&image(1, 32), false).is_err());
    let cfg = net.config().clone();
    let msg = SsdNet::new(&cfg, &|_| vec![4, 4], CPU)
        .unwrap_err()
        .to_string();
    assert!(msg.contains("one count >= 1 per source"), "{msg}");
}

#[test]
fn ssd_outputs_follow_the_prior_box_order() {
    // Prior p of source k, row i, column j, anchor a sits at offset_k + (i * size + j) * A + a:
    // the loc head's channel a*4 + c at (i, j) is row p, coordinate c.
    let net = ssd(ModelKind::ResNet20, 64, 2, 3);
    let x = image(1, 64);
    let out = net.forward_t(&x, false).unwrap();
    let loc = out.loc.get(0).unwrap().to_vec2::<f32>().unwrap();
    // Recompute source 1's loc map by hand: source 1 is the output of the first extra pair.
    let p = net.params();
    let conv = |t: &Tensor, name: &str, s: usize, pad: usize| {
        let w = p
            .get(&format!("{name}.weight"))
            .unwrap()
            .var
            .as_tensor()
            .clone();
        let b = p
            .get(&format!("{name}.bias"))
            .unwrap()
            .var
            .as_tensor()
            .clone();
        let c = b.dims()[0];
        t.conv2d(&w, pad, s, 1, 1)
            .unwrap()
            .broadcast_add(&b.reshape((1, c, 1, 1)).unwrap())
            .unwrap()
    };
    let r20 = build(ModelKind::ResNet20, 3, 10, (64, 64), 0, CPU).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bb.safetensors");
    // Give a classifier the SSD's backbone weights to get the same stage outputs.
    let map: std::collections::HashMap<String, Tensor> = p
        .params()
        .iter()
        .filter_map(|q| q.name.strip_prefix("backbone.").map(|n| (n, q)))
        .map(|(n, q)| (n.to_string(), q.var.as_tensor().clone()))
        .chain(net.buffers().iter().filter_map(|(n, v)| {
            n.strip_prefix("backbone.")
                .map(|n| (n.to_string(), v.as_tensor().clone()))
        }))
        .collect();
    candle_core::safetensors::save(&map, &path).unwrap();
    r20.load_pretrained(&path, &["fc."]).unwrap();
    let f = r20.features_t(&x, false).unwrap();
    let s1 = conv(
        &conv(&f, "extras.0", 1, 0).relu().unwrap(),
        "extras.1",
        2,
        1,
    )
    .relu()
    .unwrap();
    let l1 = conv(&s1, "loc.1", 1, 1).get(0).unwrap(); // [6*4, 8, 8]
    let offset = 16 * 16 * 4;
    for (i, j, a, c) in [(0, 0, 0, 0), (3, 5, 2, 1), (7, 7, 5, 3), (6, 1, 4, 2)] {
        let want = l1
            .get(a * 4 + c)
            .unwrap()
            .get(i)
            .unwrap()
            .get(j)
            .unwrap()
            .to_scalar::<f32>()
            .unwrap();
        let got = loc[offset + (i * 8 + j) * 6 + a][c];
        assert!(
            (want - got).abs() < 1e-3 * (1.0 + want.abs()),
            "{i} {j} {a} {c}: {want} vs {got}"
        );
    }
}

fn assert_every_param_has_a_gradient(params: &ParamList, loss: &Tensor) {
    let grads = loss.backward().unwrap();
    for p in params.params() {
        let g = grads
            .get(p.var.as_tensor())
            .unwrap_or_else(|| panic!("no gradient for {}", p.name));
        assert_eq!(g.dims(), p.var.dims(), "{}", p.name);
        let s = g
            .abs()
            .unwrap()
            .sum_all()
            .unwrap()
            .to_scalar::<f32>()
            .unwrap();
        assert!(s.is_finite() && s > 0.0, "{}: |grad| sum {s}", p.name);
    }
}

/// A loss that touches every output value with a different weight.
fn weighted_sum(t: &Tensor) -> Tensor {
    let w = Tensor::randn(0f32, 1.0, t.dims(), CPU).unwrap();
    (t * w).unwrap().sum_all().unwrap()
}

#[test]
fn backward_reaches_every_parameter() {
    let net = centernet(ModelKind::ResNet20, 32, 3, 0);
    let out = net.forward_t(&image(2, 32), true).unwrap();
    let loss = (weighted_sum(&out.hm) + weighted_sum(&out.wh) + weighted_sum(&out.reg)).unwrap();
    let loss = (loss + weighted_sum(&out.reg)).unwrap();
    assert_every_param_has_a_gradient(&net.params(), &loss);

    // With up-sampling stages (a ResNet-18 at 64 px: 2x2 map, 3 stages to 16x16).
    let net = centernet(ModelKind::ResNet18, 64, 3, 0);
    let out = net.forward_t(&image(2, 64), true).unwrap();
    assert_eq!(out.hm.dims(), [2, 3, 16, 16]);
    let loss = (weighted_sum(&out.hm) + weighted_sum(&out.wh) + weighted_sum(&out.reg)).unwrap();
    assert_every_param_has_a_gradient(&net.params(), &loss);

    let net = ssd(ModelKind::ResNet20, 32, 3, 0);
    let out = net.forward_t(&image(2, 32), true).unwrap();
    let loss = (weighted_sum(&out.loc) + weighted_sum(&out.conf)).unwrap();
    assert_every_param_has_a_gradient(&net.params(), &loss);
}

#[test]
fn metadata_marks_backbone_and_normalised_convs_scale_invariant_and_heads_not() {
    let cn = centernet(ModelKind::ResNet18, 64, 3, 0);
    let sd = ssd(ModelKind::ResNet18, 128, 3, 0);
    for params in [cn.params(), sd.params()] {
        for p in params.params() {
            let is_weight_4d = p.var.rank() == 4;
            let expect = is_weight_4d
                && (p.name.starts_with("backbone.") || p.name.starts_with("deconv_layers."));
            assert_eq!(p.meta.followed_by_norm, expect, "{}", p.name);
        }
        assert!(params.params().iter().all(|p| !p.name.contains("fc.")));
    }
    let p = cn.params();
    assert_eq!(
        p.get("deconv_layers.3.weight").unwrap().meta.kind,
        adamp_optim::ParamKind::Conv
    );
    assert!(
        p.get("backbone.layer4.1.conv2.weight")
            .unwrap()
            .meta
            .followed_by_norm
    );
    assert!(!p.get("hm.0.weight").unwrap().meta.followed_by_norm);
    assert!(
        !sd.params()
            .get("extras.1.weight")
            .unwrap()
            .meta
            .followed_by_norm
    );
    assert!(cn
        .buffers()
        .iter()
        .any(|(n, _)| n == "deconv_layers.4.running_var"));
}

#[test]
fn initialisation_is_deterministic_per_seed() {
    let (a, b, c) = (
        centernet(ModelKind::ResNet20, 32, 3, 7),
        centernet(ModelKind::ResNet20, 32, 3, 7),
        centernet(ModelKind::ResNet20, 32, 3, 8),
    );
    for name in ["backbone.conv1.weight", "hm.0.weight", "wh.2.weight"] {
        assert_eq!(values(&a.params(), name), values(&b.params(), name));
        assert_ne!(values(&a.params(), name), values(&c.params(), name));
    }
    let (a, b, c) = (
        ssd(ModelKind::ResNet20, 32, 3, 7),
        ssd(ModelKind::ResNet20, 32, 3, 7),
        ssd(ModelKind::ResNet20, 32, 3, 8),
    );
    for name in [
        "backbone.layer2.0.conv1.weight",
        "extras.1.weight",
        "conf.0.weight",
    ] {
        assert_eq!(values(&a.params(), name), values(&b.params(), name));
        assert_ne!(values(&a.params(), name), values(&c.params(), name));
    }
    assert_eq!(a.num_params(), b.num_params());
}

#[test]
fn pretrained_backbone_loads_by_name_without_the_classifier() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("resnet20.safetensors");
    let imagenet = build(ModelKind::ResNet20, 3, 1000, (32, 32), 11, CPU).unwrap();
    imagenet.save_safetensors(&path).unwrap();
    let expected = imagenet.params().len() - 2 + imagenet.buffers().len();
    let cn = centernet(ModelKind::ResNet20, 32, 3, 0);
    let hm_before = values(&cn.params(), "hm.0.weight");
    assert_eq!(cn.load_backbone_pretrained(&path).unwrap(), expected);
    let sd = ssd(ModelKind::ResNet20, 32, 3, 0);
    assert_eq!(sd.load_backbone_pretrained(&path).unwrap(), expected);
    for name in ["layer3.2.conv2.weight", "bn1.weight"] {
        let want = values(&imagenet.params(), name);
        assert_eq!(values(&cn.params(), &format!("backbone.{name}")), want);
        assert_eq!(values(&sd.params(), &format!("backbone.{name}")), want);
    }
    assert_eq!(values(&cn.params(), "hm.0.weight"), hm_before);
    let rv = |bufs: &[(String, candle_core::Var)], n: &str| {
        bufs.iter()
            .find(|(k, _)| k == n)
            .unwrap()
            .1
            .to_vec1::<f32>()
            .unwrap()
    };
    assert_eq!(
        rv(cn.buffers(), "backbone.layer1.0.bn2.running_var"),
        rv(imagenet.buffers(), "layer1.0.bn2.running_var")
    );
    // torchvision ResNet-18 naming (62 parameters with fc, 40 BN buffers) into SSD's backbone.
    let r18 = dir.path().join("resnet18_imagenet.safetensors");
    build(ModelKind::ResNet18, 3, 1000, (32, 32), 4, CPU)
        .unwrap()
        .save_safetensors(&r18)
        .unwrap();
    let sd18 = ssd(ModelKind::ResNet18, 128, 3, 0);
    assert_eq!(sd18.load_backbone_pretrained(&r18).unwrap(), 62 - 2 + 40);
    // A checkpoint of another architecture names the missing tensor.
    let other = dir.path().join("resnet18.safetensors");
    build(ModelKind::ResNet18, 3, 10, (32, 32), 0, CPU)
        .unwrap()
        .save_safetensors(&other)
        .unwrap();
    let msg = cn.load_backbone_pretrained(&other).unwrap_err().to_string();
    assert!(msg.contains("`bn1.bias` has shape [64]"), "{msg}");
}

#[test]
fn conv_transpose_gradients_match_finite_differences() {
    let b = ParamBuilder::new(0, CPU, LayerImpl::Fast);
    let up = ConvTranspose2d::new(&b, 3, 2, 4, (2, 1, 0), Init::Normal { std: 0.5 }, true).unwrap();
    let x = candle_core::Var::from_tensor(&Tensor::randn(0f32, 1.0, (2, 3, 3, 3), CPU).unwrap())
        .unwrap();
    let y = up.forward(x.as_tensor()).unwrap();
    assert_eq!(y.dims(), [2, 2, 6, 6]);
    let wy = Tensor::randn(0f32, 1.0, y.dims(), CPU).unwrap();
    let loss = |x: &Tensor| {
        (up.forward(x).unwrap() * &wy)
            .unwrap()
            .sum_all()
            .unwrap()
            .to_scalar::<f32>()
            .unwrap() as f64
    };
    let grads = (y * &wy).unwrap().sum_all().unwrap().backward().unwrap();
    let gx = grads
        .get(x.as_tensor())
        .unwrap()
        .flatten_all()
        .unwrap()
        .to_vec1::<f32>()
        .unwrap();
    let gw = grads
        .get(up.weight().as_tensor())
        .unwrap()
        .flatten_all()
        .unwrap()
        .to_vec1::<f32>()
        .unwrap();
    let xv = x.flatten_all().unwrap().to_vec1::<f32>().unwrap();
    let eps = 1e-2f32;
    for i in [0, 7, 20, 53] {
        let mut p = xv.clone();
        p[i] += eps;
        let lp = loss(&Tensor::from_vec(p.clone(), x.dims(), CPU).unwrap());
        p[i] -= 2.0 * eps;
        let lm = loss(&Tensor::from_vec(p, x.dims(), CPU).unwrap());
        let fd = (lp - lm) / (2.0 * eps as f64);
        assert!(
            (fd - gx[i] as f64).abs() < 1e-2,
            "x[{i}]: {fd} vs {}",
            gx[i]
        );
    }
    let w0 = up.weight().flatten_all().unwrap().to_vec1::<f32>().unwrap();
    let xt = x.as_tensor().clone();
    for i in [0, 5, 31, 95] {
        let mut p = w0.clone();
        p[i] += eps;
        up.weight()
            .set(&Tensor::from_vec(p.clone(), up.weight().dims(), CPU).unwrap())
            .unwrap();
        let lp = loss(&xt);
        p[i] -= 2.0 * eps;
        up.weight()
            .set(&Tensor::from_vec(p, up.weight().dims(), CPU).unwrap())
            .unwrap();
        let lm = loss(&xt);
        let fd = (lp - lm) / (2.0 * eps as f64);
        assert!(
            (fd - gw[i] as f64).abs() < 1e-2,
            "w[{i}]: {fd} vs {}",
            gw[i]
        );
    }
}

/// Forward + backward time per image at the embedded size (64 px, batch 32, CPU):
/// `cargo test --release -p adamp-models --test detection -- --ignored --nocapture timing`.
#[test]
#[ignore = "timing measurement, not a check"]
fn timing_forward_backward_per_image_at_64_pixels() {
    let batch = 32;
    let x = image(batch, 64);
    let time = |name: &str, step: &dyn Fn() -> Tensor| {
        let _ = step().backward().unwrap(); // warm-up
        let mut fwd = Vec::new();
        let mut bwd = Vec::new();
        for _ in 0..3 {
            let t0 = std::time::Instant::now();
            let loss = step();
            let t1 = std::time::Instant::now();
            let _ = loss.backward().unwrap();
            fwd.push(t1.duration_since(t0).as_secs_f64());
            bwd.push(t1.elapsed().as_secs_f64());
        }
        let med = |v: &mut Vec<f64>| {
            v.sort_by(f64::total_cmp);
            v[v.len() / 2] * 1e3 / batch as f64
        };
        println!(
            "{name}: forward {:.2} ms/image, backward {:.2} ms/image (batch {batch}, median of 3)",
            med(&mut fwd),
            med(&mut bwd)
        );
    };
    let cn = centernet(ModelKind::ResNet20, 64, 80, 0);
    println!("CenterNet/resnet20: {} parameters", cn.num_params());
    time("CenterNet/resnet20", &|| {
        let o = cn.forward_t(&x, true).unwrap();
        (o.hm.sum_all().unwrap() + o.wh.sum_all().unwrap() + o.reg.sum_all().unwrap()).unwrap()
    });
    let sd = ssd(ModelKind::ResNet20, 64, 80, 0);
    println!(
        "SSD/resnet20: {} parameters, {} priors",
        sd.num_params(),
        sd.num_priors()
    );
    time("SSD/resnet20", &|| {
        let o = sd.forward_t(&x, true).unwrap();
        (o.loc.sum_all().unwrap() + o.conf.sum_all().unwrap()).unwrap()
    });
}

fn max_rel(a: &Tensor, b: &Tensor) -> f32 {
    let d = (a - b).unwrap().abs().unwrap().max_all().unwrap();
    let m = b.abs().unwrap().max_all().unwrap();
    d.to_scalar::<f32>().unwrap() / m.to_scalar::<f32>().unwrap().max(1e-6)
}

#[test]
fn fast_layers_and_candle_layers_compute_the_same_detectors() {
    let x = image(2, 64);
    let mut cfg = CenterNetConfig::new(ModelKind::ResNet18, 3, 4, (64, 64));
    let fast = CenterNet::new(&cfg, CPU).unwrap();
    cfg.layer_impl = LayerImpl::Candle;
    let slow = CenterNet::new(&cfg, CPU).unwrap();
    let (a, b) = (
        fast.forward_t(&x, true).unwrap(),
        slow.forward_t(&x, true).unwrap(),
    );
    for (name, s, t) in [
        ("hm", &a.hm, &b.hm),
        ("wh", &a.wh, &b.wh),
        ("reg", &a.reg, &b.reg),
    ] {
        assert!(max_rel(s, t) < 1e-3, "{name}: {}", max_rel(s, t));
    }
    let cfg = SsdConfig {
        backbone: ModelKind::ResNet20,
        in_channels: 3,
        num_classes: 3,
        input: 64,
        seed: 5,
        layer_impl: LayerImpl::Fast,
    };
    let fast = SsdNet::new(&cfg, &ssd300_anchors, CPU).unwrap();
    let slow = SsdNet::new(
        &SsdConfig {
            layer_impl: LayerImpl::Candle,
            ..cfg
        },
        &ssd300_anchors,
        CPU,
    )
    .unwrap();
    let (a, b) = (
        fast.forward_t(&x, true).unwrap(),
        slow.forward_t(&x, true).unwrap(),
    );
    assert!(
        max_rel(&a.loc, &b.loc) < 1e-3,
        "loc: {}",
        max_rel(&a.loc, &b.loc)
    );
    assert!(
        max_rel(&a.conf, &b.conf) < 1e-3,
        "conf: {}",
        max_rel(&a.conf, &b.conf)
    );
}
