//! The classification task end to end on tiny generated data in the real IDX / ImageNet-folder
//! formats: it builds, trains (loss falls), evaluates, and resumes mid-epoch on the same batches.

mod common;

use adamp_task_api::Task;
use adamp_task_classification::{ClassificationSettings, ClassificationTask, CutMixSettings};
use common::{ctx, data, model, sgdp, step};

#[test]
fn resnet20_trains_and_evaluates_on_generated_fashion_mnist_layout() {
    let t = tempfile::tempdir().unwrap();
    adamp_datasets::testdata::write_idx_dataset(t.path(), 160, 40, 28, 1).unwrap();
    let mut task = ClassificationTask::new(
        &ClassificationSettings::default(),
        &model("resnet20"),
        &data(t.path(), "fashion_mnist"),
        &ctx(32),
    )
    .unwrap();
    assert_eq!(task.steps_per_epoch(), Some(5));
    assert!(task.describe().contains("resnet20"), "{}", task.describe());
    let mut opts = sgdp(&task, 0.05);
    let losses: Vec<f64> = (0..15).map(|s| step(&mut task, &mut opts, s)).collect();
    let first: f64 = losses[..3].iter().sum::<f64>() / 3.0;
    let last: f64 = losses[12..].iter().sum::<f64>() / 3.0;
    assert!(last < first, "loss did not fall: {losses:?}");
    let eval = task.evaluate().unwrap();
    let get = |k: &str| eval.metrics.iter().find(|(n, _)| n == k).unwrap().1;
    assert!((0.0..=100.0).contains(&get("top1")));
    assert!(get("top5") >= get("top1"));
    assert_eq!(get("skipped_images"), 0.0);
    // BatchNorm running statistics are checkpointed buffers, not parameters.
    let buffers = task.buffers().unwrap();
    assert!(buffers.iter().any(|(n, _)| n.ends_with("running_mean")));
    assert!(task.param_sets()[0]
        .params
        .params()
        .iter()
        .all(|p| !p.name.contains("running")));
}

#[test]
fn a_task_resumed_mid_epoch_sees_the_same_batches() {
    let t = tempfile::tempdir().unwrap();
    adamp_datasets::testdata::write_idx_dataset(t.path(), 64, 20, 28, 2).unwrap();
    let settings = ClassificationSettings::default();
    let (m, d) = (model("resnet20"), data(t.path(), "fashion_mnist"));
    // Uninterrupted: 6 steps (epochs of 4 batches of 16).
    let mut a = ClassificationTask::new(&settings, &m, &d, &ctx(16)).unwrap();
    let mut oa = sgdp(&a, 0.05);
    let la: Vec<f64> = (0..6).map(|s| step(&mut a, &mut oa, s)).collect();
    // "Killed" after 3 steps; a fresh task continues from step 3 with the first one's state.
    let mut b = ClassificationTask::new(&settings, &m, &d, &ctx(16)).unwrap();
    let mut ob = sgdp(&b, 0.05);
    let mut lb: Vec<f64> = (0..3).map(|s| step(&mut b, &mut ob, s)).collect();
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("opt.safetensors");
    ob.optimizers()[0].save_state(&state).unwrap();
    let params: Vec<_> = b.param_sets()[0]
        .params
        .params()
        .iter()
        .map(|p| p.var.as_tensor().copy().unwrap())
        .collect();
    let buffers = b.buffers().unwrap();
    let mut c = ClassificationTask::new(&settings, &m, &d, &ctx(16)).unwrap();
    for (p, v) in c.param_sets()[0].params.params().iter().zip(&params) {
        p.var.set(v).unwrap();
    }
    c.load_buffers(&buffers).unwrap();
    let mut oc = sgdp(&c, 0.05);
    oc.optimizers_mut()[0].load_state(&state).unwrap();
    lb.extend((3..6).map(|s| step(&mut c, &mut oc, s)));
    assert_eq!(la, lb, "resumed losses differ");
}

#[test]
fn cutmix_and_imagenet_layout_run_through_the_same_task() {
    let t = tempfile::tempdir().unwrap();
    adamp_datasets::testdata::write_image_folder(t.path(), 3, 4, 48, 5).unwrap();
    let settings = ClassificationSettings {
        cutmix: Some(CutMixSettings {
            alpha: 1.0,
            prob: 1.0,
        }),
    };
    let mut task = ClassificationTask::new(
        &settings,
        &model("resnet18"),
        &data(t.path(), "imagenet"),
        &ctx(4),
    )
    .unwrap();
    let mut opts = sgdp(&task, 0.01);
    let l0 = step(&mut task, &mut opts, 0);
    let l1 = step(&mut task, &mut opts, 1);
    assert!(l0.is_finite() && l1.is_finite());
    let eval = task.evaluate().unwrap();
    assert_eq!(eval.metrics.len(), 4);
}

#[test]
fn bad_settings_name_the_key() {
    let t = tempfile::tempdir().unwrap();
    let err = ClassificationTask::new(
        &ClassificationSettings::default(),
        &model("resnet20"),
        &data(t.path(), "fashion_mnist"),
        &ctx(8),
    )
    .err()
    .unwrap()
    .to_string();
    // An empty data folder names the missing IDX file.
    assert!(err.contains("idx") || err.contains("IDX"), "{err}");
    adamp_datasets::testdata::write_idx_dataset(t.path(), 20, 10, 28, 1).unwrap();
    // An unknown model kind is refused when the config's `[model]` table is read, before any
    // data is opened.
    let tables = adamp_task_api::TaskTables {
        model: Some(toml::toml! { kind = "resnet21" }),
        data: Some(toml::toml! { kind = "fashion_mnist" }),
        ..Default::default()
    };
    let err = adamp_task_api::RegisteredTask::parse(
        &adamp_task_api::Registered::<ClassificationTask>::NEW,
        &tables,
    )
    .err()
    .unwrap();
    assert_eq!(err.key, "model.kind");
    assert!(err.message.contains("resnet21"), "{}", err.message);
    let err = ClassificationTask::new(
        &ClassificationSettings::default(),
        &model("resnet20"),
        &data(t.path(), "fashion_mnist"),
        &ctx(64),
    )
    .err()
    .unwrap()
    .to_string();
    assert!(err.contains("training.batch_size"), "{err}");
}
