//! SSD's priors, box coding, matching, MultiBox loss and detection against the numpy port of
//! ssd.pytorch.
//!
//! Fixture: `tasks/detection/tests/fixtures/ssd.json`, written by
//! `python tools/gen_ssd_fixtures.py` (numpy 2.4.6; see tools/README.md). Plus an encode/decode
//! round trip on random boxes and a finite-difference gradient check of the loss.

use adamp_task_detection::ssd::{
    center_size, decode, detect, encode, jaccard, match_priors, nms, point_form, DetectSpec,
    MultiBoxLoss, PriorSpec,
};
use candle_core::{DType, Device, Tensor, Var};
use serde_json::Value;

mod common;
use common::{assert_rel, f, f32s, fixture, us};

const VAR: [f64; 2] = [0.1, 0.2];

fn quads(v: &Value) -> Vec<[f32; 4]> {
    f32s(v)
        .chunks_exact(4)
        .map(|c| [c[0], c[1], c[2], c[3]])
        .collect()
}

/// `|got - want| <= tol * max(|want|, 1)` element-wise.
fn assert_close(name: &str, got: &[f32], want: &[f32], tol: f32) {
    assert_eq!(got.len(), want.len(), "{name}: length");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(
            (g - w).abs() <= tol * w.abs().max(1.0),
            "{name}[{i}]: {g} vs {w}"
        );
    }
}

fn flat(v: &[[f32; 4]]) -> Vec<f32> {
    v.iter().flatten().copied().collect()
}

#[test]
fn ssd300_priors_match_reference() {
    let fx = fixture("ssd.json");
    let c = &fx["ssd300"];
    let pri = PriorSpec::ssd300_coco().priors();
    assert_eq!(pri.len(), 8732);
    assert_eq!(pri.len(), c["count"].as_u64().unwrap() as usize);
    assert_close("first", &flat(&pri[..8]), &f32s(&c["first"]), 1e-6);
    assert_close(
        "last",
        &flat(&pri[pri.len() - 8..]),
        &f32s(&c["last"]),
        1e-6,
    );
    let sum: f64 = pri.iter().flatten().map(|&v| v as f64).sum();
    assert_rel("sum", sum, f(&c["sum"]), 1e-9);
    // By hand: the first prior is centred at (0.5 / 37.5) with side 21 / 300; the last ones are
    // the 1×1 map's aspect-2 pair, clipped at 1.
    assert_eq!(pri[0], [0.5 / 37.5, 0.5 / 37.5, 0.07, 0.07]);
    assert_eq!(pri[8731][3], 1.0);
}

#[test]
fn scaled_priors_match_reference() {
    let fx = fixture("ssd.json");
    let cases = fx["scaled"].as_object().unwrap();
    assert!(cases.len() >= 4);
    for (name, c) in cases {
        let size = c["image_size"].as_u64().unwrap() as usize;
        let spec = PriorSpec::scaled(size, &us(&c["feature_maps"])).unwrap();
        let tol = 1e-12;
        for (key, got) in [
            ("min_sizes", &spec.min_sizes),
            ("max_sizes", &spec.max_sizes),
            ("steps", &spec.steps),
        ] {
            let want: Vec<f64> = c[key].as_array().unwrap().iter().map(f).collect();
            assert_eq!(got.len(), want.len(), "{name}.{key}");
            for (g, w) in got.iter().zip(&want) {
                assert!((g - w).abs() <= tol * w.abs(), "{name}.{key}: {g} vs {w}");
            }
        }
        let pri = spec.priors();
        assert_eq!(pri.len(), c["count"].as_u64().unwrap() as usize, "{name}");
        assert_close(
            &format!("{name}.first"),
            &flat(&pri[..8]),
            &f32s(&c["first"]),
            1e-6,
        );
        let n = pri.len();
        assert_close(
            &format!("{name}.last"),
            &flat(&pri[n - 8..]),
            &f32s(&c["last"]),
            1e-6,
        );
        if !c["priors"].is_null() {
            assert_close(
                &format!("{name}.priors"),
                &flat(&pri),
                &f32s(&c["priors"]),
                1e-6,
            );
        }
        let sum: f64 = pri.iter().flatten().map(|&v| v as f64).sum();
        assert_rel(&format!("{name}.sum"), sum, f(&c["sum"]), 1e-9);
    }
}

