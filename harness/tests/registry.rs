//! Adding a task kind is its crate, one registration and its configs: a test task registered the
//! same way runs through the harness, and every built-in task has configs and the paper's
//! numbers.

mod common;

use std::path::{Path, PathBuf};

use adamp_harness::config::{self, LoadOptions};
use adamp_harness::report::paper_numbers::entries_for;
use adamp_harness::tasks::{Registry, BUILTIN};
use adamp_harness::train::{self, RunOptions, RunStatus};
use adamp_task_api::{
    EvalOutput, Length, NoTable, OptimizerStep, ParamSet, Registered, Result, StepIndex,
    StepOutput, Task, TaskContext, TaskFactory, TaskSpec,
};
use candle_core::{Tensor, Var};
use serde::{Deserialize, Serialize};

/// A one-parameter quadratic, as small as a task gets.
struct Quadratic {
    w: Var,
}

/// `[task]` of `kind = "quadratic"`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct QuadraticSettings {
    #[serde(default = "one")]
    start: f64,
}

fn one() -> f64 {
    1.0
}

impl TaskFactory for Quadratic {
    const KIND: &'static str = "quadratic";
    const LENGTH: Length = Length::Steps;
    type Settings = QuadraticSettings;
    type Model = NoTable;
    type Data = NoTable;

    fn check(spec: &TaskSpec<Self>) -> Result<()> {
        if spec.task.start.is_finite() {
            Ok(())
        } else {
            Err(adamp_task_api::factory::invalid(
                "start",
                format!("expected a finite number, got {}", spec.task.start),
            ))
        }
    }

    fn eval_metrics(_spec: &TaskSpec<Self>) -> Vec<String> {
        vec!["w_squared".into()]
    }

    fn build(spec: &TaskSpec<Self>, ctx: &TaskContext) -> Result<Box<dyn Task>> {
        let t = Tensor::from_slice(&[spec.task.start, 0.5], (1, 2), &ctx.device)?;
        Ok(Box::new(Quadratic {
            w: Var::from_tensor(&t)?,
        }))
    }
}

impl Quadratic {
    fn loss(&self) -> Result<Tensor> {
        Ok(self.w.as_tensor().sqr()?.sum_all()?)
    }
}

impl Task for Quadratic {
    fn describe(&self) -> String {
        "quadratic: one [1, 2] weight".into()
    }
    fn param_sets(&self) -> Vec<ParamSet> {
        common::single_weight(&self.w)
    }
    fn buffers(&self) -> Result<Vec<(String, Tensor)>> {
        Ok(Vec::new())
    }
    fn load_buffers(&mut self, _: &[(String, Tensor)]) -> Result<()> {
        Ok(())
    }
    fn steps_per_epoch(&self) -> Option<usize> {
        None
    }
    fn train_step(&mut self, _: StepIndex, opt: &mut dyn OptimizerStep) -> Result<StepOutput> {
        let loss = self.loss()?;
        let value = loss.to_scalar::<f64>()?;
        opt.backward_step(0, &loss)?;
        Ok(StepOutput {
            loss: value,
            scalars: Vec::new(),
        })
    }
    fn evaluate(&mut self) -> Result<EvalOutput> {
        Ok(EvalOutput::from_metrics(vec![(
            "w_squared".into(),
            self.loss()?.to_scalar::<f64>()?,
        )]))
    }
}

/// The one registration line.
fn registry() -> Registry {
    Registry::builtin().with(&Registered::<Quadratic>::NEW)
}

const CONFIG: &str = r#"
[task]
kind = "quadratic"
start = 2.0
[training]
steps = 20
eval_every = 10
[[optimizers]]
kind = "sgd"
lr = 0.1
[report]
benchmark = "quadratic"
title = "a test task"
scale = "embedded"
dataset = "none"
metric = "eval_w_squared"
higher_is_better = false
"#;

