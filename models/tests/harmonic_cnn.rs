//! The Harmonic CNN against torch 2.15.0 running the reference's modules
//! (`tools/gen_harmonic_cnn_fixtures.py`, fixtures in `tests/fixtures/harmonic_cnn/`): the centre
//! frequencies, the filterbank front end and its `bw_Q` gradient, the keyword network in
//! evaluation and training mode (logits, every parameter's gradient, running statistics), the
//! torch `state_dict` names, the scale-invariance metadata and bad input.

use std::collections::HashMap;
use std::path::PathBuf;

use adamp_models::audio::centre_frequencies::{hz_to_note, midi_to_note, note_to_midi};
use adamp_models::audio::{
    initialize_filterbank, BandwidthMode, HarmonicCnn, HarmonicCnnConfig, HarmonicCnnVariant,
    HarmonicFilterbank, HarmonicFilterbankConfig,
};
use adamp_models::{LayerImpl, ModelError, ParamBuilder};
use adamp_optim::ParamKind;
use candle_core::{DType, Device, Tensor};

fn fixture_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/harmonic_cnn")
}

fn fixture() -> HashMap<String, Tensor> {
    candle_core::safetensors::load(fixture_dir().join("harmonic_cnn.safetensors"), &Device::Cpu)
        .unwrap()
}

fn get<'a>(f: &'a HashMap<String, Tensor>, name: &str) -> &'a Tensor {
    f.get(name)
        .unwrap_or_else(|| panic!("fixture has no `{name}`"))
}

fn flat(t: &Tensor) -> Vec<f32> {
    t.flatten_all().unwrap().to_vec1::<f32>().unwrap()
}

/// Largest `|got − want| / max(|want|, floor)` elementwise.
fn max_rel_err(got: &Tensor, want: &Tensor, floor: f32) -> f32 {
    assert_eq!(got.dims(), want.dims(), "shapes differ");
    flat(got)
        .iter()
        .zip(flat(want))
        .map(|(a, b)| (a - b).abs() / b.abs().max(floor))
        .fold(0.0, f32::max)
}

/// Largest `|got − want|` over the largest `|want|` (for gradients, whose entries cross zero).
fn max_err_over_scale(got: &Tensor, want: &Tensor) -> f32 {
    assert_eq!(got.dims(), want.dims(), "shapes differ");
    let w = flat(want);
    let scale = w.iter().fold(0f32, |m, v| m.max(v.abs())).max(1e-30);
    flat(got)
        .iter()
        .zip(&w)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f32::max)
        / scale
}

fn frontend(bw_q: f64) -> (ParamBuilder, HarmonicFilterbank) {
    let b = ParamBuilder::new(0, &Device::Cpu, LayerImpl::Fast);
    let cfg = HarmonicFilterbankConfig {
        bw_q,
        ..HarmonicFilterbankConfig::default()
    };
    let fb = HarmonicFilterbank::new(&b.pp("hstft"), &cfg).unwrap();
    (b, fb)
}

#[test]
fn note_conversions_follow_librosa() {
    assert_eq!(note_to_midi("C1"), Some(24));
    assert_eq!(note_to_midi("A4"), Some(69));
    assert_eq!(note_to_midi("C#4"), Some(61));
    assert_eq!(note_to_midi("Db4"), Some(61));
    assert_eq!(note_to_midi("E♭2"), Some(39));
    assert_eq!(note_to_midi("B-1"), Some(11));
    assert_eq!(note_to_midi("H2"), None);
    assert_eq!(note_to_midi("C"), None);
    // 16000 / 12 Hz = MIDI 88.19: E6, as librosa 0.11.0 names it.
    assert_eq!(hz_to_note(16000.0 / 12.0), "E6");
    assert_eq!(hz_to_note(440.0), "A4");
    // numpy rounds half to even: 60.5 → 60 (C4), 61.5 → 62 (D4).
    assert_eq!(midi_to_note(60.5), "C4");
    assert_eq!(midi_to_note(61.5), "D4");
}

