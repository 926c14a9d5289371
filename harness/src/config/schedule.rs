//! `[training.lr_schedule]`: the learning-rate schedules.
//!
//! A schedule maps `t` to a factor of the base learning rate, where `t` is the 0-based index of the
//! current epoch for epoch-based training (constant within an epoch, like torch's per-epoch
//! `scheduler.step()`) and the 0-based step index for step-based training. `warmup` (same unit)
//! multiplies by `(t + 1) / (warmup + 1)` while `t < warmup` (linear ramp, never zero).

use serde::{Deserialize, Serialize};

/// The valid schedule kinds, for error messages.
pub const SCHEDULE_KINDS: &[&str] = &["constant", "step", "multistep", "cosine"];

/// A learning-rate schedule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind")]
pub enum ScheduleConfig {
    /// The base learning rate throughout.
    #[serde(rename = "constant")]
    Constant(ConstantSchedule),
    /// `gamma^floor(t / step_size)` (torch `StepLR`).
    #[serde(rename = "step")]
    Step(StepSchedule),
    /// `gamma^(number of milestones <= t)` (torch `MultiStepLR`).
    #[serde(rename = "multistep")]
    MultiStep(MultiStepSchedule),
    /// `min_factor + (1 - min_factor) (1 + cos(pi t / T)) / 2` over the run's length `T`
    /// (torch `CosineAnnealingLR` with `T_max = T`, `eta_min = min_factor * lr`).
    #[serde(rename = "cosine")]
    Cosine(CosineSchedule),
}

impl Default for ScheduleConfig {
    fn default() -> Self {
        ScheduleConfig::Constant(ConstantSchedule { warmup: 0 })
    }
}

/// `kind = "constant"`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConstantSchedule {
    /// Warm-up length (epochs or steps).
    #[serde(default)]
    pub warmup: usize,
}

/// `kind = "step"`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StepSchedule {
    /// Decay every `step_size` epochs (or steps); > 0.
    pub step_size: usize,
    /// Decay factor, in (0, 1].
    pub gamma: f64,
    /// Warm-up length.
    #[serde(default)]
    pub warmup: usize,
}

/// `kind = "multistep"`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MultiStepSchedule {
    /// Increasing epochs (or steps) at which the factor is multiplied by `gamma`.
    pub milestones: Vec<usize>,
    /// Decay factor, in (0, 1].
    pub gamma: f64,
    /// Warm-up length.
    #[serde(default)]
    pub warmup: usize,
}

/// `kind = "cosine"`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CosineSchedule {
    /// The final factor of the base learning rate, in [0, 1].
    #[serde(default)]
    pub min_factor: f64,
    /// Warm-up length.
    #[serde(default)]
    pub warmup: usize,
}

impl ScheduleConfig {
    /// The factor of the base learning rate at `t` (see the module doc) for a run of length
    /// `total` (epochs or steps).
    pub fn factor(&self, t: usize, total: usize) -> f64 {
        let (base, warmup) = match self {
            ScheduleConfig::Constant(s) => (1.0, s.warmup),
            ScheduleConfig::Step(s) => (s.gamma.powi((t / s.step_size.max(1)) as i32), s.warmup),
            ScheduleConfig::MultiStep(s) => {
                let passed = s.milestones.iter().filter(|&&m| m <= t).count();
                (s.gamma.powi(passed as i32), s.warmup)
            }
            ScheduleConfig::Cosine(s) => {
                let progress = t as f64 / total.max(1) as f64;
                let cos = (1.0 + (std::f64::consts::PI * progress).cos()) / 2.0;
                (s.min_factor + (1.0 - s.min_factor) * cos, s.warmup)
            }
        };
        if t < warmup {
            base * (t + 1) as f64 / (warmup + 1) as f64
        } else {
            base
        }
    }

    /// Range checks: `(key inside lr_schedule, message)`.
    pub fn check(&self) -> Result<(), (String, String)> {
        let gamma = |g: f64| {
            if g > 0.0 && g <= 1.0 {
                Ok(())
            } else {
                Err((
                    "gamma".to_string(),
                    format!("expected a number in (0, 1], got {g}"),
                ))
            }
        };
        match self {
            ScheduleConfig::Constant(_) => Ok(()),
            ScheduleConfig::Step(s) => {
                if s.step_size == 0 {
                    return Err(("step_size".into(), "expected an integer > 0, got 0".into()));
                }
                gamma(s.gamma)
            }
            ScheduleConfig::MultiStep(s) => {
                if s.milestones.windows(2).any(|w| w[0] >= w[1]) {
                    return Err((
                        "milestones".into(),
                        format!(
                            "expected strictly increasing integers, got {:?}",
                            s.milestones
                        ),
                    ));
                }
                gamma(s.gamma)
            }
            ScheduleConfig::Cosine(s) => {
                if (0.0..=1.0).contains(&s.min_factor) {
                    Ok(())
                } else {
                    Err((
                        "min_factor".into(),
                        format!("expected a number in [0, 1], got {}", s.min_factor),
                    ))
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn step_schedule_decays_every_step_size() {
        let s = ScheduleConfig::Step(StepSchedule {
            step_size: 30,
            gamma: 0.1,
            warmup: 0,
        });
        assert_eq!(s.factor(29, 100), 1.0);
        assert!((s.factor(30, 100) - 0.1).abs() < 1e-15);
        assert!((s.factor(90, 100) - 1e-3).abs() < 1e-15);
    }

    #[test]
    fn multistep_counts_passed_milestones_and_warmup_ramps() {
        let s = ScheduleConfig::MultiStep(MultiStepSchedule {
            milestones: vec![90, 120],
            gamma: 0.1,
            warmup: 3,
        });
        assert_eq!(s.factor(0, 140), 0.25);
        assert_eq!(s.factor(2, 140), 0.75);
        assert_eq!(s.factor(3, 140), 1.0);
        assert!((s.factor(120, 140) - 0.01).abs() < 1e-15);
    }

    #[test]
    fn cosine_goes_from_one_to_min_factor() {
        let s = ScheduleConfig::Cosine(CosineSchedule {
            min_factor: 0.0,
            warmup: 0,
        });
        assert_eq!(s.factor(0, 10), 1.0);
        assert!((s.factor(5, 10) - 0.5).abs() < 1e-15);
        assert!(s.factor(10, 10).abs() < 1e-15);
    }
}
