//! `config.resolved.toml`: the run's own config (one optimizer entry with every default filled,
//! one seed) plus a `[meta]` table saying where the numbers came from.

use std::process::Command;
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result};

use crate::config::RunSpec;

/// The Candle version this workspace pins (`Cargo.toml`, `[workspace.dependencies]`).
pub const CANDLE_VERSION: &str = "0.11.1";

/// The git revision of the working directory (`git rev-parse HEAD`), or `unknown`.
pub fn git_revision() -> String {
    Command::new("git")
        .args(["rev-parse", "HEAD"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "unknown".to_string())
}

/// The run's config as a TOML table, without `[meta]` (what "same config" compares).
pub fn config_table(spec: &RunSpec) -> Result<toml::Table> {
    let mut config = spec.config.clone();
    config.meta = None;
    config.profiles.clear();
    // Where a run was launched does not change what it computes.
    config.launcher = Default::default();
    match toml::Value::try_from(&config).context("serialising the resolved config")? {
        toml::Value::Table(t) => Ok(t),
        other => anyhow::bail!(
            "the resolved config serialised to a {}, not a table",
            other.type_str()
        ),
    }
}

/// The full text of `config.resolved.toml` for `spec`.
pub fn resolved_toml(spec: &RunSpec) -> Result<String> {
    let mut table = config_table(spec)?;
    let mut meta = toml::Table::new();
    meta.insert("git_revision".into(), git_revision().into());
    meta.insert("seed".into(), toml::Value::Integer(spec.seed as i64));
    meta.insert("device".into(), spec.device.to_string().into());
    meta.insert("adamp_version".into(), env!("CARGO_PKG_VERSION").into());
    meta.insert("candle_version".into(), CANDLE_VERSION.into());
    meta.insert("started_at".into(), utc_now().into());
    meta.insert("run".into(), spec.run_id().into());
    meta.insert("source".into(), spec.source.display().to_string().into());
    table.insert("meta".into(), toml::Value::Table(meta));
    let body = toml::to_string(&table).context("formatting config.resolved.toml")?;
    Ok(format!(
        "# The resolved config of run {} (written by `adamp run`; loadable again).\n{body}",
        spec.run_id()
    ))
}

/// The current UTC time as `YYYY-MM-DDTHH:MM:SSZ`.
pub fn utc_now() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (y, m, d) = civil_from_days(days as i64);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

/// Days since 1970-01-01 to a (year, month, day) date (H. Hinnant's `civil_from_days`).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates_are_correct() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(19_723), (2024, 1, 1));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
    }
}
