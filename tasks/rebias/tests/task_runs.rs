//! The ReBias task end to end on tiny data generated in the real layouts (IDX digits, the
//! texture-biased PNG folders, the 9-class ImageNet folders): g steps before f, the HSIC term
//! couples f to g only when lambda_f > 0, the median bandwidth follows the epochs, a run resumed
//! mid-epoch matches an uninterrupted one, evaluation returns the declared metrics, and bad data
//! is refused naming the file.

mod common;

use adamp_task_api::{OptimizerSet, OptimizerStep, Result, Task};
use adamp_task_rebias::task::eval_metric_names;
use adamp_task_rebias::{Bandwidth, ReBiasSettings, ReBiasTask};
use candle_core::backprop::GradStore;
use candle_core::Tensor;
use common::*;

/// An [`OptimizerStep`] that records which parameter set stepped, in order.
struct Recording<'a> {
    inner: &'a mut OptimizerSet,
    order: Vec<usize>,
}

impl OptimizerStep for Recording<'_> {
    fn num_sets(&self) -> usize {
        self.inner.num_sets()
    }
    fn backward_step(&mut self, set: usize, loss: &Tensor) -> Result<()> {
        self.order.push(set);
        self.inner.backward_step(set, loss)
    }
    fn step_with_grads(&mut self, set: usize, grads: &GradStore) -> Result<()> {
        self.order.push(set);
        self.inner.step_with_grads(set, grads)
    }
}

fn flat(task: &ReBiasTask, set: usize) -> Vec<f32> {
    task.param_sets()[set]
        .params
        .params()
        .iter()
        .flat_map(|p| {
            p.var
                .as_tensor()
                .flatten_all()
                .unwrap()
                .to_vec1::<f32>()
                .unwrap()
        })
        .collect()
}

#[test]
fn g_steps_before_f_and_both_networks_move() {
    let t = tempfile::tempdir().unwrap();
    let root = mnist_folder(t.path());
    let mut task = ReBiasTask::new(
        &rebias(),
        &simple_convs(),
        &biased_mnist(&root, 0.9),
        &ctx(8, 0),
    )
    .unwrap();
    assert_eq!(task.steps_per_epoch(), Some(10));
    let names: Vec<String> = task.param_sets().iter().map(|s| s.name.clone()).collect();
    assert_eq!(names, ["f", "g"]);
    let (f0, g0) = (flat(&task, 0), flat(&task, 1));
    let mut opts = adams(&task);
    task.begin_epoch(1).unwrap();
    let mut rec = Recording {
        inner: &mut opts,
        order: Vec::new(),
    };
    let index = adamp_task_api::StepIndex {
        step: 1,
        epoch: 1,
        batch: 0,
    };
    let out = task.train_step(index, &mut rec).unwrap();
    assert_eq!(rec.order, [1, 0], "the reference updates g, then f");
    assert_ne!(flat(&task, 0), f0);
    assert_ne!(flat(&task, 1), g0);
    let get = |k: &str| out.scalars.iter().find(|(n, _)| n == k).map(|(_, v)| *v);
    let (f_ce, hsic) = (get("f_ce").unwrap(), get("hsic").unwrap());
    assert!(hsic.is_finite() && f_ce > 0.0);
    assert!(
        (out.loss - (f_ce + hsic)).abs() < 1e-5,
        "loss = CE + 1 * HSIC"
    );
    assert_eq!(get("sigma_f"), Some(1.0));
    // BatchNorm statistics of both networks and the kernel widths are checkpointed.
    let buffers: Vec<String> = task
        .buffers()
        .unwrap()
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    assert!(buffers
        .iter()
        .any(|n| n.starts_with("f.extracter.1.running_mean")));
    assert!(buffers
        .iter()
        .any(|n| n.starts_with("g.extracter.1.running_mean")));
    assert!(buffers.contains(&"rebias.sigma".to_string()));
}

#[test]
fn f_depends_on_g_only_through_a_positive_lambda_f() {
    let t = tempfile::tempdir().unwrap();
    let root = mnist_folder(t.path());
    let data = biased_mnist(&root, 0.9);
    let f_losses = |lambda_f: f64, lambda_g: f64| -> Vec<f64> {
        // Kernel widths at the features' scale (the median heuristic), so HSIC's gradients are
        // not vanishingly small next to the cross-entropy's.
        let s = ReBiasSettings {
            lambda_f,
            lambda_g,
            bandwidth: Bandwidth::Median { fraction: 0.25 },
            ..rebias()
        };
        let mut task = ReBiasTask::new(&s, &simple_convs(), &data, &ctx(8, 1)).unwrap();
        let mut opts = sgds(&task);
        (0..3).map(|i| step(&mut task, &mut opts, i).loss).collect()
    };
    // Vanilla (lambda_f = 0): how g trains does not change f's trajectory.
    assert_eq!(f_losses(0.0, 0.0), f_losses(0.0, 50.0));
    // ReBias: it does.
    assert_ne!(f_losses(1.0, 0.0), f_losses(1.0, 50.0));
}