#[test]
fn box_coding_matches_reference() {
    let fx = fixture("ssd.json");
    let c = &fx["coding"];
    let priors = quads(&c["priors"]);
    let truths = quads(&c["truths"]);
    let enc: Vec<[f32; 4]> = truths
        .iter()
        .zip(&priors)
        .map(|(t, p)| encode(t, p, VAR))
        .collect();
    assert_close("encoded", &flat(&enc), &f32s(&c["encoded"]), 1e-5);
    let dec: Vec<[f32; 4]> = enc
        .iter()
        .zip(&priors)
        .map(|(l, p)| decode(l, p, VAR))
        .collect();
    assert_close("decoded", &flat(&dec), &f32s(&c["decoded"]), 1e-5);
    let pf: Vec<[f32; 4]> = priors.iter().map(point_form).collect();
    assert_close("point_form", &flat(&pf), &f32s(&c["point_form"]), 1e-6);
    let cs: Vec<[f32; 4]> = truths.iter().map(center_size).collect();
    assert_close("center_size", &flat(&cs), &f32s(&c["center_size"]), 1e-6);
    let iou: Vec<f32> = truths
        .iter()
        .flat_map(|t| pf.iter().map(move |p| jaccard(t, p)))
        .collect();
    assert_close("jaccard", &iou, &f32s(&c["jaccard"]), 1e-5);
    assert!(iou.iter().any(|&v| v > 0.0) && iou.contains(&0.0));
}

#[test]
fn encode_decode_round_trip() {
    // A small LCG, so the test needs no rand crate.
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let mut uniform = move || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 40) as f32 / (1u64 << 24) as f32
    };
    for _ in 0..1000 {
        let (x, y) = (uniform() * 0.7, uniform() * 0.7);
        let b = [
            x,
            y,
            x + 0.02 + uniform() * 0.28,
            y + 0.02 + uniform() * 0.28,
        ];
        let p = [
            uniform(),
            uniform(),
            0.05 + uniform() * 0.9,
            0.05 + uniform() * 0.9,
        ];
        let back = decode(&encode(&b, &p, VAR), &p, VAR);
        for k in 0..4 {
            assert!(
                (back[k] - b[k]).abs() <= 1e-5,
                "{b:?} -> {back:?} (prior {p:?})"
            );
        }
    }
}

fn priors_of(c: &Value) -> Vec<[f32; 4]> {
    let size = c["image_size"].as_u64().unwrap() as usize;
    PriorSpec::scaled(size, &us(&c["feature_maps"]))
        .unwrap()
        .priors()
}

#[test]
fn matching_matches_reference() {
    let fx = fixture("ssd.json");
    let priors = priors_of(&fx["match_priors"]);
    let cases = fx["match"].as_object().unwrap();
    for name in [
        "forced_small",
        "competing",
        "no_truths",
        "random",
        "random_thr04",
    ] {
        let c = &cases[name];
        let labels: Vec<u32> = us(&c["labels"]).iter().map(|&l| l as u32).collect();
        let m = match_priors(
            f(&c["threshold"]),
            &quads(&c["truths"]),
            &labels,
            &priors,
            VAR,
        );
        let want: Vec<u32> = us(&c["conf"]).iter().map(|&l| l as u32).collect();
        assert_eq!(m.conf, want, "{name}.conf");
        assert_close(
            &format!("{name}.loc"),
            &flat(&m.loc),
            &f32s(&c["loc"]),
            1e-5,
        );
    }
    // The forced truth has exactly one positive prior; no truths: all background.
    let forced = us(&cases["forced_small"]["conf"]);
    assert_eq!(forced.iter().filter(|&&c| c > 0).count(), 1);
    assert!(us(&cases["no_truths"]["conf"]).iter().all(|&c| c == 0));
}

/// Per image: truth boxes (xyxy) and 0-based labels.
type Targets = Vec<(Vec<[f32; 4]>, Vec<u32>)>;

fn multibox_inputs(c: &Value, dtype: DType) -> (Tensor, Tensor, Targets) {
    let p = c["priors"].as_u64().unwrap() as usize;
    let nc = c["num_classes"].as_u64().unwrap() as usize;
    let targets: Targets = c["targets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            let labels = us(&t["labels"]).iter().map(|&l| l as u32).collect();
            (quads(&t["truths"]), labels)
        })
        .collect();
    let b = targets.len();
    let dev = Device::Cpu;
    let loc = Tensor::from_vec(f32s(&c["loc"]), (b, p, 4), &dev).unwrap();
    let conf = Tensor::from_vec(f32s(&c["conf"]), (b, p, nc), &dev).unwrap();
    (
        loc.to_dtype(dtype).unwrap(),
        conf.to_dtype(dtype).unwrap(),
        targets,
    )
}

