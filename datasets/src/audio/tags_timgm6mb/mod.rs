//! The music-tagging stand-in (benchmark 6, MagnaTagATune tagging; `../shared/data.md`):
//! generated MIDI rendered with the real instrument samples of the General MIDI soundfont of the
//! Debian package `timgm6mb-soundfont` 1.3-5 (`TimGM6mb.sf2`, GPL-2), tagged by the instrument
//! families playing and the tempo, written in the MagnaTagATune layout and read by
//! [`crate::audio::list_mtat`] with `MtatOptions { tags: Some(CLASSES) }`. It is NOT
//! MagnaTagATune: no recorded music, no human tags; the tags are known by construction.
//!
//! - **Clips**: [`TIMGM6MB_TAGS`]: 400 clips (25 in each hex folder `0`-`f`), 6 s each (longer
//!   than one 5 s [`crate::audio::MTAT_CHUNK`]), 16-bit PCM mono WAV at 16 kHz. Split by the
//!   loader's rule (first hex digit `0`-`b` train, `c` valid, `d`-`f` test): 300 / 25 / 75 clips
//!   (75 / 6.25 / 18.75 %).
//! - **Music** (`music.rs`): clip `i` draws from `ChaCha8Rng::seed_from_u64(seed)` on stream `i`
//!   (seed 20261205): a tempo class (slow 60-80, middle 96-120, fast 140-180 BPM), a key, major or
//!   minor, a four-chord progression, one to three melodic families out of ten (each with a
//!   General MIDI program and a role: bass line, pad, comping, arpeggio or melody) and, in 45 % of
//!   the clips, the drum kit. The draw is written as a Standard MIDI File (`smf.rs`) and played by
//!   the pure-Rust synthesiser `rustysynth` 1.3.8 (`render.rs`).
//! - **Tags** ([`CLASSES`], 13): `piano organ guitar bass strings choir brass sax flute synth
//!   drums fast slow`; a clip has each family it plays, `drums` if the kit plays, `fast` /
//!   `slow` by tempo class (neither in the middle class): 1 to 5 tags per clip, as MagnaTagATune
//!   clips have several.
//! - **Files** under `<data_root>/mtat-timgm6mb/`: `annotations_final.csv` (tab-separated, quoted,
//!   header `clip_id`, the 13 tags, `mp3_path`), the clips at `mp3/<hex>/timgm6mb_<id>.wav`, the
//!   `mp3_path` column naming them with their real `.wav` extension (the loader takes the path
//!   as given and the decoder reads WAV; nothing is named `.mp3`), `GENERATOR` (what was built
//!   and from what) and `SHA256SUMS` (`sha256sum` format: every file above).
//!
//! Steps ([`install`]): in a work folder beside the destination, `apt-get download` the pinned
//! package, check the `.deb`'s and `TimGM6mb.sf2`'s pinned SHA-256 (the Debian machinery of
//! [`crate::fetch`]), check the soundfont has every preset the music uses, write the annotations
//! and check their pinned SHA-256 (the seeded draw, before any rendering), render every clip
//! (one thread per core, at most 8), read the folder back through [`crate::audio::list_mtat`],
//! then rename it into place. A folder whose `GENERATOR` matches and whose files all match
//! `SHA256SUMS` is left alone ([`FetchOutcome::AlreadyPresent`]).
//!
//! Measured 2026-12-05 on 2 CPU cores (`cargo test --release -p adamp-datasets
//! builds_the_real_stand_in -- --ignored --nocapture`): built in 18.5 s (download included),
//! 76.9 MB, verified again in 0.1 s. Tag counts (train / valid / test) of the pinned draw, from
//! `the_real_plan_is_pinned_and_every_split_has_every_tag`: piano 56/5/18, organ 48/5/16,
//! guitar 61/5/26, bass 61/7/18, strings 60/4/12, choir 49/2/16, brass 64/9/17, sax 62/7/11,
//! flute 55/2/14, synth 75/7/18, drums 139/16/36, fast 87/8/27, slow 115/8/22.