#[test]
fn median_bandwidth_is_set_per_epoch_and_a_resumed_run_matches() {
    let t = tempfile::tempdir().unwrap();
    let root = texture_folder(t.path());
    let s = ReBiasSettings {
        bandwidth: Bandwidth::Median { fraction: 0.25 },
        ..rebias()
    };
    let data = texture(&root);
    let new = || ReBiasTask::new(&s, &resnet_bagnet(), &data, &ctx(12, 2)).unwrap();
    // 54 training images: 4 batches of 12 per epoch.
    let mut a = new();
    assert!(a.sigma().0.is_nan(), "no width before the first epoch");
    let mut oa = adams(&a);
    let la: Vec<f64> = (0..6).map(|i| step(&mut a, &mut oa, i).loss).collect();
    let (sf, sg) = a.sigma();
    assert!(sf > 0.0 && sg > 0.0, "{sf} {sg}");

    // Killed after 3 steps; a fresh task continues from step 3 with the first one's state.
    let mut b = new();
    let mut ob = adams(&b);
    let mut lb: Vec<f64> = (0..3).map(|i| step(&mut b, &mut ob, i).loss).collect();
    let epoch1 = b.sigma();
    let dir = tempfile::tempdir().unwrap();
    for (i, o) in ob.optimizers().iter().enumerate() {
        o.save_state(&dir.path().join(format!("opt{i}.safetensors")))
            .unwrap();
    }
    let params: Vec<Vec<Tensor>> = b
        .param_sets()
        .iter()
        .map(|s| {
            s.params
                .params()
                .iter()
                .map(|p| p.var.as_tensor().copy().unwrap())
                .collect()
        })
        .collect();
    let buffers = b.buffers().unwrap();
    let mut c = new();
    for (set, saved) in c.param_sets().iter().zip(&params) {
        for (p, v) in set.params.params().iter().zip(saved) {
            p.var.set(v).unwrap();
        }
    }
    c.load_buffers(&buffers).unwrap();
    assert_eq!(
        c.sigma(),
        epoch1,
        "the widths come back with the checkpoint"
    );
    let mut oc = adams(&c);
    for (i, o) in oc.optimizers_mut().iter_mut().enumerate() {
        o.load_state(&dir.path().join(format!("opt{i}.safetensors")))
            .unwrap();
    }
    // The loop calls begin_epoch on resume: the epoch's widths are kept, not recomputed.
    c.begin_epoch(1).unwrap();
    assert_eq!(c.sigma(), epoch1);
    lb.extend((3..6).map(|i| step(&mut c, &mut oc, i).loss));
    assert_eq!(la, lb, "resumed losses differ");
    // Epoch 2 recomputed the widths from the trained networks.
    assert_ne!(c.sigma(), epoch1);
}

#[test]
fn evaluation_returns_the_declared_metrics_for_every_data_kind() {
    let t = tempfile::tempdir().unwrap();
    let mnist = mnist_folder(t.path());
    let tex = texture_folder(t.path());
    let in9 = t.path().join("in9");
    adamp_datasets::testdata_rebias::write_imagenet9_layout(&in9, 2, 24).unwrap();
    let cases = [
        (biased_mnist(&mnist, 0.99), simple_convs()),
        (texture(&tex), resnet_bagnet()),
        (imagenet9(&in9, &in9.join("clusters.csv")), resnet_bagnet()),
    ];
    for (data, models) in cases {
        let mut task = ReBiasTask::new(&rebias(), &models, &data, &ctx(4, 0)).unwrap();
        let mut opts = adams(&task);
        step(&mut task, &mut opts, 0);
        let eval = task.evaluate().unwrap();
        let names: Vec<String> = eval.metrics.iter().map(|(n, _)| n.clone()).collect();
        assert_eq!(names, eval_metric_names(&data), "{}", task.describe());
        assert!(
            eval.metrics.iter().all(|(_, v)| (0.0..=100.0).contains(v)),
            "{eval:?}"
        );
    }
}

#[test]
fn missing_clusters_wnids_digits_and_small_batches_are_errors_naming_them() {
    let t = tempfile::tempdir().unwrap();
    let in9 = t.path().join("in9");
    adamp_datasets::testdata_rebias::write_imagenet9_layout(&in9, 1, 16).unwrap();
    let missing = in9.join("no_clusters.csv");
    let err = ReBiasTask::new(
        &rebias(),
        &resnet_bagnet(),
        &imagenet9(&in9, &missing),
        &ctx(4, 0),
    )
    .err()
    .unwrap()
    .to_string();
    assert!(
        err.contains("no_clusters.csv") && err.contains("cluster"),
        "{err}"
    );
    std::fs::remove_dir_all(in9.join("train/n01644373")).unwrap();
    let err = ReBiasTask::new(
        &rebias(),
        &resnet_bagnet(),
        &imagenet9(&in9, &in9.join("clusters.csv")),
        &ctx(4, 0),
    )
    .err()
    .unwrap()
    .to_string();
    assert!(err.contains("n01644373") && err.contains("train"), "{err}");
    let err = ReBiasTask::new(
        &rebias(),
        &simple_convs(),
        &biased_mnist(&t.path().join("none"), 0.99),
        &ctx(4, 0),
    )
    .err()
    .unwrap()
    .to_string();
    assert!(
        err.contains("train-images-idx3-ubyte") && err.contains("data.root"),
        "{err}"
    );
    let root = mnist_folder(t.path());
    let err = ReBiasTask::new(
        &rebias(),
        &simple_convs(),
        &biased_mnist(&root, 0.99),
        &ctx(3, 0),
    )
    .err()
    .unwrap()
    .to_string();
    assert!(
        err.contains("training.batch_size") && err.contains("at least 4"),
        "{err}"
    );
}
