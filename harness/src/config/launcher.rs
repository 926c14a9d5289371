//! `[launcher.slurm]`: the resources of the Slurm job array that runs a config's runs
//! (`adamp reproduce --launcher slurm`). A profile overrides it like any table
//! (`[profiles.paper.launcher.slurm]`); the local launcher ignores it, and it is not part of a
//! run's resolved config (where a run ran does not change what it computes).
//!
//! ```toml
//! [launcher.slurm]
//! partition = "gpu"
//! gres = "gpu:1"
//! cpus_per_task = 8
//! mem = "32G"
//! time = "2-00:00:00"
//! account = "my-project"
//! extra = ["--qos=normal", "--constraint=a100"]
//! ```
//!
//! Every value is checked here, before anything is written or submitted; values become
//! `#SBATCH` lines, so none may hold whitespace or a line break.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::error::ConfigError;

/// `[launcher]`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LauncherConfig {
    /// `[launcher.slurm]`; absent: Slurm's defaults (the default partition, one CPU, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slurm: Option<SlurmSettings>,
}

impl LauncherConfig {
    /// Whether nothing is set (then the table is not written out).
    pub fn is_empty(&self) -> bool {
        self.slurm.is_none()
    }
}

/// `[launcher.slurm]`: one `#SBATCH` option per key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlurmSettings {
    /// `--partition` (one name or a comma-separated list).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partition: Option<String>,
    /// `--gres`, e.g. `gpu:1` or `gpu:a100:2`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gres: Option<String>,
    /// `--cpus-per-task`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpus_per_task: Option<u32>,
    /// `--mem`, e.g. `16G` (a number with an optional K, M, G or T).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mem: Option<String>,
    /// `--time`, in Slurm's formats: `MM`, `MM:SS`, `HH:MM:SS`, `D-HH`, `D-HH:MM`, `D-HH:MM:SS`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time: Option<String>,
    /// `--account`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    /// At most this many array tasks at once (`--array=...%N`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_parallel: Option<u32>,
    /// Seconds before the time limit at which Slurm signals the task (`--signal=B:USR1@N`) so
    /// that it writes a checkpoint and requeues itself (default 120).
    #[serde(default = "default_signal_s")]
    pub checkpoint_signal_s: u32,
    /// Further `#SBATCH` options, one per entry, e.g. `--qos=high`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub extra: Vec<String>,
}

fn default_signal_s() -> u32 {
    120
}

impl Default for SlurmSettings {
    /// Slurm's own defaults for every resource; the checkpoint signal 120 s before the limit.
    fn default() -> Self {
        Self {
            partition: None,
            gres: None,
            cpus_per_task: None,
            mem: None,
            time: None,
            account: None,
            max_parallel: None,
            checkpoint_signal_s: default_signal_s(),
            extra: Vec::new(),
        }
    }
}

/// Options the launcher writes itself; `extra` may not set them.
pub const MANAGED_OPTIONS: &[&str] = &[
    "--array",
    "--output",
    "--error",
    "--job-name",
    "--requeue",
    "--no-requeue",
    "--signal",
    "--dependency",
    "--parsable",
    "--chdir",
    "--open-mode",
    "-a",
    "-o",
    "-e",
    "-J",
    "-d",
    "-D",
];

impl SlurmSettings {
    /// Check every value; errors name `launcher.slurm.<key>` in `path`.
    pub fn check(&self, path: &Path) -> Result<(), ConfigError> {
        let err = |key: &str, message: String| {
            ConfigError::new(path, format!("launcher.slurm.{key}"), message)
        };
        for (key, value) in [
            ("partition", &self.partition),
            ("gres", &self.gres),
            ("account", &self.account),
        ] {
            if let Some(v) = value {
                if v.is_empty() || !v.chars().all(is_name_char) {
                    return Err(err(
                        key,
                        format!(
                            "expected a Slurm name (letters, digits, `_ - . : , + =`), got {v:?}"
                        ),
                    ));
                }
            }
        }
        if self.cpus_per_task == Some(0) {
            return Err(err("cpus_per_task", "must be at least 1, got 0".into()));
        }
        if self.max_parallel == Some(0) {
            return Err(err("max_parallel", "must be at least 1, got 0".into()));
        }
        if let Some(mem) = &self.mem {
            if !is_mem(mem) {
                return Err(err(
                    "mem",
                    format!(
                        "expected a size such as `16G` (digits, then K, M, G or T), got {mem:?}"
                    ),
                ));
            }
        }
        if let Some(time) = &self.time {
            if !is_time(time) {
                return Err(err(
                    "time",
                    format!("expected a Slurm time limit (`MM`, `MM:SS`, `HH:MM:SS`, `D-HH`, `D-HH:MM` or `D-HH:MM:SS`), got {time:?}"),
                ));
            }
        }
        if !(1..=65_535).contains(&self.checkpoint_signal_s) {
            return Err(err(
                "checkpoint_signal_s",
                format!(
                    "must be in [1, 65535] seconds (Slurm's --signal limit), got {}",
                    self.checkpoint_signal_s
                ),
            ));
        }
        for (i, line) in self.extra.iter().enumerate() {
            let key = format!("extra[{i}]");
            if !line.starts_with('-') || line.chars().any(|c| c.is_whitespace()) {
                return Err(err(
                    &key,
                    format!("expected one sbatch option without spaces, e.g. `--qos=high`, got {line:?}"),
                ));
            }
            let option = line.split('=').next().unwrap_or(line);
            // A short option may carry its value without `=` (`-o/tmp/x`).
            let option = match option.get(..2) {
                Some(short) if !option.starts_with("--") => short,
                _ => option,
            };
            if MANAGED_OPTIONS.contains(&option) {
                return Err(err(
                    &key,
                    format!("{option} is set by the launcher itself (array, log files, requeue, signal, dependency); remove it"),
                ));
            }
        }
        Ok(())
    }
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "_-.:,+=".contains(c)
}

