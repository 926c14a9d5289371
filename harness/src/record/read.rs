//! Reading a run folder's CSVs back: the one reader of `summary.csv` and `metrics.csv`, used by
//! the runner (is a run finished? its last evaluation) and by the report.
//!
//! CSVs are read with polars as text and parsed with Rust's `f64` parser, so `NaN` and `inf` (a
//! diverged run) survive schema inference.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{anyhow, bail, Result};
use polars::prelude::*;

/// A numeric series (x ascending as written by the runner).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Series {
    /// Step or epoch.
    pub x: Vec<f64>,
    /// Value at each x.
    pub y: Vec<f64>,
}

/// `summary.csv`: every numeric column by name, plus the status column.
#[derive(Debug, Clone, Default)]
pub struct SummaryTable {
    /// Numeric columns (`epoch`, `step`, `train_loss`, ..., `eval_*`); empty cells are NaN.
    pub columns: BTreeMap<String, Vec<f64>>,
    /// The `status` column.
    pub status: Vec<String>,
    /// The numeric columns' names in the file's order.
    pub order: Vec<String>,
}

impl SummaryTable {
    /// The `status` of the last row (`running`, `completed`, `diverged`), if any row.
    pub fn last_status(&self) -> Option<&str> {
        self.status.last().map(String::as_str)
    }

    /// The `eval_<name>` columns of the last row, in column order, skipping empty cells.
    pub fn last_evals(&self) -> Vec<(String, f64)> {
        self.order
            .iter()
            .filter(|name| name.starts_with("eval_"))
            .filter_map(|name| {
                let v = *self.columns.get(name)?.last()?;
                (!v.is_nan()).then(|| (name.clone(), v))
            })
            .collect()
    }

    /// A column by name.
    pub fn column(&self, name: &str) -> Option<&[f64]> {
        self.columns.get(name).map(Vec::as_slice)
    }

    /// The last finite value of a column (the run's final number for that column).
    pub fn final_value(&self, name: &str) -> Option<f64> {
        self.column(name)?
            .iter()
            .rev()
            .copied()
            .find(|v| v.is_finite())
    }

    /// `column` against `x_column`, keeping rows where both are finite.
    pub fn series(&self, x_column: &str, column: &str) -> Option<Series> {
        let (x, y) = (self.column(x_column)?, self.column(column)?);
        let mut s = Series::default();
        for (a, b) in x.iter().zip(y) {
            if a.is_finite() && b.is_finite() {
                s.x.push(*a);
                s.y.push(*b);
            }
        }
        Some(s)
    }
}

/// Reads a CSV as text columns (header required).
fn read_text_csv(path: &Path) -> Result<DataFrame> {
    CsvReadOptions::default()
        .with_has_header(true)
        .with_infer_schema_length(Some(0))
        .try_into_reader_with_file_path(Some(path.to_path_buf()))
        .and_then(|r| r.finish())
        .map_err(|e| anyhow!("reading {}: {e}", path.display()))
}

fn text_column(df: &DataFrame, name: &str, path: &Path) -> Result<Vec<Option<String>>> {
    let col = df.column(name).map_err(|_| {
        anyhow!(
            "{} has no column `{name}` (see the harness contract for the columns)",
            path.display()
        )
    })?;
    let ca = col
        .str()
        .map_err(|e| anyhow!("{}: column `{name}`: {e}", path.display()))?;
    Ok(ca.iter().map(|v| v.map(str::to_string)).collect())
}

fn parse_number(cell: Option<&str>) -> f64 {
    cell.map(str::trim)
        .filter(|s| !s.is_empty())
        .and_then(|s| s.parse::<f64>().ok())
        .unwrap_or(f64::NAN)
}

/// Reads `summary.csv`.
pub fn read_summary(path: &Path) -> Result<SummaryTable> {
    let df = read_text_csv(path)?;
    let mut table = SummaryTable::default();
    for name in df.get_column_names() {
        let name = name.as_str();
        match name {
            "run" => {}
            "status" => {
                table.status = text_column(&df, name, path)?
                    .into_iter()
                    .map(Option::unwrap_or_default)
                    .collect();
            }
            _ => {
                let values = text_column(&df, name, path)?
                    .iter()
                    .map(|c| parse_number(c.as_deref()))
                    .collect();
                table.columns.insert(name.to_string(), values);
                table.order.push(name.to_string());
            }
        }
    }
    if table.status.is_empty() && df.height() > 0 {
        bail!(
            "{} has no `status` column (see the harness contract)",
            path.display()
        );
    }
    Ok(table)
}

/// Reads the run-level (`-`) and aggregate (`__all__`) rows of `metrics.csv`.
pub fn read_metrics(path: &Path) -> Result<BTreeMap<(String, String), Series>> {
    let df = read_text_csv(path)?;
    let step = text_column(&df, "step", path)?;
    let param = text_column(&df, "param", path)?;
    let metric = text_column(&df, "metric", path)?;
    let value = text_column(&df, "value", path)?;
    let mut out: BTreeMap<(String, String), Series> = BTreeMap::new();
    for i in 0..df.height() {
        let p = param[i].as_deref().unwrap_or_default();
        if p != "-" && p != "__all__" {
            continue;
        }
        let (x, y) = (
            parse_number(step[i].as_deref()),
            parse_number(value[i].as_deref()),
        );
        if !x.is_finite() {
            continue;
        }
        let s = out
            .entry((p.to_string(), metric[i].clone().unwrap_or_default()))
            .or_default();
        s.x.push(x);
        s.y.push(y);
    }
    Ok(out)
}
