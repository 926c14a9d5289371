//! The RBF kernel widths of a run: fixed, or the median heuristic recomputed before every epoch
//! (clovaai/rebias `Trainer._set_adaptive_sigma` and `criterions/sigma_utils.py`,
//! `median_distance`): both networks in training mode (as the reference, whose pass also updates
//! their BatchNorm running statistics) over the first `floor(batches * fraction) + 1` batches of
//! a shuffled pass of the training set (the reference's `if idx > len(loader) * rate: break`).
//! The widths and the epoch they were computed for are a checkpointed buffer, so a run resumed
//! mid-epoch keeps them.

use adamp_task_api::{Result, TaskError};
use candle_core::{DType, Device, Tensor};

use crate::hsic::median_sigma;
use crate::settings::Bandwidth;
use crate::task::{data_err, model_err, ReBiasTask};

/// The loader "epoch" key of the median passes (`MEDIAN_PASS + epoch`), far from the training
/// epochs so their order and augmentation are a separate stream.
const MEDIAN_PASS: u64 = 1 << 40;

/// The buffer's name.
pub const SIGMA_BUFFER: &str = "rebias.sigma";

/// Kernel widths of f's and g's features, and the epoch they were computed for (0: not yet).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sigma {
    /// f's width.
    pub f: f64,
    /// g's width.
    pub g: f64,
    /// The epoch (1-based) they belong to.
    pub epoch: usize,
}

impl Sigma {
    /// The initial state for `bandwidth`.
    pub fn initial(bandwidth: Bandwidth) -> Self {
        match bandwidth {
            Bandwidth::Fixed { sigma } => Sigma {
                f: sigma,
                g: sigma,
                epoch: 0,
            },
            Bandwidth::Median { .. } => Sigma {
                f: f64::NAN,
                g: f64::NAN,
                epoch: 0,
            },
        }
    }

    /// As a checkpoint buffer.
    pub fn to_tensor(self) -> Result<Tensor> {
        Ok(Tensor::new(
            &[self.f, self.g, self.epoch as f64],
            &Device::Cpu,
        )?)
    }

    /// From a checkpoint buffer.
    pub fn from_tensor(t: &Tensor) -> Result<Self> {
        let v = t.to_dtype(DType::F64)?.flatten_all()?.to_vec1::<f64>()?;
        match v[..] {
            [f, g, e] => Ok(Sigma {
                f,
                g,
                epoch: e as usize,
            }),
            _ => Err(TaskError::State(format!(
                "buffer `{SIGMA_BUFFER}` has {} values, expected 3",
                v.len()
            ))),
        }
    }
}

impl ReBiasTask {
    /// Makes the widths those of `epoch` (computing them for the median heuristic unless the
    /// checkpoint already holds that epoch's).
    pub(crate) fn update_bandwidth(&mut self, epoch: usize) -> Result<()> {
        let Bandwidth::Median { fraction } = self.settings.bandwidth else {
            self.sigma.epoch = epoch;
            return Ok(());
        };
        if self.sigma.epoch == epoch {
            return Ok(());
        }
        let batches = self.train.num_batches();
        let take = ((batches as f64 * fraction).floor() as usize + 1).min(batches);
        let (mut fs, mut gs) = (Vec::new(), Vec::new());
        for batch in self.train.epoch(MEDIAN_PASS + epoch as u64).take(take) {
            let batch = batch
                .map_err(data_err)?
                .to_device(&self.device)
                .map_err(data_err)?;
            let (_, f) = self
                .f
                .logits_and_pooled_t(&batch.images, true)
                .map_err(model_err)?;
            let (_, g) = self
                .g
                .logits_and_pooled_t(&batch.images, true)
                .map_err(model_err)?;
            fs.push(f.detach());
            gs.push(g.detach());
        }
        let (Some(f), Some(g)) = (median_sigma(&fs)?, median_sigma(&gs)?) else {
            return Err(TaskError::Other(
                "the median heuristic read no training batch".into(),
            ));
        };
        for (net, sigma) in [("f", f), ("g", g)] {
            if !(sigma.is_finite() && sigma > 0.0) {
                return Err(TaskError::Other(format!(
                    "the median heuristic gave {net}'s RBF kernel width {sigma} at epoch {epoch}: \
                     more than half of the sampled pairs of {net}'s features coincide; use a \
                     fixed width (task.bandwidth = {{ kind = \"fixed\", sigma = ... }}) or more \
                     varied data"
                )));
            }
        }
        tracing::debug!(epoch, sigma_f = f, sigma_g = g, "median kernel widths");
        self.sigma = Sigma { f, g, epoch };
        Ok(())
    }
}