mod families;
mod music;
mod render;
mod smf;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tiny_sf2;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use sha2::{Digest, Sha256};

use crate::audio::listing::AudioSplit;
use crate::audio::mtat::{list_mtat, MtatOptions, MTAT_ANNOTATIONS, MTAT_AUDIO_DIR};
use crate::audio::resample::{DEFAULT_TARGET_RATE, RESAMPLER_ID};
use crate::error::{DatasetError, Result};
use crate::fetch::{
    fetch_deb_dataset, sha256_file, AptGet, DebDataset, DebDownloader, FetchOutcome, LocalDeb,
    PinnedFile,
};

pub use families::TAGS;
pub use music::{compose, ClipMusic};
pub use render::RENDER_RATE;
pub use smf::write_smf;

/// What `adamp data fetch` says it built.
pub const DESCRIPTION: &str = "music-tagging stand-in: 400 clips of 6 s of generated MIDI \
     rendered with the timgm6mb-soundfont instruments, 13 tags (instrument families, drums, \
     fast/slow), MagnaTagATune layout (WAV clips); not MagnaTagATune";

/// The tags, in label order.
pub const CLASSES: [&str; 13] = TAGS;

/// The generator's stamp; bumped whenever the files a spec produces change.
const GENERATOR_VERSION: u32 = 1;
/// The stamp file.
pub const GENERATOR_FILE: &str = "GENERATOR";
/// The checksum file.
pub const SHA256SUMS_FILE: &str = "SHA256SUMS";
/// Hex folders of the MagnaTagATune layout.
const FOLDERS: usize = 16;

/// The soundfont package and what is generated from it, pinned by checksums.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TagsSpec<'a> {
    /// The Debian package holding the soundfont; `files` is the one `.sf2` (its `content_sha256`
    /// equal to its `sha256`: it is not gzip).
    pub soundfont: DebDataset<'a>,
    /// The destination folder's name under the data root.
    pub folder: &'a str,
    /// The seed of every clip's generator.
    pub seed: u64,
    /// Clips in each of the 16 hex folders.
    pub clips_per_folder: usize,
    /// Frames of a clip at 16 kHz.
    pub clip_frames: usize,
    /// SHA-256 of the written `annotations_final.csv` (lower-case hex).
    pub annotations_sha256: &'a str,
}

/// `timgm6mb-soundfont` 1.3-5 (Debian bookworm), 400 clips of 6 s. The package and soundfont
/// hashes were computed 2026-12-05 from `apt-get download timgm6mb-soundfont=1.3-5` and
/// `sha256sum usr/share/sounds/sf2/TimGM6mb.sf2`; the annotations hash from this module's draw
/// (`cargo test --release -p adamp-datasets tags_timgm6mb`).
pub const TIMGM6MB_TAGS: TagsSpec<'static> = TagsSpec {
    soundfont: DebDataset {
        package: "timgm6mb-soundfont",
        version: "1.3-5",
        deb_sha256: "034abdfb296d9353433513dad5dbdcab46425ee6008fc02fe7039b46e75edc54",
        inner_dir: "usr/share/sounds/sf2",
        folder: "soundfont",
        files: &[PinnedFile {
            name: "TimGM6mb.sf2",
            sha256: "c5378b62028c920cb11e4803327983fee2f2cdff5dc89c708e39da417e51c854",
            content_sha256: "c5378b62028c920cb11e4803327983fee2f2cdff5dc89c708e39da417e51c854",
        }],
    },
    folder: "mtat-timgm6mb",
    seed: 20_261_205,
    clips_per_folder: 25,
    clip_frames: 96_000,
    annotations_sha256: "bd7afe5ee854c7431dac5f5b5bf1646a218aa64d94ff8d18a27eb27cde133c92",
};

// A clip holds at least one MagnaTagATune chunk (5 s), so training never pads.
const _: () = assert!(TIMGM6MB_TAGS.clip_frames >= crate::audio::MTAT_CHUNK);

