//! The PGD attack against the PyTorch reference, element-wise.
//!
//! Fixtures: `tasks/adversarial/tests/fixtures/`, written by `python tools/gen_pgd_fixtures.py`
//! (torch 2.15.0, CPU, one thread; see tools/README.md): a conv-BN-ReLU network with fixed
//! weights and non-trivial BatchNorm running statistics in evaluation mode, CIFAR-10's input
//! normalisation, four 3x8x8 images in [0, 1], and PGD (Madry et al. 2018) with ℓ∞ ε = 4/255 and
//! ℓ2 ε = 80/255 (arXiv 2006.08217), 5 steps of 2.5·ε/5 from the reference's own start offset.
//! Every iterate must match.
//!
//! Tolerance 1e-5 on [0, 1] pixels (measured: below 1e-6). Forward and backward sums run in
//! another order than torch's, so logits and gradients differ in their last bits (~1e-7
//! relative); an ℓ∞ step only uses the gradient's sign (the generator keeps every component at
//! least 1e-4 of the largest, far from a flip), and an ℓ2 step is a unit vector times α, so a
//! pixel can move by ~1e-7·α per step. A wrong rule (projection before the step, the box clamp
//! missing, a gradient taken in training mode, normalisation outside the attack) moves pixels by
//! 1e-3 to 1e-1.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use adamp_datasets::transforms::Normalize;
use adamp_models::layers::{global_avg_pool, BatchNorm2d, Conv2d, Conv2dConfig, Linear};
use adamp_models::{Init, LayerImpl, ParamBuilder};
use adamp_task_adversarial::input_norm::InputNorm;
use adamp_task_adversarial::{Norm, Pgd};
use adamp_task_classification::metrics::cross_entropy;
use candle_core::{Device, Tensor};

const TOLERANCE: f32 = 1e-5;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// The generator's `TinyNet`, built from our layers and loaded by its torch names.
struct TinyNet {
    input: InputNorm,
    conv1: Conv2d,
    bn1: BatchNorm2d,
    conv2: Conv2d,
    bn2: BatchNorm2d,
    fc: Linear,
}

impl TinyNet {
    fn load(normalize: &Normalize) -> Self {
        let dev = Device::Cpu;
        let b = ParamBuilder::new(0, &dev, LayerImpl::Fast);
        let init = Init::Const(0.0);
        let net = TinyNet {
            input: InputNorm::new(normalize, &dev).unwrap(),
            conv1: Conv2d::new(&b.pp("conv1"), 3, 8, 3, Conv2dConfig::sp(1, 1), init, true)
                .unwrap(),
            bn1: BatchNorm2d::new(&b.pp("bn1"), 8).unwrap(),
            conv2: Conv2d::new(&b.pp("conv2"), 8, 8, 3, Conv2dConfig::sp(2, 1), init, true)
                .unwrap(),
            bn2: BatchNorm2d::new(&b.pp("bn2"), 8).unwrap(),
            fc: Linear::new(&b.pp("fc"), 8, 10, init, Some(init), false).unwrap(),
        };
        let loaded = b
            .weights()
            .unwrap()
            .load_safetensors_except(&fixtures().join("pgd_tiny_net.safetensors"), &[])
            .unwrap();
        assert_eq!(loaded, 12, "conv1, bn1 (4), conv2, bn2 (4), fc (2)");
        net
    }

    /// Logits of [0, 1] images, BatchNorm in evaluation mode (as the task attacks).
    fn logits(&self, x: &Tensor) -> Tensor {
        let h = self.input.apply(x).unwrap();
        let h = self
            .bn1
            .forward_relu_t(&self.conv1.forward(&h).unwrap(), false)
            .unwrap();
        let h = self
            .bn2
            .forward_relu_t(&self.conv2.forward(&h).unwrap(), false)
            .unwrap();
        let pooled = global_avg_pool("avgpool", &h, LayerImpl::Fast).unwrap();
        self.fc.forward(&pooled).unwrap()
    }
}

fn max_abs_diff(a: &Tensor, b: &Tensor) -> f32 {
    (a - b)
        .unwrap()
        .abs()
        .unwrap()
        .flatten_all()
        .unwrap()
        .max(0)
        .unwrap()
        .to_scalar::<f32>()
        .unwrap()
}

struct Fixture {
    tensors: HashMap<String, Tensor>,
    attacks: serde_json::Value,
}

impl Fixture {
    fn load() -> Self {
        let tensors =
            candle_core::safetensors::load(fixtures().join("pgd_attack.safetensors"), &Device::Cpu)
                .unwrap();
        let text = std::fs::read_to_string(fixtures().join("pgd_attack.json")).unwrap();
        let json: serde_json::Value = serde_json::from_str(&text).unwrap();
        Self {
            tensors,
            attacks: json["attacks"].clone(),
        }
    }

    fn get(&self, name: &str) -> &Tensor {
        self.tensors
            .get(name)
            .unwrap_or_else(|| panic!("fixture tensor {name} missing"))
    }

    fn net(&self) -> TinyNet {
        let vec = |n: &str| self.get(n).to_vec1::<f32>().unwrap();
        TinyNet::load(&Normalize {
            mean: vec("mean"),
            std: vec("std"),
        })
    }

    fn pgd(&self, norm: Norm, key: &str, steps: usize) -> Pgd {
        let a = &self.attacks[key];
        assert_eq!(a["steps"].as_u64(), Some(5));
        Pgd {
            norm,
            eps: a["eps"].as_f64().unwrap(),
            steps,
            step_size: a["step_size"].as_f64().unwrap(),
        }
    }
}

#[test]
fn clean_logits_match_the_reference_network() {
    let f = Fixture::load();
    let d = max_abs_diff(&f.net().logits(f.get("x")), f.get("logits"));
    assert!(d < 1e-4, "clean logits differ by {d}");
}

fn check_norm(norm: Norm, key: &str) {
    let f = Fixture::load();
    let net = f.net();
    let (x, y) = (f.get("x"), f.get("y"));
    let start = f.get(&format!("{key}.start"));
    let mut worst = 0f32;
    for k in 1..=5 {
        let adv = f
            .pgd(norm, key, k)
            .attack(x, Some(start), |a| Ok(cross_entropy(&net.logits(a), y)?))
            .unwrap();
        let want = f.get(&format!("{key}.adv.{k}"));
        let d = max_abs_diff(&adv, want);
        assert!(d < TOLERANCE, "{key} step {k}: max |ours - torch| = {d}");
        worst = worst.max(d);
        // The iterate moved: this step is not the start again.
        if k > 1 {
            let before = f.get(&format!("{key}.adv.{}", k - 1));
            assert!(
                max_abs_diff(want, before) > 1e-3,
                "{key} step {k} did not move"
            );
        }
    }
    let d = max_abs_diff(
        &net.logits(f.get(&format!("{key}.adv.5"))),
        f.get(&format!("{key}.logits")),
    );
    assert!(d < 1e-4, "{key}: logits of the last iterate differ by {d}");
    eprintln!("{key}: worst iterate difference {worst:e} (tolerance {TOLERANCE:e})");
}

#[test]
fn linf_iterates_match_the_reference() {
    check_norm(Norm::Linf, "linf");
}

#[test]
fn l2_iterates_match_the_reference() {
    check_norm(Norm::L2, "l2");
}
