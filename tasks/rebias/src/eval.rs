//! Evaluation: f (the de-biased network, as the reference reports `f_acc`) in evaluation mode on
//! every evaluation split, each split yielding its metrics in the order of
//! [`crate::task::eval_metric_names`]; accuracies in %.

use adamp_datasets::BatchLoader;
use adamp_task_api::{EvalOutput, Result, TaskError};

use crate::data::Metric;
use crate::hsic::argmax;
use crate::task::{data_err, model_err, ReBiasTask};
use crate::unbiased::cell_mean_accuracy;

/// One split's predictions: per sample read, its dataset index, label and correctness.
struct Predictions {
    index: Vec<usize>,
    label: Vec<u32>,
    correct: Vec<bool>,
}

impl ReBiasTask {
    fn predict(&self, loader: &BatchLoader) -> Result<Predictions> {
        let mut p = Predictions {
            index: Vec::new(),
            label: Vec::new(),
            correct: Vec::new(),
        };
        for batch in loader.epoch(0) {
            let batch = batch
                .map_err(data_err)?
                .to_device(&self.device)
                .map_err(data_err)?;
            let logits = self.f.forward_t(&batch.images, false).map_err(model_err)?;
            let labels: Vec<u32> = batch.labels.to_vec1()?;
            for ((pred, y), i) in argmax(&logits)?.into_iter().zip(labels).zip(batch.indices) {
                p.index.push(i);
                p.label.push(y);
                p.correct.push(pred == y);
            }
        }
        if p.index.is_empty() {
            return Err(TaskError::Other(format!(
                "evaluation read no images from {}",
                loader.source().describe()
            )));
        }
        Ok(p)
    }

    /// Every split's metrics.
    pub(crate) fn evaluate_splits(&self) -> Result<EvalOutput> {
        let mut metrics = Vec::new();
        for (loader, wanted) in &self.evals {
            let p = self.predict(loader)?;
            for m in wanted {
                match m {
                    Metric::Accuracy(name) => {
                        let right = p.correct.iter().filter(|&&c| c).count();
                        metrics.push((
                            name.to_string(),
                            100.0 * right as f64 / p.correct.len() as f64,
                        ));
                    }
                    Metric::CellMean(name, clusters) => {
                        let per_read: Vec<Vec<u32>> = clusters
                            .iter()
                            .map(|c| p.index.iter().map(|&i| c[i]).collect())
                            .collect();
                        let cm = cell_mean_accuracy(&p.label, &p.correct, &per_read).ok_or_else(|| {
                            TaskError::Other(format!(
                                "{name}: no (class, texture cluster) cell of {} holds {} images, so the \
                                 unbiased accuracy is undefined; evaluate on more images (data.test_subset) \
                                 or use a cluster file with fewer clusters",
                                loader.source().describe(),
                                crate::unbiased::MIN_CELL
                            ))
                        })?;
                        metrics.push((name.to_string(), 100.0 * cm.accuracy));
                    }
                }
            }
        }
        Ok(EvalOutput::from_metrics(metrics))
    }
}
