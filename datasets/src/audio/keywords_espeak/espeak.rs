//! The system's `espeak-ng` program, pinned to version 1.51 (Debian bookworm's
//! `espeak-ng` 1.51+dfsg-10+deb12u2): other versions pronounce differently, so the dataset would
//! change. Its output is deterministic: the same command writes the same bytes (checked
//! 2026-12-05 with `espeak-ng -v en-gb-scotland+f3 -s 140 -p 70 -w <file> quebec` twice).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use super::voices::Voice;
use crate::error::{DatasetError, Result};

/// The espeak-ng version the dataset is built with (what `espeak-ng --version` reports).
pub const ESPEAK_NG_VERSION: &str = "1.51";

/// The Debian package version that provides [`ESPEAK_NG_VERSION`] on bookworm.
pub const ESPEAK_NG_DEBIAN_VERSION: &str = "1.51+dfsg-10+deb12u2";

/// What to do when the program is missing or has another version.
pub const INSTALL_HINT: &str =
    "install Debian's espeak-ng 1.51 (bookworm: `apt-get install espeak-ng`, \
     package version 1.51+dfsg-10+deb12u2; `make data` does it when run as root), or point the \
     keyword stand-in at an espeak-ng 1.51 binary";

/// The `espeak-ng` program.
#[derive(Debug, Clone)]
pub struct EspeakNg {
    /// The program (default `espeak-ng`, found on `PATH`).
    pub program: PathBuf,
}

impl Default for EspeakNg {
    fn default() -> Self {
        Self {
            program: PathBuf::from("espeak-ng"),
        }
    }
}

impl EspeakNg {
    /// Checks that the program runs and is version [`ESPEAK_NG_VERSION`]; returns the version.
    pub fn check_version(&self) -> Result<String> {
        let out = self.run(&["--version"])?;
        let text = String::from_utf8_lossy(&out.stdout);
        let version = parse_version(&text);
        if !out.status.success() || version.as_deref() != Some(ESPEAK_NG_VERSION) {
            return Err(DatasetError::Tool {
                command: format!("{} --version", self.program.display()),
                reason: format!(
                    "expected eSpeak NG {ESPEAK_NG_VERSION}, got {} ({}: `{}`)",
                    version.as_deref().unwrap_or("no version"),
                    out.status,
                    text.trim()
                ),
                hint: INSTALL_HINT.into(),
            });
        }
        Ok(ESPEAK_NG_VERSION.into())
    }

    /// Speaks `text` with `voice` into the WAV file `out` (`-v <voice> -s <speed> -p <pitch>
    /// -w <out> <text>`).
    pub fn render(&self, voice: &Voice, text: &str, out: &Path) -> Result<()> {
        let (speed, pitch) = (voice.speed.to_string(), voice.pitch.to_string());
        let out_arg = out.to_string_lossy();
        let args = [
            "-v",
            voice.voice.as_str(),
            "-s",
            &speed,
            "-p",
            &pitch,
            "-w",
            &out_arg,
            text,
        ];
        let result = self.run(&args)?;
        if !result.status.success() || !out.is_file() {
            return Err(DatasetError::Tool {
                command: self.command_line(&args),
                reason: format!(
                    "{}{}: {}",
                    result.status,
                    if out.is_file() {
                        ""
                    } else {
                        ", no WAV written"
                    },
                    tail(&result.stderr)
                ),
                hint: format!(
                    "check that the voice exists (`espeak-ng --voices=en`); {INSTALL_HINT}"
                ),
            });
        }
        Ok(())
    }

    fn command_line(&self, args: &[&str]) -> String {
        std::iter::once(self.program.display().to_string())
            .chain(args.iter().map(|a| a.to_string()))
            .collect::<Vec<_>>()
            .join(" ")
    }

    fn run(&self, args: &[&str]) -> Result<Output> {
        Command::new(&self.program)
            .args(args)
            .output()
            .map_err(|e| DatasetError::Tool {
                command: self.command_line(args),
                reason: if e.kind() == std::io::ErrorKind::NotFound {
                    "program not found".into()
                } else {
                    e.to_string()
                },
                hint: INSTALL_HINT.into(),
            })
    }
}

/// The version in `espeak-ng --version`'s output (`eSpeak NG text-to-speech: 1.51  Data at:
/// ...`).
pub fn parse_version(text: &str) -> Option<String> {
    let (_, rest) = text.split_once("text-to-speech:")?;
    rest.split_whitespace().next().map(str::to_string)
}

/// The last lines of a program's stderr, joined.
fn tail(bytes: &[u8]) -> String {
    let s = String::from_utf8_lossy(bytes);
    let lines: Vec<&str> = s.lines().filter(|l| !l.trim().is_empty()).collect();
    lines[lines.len().saturating_sub(4)..].join(" | ")
}