#[test]
fn centre_frequencies_match_the_reference() {
    let f = fixture();
    let c = initialize_filterbank(16000, 6, 2).unwrap();
    assert_eq!(c.low_midi, 24);
    assert_eq!(c.high_midi, 88);
    assert_eq!(c.level, 128);
    let want = flat(get(&f, "centre_hz"));
    assert_eq!(c.centre_hz.len(), want.len());
    for (i, (a, b)) in c.centre_hz.iter().zip(&want).enumerate() {
        assert_eq!(a.to_bits(), b.to_bits(), "centre {i}: {a} vs {b}");
    }
    // Band 0 is C1 (32.70 Hz); harmonic h of band l is h times band l.
    assert!((c.centre_hz[0] - 32.703_197).abs() < 1e-4);
    assert!((c.centre_hz[5 * 128 + 7] - 6.0 * c.centre_hz[7]).abs() < 1e-3);
    assert!(initialize_filterbank(16000, 0, 2).is_err());
}

#[test]
fn frontend_matches_torch_with_its_bandwidth_gradient() {
    let f = fixture();
    let spec = get(&f, "spec");
    for (bw_q, key) in [(0.8, "frontend"), (1.3, "frontend_q13")] {
        let (b, fb) = frontend(bw_q);
        assert_eq!(fb.centre_hz(), flat(get(&f, "centre_hz")).as_slice());
        let out = fb.forward(spec).unwrap();
        assert_eq!(out.dims(), &[2, 6, 128, 64]);
        if key == "frontend" {
            // Stored for the first 16 frames (the loss and gradient below cover all 64).
            let head = out.narrow(3, 0, 16).unwrap();
            let err = max_rel_err(&head, get(&f, "frontend.out"), 1.0);
            assert!(err < 1e-5, "front end output: max relative error {err}");
        }
        let loss = out.sqr().unwrap().mean_all().unwrap();
        let err = max_rel_err(
            &loss.reshape(1).unwrap(),
            get(&f, &format!("{key}.loss")),
            1.0,
        );
        assert!(err < 1e-5, "{key}: loss relative error {err}");
        let grads = loss.backward().unwrap();
        let params = b.weights().unwrap().params();
        let bw = &params.params()[0];
        assert_eq!(bw.name, "hstft.bw_Q");
        let g = grads.get(bw.var.as_tensor()).unwrap();
        let want = get(&f, &format!("{key}.grad.bw_Q"));
        let err = max_rel_err(g, want, 1e-6);
        assert!(
            err < 1e-4,
            "{key}: d loss / d bw_Q {g} vs {want}: relative error {err}"
        );
    }
}

fn keyword_net(dropout: f64) -> HarmonicCnn {
    keyword_net_on(dropout, LayerImpl::Fast)
}

fn keyword_net_on(dropout: f64, layer_impl: LayerImpl) -> HarmonicCnn {
    let cfg = HarmonicCnnConfig {
        variant: HarmonicCnnVariant::Keyword,
        conv_channels: 8,
        dropout,
        layer_impl,
        ..HarmonicCnnConfig::default()
    };
    HarmonicCnn::new(&cfg, &Device::Cpu).unwrap()
}

/// Load the fixture's parameters and buffers into `net` (every one must be there).
fn load(net: &HarmonicCnn, f: &HashMap<String, Tensor>) {
    for p in net.params().params() {
        p.var.set(get(f, &format!("net.param.{}", p.name))).unwrap();
    }
    for (name, var) in net.buffers() {
        var.set(get(f, &format!("net.buffer.{name}"))).unwrap();
    }
}

fn labels(f: &HashMap<String, Tensor>) -> Tensor {
    get(f, "net.labels").to_dtype(DType::U32).unwrap()
}

