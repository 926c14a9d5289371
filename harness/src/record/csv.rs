//! `metrics.csv` and `summary.csv` through polars, written atomically.
//!
//! Floats are written in their shortest round-trip form (polars' default), so a value read back
//! is bit-identical to the one recorded.

use std::path::Path;

use anyhow::{Context, Result};
use polars::prelude::*;

use super::recorder::RecorderState;
use adamp_fsio::write_atomic;

/// The `metrics.csv` columns (harness contract).
pub const METRICS_COLUMNS: [&str; 6] = ["run", "step", "epoch", "param", "metric", "value"];

/// The fixed `summary.csv` columns before the `eval_<name>` ones (harness contract).
pub const SUMMARY_COLUMNS: [&str; 9] = [
    "run",
    "epoch",
    "step",
    "train_loss",
    "lr",
    "time_s",
    "mean_weight_norm",
    "mean_effective_step",
    "status",
];

fn to_csv(mut df: DataFrame) -> Result<Vec<u8>> {
    let mut buf = Vec::new();
    CsvWriter::new(&mut buf)
        .include_header(true)
        .finish(&mut df)
        .map_err(|e| anyhow::anyhow!("formatting CSV: {e}"))?;
    Ok(buf)
}

/// The `metrics.csv` bytes for `state`.
pub fn metrics_csv(run: &str, state: &RecorderState) -> Result<Vec<u8>> {
    let rows = &state.rows;
    let n = rows.len();
    let df = DataFrame::new(
        n,
        vec![
            Column::new("run".into(), vec![run; n]),
            Column::new(
                "step".into(),
                rows.iter().map(|r| r.step).collect::<Vec<_>>(),
            ),
            Column::new(
                "epoch".into(),
                rows.iter().map(|r| r.epoch).collect::<Vec<_>>(),
            ),
            Column::new(
                "param".into(),
                rows.iter().map(|r| r.param.as_str()).collect::<Vec<_>>(),
            ),
            Column::new(
                "metric".into(),
                rows.iter().map(|r| r.metric.as_str()).collect::<Vec<_>>(),
            ),
            Column::new(
                "value".into(),
                rows.iter().map(|r| r.value).collect::<Vec<_>>(),
            ),
        ],
    )?;
    to_csv(df)
}

/// The `summary.csv` bytes for `state`: fixed columns, then one `eval_<name>` column per eval
/// metric in order of first appearance (empty where a row lacks it, e.g. a diverged row).
pub fn summary_csv(run: &str, state: &RecorderState) -> Result<Vec<u8>> {
    let rows = &state.summary;
    let n = rows.len();
    let mut eval_names: Vec<String> = Vec::new();
    for r in rows {
        for (k, _) in &r.evals {
            if !eval_names.contains(k) {
                eval_names.push(k.clone());
            }
        }
    }
    let f =
        |g: &dyn Fn(&super::recorder::SummaryRow) -> f64| rows.iter().map(g).collect::<Vec<_>>();
    let mut columns = vec![
        Column::new("run".into(), vec![run; n]),
        Column::new(
            "epoch".into(),
            rows.iter().map(|r| r.epoch).collect::<Vec<_>>(),
        ),
        Column::new(
            "step".into(),
            rows.iter().map(|r| r.step).collect::<Vec<_>>(),
        ),
        Column::new("train_loss".into(), f(&|r| r.train_loss)),
        Column::new("lr".into(), f(&|r| r.lr)),
        Column::new("time_s".into(), f(&|r| r.time_s)),
        Column::new("mean_weight_norm".into(), f(&|r| r.mean_weight_norm)),
        Column::new("mean_effective_step".into(), f(&|r| r.mean_effective_step)),
        Column::new(
            "status".into(),
            rows.iter().map(|r| r.status.as_str()).collect::<Vec<_>>(),
        ),
    ];
    for name in &eval_names {
        let values: Vec<Option<f64>> = rows
            .iter()
            .map(|r| r.evals.iter().find(|(k, _)| k == name).map(|(_, v)| v.0))
            .collect();
        columns.push(Column::new(name.as_str().into(), values));
    }
    to_csv(DataFrame::new(n, columns)?)
}

/// Write both CSVs of a run folder atomically.
pub fn write_csvs(folder: &Path, run: &str, state: &RecorderState) -> Result<()> {
    let metrics = folder.join("metrics.csv");
    write_atomic(&metrics, &metrics_csv(run, state)?)
        .with_context(|| format!("writing {}", metrics.display()))?;
    let summary = folder.join("summary.csv");
    write_atomic(&summary, &summary_csv(run, state)?)
        .with_context(|| format!("writing {}", summary.display()))?;
    Ok(())
}
