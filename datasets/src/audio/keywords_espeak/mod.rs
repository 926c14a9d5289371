//! The keyword-spotting stand-in (benchmark 7's embedded default; `../shared/data.md`): NOT
//! Speech Commands, whose 2,618 speakers no registry ships, but 36 English words in its v0.02
//! layout, read by the same loader ([`crate::audio::list_speech_commands`] with
//! [`CLASSES`]):
//!
//! - words ([`words::KEYWORDS`]): the digits `zero`..`nine` (Speech Commands words) and the NATO
//!   phonetic alphabet `alpha`..`zulu`, the words the test recordings hold;
//! - training: each word spoken by `espeak-ng` 1.51 ([`espeak`]) in 49 voices
//!   ([`voices::TRAIN_VARIANTS`] × 7 accents, three speeds, three pitches): 1,764 clips;
//! - validation (`validation_list.txt`): 14 voices with variants unheard in training
//!   ([`voices::VALID_VARIANTS`]): 504 clips;
//! - test (`testing_list.txt`): the real recording of each word in Debian's
//!   `asterisk-core-sounds-en-wav` 1.6.1-1 ([`asterisk`]), one female speaker: 36 clips. One
//!   clip per class, so test accuracy moves in steps of 1/36.
//!
//! ```text
//! <data_root>/speech-commands-espeak/
//!   <word>/espeak-<accent>-<variant>_nohash_0.wav   training and validation clips
//!   <word>/asterisk_nohash_0.wav                     test clips
//!   validation_list.txt, testing_list.txt            `<word>/<file>.wav` per line, sorted
//!   README.md                                        what this is, sources, licences, counts
//!   manifest.json                                    settings, counts, SHA-256 per file
//! ```
//!
//! Every clip is 16-bit mono WAV, 16 kHz, 1 s ([`clip`]). There is no `_background_noise_`
//! folder (the loader does not need one, and no real noise recordings come with the sources).
//!
//! [`install`] is idempotent: a folder whose manifest ([`manifest`]) has the current settings
//! and matches every file is left alone ([`FetchOutcome::AlreadyPresent`], without running
//! espeak-ng or apt); otherwise the whole folder is built under `<data_root>/.build-*`,
//! read back through the loader, and renamed into place, so it is never half-written.
//!
//! A real build (2026-12-05, `cargo run --release -p adamp-datasets --example keywords_espeak --
//! <root>`, 2 shared cores): 2,307 files, 73.9 MB, 23-52 s (espeak-ng about 10 ms a clip);
//! verifying a built folder takes 0.1 s. Two builds give the same bytes (identical manifests).
//! 10 of the 2,268 espeak-ng words last over 1 s once trimmed (`november` and a few others at
//! 120 wpm) and are cut to their loudest second.

pub mod asterisk;
pub mod clip;
pub mod espeak;
pub mod manifest;
pub mod voices;
pub mod words;

#[cfg(test)]
mod tests;

use std::path::Path;

use crate::audio::speech_commands::{
    list_speech_commands, SpeechCommandsOptions, TESTING_LIST, VALIDATION_LIST,
};
use crate::audio::AudioSplit;
use crate::error::{DatasetError, Result};
use crate::fetch::{build_dir, swap_in_folder, AptGet, DebDownloader, FetchOutcome};

use crate::audio::wav_out::write_wav16;
use asterisk::{fetch_recordings, RecordingsPackage, ASTERISK_SOUNDS};
use clip::{prepare_clip, CLIP_FRAMES, CLIP_RATE, TRIM_DB};
use espeak::{EspeakNg, ESPEAK_NG_VERSION};
use manifest::{check_built, write_manifest, Counts, Settings};
use voices::{voices, Voice, ACCENTS, TRAIN_VARIANTS, VALID_VARIANTS};
use words::Keyword;

pub use words::CLASSES;

/// What `adamp data fetch` says it built.
pub const DESCRIPTION: &str =
    "36 keywords (digits, NATO alphabet) in the Speech Commands v0.02 layout: \
     1,764 espeak-ng 1.51 clips (train, 49 voices), 504 (validation, 14 unheard voices), \
     36 real recordings of asterisk-core-sounds-en-wav 1.6.1-1 (test)";

/// The generator's version, recorded in the manifest; raise it when the output changes.
pub const GENERATOR_VERSION: u32 = 1;

