//! The Proxy-Anchor and semi-hard triplet losses against their references: loss values and
//! gradients with respect to the embeddings and the proxies, case by case, by name.
//!
//! Fixtures: `tasks/retrieval/tests/fixtures/losses.{safetensors,json}`, written by
//! `python tools/gen_retrieval_fixtures.py` (torch 2.15.0, pytorch-metric-learning 2.9.0, CPU,
//! one thread; see tools/README.md): the ProxyAnchor codebase's `Proxy_Anchor` (code/losses.py)
//! and its `TripletLoss` = `TripletMarginMiner(0.1, 'semihard')` + `TripletMarginLoss(0.1)`.
//!
//! Tolerance: |ours - ref| <= 1e-5 * max(1, |ref|) for the loss and 1e-5 * max |ref grad| for
//! every gradient element (f32; summation orders differ from torch's). The number of mined
//! triplets must match exactly.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use adamp_task_retrieval::proxy_anchor::ProxyAnchor;
use adamp_task_retrieval::triplet::SemiHardTriplet;
use candle_core::{DType, Device, Tensor, Var};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

struct Fixtures {
    tensors: HashMap<String, Tensor>,
    cases: serde_json::Map<String, serde_json::Value>,
}

fn load() -> Fixtures {
    let tensors =
        candle_core::safetensors::load(fixtures().join("losses.safetensors"), &Device::Cpu)
            .expect("losses.safetensors");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(fixtures().join("losses.json")).unwrap())
            .unwrap();
    let cases = json["cases"].as_object().unwrap().clone();
    Fixtures { tensors, cases }
}

impl Fixtures {
    fn t(&self, case: &str, name: &str) -> Tensor {
        self.tensors[&format!("{case}.{name}")].clone()
    }

    fn labels(&self, case: &str) -> Vec<u32> {
        self.t(case, "labels")
            .to_dtype(DType::U32)
            .unwrap()
            .to_vec1()
            .unwrap()
    }
}

fn assert_close(case: &str, what: &str, ours: &Tensor, reference: &Tensor) {
    assert_eq!(ours.dims(), reference.dims(), "{case}: {what} shape");
    let a: Vec<f32> = ours.flatten_all().unwrap().to_vec1().unwrap();
    let b: Vec<f32> = reference.flatten_all().unwrap().to_vec1().unwrap();
    let scale = b.iter().fold(0f32, |m, v| m.max(v.abs()));
    let worst = a
        .iter()
        .zip(&b)
        .map(|(x, y)| (x - y).abs())
        .fold(0f32, f32::max);
    assert!(
        worst <= 1e-5 * scale.max(if b.len() == 1 { 1.0 } else { 0.0 }) + 1e-9,
        "{case}: {what} differs by {worst} (reference scale {scale})"
    );
}

#[test]
fn proxy_anchor_matches_the_reference_loss_and_gradients() {
    let f = load();
    let mut seen = 0;
    for (case, meta) in &f.cases {
        if meta["kind"] != "proxy_anchor" {
            continue;
        }
        seen += 1;
        let x = Var::from_tensor(&f.t(case, "x")).unwrap();
        let p = Var::from_tensor(&f.t(case, "proxies")).unwrap();
        let loss_fn = ProxyAnchor {
            alpha: meta["alpha"].as_f64().unwrap(),
            delta: meta["delta"].as_f64().unwrap(),
        };
        let loss = loss_fn
            .loss(x.as_tensor(), &f.labels(case), p.as_tensor())
            .unwrap();
        assert_close(case, "loss", &loss, &f.t(case, "loss"));
        let grads = loss.backward().unwrap();
        assert_close(case, "grad_x", grads.get(&x).unwrap(), &f.t(case, "grad_x"));
        assert_close(
            case,
            "grad_proxies",
            grads.get(&p).unwrap(),
            &f.t(case, "grad_proxies"),
        );
    }
    assert_eq!(seen, 4, "the fixture's Proxy-Anchor cases");
}

#[test]
fn semi_hard_triplet_matches_the_reference_loss_gradients_and_mining() {
    let f = load();
    let mut seen = 0;
    for (case, meta) in &f.cases {
        if meta["kind"] != "triplet" {
            continue;
        }
        seen += 1;
        let x = Var::from_tensor(&f.t(case, "x")).unwrap();
        let loss_fn = SemiHardTriplet {
            margin: meta["margin"].as_f64().unwrap(),
        };
        let out = loss_fn.loss(x.as_tensor(), &f.labels(case)).unwrap();
        assert_eq!(
            out.mined as u64,
            meta["mined"].as_u64().unwrap(),
            "{case}: mined triplets"
        );
        assert_close(case, "loss", &out.loss, &f.t(case, "loss"));
        let grads = out.loss.backward().unwrap();
        let grad = grads
            .get(&x)
            .expect("a gradient, zero when nothing is mined");
        assert_close(case, "grad_x", grad, &f.t(case, "grad_x"));
        assert!(
            grad.flatten_all()
                .unwrap()
                .to_vec1::<f32>()
                .unwrap()
                .iter()
                .all(|v| v.is_finite()),
            "{case}: finite gradients"
        );
    }
    assert_eq!(seen, 6, "the fixture's triplet cases");
}
