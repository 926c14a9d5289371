//! The embedded stand-in of benchmark 8 (DCASE 2017 task 4, weakly labelled sound events, the
//! Harmonic CNN; `../shared/data.md`): real recorded sounds mixed into weakly labelled clips,
//! written in the DCASE 2017 task 4 layout and read by [`crate::audio::list_dcase`] with
//! [`CLASSES`] as its classes. It is NOT DCASE 2017 (no YouTube audio, no traffic sounds): the
//! recordings are the CC0 samples of Sonic Pi shipped by the Debian package `sonic-pi-samples`
//! 3.2.2~repack-8 (bookworm; 165 FLAC files, 44.1 kHz, under `/usr/share/sonic-pi/samples/`).
//!
//! Categories ([`CLASSES`], label order): Sonic Pi's 14 sample groups, the file-name prefix
//! ([`pools`]), less `misc` (3 unrelated recordings: a burp, a film boom, a crow), 162 recordings
//! in all:
//!
//! | class | recordings | what | | class | recordings | what |
//! |---|---|---|---|---|---|---|
//! | `ambi` | 11 | ambient pads, drones | | `loop` | 17 | drum and instrument loops |
//! | `bass` | 9 | bass notes | | `mehackit` | 11 | phone and robot sounds |
//! | `bd` | 13 | bass drums | | `perc` | 10 | bells, impacts, snaps |
//! | `drum` | 20 | acoustic drum kit hits | | `sn` | 4 | snares |
//! | `elec` | 25 | electronic percussion, blips | | `tabla` | 26 | tabla strokes |
//! | `glitch` | 8 | glitch percussion, robots | | `vinyl` | 4 | vinyl scratch, hiss |
//! | `guit` | 4 | guitar | | | | |
//!
//! Steps ([`install_with`]): `apt-get download` of the pinned version ([`crate::fetch::AptGet`])
//! into a work folder beside the destination, the `.deb`'s pinned SHA-256, `dpkg-deb -x`, every
//! recording decoded ([`crate::audio::decode_file`]), resampled to 16 kHz
//! ([`crate::audio::resample`]) and trimmed of leading and trailing silence; recordings split
//! into a training and a test pool ([`pools`]: every 4th recording of a category, by name, is a
//! test recording, so test clips hold recordings no training clip holds: 125 training and 37
//! test recordings); clips mixed ([`mixer`]: 4 s, 1-3 events (`P(k) ∝ 1/k`) of distinct categories at random
//! onsets, lengths 0.5-2.5 s and levels -35 to -15 dBFS over a -50 dBFS noise floor, every event
//! inside every 3 s chunk [`crate::audio::DCASE_CHUNK`]) with a ChaCha8 RNG per clip seeded by
//! (seed 2017, list, clip); written ([`layout`]) as 320 clips in the training list and 80 in the
//! testing list (drawn from the training pool) and 160 in the evaluation list (the test split,
//! drawn from the test pool). Weak label of a clip: the categories of its events.
//!
//! Measured 2026-12-05 (`cargo run --release -p adamp-datasets --example sonic_pi_events --
//! /tmp/spi/data`): built in 2.1 s (download included), 72.0 MB, 560 WAV clips holding 944
//! events from 157 of the 162 recordings; [`crate::audio::list_dcase`] reads 336 training, 64
//! validation (its draw of 10 % of each category's lines takes every clip drawn for any of its
//! categories) and 160 test clips, every category in every split, nothing skipped.
//!
//! The tree is written in a work folder beside the destination and renamed into place, so it is
//! never half-written; a tree whose `GENERATOR` stamp matches and whose files match
//! `MANIFEST.sha256` is left alone ([`crate::fetch::FetchOutcome::AlreadyPresent`]).

pub mod layout;
pub mod mixer;
pub mod pools;

#[cfg(test)]
mod install_tests;
#[cfg(test)]
mod mixer_tests;

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::audio::resample::RESAMPLER_ID;
use crate::audio::DCASE_CHUNK;
use crate::error::{DatasetError, Result};
use crate::fetch::{verify_sha256, AptGet, DebDownloader, FetchOutcome, LocalDeb};

use mixer::MixSettings;

/// What `adamp data fetch` says it built.
pub const DESCRIPTION: &str = "sonic-pi-samples 3.2.2~repack-8 (CC0) recordings mixed into \
    weakly labelled 4 s clips of 13 categories (400 training-pool, 160 test clips), DCASE 2017 \
    task 4 layout; not DCASE";