/// The folder under the data root ([`crate::audio::AudioStandIn::EspeakKeywords`]'s).
pub const FOLDER: &str = "speech-commands-espeak";

/// What a keyword stand-in is built from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeywordsSpec {
    /// The folder under the data root.
    pub folder: &'static str,
    /// The class words, in label order.
    pub words: Vec<Keyword>,
    /// The training voices.
    pub train_voices: Vec<Voice>,
    /// The validation voices.
    pub valid_voices: Vec<Voice>,
    /// The package of test recordings.
    pub recordings: RecordingsPackage,
}

impl KeywordsSpec {
    /// The embedded default described in the module documentation.
    pub fn embedded() -> Self {
        Self {
            folder: FOLDER,
            words: words::KEYWORDS.to_vec(),
            train_voices: voices(&ACCENTS, &TRAIN_VARIANTS),
            valid_voices: voices(&ACCENTS, &VALID_VARIANTS),
            recordings: ASTERISK_SOUNDS,
        }
    }

    /// The class names, in label order.
    pub fn classes(&self) -> Vec<String> {
        self.words.iter().map(|w| w.class.to_string()).collect()
    }

    /// The clips per split.
    pub fn counts(&self) -> Counts {
        let n = self.words.len();
        Counts {
            train: n * self.train_voices.len(),
            valid: n * self.valid_voices.len(),
            test: n,
        }
    }

    /// The settings the manifest records.
    pub fn settings(&self) -> Settings {
        let describe = |v: &[Voice]| v.iter().map(Voice::describe).collect();
        Settings {
            generator: GENERATOR_VERSION,
            espeak_ng_version: ESPEAK_NG_VERSION.into(),
            recordings_package: format!("{}={}", self.recordings.package, self.recordings.version),
            recordings_deb_sha256: self.recordings.deb_sha256.into(),
            words: self
                .words
                .iter()
                .map(|w| format!("{}={}", w.class, w.recording))
                .collect(),
            train_voices: describe(&self.train_voices),
            valid_voices: describe(&self.valid_voices),
            clip_format: format!(
                "16-bit mono WAV, {CLIP_RATE} Hz, {CLIP_FRAMES} frames, trim {TRIM_DB} dB"
            ),
        }
    }
}

/// Builds the stand-in under `data_root` with `apt-get download` and the system's
/// `espeak-ng` (see the module documentation).
pub fn install(data_root: &Path) -> Result<FetchOutcome> {
    install_with(
        data_root,
        &KeywordsSpec::embedded(),
        &AptGet::default(),
        &EspeakNg::default(),
    )
}

/// [`install`] with the spec, the `.deb` downloader and the espeak-ng program given.
pub fn install_with(
    data_root: &Path,
    spec: &KeywordsSpec,
    downloader: &dyn DebDownloader,
    espeak: &EspeakNg,
) -> Result<FetchOutcome> {
    let dest = data_root.join(spec.folder);
    let settings = spec.settings();
    match check_built(&dest, &settings) {
        None => {
            tracing::info!(dir = %dest.display(), "keyword stand-in already built and verified");
            return Ok(FetchOutcome::AlreadyPresent(dest));
        }
        Some(reason) if dest.exists() => {
            tracing::info!(dir = %dest.display(), "rebuilding the keyword stand-in: {reason}");
        }
        Some(_) => {}
    }
    espeak.check_version()?;
    let work = build_dir(data_root, spec.folder)?;
    let out = work.path().join("out");
    build(spec, downloader, espeak, work.path(), &out)?;
    write_manifest(&out, &settings, spec.counts())?;
    swap_in_folder(&out, &dest, work.path())?;
    tracing::info!(dir = %dest.display(), "keyword stand-in built");
    Ok(FetchOutcome::Installed(dest))
}