#[test]
fn multibox_loss_matches_reference() {
    let fx = fixture("ssd.json");
    let priors = priors_of(&fx["match_priors"]);
    let c = &fx["multibox"];
    assert!(c["targets"].as_array().unwrap()[1]["labels"]
        .as_array()
        .unwrap()
        .is_empty());
    for dtype in [DType::F32, DType::F64] {
        let (loc, conf, targets) = multibox_inputs(c, dtype);
        let loc = Var::from_tensor(&loc).unwrap();
        let conf = Var::from_tensor(&conf).unwrap();
        let out = MultiBoxLoss::default()
            .loss(loc.as_tensor(), conf.as_tensor(), &priors, &targets)
            .unwrap();
        assert_eq!(out.positives, c["positives"].as_u64().unwrap() as usize);
        assert_eq!(out.loc.dtype(), dtype);
        let got_l = out
            .loc
            .to_dtype(DType::F64)
            .unwrap()
            .to_scalar::<f64>()
            .unwrap();
        let got_c = out
            .conf
            .to_dtype(DType::F64)
            .unwrap()
            .to_scalar::<f64>()
            .unwrap();
        assert_rel("loss_l", got_l, f(&c["loss_l"]), 1e-5);
        assert_rel("loss_c", got_c, f(&c["loss_c"]), 1e-5);

        // Analytic gradients of the reference: zero outside the positives (loc) and the
        // positives plus mined negatives (conf).
        let grads = (&out.loc + &out.conf).unwrap().backward().unwrap();
        let g_loc: Vec<f32> = grads
            .get(loc.as_tensor())
            .unwrap()
            .to_dtype(DType::F32)
            .unwrap()
            .flatten_all()
            .unwrap()
            .to_vec1()
            .unwrap();
        let g_conf: Vec<f32> = grads
            .get(conf.as_tensor())
            .unwrap()
            .to_dtype(DType::F32)
            .unwrap()
            .flatten_all()
            .unwrap()
            .to_vec1()
            .unwrap();
        let nc = c["num_classes"].as_u64().unwrap() as usize;
        let mut want_loc = vec![0.0f32; g_loc.len()];
        for (k, &row) in us(&c["grad_loc_rows"]).iter().enumerate() {
            want_loc[row * 4..row * 4 + 4].copy_from_slice(&f32s(&c["grad_loc"])[k * 4..k * 4 + 4]);
        }
        let mut want_conf = vec![0.0f32; g_conf.len()];
        let gc = f32s(&c["grad_conf"]);
        for (k, &row) in us(&c["mined"]).iter().enumerate() {
            want_conf[row * nc..(row + 1) * nc].copy_from_slice(&gc[k * nc..(k + 1) * nc]);
        }
        assert_close("grad_loc", &g_loc, &want_loc, 1e-5);
        assert_close("grad_conf", &g_conf, &want_conf, 1e-5);
    }
}