/// One clip of the plan: its id, its `mp3_path` and its music.
#[derive(Debug, Clone)]
pub struct PlannedClip {
    /// `clip_id`.
    pub id: usize,
    /// The path under `mp3/` (`<hex>/timgm6mb_<id>.wav`).
    pub path: String,
    /// The music (tags included).
    pub music: ClipMusic,
}

impl TagsSpec<'_> {
    /// Number of clips.
    pub fn clips(&self) -> usize {
        FOLDERS * self.clips_per_folder
    }

    /// Clips per split `(train, valid, test)` by the loader's hex-digit rule.
    pub fn split_counts(&self) -> (usize, usize, usize) {
        let n = self.clips_per_folder;
        (12 * n, n, 3 * n)
    }

    /// The seeded draw of every clip (no audio): clip `i` is in hex folder `i % 16`.
    pub fn plan(&self) -> Vec<PlannedClip> {
        let seconds = self.clip_frames as f64 / DEFAULT_TARGET_RATE as f64;
        (0..self.clips())
            .map(|id| {
                let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
                rng.set_stream(id as u64);
                PlannedClip {
                    id,
                    path: format!("{:x}/timgm6mb_{id:04}.wav", id % FOLDERS),
                    music: compose(&mut rng, seconds),
                }
            })
            .collect()
    }

    fn stamp(&self) -> String {
        let sf = &self.soundfont;
        let (train, valid, test) = self.split_counts();
        format!(
            "Generated music in the MagnaTagATune layout; not MagnaTagATune.\n\
             generator adamp-datasets audio::tags_timgm6mb v{GENERATOR_VERSION}\n\
             soundfont {} {} {}/{} sha256 {}\n\
             renderer rustysynth 1.3.8 at {RENDER_RATE} Hz (reverb and chorus on), mono, resampled to {DEFAULT_TARGET_RATE} Hz by {RESAMPLER_ID}\n\
             seed {} (ChaCha8Rng, stream = clip_id)\n\
             clips {} ({} per hex folder; train {train}, valid {valid}, test {test}), {} frames at {DEFAULT_TARGET_RATE} Hz, 16-bit PCM mono WAV\n\
             tags {}\n",
            sf.package,
            sf.version,
            sf.inner_dir,
            sf.files[0].name,
            sf.files[0].sha256,
            self.seed,
            self.clips(),
            self.clips_per_folder,
            self.clip_frames,
            TAGS.join(" "),
        )
    }
}

/// `annotations_final.csv` of `plan`: tab-separated, every field in double quotes, as the real
/// file.
pub fn annotations_text(plan: &[PlannedClip]) -> String {
    let q = |s: &str| format!("\"{s}\"");
    let mut header = vec![q("clip_id")];
    header.extend(TAGS.iter().map(|t| q(t)));
    header.push(q("mp3_path"));
    let mut text = header.join("\t") + "\n";
    for c in plan {
        let mut row = vec![q(&c.id.to_string())];
        row.extend((0..TAGS.len()).map(|t| q(if c.music.tags.contains(&t) { "1" } else { "0" })));
        row.push(q(&c.path));
        text.push_str(&(row.join("\t") + "\n"));
    }
    text
}

/// `<data_root>/mtat-timgm6mb`, where [`install`] builds.
pub fn tags_dir(data_root: &Path) -> PathBuf {
    data_root.join(TIMGM6MB_TAGS.folder)
}

/// Builds the stand-in under `data_root` with `apt-get download` (see the module docs).
pub fn install(data_root: &Path) -> Result<FetchOutcome> {
    install_with(&TIMGM6MB_TAGS, data_root, &AptGet::default())
}

/// [`install`] from a `timgm6mb-soundfont_1.3-5_all.deb` already on disk (a machine without apt);
/// the same pinned checks apply.
pub fn install_from_deb(data_root: &Path, deb: &Path) -> Result<FetchOutcome> {
    install_with(&TIMGM6MB_TAGS, data_root, &LocalDeb(deb.to_path_buf()))
}