/// Writes the clips, lists and README into `out` (using `work` for downloads and raw output),
/// then reads `out` back through the loader.
fn build(
    spec: &KeywordsSpec,
    downloader: &dyn DebDownloader,
    espeak: &EspeakNg,
    work: &Path,
    out: &Path,
) -> Result<()> {
    let sounds = fetch_recordings(&spec.recordings, downloader, work)?;
    for w in &spec.words {
        let dir = out.join(w.class);
        std::fs::create_dir_all(&dir).map_err(|e| DatasetError::io(&dir, e))?;
    }
    let mut testing = Vec::new();
    for w in &spec.words {
        let src = sounds.join(w.recording);
        if !src.is_file() {
            return Err(DatasetError::Missing {
                path: src,
                what: format!("the recording of `{}`", w.class),
                hint: "the package does not have the pinned layout; check the version".into(),
            });
        }
        let rel = format!("{}/asterisk_nohash_0.wav", w.class);
        write_wav16(&out.join(&rel), CLIP_RATE, &prepare_clip(&src)?)?;
        testing.push(rel);
    }
    let raw = work.join("raw");
    std::fs::create_dir_all(&raw).map_err(|e| DatasetError::io(&raw, e))?;
    let mut validation = Vec::new();
    for (voices, listed) in [(&spec.train_voices, false), (&spec.valid_voices, true)] {
        for voice in voices.iter() {
            tracing::info!(voice = %voice.describe(), validation = listed, "speaking the words");
            for w in &spec.words {
                let said = raw.join(format!("{}-{}.wav", voice.speaker(), w.class));
                espeak.render(voice, w.class, &said)?;
                let samples = prepare_clip(&said)?;
                std::fs::remove_file(&said).map_err(|e| DatasetError::io(&said, e))?;
                let rel = format!("{}/{}_nohash_0.wav", w.class, voice.speaker());
                write_wav16(&out.join(&rel), CLIP_RATE, &samples)?;
                if listed {
                    validation.push(rel);
                }
            }
        }
    }
    write_list(&out.join(VALIDATION_LIST), validation)?;
    write_list(&out.join(TESTING_LIST), testing)?;
    let readme = out.join("README.md");
    std::fs::write(&readme, readme_text(spec)).map_err(|e| DatasetError::io(&readme, e))?;
    check_read_back(spec, out)
}

/// Writes `lines` sorted, one per line.
fn write_list(path: &Path, mut lines: Vec<String>) -> Result<()> {
    lines.sort();
    let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
    std::fs::write(path, text).map_err(|e| DatasetError::io(path, e))
}

/// Lists `out` with the Speech Commands loader and checks the split sizes.
fn check_read_back(spec: &KeywordsSpec, out: &Path) -> Result<()> {
    let options = SpeechCommandsOptions {
        classes: spec.classes(),
    };
    let listing = list_speech_commands(out, &options)?;
    let want = spec.counts();
    let got = Counts {
        train: listing.count(AudioSplit::Train),
        valid: listing.count(AudioSplit::Valid),
        test: listing.count(AudioSplit::Test),
    };
    if got != want {
        return Err(DatasetError::format(
            out,
            format!("the built folder lists {got:?}, expected {want:?}"),
        ));
    }
    Ok(())
}

fn readme_text(spec: &KeywordsSpec) -> String {
    let c = spec.counts();
    let r = &spec.recordings;
    let lines = [
        "# Keyword-spotting stand-in in the Speech Commands v0.02 layout".to_string(),
        String::new(),
        format!(
            "This is NOT Speech Commands. It is {} English words (the digits zero-nine and the NATO \
             phonetic alphabet) in the Speech Commands v0.02 folder layout, built by adamp-datasets \
             (`datasets/src/audio/keywords_espeak/`) from two Debian packages:",
            spec.words.len()
        ),
        String::new(),
        format!(
            "- training: {} clips, each word spoken by espeak-ng {ESPEAK_NG_VERSION} (GPL-3) in {} voices;",
            c.train,
            spec.train_voices.len()
        ),
        format!(
            "- validation (`validation_list.txt`): {} clips, {} espeak-ng voices whose variants are \
             not in training;",
            c.valid,
            spec.valid_voices.len()
        ),
        format!(
            "- test (`testing_list.txt`): {} clips, the recording of each word in {} {} \
             (CC-BY-SA-3.0, one female speaker), `<word>/asterisk_nohash_0.wav`.",
            c.test, r.package, r.version
        ),
        String::new(),
        format!(
            "Every clip: 16-bit mono WAV, {CLIP_RATE} Hz, {CLIP_FRAMES} frames (silence trimmed, \
             the word centred). `manifest.json` records the settings and the SHA-256 of every file."
        ),
    ];
    lines.join("\n") + "\n"
}
