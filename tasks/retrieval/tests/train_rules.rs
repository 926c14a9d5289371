//! The training rules of the ProxyAnchor codebase (`code/train.py`) as the task applies them:
//! the proxies' 100x learning rate, the warm-up that trains only the embedding and the proxies
//! (frozen parameters untouched: no update, no weight decay, no moment or step count), BatchNorm's
//! affine parameters, and gradient value clipping.

use adamp_models::{LayerImpl, ModelConfig, ModelKind};
use adamp_optim::{AdamW, AdamWConfig, Optimizer, ParamList};
use adamp_task_retrieval::embedding::EmbeddingNet;
use adamp_task_retrieval::freeze::{clip_value, Freeze, PROXIES};
use adamp_task_retrieval::groups::param_groups;
use candle_core::backprop::GradStore;
use candle_core::{DType, Device, Tensor, Var};

fn net() -> EmbeddingNet {
    let config = ModelConfig {
        kind: ModelKind::ResNet20,
        in_channels: 1,
        num_classes: 3,
        input_hw: (8, 8),
        seed: 3,
        layer_impl: LayerImpl::Fast,
    };
    EmbeddingNet::new(&config, 4, true, &Device::Cpu).unwrap()
}

fn params_with_proxies(scale: f64) -> (EmbeddingNet, ParamList) {
    let net = net();
    let proxies =
        Var::from_tensor(&Tensor::ones((3, 4), DType::F32, &Device::Cpu).unwrap()).unwrap();
    let list = param_groups(net.params(), Some(&proxies), scale).unwrap();
    (net, list)
}

/// A gradient of ones for every parameter of `list`.
fn ones(list: &ParamList) -> GradStore {
    let x = Var::from_tensor(&Tensor::zeros(1, DType::F32, &Device::Cpu).unwrap()).unwrap();
    let mut g = x.as_tensor().sum_all().unwrap().backward().unwrap();
    for p in list.params() {
        g.insert(p.var.as_tensor(), p.var.as_tensor().ones_like().unwrap());
    }
    g
}

fn values(list: &ParamList) -> Vec<(String, Vec<f32>)> {
    list.params()
        .iter()
        .map(|p| {
            (
                p.name.clone(),
                p.var.as_tensor().flatten_all().unwrap().to_vec1().unwrap(),
            )
        })
        .collect()
}

fn max_change(before: &[f32], after: &[f32]) -> f32 {
    before
        .iter()
        .zip(after)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f32::max)
}

fn adamw(list: &ParamList) -> AdamW {
    AdamW::new(
        list.clone(),
        AdamWConfig {
            lr: 1e-4,
            weight_decay: 0.0,
            ..Default::default()
        },
    )
    .unwrap()
}

#[test]
fn the_proxies_train_at_100_times_the_base_learning_rate() {
    let (_, list) = params_with_proxies(100.0);
    let proxies = list.get(PROXIES).unwrap();
    assert_eq!(list.groups()[proxies.group].lr_scale, 100.0);
    let before = values(&list);
    let mut opt = adamw(&list);
    opt.step(&ones(&list)).unwrap();
    let after = values(&list);
    // Adam's first step moves every element by lr * g / (|g| + eps) ~ lr.
    for ((name, b), (_, a)) in before.iter().zip(&after) {
        let moved = max_change(b, a);
        let expected = if name == PROXIES { 1e-2 } else { 1e-4 };
        assert!(
            (moved - expected).abs() < expected * 1e-3,
            "{name} moved by {moved}, expected {expected}"
        );
    }
}

#[test]
fn warm_up_trains_only_the_embedding_and_leaves_frozen_parameters_untouched() {
    let (_, list) = params_with_proxies(100.0);
    let freeze = Freeze::new(2, &list, true);
    let mut opt = AdamW::new(
        list.clone(),
        AdamWConfig {
            lr: 1e-3,
            weight_decay: 0.1,
            ..Default::default()
        },
    )
    .unwrap();
    let before = values(&list);
    for epoch in [1, 2] {
        let mut grads = ones(&list);
        let frozen = freeze.prepare(&mut grads, &list, epoch, 10.0).unwrap();
        assert_eq!(
            frozen,
            list.len() - 3,
            "all but embedding.weight, embedding.bias, proxies"
        );
        let report = opt.step(&grads).unwrap();
        assert_eq!(report.skipped.len(), frozen);
    }
    let after = values(&list);
    for ((name, b), (_, a)) in before.iter().zip(&after) {
        let trains = name.starts_with("embedding.") || name == PROXIES;
        assert_eq!(b != a, trains, "{name}: changed = {}", b != a);
    }
    // After the warm-up, a trunk weight's first update is the first step of a fresh optimizer:
    // no moment, step count or weight decay was accumulated while it was frozen.
    let name = "conv1.weight";
    let p = list.get(name).unwrap();
    let mut grads = ones(&list);
    freeze.prepare(&mut grads, &list, 3, 10.0).unwrap();
    assert!(
        grads.get(p.var.as_tensor()).is_some(),
        "{name} trains in epoch 3"
    );
    let start: Vec<f32> = p.var.as_tensor().flatten_all().unwrap().to_vec1().unwrap();
    opt.step(&grads).unwrap();
    let stepped: Vec<f32> = p.var.as_tensor().flatten_all().unwrap().to_vec1().unwrap();
    let fresh =
        Var::from_tensor(&Tensor::from_vec(start.clone(), p.var.dims(), &Device::Cpu).unwrap())
            .unwrap();
    let fresh_list = ParamList::new(vec![adamp_optim::Param {
        name: name.into(),
        var: fresh.clone(),
        meta: p.meta,
        group: 0,
    }])
    .unwrap();
    let mut fresh_opt = AdamW::new(
        fresh_list.clone(),
        AdamWConfig {
            lr: 1e-3,
            weight_decay: 0.1,
            ..Default::default()
        },
    )
    .unwrap();
    fresh_opt.step(&ones(&fresh_list)).unwrap();
    let expected: Vec<f32> = fresh.as_tensor().flatten_all().unwrap().to_vec1().unwrap();
    assert_eq!(stepped, expected);
}