/// Logits, loss and every parameter's gradient of one pass against torch's.
///
/// Tolerances: the logits to `logit_tol` of their largest magnitude; a gradient to `grad_tol` of
/// its own largest entry, unless that entry is below 1e-4 of the largest gradient entry of the
/// whole network (a gradient that is zero in exact arithmetic: in training mode the biases of
/// the convolutions feeding a BatchNorm, `fc_1.bias`, `res7.bn_2.bias`), which must then stay
/// below that bound. torch's own float32 pass differs from its float64 pass by 1.5e-5 of the
/// logits' scale and up to 2.2e-4 (evaluation) / 7e-4 (training: the batch-2 BatchNorm1d of the
/// head is ill-conditioned) of a gradient's scale; measured here against the f32 reference:
/// 9.5e-6, 8.2e-5 and 1.1e-3.
fn check_pass(
    net: &HarmonicCnn,
    f: &HashMap<String, Tensor>,
    mode: &str,
    train: bool,
    (logit_tol, grad_tol): (f32, f32),
) {
    let logits = net.logits_t(get(f, "spec"), train).unwrap();
    let err = max_err_over_scale(&logits, get(f, &format!("net.{mode}.logits")));
    assert!(err < logit_tol, "{mode} logits: error {err} of their scale");
    let loss = candle_nn::loss::cross_entropy(&logits, &labels(f)).unwrap();
    let err = max_rel_err(
        &loss.reshape(1).unwrap(),
        get(f, &format!("net.{mode}.loss")),
        1.0,
    );
    assert!(err < 1e-5, "{mode} loss: relative error {err}");
    let grads = loss.backward().unwrap();
    let params = net.params();
    let scale_of = |t: &Tensor| flat(t).iter().fold(0f32, |m, v| m.max(v.abs()));
    let global = params
        .params()
        .iter()
        .map(|p| scale_of(get(f, &format!("net.{mode}.grad.{}", p.name))))
        .fold(0f32, f32::max);
    for p in params.params() {
        let g = grads
            .get(p.var.as_tensor())
            .unwrap_or_else(|| panic!("{mode}: no gradient for {}", p.name));
        let want = get(f, &format!("net.{mode}.grad.{}", p.name));
        if scale_of(want) < 1e-4 * global {
            let got = scale_of(g);
            assert!(
                got < 1e-4 * global,
                "{mode}: gradient of {} should vanish: {got}",
                p.name
            );
            continue;
        }
        let err = max_err_over_scale(g, want);
        assert!(
            err < grad_tol,
            "{mode}: gradient of {}: error {err}",
            p.name
        );
    }
}

#[test]
fn keyword_network_matches_torch_in_evaluation_mode() {
    let f = fixture();
    // Also on Candle's built-in ops (the path GPU tensors take).
    for imp in [LayerImpl::Fast, LayerImpl::Candle] {
        let net = keyword_net_on(0.5, imp);
        load(&net, &f);
        check_pass(&net, &f, "eval", false, (2e-5, 5e-4));
    }
    let net = keyword_net(0.5);
    load(&net, &f);
    // The tagging variants' sigmoid is not applied to keywords.
    let out = net.forward_t(get(&f, "spec"), false).unwrap();
    let err = max_err_over_scale(&out, get(&f, "net.eval.logits"));
    assert!(err < 2e-5);
}

#[test]
fn keyword_network_matches_torch_in_training_mode() {
    let f = fixture();
    let net = keyword_net(0.0);
    load(&net, &f);
    check_pass(&net, &f, "train", true, (2e-5, 5e-3));
    for (name, var) in net.buffers() {
        let want = get(&f, &format!("net.train.buffer.{name}"));
        let err = max_rel_err(var.as_tensor(), want, 1.0);
        assert!(err < 1e-5, "running statistic {name}: relative error {err}");
    }
}

/// The tagging variants (`ResNet_mtat`: pools (2, 3); `ResNet_dcase`) in evaluation mode on
/// random 33-bin power spectrograms long enough that res7 leaves two frames (the global max
/// pool over time): sigmoid outputs, the reference solver's `BCELoss` and every gradient.
#[test]
fn tagging_networks_match_torch() {
    let f = fixture();
    for (variant, key) in [
        (HarmonicCnnVariant::Mtat, "mtat"),
        (HarmonicCnnVariant::Dcase, "dcase"),
    ] {
        let cfg = HarmonicCnnConfig {
            variant,
            conv_channels: 4,
            filterbank: HarmonicFilterbankConfig {
                n_bins: 33,
                ..HarmonicFilterbankConfig::default()
            },
            ..HarmonicCnnConfig::default()
        };
        let net = HarmonicCnn::new(&cfg, &Device::Cpu).unwrap();
        for p in net.params().params() {
            p.var
                .set(get(&f, &format!("{key}.param.{}", p.name)))
                .unwrap();
        }
        for (name, var) in net.buffers() {
            var.set(get(&f, &format!("{key}.buffer.{name}"))).unwrap();
        }
        let spec = get(&f, &format!("{key}.spec"));
        let probs = net.forward_t(spec, false).unwrap();
        let want = get(&f, &format!("{key}.probs"));
        let err = max_rel_err(&probs, want, 1.0);
        assert!(err < 1e-5, "{key}: outputs: error {err}");
        // BCELoss: mean of −(y·log p + (1 − y)·log(1 − p)).
        let y = get(&f, &format!("{key}.targets"));
        let one_minus = |t: &Tensor| t.affine(-1.0, 1.0).unwrap();
        let loss = ((y * probs.log().unwrap()).unwrap()
            + (one_minus(y) * one_minus(&probs).log().unwrap()).unwrap())
        .unwrap()
        .mean_all()
        .unwrap()
        .neg()
        .unwrap();
        let err = max_rel_err(
            &loss.reshape(1).unwrap(),
            get(&f, &format!("{key}.loss")),
            1.0,
        );
        assert!(err < 1e-5, "{key}: loss: relative error {err}");
        let grads = loss.backward().unwrap();
        for p in net.params().params() {
            let g = grads.get(p.var.as_tensor()).unwrap();
            let want = get(&f, &format!("{key}.grad.{}", p.name));
            let err = max_err_over_scale(g, want);
            assert!(err < 5e-4, "{key}: gradient of {}: error {err}", p.name);
        }
    }
}

