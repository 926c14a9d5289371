//! `manifest.json` of a built stand-in: the settings it was built with (generator version,
//! espeak-ng version, pinned package, words, voices, clip format), the clip counts, and the
//! SHA-256 of every other file in the folder. A folder is accepted as built when its manifest
//! has the current settings and lists exactly the files present, each with its hash.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{DatasetError, Result};
use crate::fetch::sha256_file;

/// The manifest's file name, at the top of the built folder.
pub const MANIFEST: &str = "manifest.json";

/// How a stand-in was built; a folder built with other settings is rebuilt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// The generator's version (raised when the code's output changes).
    pub generator: u32,
    /// `espeak-ng --version`'s version.
    pub espeak_ng_version: String,
    /// `package=version` of the test recordings.
    pub recordings_package: String,
    /// The SHA-256 of its `.deb`.
    pub recordings_deb_sha256: String,
    /// `class=recording` per class word, in label order.
    pub words: Vec<String>,
    /// `voice/speed/pitch` per training voice.
    pub train_voices: Vec<String>,
    /// `voice/speed/pitch` per validation voice.
    pub valid_voices: Vec<String>,
    /// The clip format, e.g. `16-bit mono WAV, 16000 Hz, 16000 frames, trim 40 dB`.
    pub clip_format: String,
}

/// The clips per split.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Counts {
    /// Training clips (espeak-ng, training voices).
    pub train: usize,
    /// Validation clips (espeak-ng, validation voices).
    pub valid: usize,
    /// Test clips (the asterisk recordings).
    pub test: usize,
}

/// The manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// How the folder was built.
    pub settings: Settings,
    /// The clips per split.
    pub counts: Counts,
    /// `relative/path` → SHA-256 (lower-case hex) of every file but the manifest.
    pub files: BTreeMap<String, String>,
}

/// Hashes every file under `dir` and writes the manifest there.
pub fn write_manifest(dir: &Path, settings: &Settings, counts: Counts) -> Result<Manifest> {
    let mut files = BTreeMap::new();
    for rel in relative_files(dir)? {
        let hash = sha256_file(&dir.join(&rel))?;
        files.insert(rel, hash);
    }
    let manifest = Manifest {
        settings: settings.clone(),
        counts,
        files,
    };
    let path = dir.join(MANIFEST);
    let text = serde_json::to_string_pretty(&manifest)
        .map_err(|e| DatasetError::format(&path, e.to_string()))?;
    std::fs::write(&path, text + "\n").map_err(|e| DatasetError::io(&path, e))?;
    Ok(manifest)
}

/// Reads `dir`'s manifest.
pub fn read_manifest(dir: &Path) -> Result<Manifest> {
    let path = dir.join(MANIFEST);
    let text = std::fs::read_to_string(&path).map_err(|e| DatasetError::io(&path, e))?;
    serde_json::from_str(&text).map_err(|e| DatasetError::format(&path, e.to_string()))
}

/// Why `dir` is not a verified build with `settings` (`None`: it is).
pub fn check_built(dir: &Path, settings: &Settings) -> Option<String> {
    let manifest = match read_manifest(dir) {
        Ok(m) => m,
        Err(e) => return Some(e.to_string()),
    };
    if &manifest.settings != settings {
        return Some("built with other settings".into());
    }
    let present = match relative_files(dir) {
        Ok(p) => p,
        Err(e) => return Some(e.to_string()),
    };
    if present.len() != manifest.files.len()
        || present.iter().any(|p| !manifest.files.contains_key(p))
    {
        return Some("the files present differ from the manifest's list".into());
    }
    for (rel, expected) in &manifest.files {
        match sha256_file(&dir.join(rel)) {
            Ok(h) if &h == expected => {}
            Ok(_) => return Some(format!("{rel}: SHA-256 differs from the manifest")),
            Err(e) => return Some(e.to_string()),
        }
    }
    None
}

/// Every file under `dir` but the manifest, as sorted `/`-separated relative paths.
fn relative_files(dir: &Path) -> Result<Vec<String>> {
    let mut out = Vec::new();
    let mut stack = vec![(dir.to_path_buf(), String::new())];
    while let Some((path, prefix)) = stack.pop() {
        let rd = std::fs::read_dir(&path).map_err(|e| DatasetError::io(&path, e))?;
        for entry in rd {
            let entry = entry.map_err(|e| DatasetError::io(&path, e))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let rel = format!("{prefix}{name}");
            let kind = entry.file_type().map_err(|e| DatasetError::io(&path, e))?;
            if kind.is_dir() {
                stack.push((entry.path(), format!("{rel}/")));
            } else if rel != MANIFEST {
                out.push(rel);
            }
        }
    }
    out.sort();
    Ok(out)
}
