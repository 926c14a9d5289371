//! The test recordings: Debian's `asterisk-core-sounds-en-wav` 1.6.1-1 (CC-BY-SA-3.0), the
//! English prompts of the Asterisk telephony server spoken by one female speaker, 16-bit mono
//! 8 kHz WAV. Fetched with the project's Debian machinery ([`crate::fetch`]: `apt-get download`
//! of the pinned version, the `.deb`'s pinned SHA-256 checked, `dpkg-deb -x`).

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::error::{DatasetError, Result};
use crate::fetch::{verify_sha256, DebDownloader};

/// A Debian package of recordings, pinned by version and `.deb` checksum.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordingsPackage {
    /// Debian package name.
    pub package: &'static str,
    /// Exact package version.
    pub version: &'static str,
    /// SHA-256 of the `.deb` (lower-case hex).
    pub deb_sha256: &'static str,
    /// The folder inside the package that holds the recordings (no leading `/`).
    pub sounds_dir: &'static str,
}

/// `asterisk-core-sounds-en-wav` 1.6.1-1 from Debian bookworm; checksum of the `.deb` fetched
/// with `apt-get download asterisk-core-sounds-en-wav=1.6.1-1` (2026-12-05, 18,272,864 bytes).
pub const ASTERISK_SOUNDS: RecordingsPackage = RecordingsPackage {
    package: "asterisk-core-sounds-en-wav",
    version: "1.6.1-1",
    deb_sha256: "2be3ea287d83299d143815fa804f11179a75b7affd4a758b98b55f5afc18a35d",
    sounds_dir: "usr/share/asterisk/sounds/en_US_f_Allison",
};

/// Downloads `pkg` with `downloader` into `work/deb`, checks its pinned SHA-256, unpacks it into
/// `work/unpacked` and returns its sounds folder.
pub fn fetch_recordings(
    pkg: &RecordingsPackage,
    downloader: &dyn DebDownloader,
    work: &Path,
) -> Result<PathBuf> {
    let deb_dir = work.join("deb");
    let unpacked = work.join("unpacked");
    for d in [&deb_dir, &unpacked] {
        std::fs::create_dir_all(d).map_err(|e| DatasetError::io(d, e))?;
    }
    tracing::info!(package = pkg.package, version = pkg.version, "downloading");
    let deb = downloader.download(pkg.package, pkg.version, &deb_dir)?;
    verify_sha256(&deb, pkg.deb_sha256)?;
    let out = Command::new("dpkg-deb")
        .arg("-x")
        .arg(&deb)
        .arg(&unpacked)
        .output();
    let command = format!("dpkg-deb -x {} {}", deb.display(), unpacked.display());
    let hint = "install dpkg (it provides dpkg-deb)";
    match out {
        Err(e) => {
            return Err(DatasetError::Tool {
                command,
                reason: e.to_string(),
                hint: hint.into(),
            })
        }
        Ok(o) if !o.status.success() => {
            return Err(DatasetError::Tool {
                command,
                reason: format!(
                    "{}: {}",
                    o.status,
                    String::from_utf8_lossy(&o.stderr).trim()
                ),
                hint: hint.into(),
            })
        }
        Ok(_) => {}
    }
    let sounds = unpacked.join(pkg.sounds_dir);
    if !sounds.is_dir() {
        return Err(DatasetError::Missing {
            path: sounds,
            what: format!("the recordings folder of {}={}", pkg.package, pkg.version),
            hint: "the package does not have the pinned layout; check the version".into(),
        });
    }
    Ok(sounds)
}