#[test]
fn multibox_gradient_matches_finite_differences() {
    // One image, the 64 px priors on maps [2, 1] (20 priors), 3 classes + background.
    let priors = PriorSpec::scaled(64, &[2, 1]).unwrap().priors();
    let p = priors.len();
    let nc = 4;
    let targets = vec![(
        vec![[0.05f32, 0.05, 0.3, 0.3], [0.3, 0.25, 0.75, 0.7]],
        vec![0, 2],
    )];
    let dev = Device::Cpu;
    // Pseudo-random values without ties among the mining values (a tie at the mining cut
    // makes the loss non-differentiable there: the central difference would see half).
    let noise = |i: usize, seed: f64| ((i as f64 * 12.9898 + seed).sin() * 43758.5453).fract();
    let loc0: Vec<f64> = (0..p * 4).map(|i| noise(i, 1.0) * 3.0).collect();
    let conf0: Vec<f64> = (0..p * nc).map(|i| noise(i, 2.0) * 4.0).collect();
    let total = |loc: &[f64], conf: &[f64]| {
        let l = Tensor::from_slice(loc, (1, p, 4), &dev).unwrap();
        let c = Tensor::from_slice(conf, (1, p, nc), &dev).unwrap();
        let out = MultiBoxLoss::default()
            .loss(&l, &c, &priors, &targets)
            .unwrap();
        assert_eq!(out.positives, 2);
        (out.loc + out.conf).unwrap().to_scalar::<f64>().unwrap()
    };
    let loc = Var::from_tensor(&Tensor::from_slice(&loc0, (1, p, 4), &dev).unwrap()).unwrap();
    let conf = Var::from_tensor(&Tensor::from_slice(&conf0, (1, p, nc), &dev).unwrap()).unwrap();
    let out = MultiBoxLoss::default()
        .loss(loc.as_tensor(), conf.as_tensor(), &priors, &targets)
        .unwrap();
    let grads = (out.loc + out.conf).unwrap().backward().unwrap();
    let g = |v: &Var| -> Vec<f64> {
        grads
            .get(v.as_tensor())
            .unwrap()
            .flatten_all()
            .unwrap()
            .to_vec1()
            .unwrap()
    };
    let (g_loc, g_conf) = (g(&loc), g(&conf));
    let eps = 1e-6;
    let mut nonzero = 0;
    for i in 0..loc0.len() {
        let (mut a, mut b) = (loc0.clone(), loc0.clone());
        a[i] += eps;
        b[i] -= eps;
        let fd = (total(&a, &conf0) - total(&b, &conf0)) / (2.0 * eps);
        assert!(
            (g_loc[i] - fd).abs() <= 1e-6 * fd.abs().max(1.0),
            "d/dloc[{i}]: {} vs {fd}",
            g_loc[i]
        );
        nonzero += usize::from(fd != 0.0);
    }
    for i in 0..conf0.len() {
        let (mut a, mut b) = (conf0.clone(), conf0.clone());
        a[i] += eps;
        b[i] -= eps;
        let fd = (total(&loc0, &a) - total(&loc0, &b)) / (2.0 * eps);
        assert!(
            (g_conf[i] - fd).abs() <= 1e-6 * fd.abs().max(1.0),
            "d/dconf[{i}]: {} vs {fd}",
            g_conf[i]
        );
        nonzero += usize::from(fd != 0.0);
    }
    assert!(nonzero > 20, "{nonzero} non-zero derivatives");
}

#[test]
fn nms_matches_reference() {
    let fx = fixture("ssd.json");
    let c = &fx["detect"];
    let priors = priors_of(c);
    let nc = 4;
    let loc = f32s(&c["loc"]);
    let conf = f32s(&c["conf"]);
    let cl = c["nms_class"].as_u64().unwrap() as usize;
    let boxes: Vec<[f32; 4]> = loc
        .chunks_exact(4)
        .zip(&priors)
        .map(|(l, p)| decode(&[l[0], l[1], l[2], l[3]], p, VAR))
        .collect();
    let scores: Vec<f32> = (0..priors.len()).map(|i| conf[i * nc + cl]).collect();
    let keep = nms(
        &boxes,
        &scores,
        f(&c["nms_overlap"]) as f32,
        c["nms_top_k"].as_u64().unwrap() as usize,
    );
    let want = us(&c["nms_keep"]);
    assert!(
        want.len() > 5 && want.len() < 30,
        "the case suppresses something"
    );
    assert_eq!(keep, want);
}

#[test]
fn detect_matches_reference() {
    let fx = fixture("ssd.json");
    let c = &fx["detect"];
    let priors = priors_of(c);
    let loc = f32s(&c["loc"]);
    let conf = f32s(&c["conf"]);
    for run in c["runs"].as_array().unwrap() {
        let spec = DetectSpec {
            conf_thresh: f(&run["conf_thresh"]) as f32,
            nms_thresh: f(&run["nms_thresh"]) as f32,
            top_k: run["top_k"].as_u64().unwrap() as usize,
            keep_top_k: run["keep_top_k"].as_u64().unwrap() as usize,
        };
        let dets = detect(&loc, &conf, &priors, VAR, &spec);
        let labels: Vec<usize> = dets.iter().map(|d| d.label as usize).collect();
        assert_eq!(labels, us(&run["labels"]), "{spec:?}");
        let scores: Vec<f32> = dets.iter().map(|d| d.score).collect();
        assert_eq!(scores, f32s(&run["scores"]), "{spec:?}");
        let boxes: Vec<[f32; 4]> = dets.iter().map(|d| d.bbox).collect();
        assert_close("boxes", &flat(&boxes), &f32s(&run["boxes"]), 1e-5);
    }
}
