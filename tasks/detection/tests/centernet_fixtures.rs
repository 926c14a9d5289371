//! CenterNet's targets, losses and decoding against the numpy port of the reference code.
//!
//! Fixture: `tasks/detection/tests/fixtures/centernet.json`, written by
//! `python tools/gen_centernet_fixtures.py` (numpy 2.4.6; see tools/README.md). Plus
//! hand-checked cases and a finite-difference gradient check of the focal loss.

use adamp_task_detection::decode::{ctdet_decode, nms, topk};
use adamp_task_detection::focal::{neg_loss, reg_l1_loss};
use adamp_task_detection::targets::{
    ctdet_targets, draw_umich_gaussian, gaussian_radius, CtdetObject, MAX_OBJS,
};
use candle_core::{DType, Device, Tensor, Var};
use serde_json::Value;

mod common;
use common::{assert_rel, f, f32s, fixture, us};

fn assert_close(name: &str, got: &[f32], want: &[f32], tol: f32) {
    assert_eq!(got.len(), want.len(), "{name}: length");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!((g - w).abs() <= tol, "{name}[{i}]: {g} vs {w}");
    }
}

#[test]
fn gaussian_radius_matches_reference() {
    let fx = fixture("centernet.json");
    let cases = fx["radius"].as_array().unwrap();
    assert!(cases.len() >= 10);
    for c in cases {
        let (h, w, mo) = (f(&c["h"]), f(&c["w"]), f(&c["min_overlap"]));
        let got = gaussian_radius(h, w, mo);
        assert!(
            (got - f(&c["radius"])).abs() <= 1e-9,
            "radius({h}, {w}, {mo}): {got}"
        );
    }
}

#[test]
fn gaussian_radius_by_hand() {
    // h = w = 1, min_overlap 0.5: r1 = (2 + sqrt(4 - 4/3)) / 2 ≈ 1.816, r2 = (4 + sqrt(16 - 8)) / 2
    // ≈ 3.414, r3 = (-2 + sqrt(4 + 4)) / 2 = sqrt(2) - 1.
    assert!((gaussian_radius(1.0, 1.0, 0.5) - (2f64.sqrt() - 1.0)).abs() < 1e-12);
}

#[test]
fn ctdet_targets_match_reference() {
    let fx = fixture("centernet.json");
    for (name, c) in fx["targets"].as_object().unwrap() {
        let objects: Vec<CtdetObject> = c["anns"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| {
                let b = f32s(&a["bbox"]);
                CtdetObject {
                    bbox: [b[0], b[1], b[2], b[3]],
                    class: a["class"].as_u64().unwrap() as usize,
                }
            })
            .collect();
        let in_h = c["in_h"].as_u64().unwrap() as usize;
        let in_w = c["in_w"].as_u64().unwrap() as usize;
        let nc = c["num_classes"].as_u64().unwrap() as usize;
        let t = ctdet_targets(in_h, in_w, nc, &objects);
        assert_eq!((t.out_h, t.out_w), (in_h / 4, in_w / 4));
        assert_close(&format!("{name}.hm"), &t.hm, &f32s(&c["hm"]), 1e-5);
        assert_close(&format!("{name}.wh"), &t.wh, &f32s(&c["wh"]), 1e-5);
        assert_close(&format!("{name}.reg"), &t.reg, &f32s(&c["reg"]), 1e-5);
        let ind: Vec<usize> = t.ind.iter().map(|&i| i as usize).collect();
        assert_eq!(ind, us(&c["ind"]), "{name}.ind");
        let mask: Vec<usize> = t.mask.iter().map(|&m| m as usize).collect();
        assert_eq!(mask, us(&c["mask"]), "{name}.mask");
    }
}

#[test]
fn draw_gaussian_by_hand() {
    // Radius 1: diameter 3, sigma 0.5, so the neighbours get exp(-1 / 0.5) = e^-2 and the
    // corners e^-4; max-merged with what is there, cut at the border.
    let mut hm = vec![0.0f32; 3 * 4];
    hm[3] = 0.5; // (x 3, y 0)
    draw_umich_gaussian(&mut hm, 3, 4, (0, 0), 1);
    let (e2, e4) = ((-2f32).exp(), (-4f32).exp());
    let want = [1.0, e2, 0.0, 0.5, e2, e4, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0];
    assert_close("hm", &hm, &want, 1e-7);
    draw_umich_gaussian(&mut hm, 3, 4, (3, 1), 0);
    assert_eq!(hm[7], 1.0);
    assert_eq!(hm[3], 0.5);
}

#[test]
fn ctdet_targets_keep_at_most_max_objs() {
    let objects = vec![
        CtdetObject {
            bbox: [4.0, 4.0, 8.0, 8.0],
            class: 0,
        };
        MAX_OBJS + 5
    ];
    let t = ctdet_targets(32, 32, 1, &objects);
    assert_eq!(t.mask.iter().filter(|&&m| m == 1).count(), MAX_OBJS);
    // Box [1, 1, 3, 3] in output pixels: centre (2, 2), index 2 * 8 + 2.
    assert!(t.ind.iter().all(|&i| i == 18));
    assert_eq!(&t.wh[..2], &[2.0, 2.0]);
}

fn tensor(v: &Value, shape: &[usize]) -> Tensor {
    Tensor::from_vec(f32s(v), shape, &Device::Cpu).unwrap()
}

