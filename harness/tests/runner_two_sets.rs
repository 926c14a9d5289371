//! A task with two parameter sets (ReBias-style f and g, one optimizer each) and a buffer runs
//! through the generic loop: both optimizers step, per-parameter rows are prefixed by the set,
//! and a killed-and-resumed run matches an uninterrupted one, buffer included.

use std::path::Path;

use adamp_harness::config::{self, LoadOptions, RunSpec};
use adamp_harness::train::{run_task, RunOptions, RunStatus};
use adamp_optim::{Param, ParamKind, ParamList, ParamMeta};
use adamp_task_api::{
    EvalOutput, OptimizerStep, ParamSet, Result, StepIndex, StepOutput, Task, TaskError,
};
use candle_core::{DType, Device, Tensor, Var};

/// f: a `[2, 3]` weight, g: a `[1, 2]` weight; each minimises a sum of per-row negative cosines to
/// fixed targets (scale-invariant per row). `calls` is a buffer counting steps.
struct TwoNets {
    f: Var,
    g: Var,
    tf: Tensor,
    tg: Tensor,
    calls: f64,
}

impl TwoNets {
    fn new() -> Self {
        let d = Device::Cpu;
        let var = |v: &[f64], shape: (usize, usize)| {
            Var::from_tensor(&Tensor::from_slice(v, shape, &d).unwrap()).unwrap()
        };
        let t = |v: &[f64], shape: (usize, usize)| Tensor::from_slice(v, shape, &d).unwrap();
        Self {
            f: var(&[-1.0, 0.2, 0.1, 0.3, -1.0, 0.2], (2, 3)),
            g: var(&[-1.0, 0.1], (1, 2)),
            tf: t(&[1.0, 0.0, 0.0, 0.0, 1.0, 0.0], (2, 3)),
            tg: t(&[1.0, 0.0], (1, 2)),
            calls: 0.0,
        }
    }

    fn loss(w: &Var, target: &Tensor) -> Result<Tensor> {
        let w = w.as_tensor();
        let dot = (w * target)?.sum_keepdim(1)?;
        let norm = w.sqr()?.sum_keepdim(1)?.sqrt()?;
        Ok(dot.div(&norm)?.sum_all()?.neg()?)
    }

    fn set(name: &str, var: &Var) -> ParamSet {
        let p = Param {
            name: "w".into(),
            var: var.clone(),
            meta: ParamMeta::scale_invariant(ParamKind::Linear),
            group: 0,
        };
        ParamSet {
            name: name.into(),
            params: ParamList::new(vec![p]).unwrap(),
        }
    }
}

impl Task for TwoNets {
    fn describe(&self) -> String {
        "two parameter sets".into()
    }
    fn param_sets(&self) -> Vec<ParamSet> {
        vec![Self::set("f", &self.f), Self::set("g", &self.g)]
    }
    fn buffers(&self) -> Result<Vec<(String, Tensor)>> {
        Ok(vec![(
            "calls".into(),
            Tensor::new(&[self.calls], &Device::Cpu)?,
        )])
    }
    fn load_buffers(&mut self, buffers: &[(String, Tensor)]) -> Result<()> {
        let (_, t) = buffers
            .iter()
            .find(|(n, _)| n == "calls")
            .ok_or_else(|| TaskError::State("calls missing".into()))?;
        self.calls = t.to_dtype(DType::F64)?.to_vec1::<f64>()?[0];
        Ok(())
    }
    fn steps_per_epoch(&self) -> Option<usize> {
        None
    }
    fn train_step(
        &mut self,
        _index: StepIndex,
        optimizers: &mut dyn OptimizerStep,
    ) -> Result<StepOutput> {
        assert_eq!(optimizers.num_sets(), 2);
        let lf = Self::loss(&self.f, &self.tf)?;
        let lg = Self::loss(&self.g, &self.tg)?;
        let loss = lf.to_scalar::<f64>()? + lg.to_scalar::<f64>()?;
        optimizers.backward_step(0, &lf)?;
        optimizers.backward_step(1, &lg)?;
        self.calls += 1.0;
        Ok(StepOutput {
            loss,
            scalars: vec![("calls".into(), self.calls)],
        })
    }
    fn evaluate(&mut self) -> Result<EvalOutput> {
        let n = |v: &Var| {
            v.as_tensor()
                .sqr()
                .unwrap()
                .sum_all()
                .unwrap()
                .sqrt()
                .unwrap()
                .to_scalar::<f64>()
                .unwrap()
        };
        Ok(EvalOutput::from_metrics(vec![
            ("f_norm".into(), n(&self.f)),
            ("g_norm".into(), n(&self.g)),
            ("calls".into(), self.calls),
        ]))
    }
}

fn spec() -> RunSpec {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../configs/toy2d.toml");
    let options = LoadOptions {
        sets: vec![
            "training.steps=30".into(),
            "training.eval_every=10".into(),
            "training.checkpoint_every=4".into(),
            "log_every=2".into(),
        ],
        ..Default::default()
    };
    config::load(&path, &options)
        .unwrap()
        .runs()
        .into_iter()
        .find(|r| r.label == "sgdp_0.9")
        .unwrap()
}

fn options(out: &Path, stop_after: Option<u64>) -> RunOptions {
    RunOptions {
        out: out.to_path_buf(),
        force: false,
        progress: false,
        stop_after,
    }
}

fn without_time(path: &Path) -> String {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter(|l| !l.contains(",time_s,"))
        .map(|l| {
            // summary.csv: drop the time_s column (6th).
            let mut cells: Vec<&str> = l.split(',').collect();
            if cells.len() > 9
                && (cells[8] == "status"
                    || ["running", "completed", "diverged"].contains(&cells[8]))
            {
                cells.remove(5);
            }
            cells.join(",")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn two_parameter_sets_step_record_and_resume() {
    let spec = spec();
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    let full = run_task(
        &spec,
        Box::new(TwoNets::new()),
        &Device::Cpu,
        &options(&a, None),
    )
    .unwrap();
    assert_eq!(full.status, RunStatus::Completed);
    assert_eq!(
        full.evals
            .iter()
            .find(|(k, _)| k == "eval_calls")
            .unwrap()
            .1,
        30.0
    );

    let killed = run_task(
        &spec,
        Box::new(TwoNets::new()),
        &Device::Cpu,
        &options(&b, Some(14)),
    )
    .unwrap();
    assert_eq!(killed.status, RunStatus::Interrupted { step: 14 });
    let resumed = run_task(
        &spec,
        Box::new(TwoNets::new()),
        &Device::Cpu,
        &options(&b, None),
    )
    .unwrap();
    assert_eq!(resumed.status, RunStatus::Completed);
    assert_eq!(
        resumed.evals, full.evals,
        "the buffer and both weights continue where they stopped"
    );

    let folder = spec.folder(&a);
    for file in ["metrics.csv", "summary.csv"] {
        assert_eq!(
            without_time(&folder.join(file)),
            without_time(&spec.folder(&b).join(file)),
            "{file}"
        );
    }
    let metrics = std::fs::read_to_string(folder.join("metrics.csv")).unwrap();
    for p in ["f.w", "g.w", "__all__"] {
        assert!(
            metrics.contains(&format!(",30,3,{p},weight_norm,")),
            "{p} rows at the last step"
        );
    }
    // Both optimizers projected (scale-invariant rows): the aggregate is the mean of the two.
    assert!(metrics.contains(",30,3,__all__,projected,1.0"));
}