/// The classes (Sonic Pi's sample groups, `misc` left out), in label order.
pub const CLASSES: [&str; 13] = [
    "ambi", "bass", "bd", "drum", "elec", "glitch", "guit", "loop", "mehackit", "perc", "sn",
    "tabla", "vinyl",
];

/// Bumped whenever the clips a spec produces change.
pub const GENERATOR_VERSION: u32 = 1;

/// How the stand-in is made: the package, the categories, the clip counts, the mixing.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SonicPiSpec<'a> {
    /// Debian package name.
    pub package: &'a str,
    /// Exact package version.
    pub version: &'a str,
    /// SHA-256 of the `.deb`.
    pub deb_sha256: &'a str,
    /// The folder inside the package holding the FLAC recordings (no leading `/`).
    pub inner_dir: &'a str,
    /// The destination folder under the data root.
    pub folder: &'a str,
    /// The categories (file-name prefixes), in label order.
    pub classes: &'a [&'a str],
    /// Prefixes whose recordings are left out.
    pub dropped: &'a [&'a str],
    /// Clips in the training, testing and evaluation lists.
    pub clips: [usize; 3],
    /// Seed of the clip RNGs.
    pub seed: u64,
    /// How a clip is mixed.
    pub mix: MixSettings,
    /// One line on what this is (the README's title).
    pub description: &'a str,
}

/// The embedded stand-in (see the module documentation).
pub const SONIC_PI_EVENTS: SonicPiSpec<'static> = SonicPiSpec {
    package: "sonic-pi-samples",
    version: "3.2.2~repack-8",
    deb_sha256: "25f2312d2fae005e6ad0f4726b8ed3084e776006a5a132083506e960224ac79d",
    inner_dir: "usr/share/sonic-pi/samples",
    folder: "dcase2017-sonic-pi",
    classes: &CLASSES,
    dropped: &["misc"],
    clips: [320, 80, 160],
    seed: 2017,
    mix: MixSettings {
        rate: 16_000,
        clip_frames: 64_000,
        chunk_frames: DCASE_CHUNK,
        min_event_frames: 8_000,
        max_event_frames: 40_000,
        min_overlap_frames: 4_000,
        max_events: 3,
        event_dbfs: (-35.0, -15.0),
        noise_dbfs: -50.0,
        fade_frames: 80,
    },
    description: "Sound events from sonic-pi-samples in the DCASE 2017 task 4 layout",
};

impl SonicPiSpec<'_> {
    /// The `GENERATOR` stamp: every setting the clips depend on.
    pub fn stamp(&self) -> String {
        format!(
            "sonic-pi sound events, generator {GENERATOR_VERSION}\npackage {} {}\ndeb_sha256 {}\n\
             inner_dir {}\nclasses {}\ndropped {}\nclips {:?}\nseed {}\nmix {:?}\nresampler {}\n",
            self.package,
            self.version,
            self.deb_sha256,
            self.inner_dir,
            self.classes.join(","),
            self.dropped.join(","),
            self.clips,
            self.seed,
            self.mix,
            RESAMPLER_ID
        )
    }

    /// A paragraph on how the clips were made (the README's body).
    pub fn summary(&self) -> String {
        let m = &self.mix;
        let sec = |f: usize| f as f64 / f64::from(m.rate);
        format!(
            "Categories: the file-name prefixes {} (left out: {}). Recordings decoded, resampled \
             to {} Hz and trimmed; within a category (name order) every 4th recording is a test \
             recording (categories with fewer than 4 share theirs). Clips: {} s, 1-{} events (P(k) ∝ 1/k) \
             of distinct categories, lengths {}-{} s, levels {} to {} dBFS RMS, noise floor {} dBFS, \
             every event overlapping [{}, {}] s (inside every {} s chunk); seed {}. Lists: {} \
             training and {} testing clips from the training recordings, {} evaluation clips \
             from the test recordings. Weak label: the categories of a clip's events.",
            self.classes.join(", "),
            self.dropped.join(", "),
            m.rate,
            sec(m.clip_frames),
            m.max_events,
            sec(m.min_event_frames),
            sec(m.max_event_frames),
            m.event_dbfs.0,
            m.event_dbfs.1,
            m.noise_dbfs,
            sec(m.core().0),
            sec(m.core().1),
            sec(m.chunk_frames),
            self.seed,
            self.clips[0],
            self.clips[1],
            self.clips[2]
        )
    }

    fn manual_hint(&self) -> String {
        format!(
            "on a machine without apt, download {p}_{v}_all.deb from \
             https://deb.debian.org/debian/pool/main/s/{p}/ and build from it with \
             `adamp_datasets::audio::events_sonic_pi::install_from_deb`",
            p = self.package,
            v = self.version
        )
    }
}