#[test]
fn names_are_the_torch_state_dict_names() {
    // The fixture holds the torch model's state_dict as `net.param.<name>` (named_parameters)
    // and `net.buffer.<name>` (running statistics), without `hstft.spec.window` (the STFT's)
    // and `num_batches_tracked`.
    let f = fixture();
    let net = keyword_net(0.5);
    let under = |prefix: &str| {
        let mut v: Vec<(String, Vec<usize>)> = f
            .iter()
            .filter_map(|(k, t)| {
                k.strip_prefix(prefix)
                    .map(|n| (n.to_string(), t.dims().to_vec()))
            })
            .collect();
        v.sort();
        v
    };
    let got: Vec<(String, Vec<usize>)> = net
        .params()
        .params()
        .iter()
        .map(|p| (p.name.clone(), p.var.dims().to_vec()))
        .collect();
    assert_eq!(got, under("net.param."));
    assert!(got.iter().any(|(n, _)| n == "hstft.bw_Q"));
    assert!(got.iter().any(|(n, _)| n == "conv_2d.res2.conv_1.weight"));
    let got_buffers: Vec<(String, Vec<usize>)> = net
        .buffers()
        .iter()
        .map(|(n, v)| (n.clone(), v.dims().to_vec()))
        .collect();
    assert_eq!(got_buffers, under("net.buffer."));
    // learn_bw = 'fix': bw_Q is no parameter (the reference keeps it as a plain tensor).
    let mut cfg = *net.config();
    cfg.filterbank.learn_bw = BandwidthMode::Fix;
    let fixed = HarmonicCnn::new(&cfg, &Device::Cpu).unwrap();
    assert!(fixed
        .params()
        .params()
        .iter()
        .all(|p| p.name != "hstft.bw_Q"));
    assert_eq!(fixed.num_params() + 1, net.num_params());
}

#[test]
fn scale_invariance_metadata() {
    let net = HarmonicCnn::new(
        &HarmonicCnnConfig::for_variant(HarmonicCnnVariant::Mtat),
        &Device::Cpu,
    )
    .unwrap();
    let params = net.params();
    let mut convs = 0;
    for p in params.params() {
        let m = p.meta;
        match p.name.as_str() {
            "hstft.bw_Q" => assert_eq!((m.kind, m.followed_by_norm), (ParamKind::Other, false)),
            "conv_2d.fc_1.weight" => {
                assert_eq!((m.kind, m.followed_by_norm), (ParamKind::Linear, true))
            }
            "conv_2d.fc_2.weight" => {
                assert_eq!((m.kind, m.followed_by_norm), (ParamKind::Linear, false))
            }
            n if n.ends_with(".weight") && p.var.rank() == 4 => {
                assert_eq!((m.kind, m.followed_by_norm), (ParamKind::Conv, true), "{n}");
                convs += 1;
            }
            n if n.ends_with(".bias") => assert_eq!(m.kind, ParamKind::Bias, "{n}"),
            n if n.ends_with(".weight") => assert_eq!(m.kind, ParamKind::NormGain, "{n}"),
            n => panic!("unexpected parameter {n}"),
        }
    }
    // res1 and res5 have one conv each, the five residual blocks two.
    assert_eq!(convs, 12);
}

