//! `[model] pretrained = { hub = ... }`: the trunk's starting weights come through the Hugging
//! Face hub client (here a local stand-in hub, `adamp_hub::mock`) into the cache and into the
//! network, the classifier head left out; the embedding keeps its own initialisation.
//!
//! One test in its own binary: it sets process environment variables (HF_ENDPOINT,
//! HF_HUB_CACHE), which `Hub::from_env` reads.

use std::collections::BTreeMap;

use adamp_datasets::retrieval::RetrievalFormat;
use adamp_hub::mock::{MockHub, MockRepo};
use adamp_hub::RepoKind;
use adamp_models::{build, ModelKind, ModelName};
use adamp_optim::ParamList;
use adamp_task_api::TaskContext;
use adamp_task_retrieval::data_settings::{AugmentKind, RetrievalDataSettings};
use adamp_task_retrieval::model_settings::{BatchNormMode, Pretrained, RetrievalModelSettings};
use adamp_task_retrieval::settings::LossSettings;
use adamp_task_retrieval::{RetrievalSettings, RetrievalTask};
use candle_core::Device;

fn values(list: &ParamList, name: &str) -> Vec<f32> {
    list.get(name)
        .unwrap_or_else(|| panic!("{name}"))
        .var
        .flatten_all()
        .unwrap()
        .to_vec1()
        .unwrap()
}

#[test]
fn the_trunk_loads_hub_weights_through_the_cache() {
    let t = tempfile::tempdir().unwrap();
    let weights = t.path().join("model.safetensors");
    // Another seed than the task's, and non-default BatchNorm statistics.
    let source = build(ModelKind::ResNet20, 3, 100, (16, 16), 41, &Device::Cpu).unwrap();
    for (name, var) in source.buffers() {
        if name == "bn1.running_var" {
            var.set(&(var.as_tensor() * 2.5).unwrap()).unwrap();
        }
    }
    source.save_safetensors(&weights).unwrap();
    let mut files = BTreeMap::new();
    files.insert(
        "model.safetensors".to_string(),
        std::fs::read(&weights).unwrap(),
    );
    let server = MockHub::start(vec![MockRepo::new(
        RepoKind::Model,
        "org/resnet20.test",
        files,
    )])
    .unwrap();
    std::env::set_var("HF_ENDPOINT", server.endpoint());
    std::env::set_var("HF_HUB_CACHE", t.path().join("hub-cache"));
    std::env::remove_var("HF_HUB_OFFLINE");

    let data_dir = t.path().join("cub");
    adamp_datasets::testdata_retrieval::write_tiny(RetrievalFormat::Cub, &data_dir, 4, 4, 16)
        .unwrap();
    let settings = RetrievalSettings {
        loss: LossSettings::ProxyAnchor {
            alpha: 32.0,
            delta: 0.1,
        },
        embedding_dim: 8,
        per_class: None,
        warmup_epochs: 1,
        clip_value: 10.0,
        proxy_lr_scale: None,
        recall_at: Some(vec![1]),
    };
    let model = RetrievalModelSettings {
        kind: ModelName::Resnet20,
        depth: None,
        width: None,
        kernel: None,
        layers: Default::default(),
        batchnorm: BatchNormMode::Frozen,
        pretrained: Some(Pretrained {
            hub: Some("org/resnet20.test".into()),
            revision: None,
            file: None,
            path: None,
        }),
    };
    let data = RetrievalDataSettings {
        format: RetrievalFormat::Cub,
        root: Some(data_dir),
        stand_in: None,
        fetch: false,
        train_subset: None,
        test_subset: None,
        workers: 0,
        augment: AugmentKind::Small,
        crop: None,
        resize: None,
    };
    let ctx = TaskContext {
        seed: 7,
        device: Device::Cpu,
        batch_size: 4,
    };
    let task = RetrievalTask::new(&settings, &model, &data, &ctx).unwrap();
    let loaded = ParamList::new(task.net().params()).unwrap();
    let reference = source.params();
    for name in ["conv1.weight", "layer3.2.conv2.weight", "bn1.weight"] {
        assert_eq!(values(&loaded, name), values(&reference, name), "{name}");
    }
    assert!(
        loaded.get("fc.weight").is_none(),
        "the head is not a parameter"
    );
    let stats = task.net().buffer_tensors();
    let running: Vec<f32> = stats
        .iter()
        .find(|(n, _)| n == "bn1.running_var")
        .unwrap()
        .1
        .to_vec1()
        .unwrap();
    let expected: Vec<f32> = source
        .buffers()
        .iter()
        .find(|(n, _)| n == "bn1.running_var")
        .unwrap()
        .1
        .as_tensor()
        .to_vec1()
        .unwrap();
    assert_eq!(
        running, expected,
        "BatchNorm statistics come with the weights"
    );
    assert!(server.requests() > 0, "downloaded through the hub client");
}
