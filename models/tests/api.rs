//! Model API behaviour: input validation errors, checkpoints, kinds parsing.

mod common;

use adamp_models::{build, ModelError, ModelKind};
use candle_core::{DType, Device, Tensor};

#[test]
fn wrong_channels_name_the_layer_and_both_shapes() {
    let m = build(ModelKind::ResNet20, 3, 10, (32, 32), 0, &Device::Cpu).unwrap();
    let x = Tensor::zeros((2, 1, 32, 32), DType::F32, &Device::Cpu).unwrap();
    let err = m.forward_t(&x, true).unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, ModelError::Shape { .. }), "{msg}");
    assert!(
        msg.contains("[N, 3, H, W]") && msg.contains("[2, 1, 32, 32]"),
        "{msg}"
    );
}

#[test]
fn too_small_input_fails_at_build_naming_the_layer() {
    let err = build(ModelKind::BagNet18, 3, 9, (2, 2), 0, &Device::Cpu).unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("layer `conv2`") && msg.contains("2x2"),
        "{msg}"
    );
    let m = build(ModelKind::BagNet18, 3, 9, (24, 24), 0, &Device::Cpu).unwrap();
    let x = Tensor::zeros((1, 3, 2, 2), DType::F32, &Device::Cpu).unwrap();
    assert!(m
        .forward_t(&x, false)
        .unwrap_err()
        .to_string()
        .contains("conv2"));
}

#[test]
fn batch_norm_rejects_a_single_value_per_channel_in_training() {
    let m = build(ModelKind::MobileNetV2, 3, 10, (32, 32), 0, &Device::Cpu).unwrap();
    let x = Tensor::zeros((1, 3, 32, 32), DType::F32, &Device::Cpu).unwrap();
    let msg = m.forward_t(&x, true).unwrap_err().to_string();
    assert!(
        msg.contains("features.") && msg.contains("more than 1"),
        "{msg}"
    );
    assert!(m.forward_t(&x, false).is_ok());
}

#[test]
fn checkpoint_round_trip_restores_params_and_buffers() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.safetensors");
    let a = build(ModelKind::ResNet20, 1, 4, (8, 8), 1, &Device::Cpu).unwrap();
    let x = common::tensor(&[4, 1, 8, 8], 2);
    common::sgd_step(&a, &x, &common::labels(4, 4), 0.1); // moves weights and running stats
    a.save_safetensors(&path).unwrap();
    let b = build(ModelKind::ResNet20, 1, 4, (8, 8), 2, &Device::Cpu).unwrap();
    b.load_safetensors(&path).unwrap();
    let ya = a
        .forward_t(&x, false)
        .unwrap()
        .flatten_all()
        .unwrap()
        .to_vec1::<f32>()
        .unwrap();
    let yb = b
        .forward_t(&x, false)
        .unwrap()
        .flatten_all()
        .unwrap()
        .to_vec1::<f32>()
        .unwrap();
    assert_eq!(ya, yb);
    for ((n, va), (_, vb)) in a.buffers().iter().zip(b.buffers()) {
        assert_eq!(
            va.flatten_all().unwrap().to_vec1::<f32>().unwrap(),
            vb.flatten_all().unwrap().to_vec1::<f32>().unwrap(),
            "{n}"
        );
    }
}

#[test]
fn checkpoint_mismatches_name_the_tensor() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.safetensors");
    build(ModelKind::ResNet20, 1, 10, (8, 8), 1, &Device::Cpu)
        .unwrap()
        .save_safetensors(&path)
        .unwrap();
    let other = build(ModelKind::ResNet20, 1, 5, (8, 8), 1, &Device::Cpu).unwrap();
    let before = other
        .params()
        .get("fc.bias")
        .unwrap()
        .var
        .to_vec1::<f32>()
        .unwrap();
    let msg = other.load_safetensors(&path).unwrap_err().to_string();
    assert!(
        msg.contains("fc.bias") && msg.contains("[10]") && msg.contains("[5]"),
        "{msg}"
    );
    assert_eq!(
        other
            .params()
            .get("fc.bias")
            .unwrap()
            .var
            .to_vec1::<f32>()
            .unwrap(),
        before,
        "model must be unchanged"
    );
    let deeper = build(ModelKind::ResNet56, 1, 10, (8, 8), 1, &Device::Cpu).unwrap();
    let msg = deeper.load_safetensors(&path).unwrap_err().to_string();
    assert!(
        msg.contains("missing") && msg.contains("layer1.3."),
        "{msg}"
    );
    let msg = other
        .load_safetensors(&dir.path().join("nope.safetensors"))
        .unwrap_err()
        .to_string();
    assert!(msg.contains("nope.safetensors"), "{msg}");
}