/// Whether `dir` holds what `spec` builds: `GENERATOR` as expected, `SHA256SUMS` listing
/// exactly the annotations (with the pinned hash) and every planned clip, and every listed file
/// matching it. (`SHA256SUMS` records the clips as built: the pinned annotations fix the draw,
/// while a clip's last bits may differ between CPUs whose FFT code paths differ.)
pub fn is_installed(spec: &TagsSpec<'_>, dir: &Path) -> bool {
    if std::fs::read_to_string(dir.join(GENERATOR_FILE)).ok() != Some(spec.stamp()) {
        return false;
    }
    let Ok(sums) = std::fs::read_to_string(dir.join(SHA256SUMS_FILE)) else {
        return false;
    };
    let mut listed: Vec<(&str, &str)> = Vec::new();
    for line in sums.lines() {
        match line.split_once("  ") {
            Some((sha, name)) => listed.push((name, sha)),
            None => return false,
        }
    }
    let mut names: Vec<&str> = listed.iter().map(|&(name, _)| name).collect();
    names.sort_unstable();
    let mut want: Vec<String> = spec
        .plan()
        .iter()
        .map(|c| format!("{MTAT_AUDIO_DIR}/{}", c.path))
        .collect();
    want.push(MTAT_ANNOTATIONS.to_string());
    want.sort_unstable();
    names == want
        && listed.contains(&(MTAT_ANNOTATIONS, spec.annotations_sha256))
        && listed
            .iter()
            .all(|&(name, sha)| sha256_file(&dir.join(name)).is_ok_and(|h| h == sha))
}

/// Builds `spec` under `<data_root>/<spec.folder>`, the soundfont package obtained through
/// `downloader` (see the module docs). Idempotent; nothing is moved into place unless every
/// check passes.
pub fn install_with(
    spec: &TagsSpec<'_>,
    data_root: &Path,
    downloader: &dyn DebDownloader,
) -> Result<FetchOutcome> {
    let dest = data_root.join(spec.folder);
    if is_installed(spec, &dest) {
        tracing::info!(dir = %dest.display(), "{} already present and verified", spec.folder);
        return Ok(FetchOutcome::AlreadyPresent(dest));
    }
    let started = std::time::Instant::now();
    let work = crate::fetch::build_dir(data_root, spec.folder)?;
    let sf = &spec.soundfont;
    fetch_deb_dataset(sf, work.path(), downloader).map_err(|e| soundfont_hint(sf, e))?;
    let sf2 = work.path().join(sf.folder).join(sf.files[0].name);
    let out = work.path().join("out");
    build(spec, &sf2, &out)?;
    crate::fetch::swap_in_folder(&out, &dest, work.path())?;
    tracing::info!(
        dir = %dest.display(),
        clips = spec.clips(),
        seconds = started.elapsed().as_secs_f64(),
        "built the timgm6mb music-tagging stand-in"
    );
    Ok(FetchOutcome::Installed(dest))
}

/// Replaces the Fashion-MNIST wording of the Debian machinery's tool hints.
fn soundfont_hint(sf: &DebDataset<'_>, e: DatasetError) -> DatasetError {
    match e {
        DatasetError::Tool {
            command, reason, ..
        } => DatasetError::Tool {
            command,
            reason,
            hint: format!(
                "apt-get and dpkg-deb (Debian's dpkg) must be installed and apt-get must reach a \
                 Debian mirror (bookworm has {p} {v}); on a machine without apt, download \
                 {p}_{v}_all.deb from https://deb.debian.org/debian/pool/main/t/{p}/ and build \
                 with `audio::tags_timgm6mb::install_from_deb`",
                p = sf.package,
                v = sf.version
            ),
        },
        other => other,
    }
}