fn is_mem(s: &str) -> bool {
    let digits = s.trim_end_matches(['K', 'M', 'G', 'T']);
    s.len() - digits.len() <= 1 && !digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit())
}

fn is_time(s: &str) -> bool {
    let numbers = |part: &str, max_fields: usize| {
        let fields: Vec<&str> = part.split(':').collect();
        fields.len() <= max_fields
            && fields
                .iter()
                .all(|f| !f.is_empty() && f.len() <= 6 && f.chars().all(|c| c.is_ascii_digit()))
    };
    match s.split_once('-') {
        Some((days, rest)) => numbers(days, 1) && numbers(rest, 3),
        None => numbers(s, 3),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(settings: SlurmSettings) -> Result<(), String> {
        settings
            .check(Path::new("c.toml"))
            .map_err(|e| e.to_string())
    }

    fn base() -> SlurmSettings {
        SlurmSettings::default()
    }

    #[test]
    fn a_profile_overrides_the_table_key_by_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("toy.toml");
        let mut text = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../configs/toy3d.toml"
        ))
        .unwrap();
        text.push_str(
            "\n[launcher.slurm]\npartition = \"cpu\"\ntime = \"10\"\n\n[profiles.big.launcher.slurm]\npartition = \"gpu\"\ngres = \"gpu:1\"\n",
        );
        std::fs::write(&path, text).unwrap();
        let load = |profile: Option<&str>| {
            crate::config::load(
                &path,
                &crate::config::LoadOptions {
                    profile: profile.map(str::to_string),
                    ..Default::default()
                },
            )
            .unwrap()
            .config
            .launcher
            .slurm
            .unwrap()
        };
        let plain = load(None);
        assert_eq!(plain.partition.as_deref(), Some("cpu"));
        assert_eq!(plain.gres, None);
        let big = load(Some("big"));
        assert_eq!(big.partition.as_deref(), Some("gpu"));
        assert_eq!(big.gres.as_deref(), Some("gpu:1"));
        assert_eq!(
            big.time.as_deref(),
            Some("10"),
            "keys the profile leaves alone stay"
        );
    }

    #[test]
    fn slurm_time_formats_are_accepted_and_others_refused() {
        for ok in ["30", "30:00", "12:00:00", "2-00", "2-12:00", "1-00:00:00"] {
            assert!(is_time(ok), "{ok}");
        }
        for bad in [
            "",
            "1h",
            "1:2:3:4",
            "-1",
            "2-",
            "1 00:00",
            "12:00:00\n#SBATCH",
        ] {
            assert!(!is_time(bad), "{bad:?}");
        }
        let e = check(SlurmSettings {
            time: Some("2 days".into()),
            ..base()
        })
        .unwrap_err();
        assert!(
            e.starts_with("c.toml: launcher.slurm.time: expected a Slurm time limit"),
            "{e}"
        );
    }

    #[test]
    fn values_that_would_break_the_script_are_refused_naming_the_key() {
        let e = check(SlurmSettings {
            partition: Some("gpu\n#SBATCH --x".into()),
            ..base()
        })
        .unwrap_err();
        assert!(
            e.contains("launcher.slurm.partition: expected a Slurm name"),
            "{e}"
        );
        let e = check(SlurmSettings {
            mem: Some("16GB".into()),
            ..base()
        })
        .unwrap_err();
        assert!(e.contains("launcher.slurm.mem"), "{e}");
        let e = check(SlurmSettings {
            extra: vec!["--qos=high".into(), "--array=0-3".into()],
            ..base()
        })
        .unwrap_err();
        assert!(
            e.contains("launcher.slurm.extra[1]: --array is set by the launcher"),
            "{e}"
        );
        let e = check(SlurmSettings {
            extra: vec!["-o/tmp/x".into()],
            ..base()
        })
        .unwrap_err();
        assert!(e.contains("extra[0]: -o is set by the launcher"), "{e}");
        let e = check(SlurmSettings {
            cpus_per_task: Some(0),
            ..base()
        })
        .unwrap_err();
        assert!(
            e.contains("launcher.slurm.cpus_per_task: must be at least 1"),
            "{e}"
        );
        assert!(check(SlurmSettings {
            partition: Some("gpu,gpu-long".into()),
            gres: Some("gpu:a100:2".into()),
            mem: Some("64G".into()),
            time: Some("1-00:00:00".into()),
            extra: vec!["--qos=high".into()],
            ..base()
        })
        .is_ok());
    }
}