#[test]
fn losses_match_reference() {
    let fx = fixture("centernet.json");
    for (name, c) in fx["losses"].as_object().unwrap() {
        let shape = us(&c["shape"]);
        let loss = neg_loss(&tensor(&c["pred"], &shape), &tensor(&c["gt"], &shape)).unwrap();
        let got = loss.to_scalar::<f32>().unwrap() as f64;
        assert_rel(&format!("{name}.focal"), got, f(&c["focal"]), 1e-5);
        if c.get("l1_wh").is_none() {
            continue;
        }
        let (h, w) = (shape[1], shape[2]);
        let out = tensor(&c["out_wh"], &[1, 2, h, w]);
        let ind: Vec<u32> = us(&c["ind"]).iter().map(|&i| i as u32).collect();
        let ind = Tensor::from_vec(ind, (1, MAX_OBJS), &Device::Cpu).unwrap();
        let mask = tensor(&c["mask"], &[1, MAX_OBJS]);
        let target = tensor(&c["target_wh"], &[1, MAX_OBJS, 2]);
        let l1 = reg_l1_loss(&out, &mask, &ind, &target).unwrap();
        let got = l1.to_scalar::<f32>().unwrap() as f64;
        assert_rel(&format!("{name}.l1_wh"), got, f(&c["l1_wh"]), 1e-5);
    }
}

#[test]
fn focal_loss_by_hand() {
    // One positive (p = 0.5): log(0.5) * 0.25; one negative with gt 0.5, p = 0.5:
    // log(0.5) * 0.25 * 0.0625. Loss = -(sum) / 1.
    let pred = Tensor::new(&[0.5f32, 0.5], &Device::Cpu).unwrap();
    let gt = Tensor::new(&[1.0f32, 0.5], &Device::Cpu).unwrap();
    let got = neg_loss(&pred, &gt).unwrap().to_scalar::<f32>().unwrap();
    let want = -(0.5f32.ln() * 0.25 * (1.0 + 0.0625));
    assert!((got - want).abs() < 1e-6, "{got} vs {want}");
}

#[test]
fn focal_loss_gradient_matches_finite_differences() {
    let dev = Device::Cpu;
    let gt = Tensor::new(&[[1.0f64, 0.3, 0.0], [0.9, 1.0, 0.05]], &dev).unwrap();
    let p0 = [[0.7f64, 0.2, 0.6], [0.4, 0.35, 0.1]];
    let pred = Var::from_tensor(&Tensor::new(&p0, &dev).unwrap()).unwrap();
    let loss = neg_loss(pred.as_tensor(), &gt).unwrap();
    let grads = loss.backward().unwrap();
    let g: Vec<f64> = grads
        .get(pred.as_tensor())
        .unwrap()
        .flatten_all()
        .unwrap()
        .to_vec1()
        .unwrap();
    let flat: Vec<f64> = p0.iter().flatten().copied().collect();
    let eps = 1e-6;
    for i in 0..flat.len() {
        let at = |d: f64| {
            let mut p = flat.clone();
            p[i] += d;
            let p = Tensor::from_vec(p, (2, 3), &dev).unwrap();
            neg_loss(&p, &gt).unwrap().to_scalar::<f64>().unwrap()
        };
        let fd = (at(eps) - at(-eps)) / (2.0 * eps);
        assert!(
            (g[i] - fd).abs() <= 1e-6 * fd.abs().max(1.0),
            "d/dp[{i}]: {} vs {fd}",
            g[i]
        );
    }
    assert_eq!(loss.dtype(), DType::F64);
}

#[test]
fn decode_matches_reference() {
    let fx = fixture("centernet.json");
    let c = &fx["decode"];
    let shape = us(&c["shape"]);
    let (nc, h, w) = (shape[0], shape[1], shape[2]);
    let k = c["k"].as_u64().unwrap() as usize;
    let heat = f32s(&c["heat"]);
    assert_close("nms", &nms(&heat, nc, h, w), &f32s(&c["nms"]), 0.0);
    let det = ctdet_decode(&heat, &f32s(&c["wh"]), &f32s(&c["reg"]), nc, h, w, k);
    assert_eq!(det.len(), k);
    let flat: Vec<f32> = det.iter().flatten().copied().collect();
    assert_close("detections", &flat, &f32s(&c["detections"]), 1e-5);
}

#[test]
fn nms_and_topk_by_hand() {
    // One class, 3 × 3: peaks at the centre (0.9) and nowhere else (everything is beside it),
    // a plateau of two equal maxima in the second class keeps both.
    let heat = [
        0.1, 0.2, 0.3, 0.4, 0.9, 0.5, 0.6, 0.7, 0.8, //
        0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.6, 0.6,
    ];
    let kept = nms(&heat, 2, 3, 3);
    let mut want = [0.0f32; 18];
    want[4] = 0.9;
    want[16] = 0.6;
    want[17] = 0.6;
    assert_eq!(kept.to_vec(), want.to_vec());
    let top = topk(&kept, 2, 3, 3, 2);
    assert_eq!(
        (top[0].class, top[0].y, top[0].x, top[0].score),
        (0, 1, 1, 0.9)
    );
    assert_eq!((top[1].class, top[1].index), (1, 7));
}