/// Writes the whole folder into `out` from the soundfont at `sf2`, and checks it.
fn build(spec: &TagsSpec<'_>, sf2: &Path, out: &Path) -> Result<()> {
    let soundfont = render::load_soundfont(sf2)?;
    render::check_presets(&soundfont, sf2, &families::presets_used())?;
    let plan = spec.plan();
    let annotations = annotations_text(&plan);
    let ann_path = out.join(MTAT_ANNOTATIONS);
    let ann_sha = hex(&Sha256::digest(annotations.as_bytes()));
    if ann_sha != spec.annotations_sha256 {
        return Err(DatasetError::ChecksumMismatch {
            path: ann_path,
            expected: spec.annotations_sha256.to_string(),
            actual: ann_sha,
        });
    }
    let audio = out.join(MTAT_AUDIO_DIR);
    for f in 0..FOLDERS {
        let d = audio.join(format!("{f:x}"));
        std::fs::create_dir_all(&d).map_err(|e| DatasetError::io(&d, e))?;
    }
    let sums = render_all(&soundfont, &plan, &audio, spec.clip_frames)?;
    std::fs::write(&ann_path, &annotations).map_err(|e| DatasetError::io(&ann_path, e))?;
    let mut text = format!("{ann_sha}  {MTAT_ANNOTATIONS}\n");
    for (c, sha) in plan.iter().zip(&sums) {
        text.push_str(&format!("{sha}  {MTAT_AUDIO_DIR}/{}\n", c.path));
    }
    let p = out.join(SHA256SUMS_FILE);
    std::fs::write(&p, text).map_err(|e| DatasetError::io(&p, e))?;
    let p = out.join(GENERATOR_FILE);
    std::fs::write(&p, spec.stamp()).map_err(|e| DatasetError::io(&p, e))?;
    check_listing(spec, &plan, out)
}

/// Renders every clip of `plan` into `audio/<path>` on all cores; returns each file's SHA-256,
/// in plan order. Each clip depends only on its own draw, so the files do not depend on the
/// number of threads.
fn render_all(
    soundfont: &Arc<rustysynth::SoundFont>,
    plan: &[PlannedClip],
    audio: &Path,
    frames: usize,
) -> Result<Vec<String>> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(8));
    let next = AtomicUsize::new(0);
    let mut results: Vec<(usize, Result<String>)> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| {
                    let mut done = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(c) = plan.get(i) else { break };
                        let path = audio.join(&c.path);
                        let r = render::render_clip(soundfont, &write_smf(&c.music), frames, &path)
                            .and_then(|s| {
                                crate::audio::wav_out::write_wav16(&path, DEFAULT_TARGET_RATE, &s)
                            })
                            .and_then(|()| sha256_file(&path));
                        let failed = r.is_err();
                        done.push((i, r));
                        if failed {
                            // Stop the other workers early too.
                            next.store(plan.len(), Ordering::Relaxed);
                        }
                    }
                    done
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().expect("a rendering thread panicked"))
            .collect()
    });
    results.sort_by_key(|(i, _)| *i);
    results.into_iter().map(|(_, r)| r).collect()
}

/// Reads `out` back through [`list_mtat`]: every clip listed, none skipped, the tags and splits
/// of the plan.
fn check_listing(spec: &TagsSpec<'_>, plan: &[PlannedClip], out: &Path) -> Result<()> {
    let tags = Some(TAGS.iter().map(|t| t.to_string()).collect());
    let listing = list_mtat(out, &MtatOptions { tags })?;
    let count = |s: AudioSplit| listing.clips.iter().filter(|c| c.split == s).count();
    let got = (
        count(AudioSplit::Train),
        count(AudioSplit::Valid),
        count(AudioSplit::Test),
    );
    let ann = out.join(MTAT_ANNOTATIONS);
    if got != spec.split_counts()
        || !listing.skipped.is_empty()
        || listing.clips.len() != plan.len()
    {
        return Err(DatasetError::format(
            &ann,
            format!(
                "read back {got:?} clips (train, valid, test) and {} skipped; built {:?}",
                listing.skipped.len(),
                spec.split_counts()
            ),
        ));
    }
    Ok(())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
