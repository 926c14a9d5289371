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
fn pretrained_weights_come_through_the_hub_and_its_cache() {
    use adamp_hub::mock::{MockHub, MockRepo};
    use adamp_hub::{Hub, HubOptions, RepoKind};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("model.safetensors");
    let imagenet = build(ModelKind::ResNet18, 3, 1000, (32, 32), 1, &Device::Cpu).unwrap();
    imagenet.save_safetensors(&path).unwrap();
    let mut files = std::collections::BTreeMap::new();
    files.insert(
        "model.safetensors".to_string(),
        std::fs::read(&path).unwrap(),
    );
    files.insert("config.json".to_string(), b"{}".to_vec());
    let server = MockHub::start(vec![MockRepo::new(
        RepoKind::Model,
        "timm/resnet18.test_in1k",
        files,
    )])
    .unwrap();
    let cache = dir.path().join("hub-cache");
    let hub = |offline: bool| {
        Hub::new(HubOptions {
            endpoint: Some(server.endpoint()),
            cache_dir: Some(cache.clone()),
            offline,
            attempts: Some(1),
        })
        .unwrap()
    };
    let weight = |m: &adamp_models::Model, name: &str| {
        m.params()
            .get(name)
            .unwrap()
            .var
            .flatten_all()
            .unwrap()
            .to_vec1::<f32>()
            .unwrap()
    };
    let tuned = build(ModelKind::ResNet18, 3, 10, (32, 32), 2, &Device::Cpu).unwrap();
    let n = tuned
        .load_pretrained_from_hub(
            &hub(false),
            "timm/resnet18.test_in1k",
            "main",
            "model.safetensors",
            &["fc."],
        )
        .unwrap();
    assert_eq!(n, 62 - 2 + 40);
    assert_eq!(
        weight(&tuned, "layer4.1.conv2.weight"),
        weight(&imagenet, "layer4.1.conv2.weight")
    );
    // Offline, a second model loads from the cache without a request.
    let before = server.requests();
    let again = build(ModelKind::ResNet18, 3, 10, (32, 32), 3, &Device::Cpu).unwrap();
    again
        .load_pretrained_from_hub(
            &hub(true),
            "timm/resnet18.test_in1k",
            "main",
            "model.safetensors",
            &["fc."],
        )
        .unwrap();
    assert_eq!(server.requests(), before);
    assert_eq!(
        weight(&again, "conv1.weight"),
        weight(&imagenet, "conv1.weight")
    );
    // The classifier clash is still named, and a missing file or repository says what to do.
    let msg = tuned
        .load_pretrained_from_hub(
            &hub(false),
            "timm/resnet18.test_in1k",
            "main",
            "model.safetensors",
            &[],
        )
        .unwrap_err()
        .to_string();
    assert!(msg.contains("fc.") && msg.contains("1000"), "{msg}");
    let msg = tuned
        .load_pretrained_from_hub(
            &hub(false),
            "timm/resnet50.absent",
            "main",
            "model.safetensors",
            &["fc."],
        )
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("timm/resnet50.absent") && msg.contains("model.safetensors"),
        "{msg}"
    );
    let msg = tuned
        .load_pretrained_from_hub(
            &hub(true),
            "timm/resnet18.test_in1k",
            "main",
            "pytorch_model.bin",
            &[],
        )
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("HF_HUB_OFFLINE") && msg.contains("pytorch_model.bin"),
        "{msg}"
    );
}