/// Builds the stand-in under `<data_root>/dcase2017-sonic-pi` with `apt-get download`
/// (idempotent: a complete, verified tree is left alone).
pub fn install(data_root: &Path) -> Result<FetchOutcome> {
    install_with(&SONIC_PI_EVENTS, data_root, &AptGet::default())
}

/// [`install`] from a `.deb` already on disk; the same pinned checks apply.
pub fn install_from_deb(data_root: &Path, deb: &Path) -> Result<FetchOutcome> {
    install_with(&SONIC_PI_EVENTS, data_root, &LocalDeb(deb.to_path_buf()))
}

/// Builds `spec` under `<data_root>/<spec.folder>` from the `.deb` that `downloader` provides
/// (see the module documentation).
pub fn install_with(
    spec: &SonicPiSpec<'_>,
    data_root: &Path,
    downloader: &dyn DebDownloader,
) -> Result<FetchOutcome> {
    spec.mix.validate()?;
    let dest = data_root.join(spec.folder);
    let stamp = spec.stamp();
    if layout::is_complete(&dest, &stamp) {
        tracing::info!(dir = %dest.display(), "{} already present and verified", spec.folder);
        return Ok(FetchOutcome::AlreadyPresent(dest));
    }
    let work = crate::fetch::build_dir(data_root, spec.folder)?;
    tracing::info!(
        package = spec.package,
        version = spec.version,
        "downloading"
    );
    let deb = downloader
        .download(spec.package, spec.version, work.path())
        .map_err(|e| match e {
            DatasetError::Tool {
                command, reason, ..
            } => DatasetError::Tool {
                command,
                reason,
                hint: format!(
                    "apt-get must be installed and reach a Debian mirror (bookworm has this \
                     version); {}",
                    spec.manual_hint()
                ),
            },
            other => other,
        })?;
    verify_sha256(&deb, spec.deb_sha256)?;
    let unpacked = work.path().join("unpacked");
    std::fs::create_dir_all(&unpacked).map_err(|e| DatasetError::io(&unpacked, e))?;
    unpack(spec, &deb, &unpacked)?;
    let inner = unpacked.join(spec.inner_dir);
    if !inner.is_dir() {
        return Err(DatasetError::Missing {
            path: inner,
            what: format!("the recordings folder inside {}", deb.display()),
            hint: "the package does not have the pinned layout; check the version".into(),
        });
    }
    let samples = pools::load_samples(&inner, spec.classes, spec.dropped, spec.mix.rate)?;
    let out = work.path().join("out");
    std::fs::create_dir_all(&out).map_err(|e| DatasetError::io(&out, e))?;
    let counts = layout::write_tree(&out, spec, &samples)?;
    crate::fetch::swap_in_folder(&out, &dest, work.path())?;
    tracing::info!(
        dir = %dest.display(),
        recordings = samples.len(),
        clips = ?spec.clips,
        per_category = ?counts,
        "generated the sonic-pi sound events"
    );
    Ok(FetchOutcome::Installed(dest))
}

/// Unpacks `deb` into `into` with `dpkg-deb -x`.
fn unpack(spec: &SonicPiSpec<'_>, deb: &Path, into: &Path) -> Result<()> {
    let command = format!("dpkg-deb -x {} {}", deb.display(), into.display());
    let hint = format!(
        "install dpkg (it provides dpkg-deb), or unpack the .deb by hand (`ar x`, then \
         `tar xf data.tar.xz`); {}",
        spec.manual_hint()
    );
    let out = Command::new("dpkg-deb")
        .arg("-x")
        .arg(deb)
        .arg(into)
        .output()
        .map_err(|e| DatasetError::Tool {
            command: command.clone(),
            reason: if e.kind() == std::io::ErrorKind::NotFound {
                "program not found".into()
            } else {
                e.to_string()
            },
            hint: hint.clone(),
        })?;
    if !out.status.success() {
        return Err(DatasetError::Tool {
            command,
            reason: format!(
                "{}: {}",
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            ),
            hint,
        });
    }
    Ok(())
}

/// `<data_root>/dcase2017-sonic-pi`, where [`install`] builds the stand-in.
pub fn dir(data_root: &Path) -> PathBuf {
    data_root.join(SONIC_PI_EVENTS.folder)
}
