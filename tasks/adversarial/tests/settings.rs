//! Bad `[task]`, `[model]` and `[data]` settings are refused through the registration (as the
//! harness reads a config) with the full key path, before any data is opened.

use adamp_task_adversarial::AdversarialTask;
use adamp_task_api::{Registered, RegisteredTask, TaskTables};

fn tables(task: toml::Table) -> TaskTables {
    TaskTables {
        task,
        model: Some(toml::toml! { kind = "wide_resnet"
        depth = 10
        width = 1 }),
        data: Some(toml::toml! { kind = "fashion_mnist"
        root = "/nonexistent/never/opened" }),
    }
}

/// The key and message of the error `task` gives, whether at parsing or at the check.
fn error(task: toml::Table) -> (String, String) {
    error_with(tables(task))
}

fn error_with(t: TaskTables) -> (String, String) {
    let reg = &Registered::<AdversarialTask>::NEW;
    match reg.parse(&t) {
        Err(e) => (e.key, e.message),
        Ok(settings) => match settings.check() {
            Err(adamp_task_api::TaskError::InvalidSetting { key, expected }) => {
                (adamp_task_api::error::config_key(&key), expected)
            }
            other => panic!("expected an invalid setting, got {other:?}"),
        },
    }
}

#[test]
fn good_settings_parse_with_their_defaults_and_metrics() {
    let reg = &Registered::<AdversarialTask>::NEW;
    let s = reg
        .parse(&tables(toml::toml! { norm = "l2"
        eps = 0.3137 }))
        .unwrap();
    s.check().unwrap();
    assert_eq!(
        s.eval_metrics(),
        ["std_acc", "attacked_acc", "attacked_acc_20"]
    );
    let resolved = s.tables().task;
    assert_eq!(resolved["steps"].as_integer(), Some(10));
    assert_eq!(resolved["random_start"].as_bool(), Some(true));
    assert_eq!(
        resolved["eval_steps"].as_array().unwrap().len(),
        2,
        "{resolved:?}"
    );
}

#[test]
fn nonsensical_attack_settings_name_their_key() {
    let cases: Vec<(toml::Table, &str, &str)> = vec![
        (
            toml::toml! { norm = "linf"
            eps = 0.0 },
            "task.eps",
            "> 0",
        ),
        (
            toml::toml! { norm = "linf"
            eps = -0.1 },
            "task.eps",
            "-0.1",
        ),
        (
            toml::toml! { norm = "linf"
            eps = 1.0 },
            "task.eps",
            "< 1",
        ),
        (
            toml::toml! { norm = "linf"
            eps = 0.03
            steps = 0 },
            "task.steps",
            "got 0",
        ),
        (
            toml::toml! { norm = "linf"
            eps = 0.03
            steps = 5000 },
            "task.steps",
            "got 5000",
        ),
        (
            toml::toml! { norm = "l2"
            eps = 0.3
            step_size = 0.0 },
            "task.step_size",
            "> 0",
        ),
        (
            toml::toml! { norm = "l2"
            eps = 0.3
            eval_steps = [] },
            "task.eval_steps",
            "at least one",
        ),
        (
            toml::toml! { norm = "l2"
            eps = 0.3
            eval_steps = [10, 0] },
            "task.eval_steps[1]",
            "got 0",
        ),
        (
            toml::toml! { norm = "l2"
            eps = 0.3
            eval_steps = [10, 10] },
            "task.eval_steps[1]",
            "twice",
        ),
        (
            toml::toml! { norm = "l1"
            eps = 0.3 },
            "task.norm",
            "l1",
        ),
        (toml::toml! { norm = "linf" }, "task", "eps"),
        (
            toml::toml! { norm = "linf"
            eps = 0.03
            steps = -1 },
            "task.steps",
            "-1",
        ),
        (
            toml::toml! { norm = "linf"
            eps = 0.03
            epsilon = 0.03 },
            "task.epsilon",
            "unknown field",
        ),
    ];
    for (task, key, says) in cases {
        let shown = format!("{task:?}");
        let (k, message) = error(task);
        assert_eq!(k, key, "{shown}: {message}");
        assert!(message.contains(says), "{shown}: {k}: {message}");
    }
}

#[test]
fn datasets_the_attack_cannot_use_are_refused_by_kind() {
    let mut t = tables(toml::toml! { norm = "linf"
    eps = 0.03 });
    t.data = Some(toml::toml! { kind = "imagenet" });
    let (key, message) = error_with(t);
    assert_eq!(key, "data.kind");
    assert!(message.contains("cifar10"), "{message}");
}

#[test]
fn an_l2_ball_larger_than_the_box_is_refused_when_the_data_is_known() {
    let dir = tempfile::tempdir().unwrap();
    adamp_datasets::testdata::write_idx_dataset(dir.path(), 8, 4, 28, 1).unwrap();
    let settings = adamp_task_adversarial::AdversarialSettings {
        norm: adamp_task_adversarial::Norm::L2,
        eps: 30.0, // the diagonal of [0, 1]^784 is 28
        steps: 1,
        step_size: None,
        eval_steps: vec![1],
        random_start: true,
    };
    let model = adamp_task_classification::ModelSettings {
        kind: "wide_resnet".parse().unwrap(),
        depth: Some(10),
        width: Some(1),
        kernel: None,
        layers: adamp_models::LayerImpl::Fast,
    };
    let data = adamp_task_classification::DataSettings {
        kind: "fashion_mnist".parse().unwrap(),
        root: Some(dir.path().to_path_buf()),
        train_subset: None,
        test_subset: None,
        workers: 1,
        fetch: false,
        hf_repo: None,
        hf_revision: None,
        hf_splits: None,
    };
    let ctx = adamp_task_api::TaskContext {
        seed: 0,
        device: candle_core::Device::Cpu,
        batch_size: 4,
    };
    let err = AdversarialTask::new(&settings, &model, &data, &ctx)
        .err()
        .unwrap()
        .to_string();
    assert!(
        err.starts_with("task.eps:") && err.contains("28.00"),
        "{err}"
    );
}