#[test]
fn batchnorm_affine_parameters_stay_frozen_without_warm_up_and_train_after_one() {
    let (_, list) = params_with_proxies(100.0);
    let no_warmup = Freeze::new(0, &list, true);
    assert!(no_warmup.norm_affine.contains("bn1.weight"));
    assert!(no_warmup.norm_affine.contains("bn1.bias"));
    assert!(!no_warmup.norm_affine.contains("embedding.bias"));
    for epoch in [1, 7] {
        assert!(!no_warmup.trains("bn1.weight", epoch));
        assert!(!no_warmup.trains("layer1.0.bn2.bias", epoch));
        assert!(no_warmup.trains("conv1.weight", epoch));
        assert!(no_warmup.trains("embedding.weight", epoch));
    }
    let warmup = Freeze::new(5, &list, true);
    assert!(!warmup.trains("bn1.weight", 5));
    assert!(!warmup.trains("conv1.weight", 5));
    assert!(warmup.trains(PROXIES, 1));
    assert!(warmup.trains("bn1.weight", 6));
    assert!(warmup.trains("conv1.weight", 6));
    // BatchNorm in training mode (`bn_freeze = 0`): its affine parameters train with the trunk.
    let train_bn = Freeze::new(0, &list, false);
    assert!(train_bn.norm_affine.is_empty());
    assert!(train_bn.trains("bn1.weight", 1));
}

#[test]
fn gradients_are_clamped_to_the_clip_value_keeping_nan() {
    let g = Tensor::new(
        &[-25f32, -10.0, 3.5, 10.5, f32::INFINITY, f32::NAN],
        &Device::Cpu,
    )
    .unwrap();
    let c: Vec<f32> = clip_value(&g, 10.0).unwrap().to_vec1().unwrap();
    assert_eq!(&c[..5], &[-10.0, -10.0, 3.5, 10.0, 10.0]);
    assert!(c[5].is_nan());
    // Through `prepare`, on every parameter that trains.
    let (_, list) = params_with_proxies(100.0);
    let freeze = Freeze::new(0, &list, true);
    let mut grads = ones(&list);
    let p = list.get("embedding.weight").unwrap();
    grads.insert(
        p.var.as_tensor(),
        (p.var.as_tensor().ones_like().unwrap() * 50.0).unwrap(),
    );
    freeze.prepare(&mut grads, &list, 1, 10.0).unwrap();
    let clipped: Vec<f32> = grads
        .get(p.var.as_tensor())
        .unwrap()
        .flatten_all()
        .unwrap()
        .to_vec1()
        .unwrap();
    assert!(clipped.iter().all(|&v| v == 10.0));
}

#[test]
fn embeddings_are_unit_vectors_and_warm_up_cuts_the_trunk_out_of_the_graph() {
    let net = net();
    let x = Tensor::randn(0f32, 1.0, (3, 1, 8, 8), &Device::Cpu).unwrap();
    for trunk_grads in [true, false] {
        let e = net.forward(&x, true, trunk_grads).unwrap();
        assert_eq!(e.dims(), &[3, 4]);
        let norms: Vec<f32> = e
            .sqr()
            .unwrap()
            .sum(1)
            .unwrap()
            .sqrt()
            .unwrap()
            .to_vec1()
            .unwrap();
        assert!(norms.iter().all(|n| (n - 1.0).abs() < 1e-5), "{norms:?}");
        let grads = e.sum_all().unwrap().backward().unwrap();
        let list = ParamList::new(net.params()).unwrap();
        let conv = list.get("conv1.weight").unwrap();
        assert_eq!(grads.get(conv.var.as_tensor()).is_some(), trunk_grads);
        assert!(grads
            .get(list.get("embedding.weight").unwrap().var.as_tensor())
            .is_some());
    }
    // The classifier head is not a parameter; only the embedding is marked scale-invariant.
    let list = ParamList::new(net.params()).unwrap();
    assert!(list.params().iter().all(|p| !p.name.starts_with("fc.")));
    let invariant: Vec<&str> = list
        .params()
        .iter()
        .filter(|p| p.meta.followed_by_norm)
        .map(|p| p.name.as_str())
        .collect();
    assert_eq!(invariant, ["embedding.weight"]);
}
