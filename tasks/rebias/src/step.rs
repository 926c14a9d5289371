//! One ReBias training step: the biased network g, then the network f being de-biased, on the
//! same batch (clovaai/rebias `trainer.py`, `Trainer._train_epoch` with `n_g_update = 1`:
//! `_update_g` then `_update_f`), each stepping its own optimizer:
//!
//! 1. g minimises `CE(g) - lambda_g * HSIC(g_feats, f_feats)` (`MinusRbfHSIC`, f's features held
//!    fixed); the reference calls it with `(g_feats, f_feats)` and the kernel widths
//!    `(sigma_x, sigma_y) = (sigma_f, sigma_g)`, so with the median heuristic g's features get
//!    f's width and f's get g's. That is reproduced as is (with a fixed sigma it makes no
//!    difference).
//! 2. f minimises `CE(f) + lambda_f * HSIC(f_feats, g_feats)` (`RbfHSIC`, widths `(sigma_f,
//!    sigma_g)`), with g's features from a fresh forward pass of the updated g, held fixed.
//!
//! Features are the globally average-pooled last feature maps (`feature_pos = 'post'`), both
//! networks in training mode. The reference runs f forward twice per step (once inside g's update,
//! once in its own); f does not change in between, so one forward pass serves both here. The only
//! difference is that f's BatchNorm running statistics take one momentum update per step instead
//! of two with the same batch statistics. A loss term whose lambda is 0 is not computed (the
//! reference skips it too).

use adamp_task_api::{OptimizerStep, Result, StepOutput};
use adamp_task_classification::metrics::cross_entropy;
use candle_core::Tensor;

use crate::hsic::{argmax, hsic};
use crate::task::{model_err, ReBiasTask};

impl ReBiasTask {
    /// The g update, then the f update, on `images` / `labels`.
    pub(crate) fn minimax_step(
        &mut self,
        images: &Tensor,
        labels: &Tensor,
        optimizers: &mut dyn OptimizerStep,
    ) -> Result<StepOutput> {
        let s = &self.settings;
        let (sigma_f, sigma_g) = (self.sigma.f, self.sigma.g);
        let (f_logits, f_feats) = self
            .f
            .logits_and_pooled_t(images, true)
            .map_err(model_err)?;

        let (g_logits, g_feats) = self
            .g
            .logits_and_pooled_t(images, true)
            .map_err(model_err)?;
        let g_ce = cross_entropy(&g_logits, labels)?;
        let g_loss = if s.lambda_g > 0.0 {
            let inner = hsic(&g_feats, &f_feats.detach(), sigma_f, sigma_g, s.estimator)?;
            (&g_ce - (inner * s.lambda_g)?)?
        } else {
            g_ce.clone()
        };
        optimizers.backward_step(1, &g_loss)?;

        let f_ce = cross_entropy(&f_logits, labels)?;
        let (f_loss, outer) = if s.lambda_f > 0.0 {
            let (_, g_feats) = self
                .g
                .logits_and_pooled_t(images, true)
                .map_err(model_err)?;
            let outer = hsic(&f_feats, &g_feats.detach(), sigma_f, sigma_g, s.estimator)?;
            let value = outer.to_scalar::<f32>()? as f64;
            ((&f_ce + (outer * s.lambda_f)?)?, value)
        } else {
            (f_ce.clone(), f64::NAN)
        };
        optimizers.backward_step(0, &f_loss)?;

        let y: Vec<u32> = labels.to_vec1()?;
        let right = argmax(&f_logits)?
            .iter()
            .zip(&y)
            .filter(|(p, t)| p == t)
            .count();
        let scalar = |t: &Tensor| -> Result<f64> { Ok(t.to_scalar::<f32>()? as f64) };
        let mut scalars = vec![
            ("f_ce".to_string(), scalar(&f_ce)?),
            ("g_ce".to_string(), scalar(&g_ce)?),
            (
                "train_acc".to_string(),
                100.0 * right as f64 / y.len() as f64,
            ),
            ("sigma_f".to_string(), sigma_f),
            ("sigma_g".to_string(), sigma_g),
        ];
        if outer.is_finite() {
            scalars.push(("hsic".to_string(), outer));
        }
        Ok(StepOutput {
            loss: scalar(&f_loss)?,
            scalars,
        })
    }
}