fn write_config(dir: &Path, text: &str) -> PathBuf {
    let path = dir.join("quad.toml");
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn a_task_registered_with_one_line_runs_through_the_harness() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_config(dir.path(), CONFIG);
    let experiment = config::load_with(&path, &LoadOptions::default(), &registry()).unwrap();
    assert_eq!(experiment.task.kind(), "quadratic");
    let spec = experiment.runs().remove(0);
    let out = dir.path().join("results");
    let outcome = train::run(&spec, &RunOptions::new(&out)).unwrap();
    assert_eq!(outcome.status, RunStatus::Completed);
    // (1 - 2 lr)^20 of the start: w^2 = (4 + 0.25) * 0.8^40.
    let w_squared = outcome.evals[0].1;
    assert!(
        (w_squared - 4.25 * 0.8f64.powi(40)).abs() < 1e-12,
        "{w_squared}"
    );
    let summary = std::fs::read_to_string(out.join("quad/sgd/seed-0/summary.csv")).unwrap();
    assert_eq!(summary.lines().count(), 3, "{summary}");
    assert!(
        summary.lines().last().unwrap().contains(",completed,"),
        "{summary}"
    );
    // The resolved config states the task's defaults it did not write.
    let defaults = write_config(dir.path(), &CONFIG.replace("start = 2.0\n", ""));
    let e = config::load_with(&defaults, &LoadOptions::default(), &registry()).unwrap();
    assert_eq!(
        e.config.task.get("start").and_then(|v| v.as_float()),
        Some(1.0)
    );
}

#[test]
fn the_registration_gives_the_task_its_key_paths_and_checks() {
    let dir = tempfile::tempdir().unwrap();
    let load = |text: &str| {
        let path = write_config(dir.path(), text);
        config::load_with(&path, &LoadOptions::default(), &registry())
            .unwrap_err()
            .to_string()
    };
    let err = load(&CONFIG.replace("start = 2.0", "start = 2.0\nstrat = 1"));
    assert!(
        err.contains("task.strat") && err.contains("unknown field"),
        "{err}"
    );
    let err = load(&CONFIG.replace("start = 2.0", "start = nan"));
    assert!(
        err.contains("task.start") && err.contains("finite"),
        "{err}"
    );
    let err = load(&CONFIG.replace("steps = 20\neval_every = 10", "epochs = 2"));
    assert!(
        err.contains("training.epochs") && err.contains("step-based"),
        "{err}"
    );
    let err = load(&CONFIG.replace("eval_w_squared", "eval_top1"));
    assert!(
        err.contains("report.metric") && err.contains("eval_w_squared"),
        "{err}"
    );
    let err = load(&format!("{CONFIG}\n[model]\nkind = \"resnet20\"\n"));
    assert!(
        err.contains("model") && err.contains("takes no [model]"),
        "{err}"
    );
    // Without the registration the kind is unknown, and the error lists the registered ones.
    let path = write_config(dir.path(), CONFIG);
    let err = config::load(&path, &LoadOptions::default())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("task.kind")
            && err.contains("`quadratic`")
            && err.contains("toy2d, toy3d, classification"),
        "{err}"
    );
}

/// Every `*.toml` under `configs/` and `configs/paper/`, loaded.
fn all_configs() -> Vec<config::Experiment> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../configs");
    let mut files = Vec::new();
    for dir in [root.clone(), root.join("paper")] {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "toml") {
                files.push(path);
            }
        }
    }
    files
        .iter()
        .map(|f| {
            config::load(f, &LoadOptions::default())
                .unwrap_or_else(|e| panic!("{}: {e}", f.display()))
        })
        .collect()
}

#[test]
fn every_registered_task_has_configs_and_the_papers_numbers() {
    let configs = all_configs();
    for task in BUILTIN {
        let own: Vec<_> = configs
            .iter()
            .filter(|e| e.task.kind() == task.kind())
            .collect();
        assert!(
            !own.is_empty(),
            "task `{}` is registered but no config under configs/ uses it",
            task.kind()
        );
        for e in own {
            let benchmark = &e.config.report.benchmark;
            assert!(
                !entries_for(benchmark).is_empty(),
                "{}: report.benchmark `{benchmark}` has no numbers in report/paper_numbers.rs",
                e.path.display()
            );
        }
    }
}