#[test]
fn kinds_parse_and_print() {
    for s in [
        "resnet20",
        "resnet56",
        "resnet18",
        "resnet50",
        "mobilenet_v2",
        "wrn-28-10",
        "simple_conv_k7",
        "bagnet18",
    ] {
        let k: ModelKind = s.parse().unwrap();
        assert_eq!(k.to_string(), s);
    }
    assert_eq!(
        "wrn-34-10".parse::<ModelKind>().unwrap(),
        ModelKind::WideResNet {
            depth: 34,
            width: 10
        }
    );
    assert!("resnet19"
        .parse::<ModelKind>()
        .unwrap_err()
        .to_string()
        .contains("resnet19"));
    assert!(build(
        ModelKind::WideResNet {
            depth: 27,
            width: 10
        },
        3,
        10,
        (8, 8),
        0,
        &Device::Cpu
    )
    .is_err());
}

#[test]
fn pretrained_weights_load_with_a_new_classifier() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("resnet18.safetensors");
    let imagenet = build(ModelKind::ResNet18, 3, 1000, (32, 32), 1, &Device::Cpu).unwrap();
    imagenet.save_safetensors(&path).unwrap();
    let tuned = build(ModelKind::ResNet18, 3, 10, (32, 32), 2, &Device::Cpu).unwrap();
    // Without skipping the head, the classifier shapes clash and the error names them.
    let msg = tuned.load_pretrained(&path, &[]).unwrap_err().to_string();
    assert!(msg.contains("fc.") && msg.contains("1000"), "{msg}");
    let fc_before = tuned
        .params()
        .get("fc.bias")
        .unwrap()
        .var
        .to_vec1::<f32>()
        .unwrap();
    let n = tuned.load_pretrained(&path, &["fc."]).unwrap();
    assert_eq!(
        n,
        62 - 2 + 40,
        "all parameters but fc.weight/fc.bias, plus 40 BN buffers"
    );
    let a = imagenet
        .params()
        .get("layer3.1.conv2.weight")
        .unwrap()
        .var
        .flatten_all()
        .unwrap()
        .to_vec1::<f32>()
        .unwrap();
    let b = tuned
        .params()
        .get("layer3.1.conv2.weight")
        .unwrap()
        .var
        .flatten_all()
        .unwrap()
        .to_vec1::<f32>()
        .unwrap();
    assert_eq!(a, b);
    assert_eq!(
        tuned
            .params()
            .get("fc.bias")
            .unwrap()
            .var
            .to_vec1::<f32>()
            .unwrap(),
        fc_before
    );
}

#[test]
fn hugging_face_cache_lookup_is_offline_and_explains_misses() {
    use adamp_models::pretrained::hf_cached_file;
    let cache = tempfile::tempdir().unwrap();
    let repo = cache.path().join("models--timm--resnet50.a1_in1k");
    std::fs::create_dir_all(repo.join("refs")).unwrap();
    std::fs::create_dir_all(repo.join("snapshots/abc123")).unwrap();
    std::fs::write(repo.join("refs/main"), "abc123\n").unwrap();
    std::fs::write(repo.join("snapshots/abc123/model.safetensors"), b"x").unwrap();
    let p = hf_cached_file(
        cache.path(),
        "timm/resnet50.a1_in1k",
        "main",
        "model.safetensors",
    )
    .unwrap();
    assert!(p.ends_with("snapshots/abc123/model.safetensors"));
    let msg = hf_cached_file(
        cache.path(),
        "timm/resnet18.a1_in1k",
        "main",
        "model.safetensors",
    )
    .unwrap_err()
    .to_string();
    assert!(
        msg.contains("huggingface-cli download timm/resnet18.a1_in1k"),
        "{msg}"
    );
}
