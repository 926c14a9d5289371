//! Hyperparameter validation shared by every optimizer's constructor.
//!
//! The ranges follow the references' own checks (`torch/optim/sgd.py`, `adam.py` in torch 2.15.0)
//! plus the ones the `adamp` 0.3.0 formulas need to stay finite (`1/(1-momentum)` in SGDP's decay,
//! `delta / sqrt(n)` as a positive threshold, `wd_ratio` as a fraction).

use crate::error::{OptimError, Result};

fn invalid(name: &'static str, value: f64, expected: &'static str) -> OptimError {
    OptimError::InvalidHyperparameter {
        name,
        value,
        expected,
    }
}

/// `value` must be finite and `>= 0` (lr, eps, weight_decay, momentum for SGD, dampening).
pub(crate) fn non_negative(name: &'static str, value: f64) -> Result<()> {
    if value.is_finite() && value >= 0.0 {
        Ok(())
    } else {
        Err(invalid(name, value, "must be a finite number >= 0"))
    }
}

/// `value` must lie in `[0, 1)` (Adam betas, SGDP momentum).
pub(crate) fn unit_half_open(name: &'static str, value: f64) -> Result<()> {
    if (0.0..1.0).contains(&value) {
        Ok(())
    } else {
        Err(invalid(name, value, "must be in [0, 1)"))
    }
}

/// `value` must lie in `[0, 1]` (wd_ratio, dampening).
pub(crate) fn unit_closed(name: &'static str, value: f64) -> Result<()> {
    if (0.0..=1.0).contains(&value) {
        Ok(())
    } else {
        Err(invalid(name, value, "must be in [0, 1]"))
    }
}

/// `value` must be finite and `> 0` (delta).
pub(crate) fn positive(name: &'static str, value: f64) -> Result<()> {
    if value.is_finite() && value > 0.0 {
        Ok(())
    } else {
        Err(invalid(name, value, "must be a finite number > 0"))
    }
}

/// torch SGD's rule: Nesterov momentum needs `momentum > 0` and `dampening == 0`.
pub(crate) fn nesterov_sgd(nesterov: bool, momentum: f64, dampening: f64) -> Result<()> {
    if !nesterov {
        return Ok(());
    }
    if momentum <= 0.0 {
        return Err(invalid(
            "momentum",
            momentum,
            "must be > 0 when nesterov = true (torch.optim.SGD raises likewise)",
        ));
    }
    if dampening != 0.0 {
        return Err(invalid(
            "dampening",
            dampening,
            "must be 0 when nesterov = true (torch.optim.SGD raises likewise)",
        ));
    }
    Ok(())
}
