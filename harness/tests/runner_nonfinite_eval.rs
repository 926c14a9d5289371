//! A run whose evaluation is not finite (an absurd learning rate: train loss 1e28, eval loss inf)
//! ends `diverged` at that step with the value, and the report counts it without averaging it,
//! exactly like a run whose training loss is not finite.

mod common;

use std::path::Path;

use adamp_harness::config::{self, LoadOptions};
use adamp_harness::train::{run_task, RunOptions, RunStatus};
use adamp_task_api::{EvalOutput, OptimizerStep, ParamSet, Result, StepIndex, StepOutput, Task};
use candle_core::{Device, Tensor, Var};

/// Minimises `w^2`, reports `loss` = the finite training loss and `blowup` = inf from
/// evaluation `bad_from` on (a network whose logits overflowed).
struct BlowsUp {
    w: Var,
    evals: usize,
    bad_from: usize,
}

impl Task for BlowsUp {
    fn describe(&self) -> String {
        "blows up at evaluation".into()
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
        let loss = self.w.as_tensor().sqr()?.sum_all()?;
        let value = loss.to_scalar::<f64>()?;
        opt.backward_step(0, &loss)?;
        Ok(StepOutput {
            loss: value,
            scalars: Vec::new(),
        })
    }
    fn evaluate(&mut self) -> Result<EvalOutput> {
        self.evals += 1;
        let value = if self.evals >= self.bad_from {
            f64::INFINITY
        } else {
            1.0
        };
        Ok(EvalOutput::from_metrics(vec![
            ("final_norm".into(), 1.0),
            ("final_loss".into(), value),
        ]))
    }
}

#[test]
fn a_non_finite_evaluation_marks_the_run_diverged() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../configs/toy2d.toml");
    let options = LoadOptions {
        sets: vec![
            "training.steps=30".into(),
            "training.eval_every=10".into(),
            "seeds=[0, 1]".into(),
        ],
        ..Default::default()
    };
    let runs = config::load(&path, &options).unwrap().runs();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("results");
    let run_options = RunOptions {
        out: out.clone(),
        force: false,
        progress: false,
        stop_after: None,
    };
    for spec in runs
        .iter()
        .filter(|r| r.label == "momentum_0.9" || r.label == "sgdp_0.9")
    {
        // Seed 1 of momentum_0.9 blows up at its second evaluation; every other run is fine.
        let bad_from = if spec.label == "momentum_0.9" && spec.seed == 1 {
            2
        } else {
            usize::MAX
        };
        let w =
            Var::from_tensor(&Tensor::from_slice(&[1.0f64, 2.0], (1, 2), &Device::Cpu).unwrap())
                .unwrap();
        let task = Box::new(BlowsUp {
            w,
            evals: 0,
            bad_from,
        });
        let outcome = run_task(spec, task, &Device::Cpu, &run_options).unwrap();
        if bad_from == 2 {
            assert_eq!(outcome.status, RunStatus::Diverged { step: 20 });
            assert!(
                outcome.detail.contains("eval_final_loss = inf"),
                "{}",
                outcome.detail
            );
            let summary = std::fs::read_to_string(outcome.folder.join("summary.csv")).unwrap();
            let last = summary.lines().last().unwrap();
            assert!(
                last.contains(",diverged,") && last.contains("inf"),
                "{summary}"
            );
            assert_eq!(
                summary.lines().count(),
                3,
                "stops at the bad evaluation: {summary}"
            );
            // A finished run: not run again.
            let task = Box::new(BlowsUp {
                w: Var::new(&[[1.0f64, 2.0]], &Device::Cpu).unwrap(),
                evals: 0,
                bad_from,
            });
            let again = run_task(spec, task, &Device::Cpu, &run_options).unwrap();
            assert_eq!(again.status, RunStatus::Skipped);
        } else {
            assert_eq!(outcome.status, RunStatus::Completed, "{}", spec.run_id());
        }
    }
    // The report counts the diverged seed and averages only the completed one.
    adamp_harness::report::build_report(&out).unwrap();
    let report = std::fs::read_to_string(out.join("report.md")).unwrap();
    let row = report
        .lines()
        .find(|l| l.starts_with("| momentum_0.9 "))
        .unwrap_or_else(|| panic!("no momentum_0.9 row in:\n{report}"));
    assert!(row.contains("1 / 1 / 0"), "{row}");
    assert!(row.contains("s1: diverged"), "{row}");
}