#[test]
fn the_three_variants_have_the_reference_heads() {
    let spec = Tensor::rand(0f32, 1.0, (2, 257, 288), &Device::Cpu).unwrap();
    for (variant, classes, min_frames) in [
        (HarmonicCnnVariant::Mtat, 50, 288),
        (HarmonicCnnVariant::Keyword, 35, 64),
        (HarmonicCnnVariant::Dcase, 17, 128),
    ] {
        let cfg = HarmonicCnnConfig {
            variant,
            conv_channels: 4,
            ..HarmonicCnnConfig::default()
        };
        let net = HarmonicCnn::new(&cfg, &Device::Cpu).unwrap();
        assert_eq!(net.min_frames(), min_frames);
        let out = net.forward_t(&spec, false).unwrap();
        assert_eq!(out.dims(), &[2, classes]);
        let v = flat(&out);
        if variant.sigmoid_output() {
            assert!(v.iter().all(|p| (0.0..=1.0).contains(p)), "{variant:?}");
        }
        // A longer input is max-pooled over time (res7 leaves more than one frame).
        let long = Tensor::rand(0f32, 1.0, (1, 257, 3 * min_frames), &Device::Cpu).unwrap();
        assert_eq!(net.forward_t(&long, false).unwrap().dims(), &[1, classes]);
    }
}

#[test]
fn bad_input_is_a_clear_error() {
    let net = keyword_net(0.5);
    let msg = |r: adamp_models::Result<Tensor>| r.unwrap_err().to_string();
    // Wrong bin count.
    let wrong_bins = Tensor::zeros((2, 256, 64), DType::F32, &Device::Cpu).unwrap();
    let m = msg(net.logits_t(&wrong_bins, false));
    assert!(
        m.contains("hstft") && m.contains("257") && m.contains("[2, 256, 64]"),
        "{m}"
    );
    // Wrong rank.
    let rank4 = Tensor::zeros((2, 1, 257, 64), DType::F32, &Device::Cpu).unwrap();
    let m = msg(net.logits_t(&rank4, false));
    assert!(m.contains("hstft") && m.contains("[2, 1, 257, 64]"), "{m}");
    // Too few frames for the time pooling.
    let short = Tensor::zeros((2, 257, 63), DType::F32, &Device::Cpu).unwrap();
    let m = msg(net.logits_t(&short, false));
    assert!(
        m.contains("frames") && m.contains("64") && m.contains("63"),
        "{m}"
    );
    // f64 input.
    let f64_spec = Tensor::zeros((2, 257, 64), DType::F64, &Device::Cpu).unwrap();
    assert!(msg(net.logits_t(&f64_spec, false)).contains("f32"));
    // A level that does not pool to one frequency row (4 bands per semitone: 256).
    let mut cfg = *net.config();
    cfg.filterbank.semitone_scale = 4;
    let err = HarmonicCnn::new(&cfg, &Device::Cpu).unwrap_err();
    assert!(matches!(err, ModelError::Config(_)) && err.to_string().contains("256"));
    // A non-positive bandwidth.
    let mut cfg = *net.config();
    cfg.filterbank.bw_q = 0.0;
    assert!(HarmonicCnn::new(&cfg, &Device::Cpu)
        .unwrap_err()
        .to_string()
        .contains("bw_q"));
}

#[test]
fn num_classes_overrides_the_head_and_reseeding_repeats_the_dropout_masks() {
    let cfg = HarmonicCnnConfig {
        variant: HarmonicCnnVariant::Keyword,
        conv_channels: 4,
        num_classes: Some(3),
        ..HarmonicCnnConfig::default()
    };
    let net = HarmonicCnn::new(&cfg, &Device::Cpu).unwrap();
    let spec = Tensor::rand(0f32, 1.0, (2, 257, 64), &Device::Cpu).unwrap();
    net.reseed_dropout(7);
    let a = flat(&net.logits_t(&spec, true).unwrap());
    let b = flat(&net.logits_t(&spec, true).unwrap());
    net.reseed_dropout(7);
    let c = flat(&net.logits_t(&spec, true).unwrap());
    assert_eq!(a.len(), 2 * 3, "[B, num_classes]");
    assert_ne!(a, b, "the mask stream moves on between calls");
    assert_eq!(a, c, "the same seed gives the same masks");
    let zero = HarmonicCnnConfig {
        num_classes: Some(0),
        ..cfg
    };
    assert!(HarmonicCnn::new(&zero, &Device::Cpu).is_err());
}
