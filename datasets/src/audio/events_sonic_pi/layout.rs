//! Writing the generated clips in the DCASE 2017 task 4 layout ([`crate::audio::dcase`]) and
//! checking a written tree against its manifest.
//!
//! Files written under the output folder:
//! - the three `groundtruth_weak_label_*_set.csv` lists (`file\tstart\tend\tlabel`, one line per
//!   (clip, category), categories in label order) and the clips as 16-bit PCM mono WAV under
//!   `raw/<list's audio folder>/Y<file>`, `<file>` = `<id>_0.000_<length>.wav`;
//! - `events.tsv`: every event (list, file, onset and offset in the clip, label, recording,
//!   segment start in the recording, level), a record of what each weak label stands for;
//! - `README.md`: what the folder is and how it was made, with the clip counts per category;
//! - `GENERATOR`: the generator's version and settings;
//! - `MANIFEST.sha256`: the SHA-256 of every other file, in `sha256sum` format (written last).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::audio::dcase::DCASE_LISTS;
use crate::audio::events_sonic_pi::mixer::{plan_clip, render_clip, Event, Sample};
use crate::audio::events_sonic_pi::pools::split_pools;
use crate::audio::events_sonic_pi::SonicPiSpec;
use crate::error::{DatasetError, Result};
use crate::fetch::sha256_file;
use crate::loader::derived_rng;

/// The clip id prefixes of the three lists (training, testing, evaluation).
pub const ID_PREFIXES: [&str; 3] = ["spitrain", "spitest", "spieval"];
/// The manifest's file name.
pub const MANIFEST: &str = "MANIFEST.sha256";
/// The settings stamp's file name.
pub const GENERATOR: &str = "GENERATOR";
/// The event record's file name.
pub const EVENTS: &str = "events.tsv";

/// The `<file>` of clip `j` of list `k`.
pub fn clip_file(k: usize, j: usize, seconds: f64) -> String {
    format!("{}{j:05}_0.000_{seconds:.3}.wav", ID_PREFIXES[k])
}

/// Clips per (list, category) written by [`write_tree`].
pub type Counts = [Vec<usize>; 3];

/// Generates the clips of `spec` from `samples` into `out` (see the module documentation);
/// returns the clip counts per list and category.
pub fn write_tree(out: &Path, spec: &SonicPiSpec<'_>, samples: &[Sample]) -> Result<Counts> {
    let s = &spec.mix;
    let seconds = s.clip_frames as f64 / f64::from(s.rate);
    let pools = split_pools(samples, spec.classes.len());
    let mut events_text =
        String::from("list\tfile\tonset\toffset\tlabel\trecording\tsegment_start\tlevel_dbfs\n");
    let mut counts: Counts = std::array::from_fn(|_| vec![0; spec.classes.len()]);
    for (k, (list, folder)) in DCASE_LISTS.iter().enumerate() {
        let pool = &pools[usize::from(k == 2)];
        let dir = out.join("raw").join(folder);
        std::fs::create_dir_all(&dir).map_err(|e| DatasetError::io(&dir, e))?;
        let mut list_text = String::new();
        for j in 0..spec.clips[k] {
            let mut rng = derived_rng(spec.seed, k as u64, j as u64, 0);
            let events = plan_clip(&mut rng, pool, samples, s);
            let audio = render_clip(&mut rng, &events, samples, s);
            let file = clip_file(k, j, seconds);
            write_wav(&dir.join(format!("Y{file}")), s.rate, &audio)?;
            let labels: BTreeSet<usize> = events.iter().map(|e| e.class).collect();
            for &c in &labels {
                list_text.push_str(&format!(
                    "{file}\t0.000\t{seconds:.3}\t{}\n",
                    spec.classes[c]
                ));
                counts[k][c] += 1;
            }
            for e in &events {
                events_text.push_str(&event_line(list, &file, e, samples, spec));
            }
        }
        write_text(&out.join(list), &list_text)?;
    }
    write_text(&out.join(EVENTS), &events_text)?;
    write_text(&out.join("README.md"), &readme(spec, &counts))?;
    write_text(&out.join(GENERATOR), &spec.stamp())?;
    write_manifest(out)?;
    Ok(counts)
}

fn event_line(list: &str, file: &str, e: &Event, samples: &[Sample], spec: &SonicPiSpec) -> String {
    let sec = |frames: usize| frames as f64 / f64::from(spec.mix.rate);
    format!(
        "{list}\t{file}\t{:.4}\t{:.4}\t{}\t{}\t{:.4}\t{:.2}\n",
        sec(e.onset),
        sec(e.onset + e.frames),
        spec.classes[e.class],
        samples[e.sample].name,
        sec(e.offset),
        e.level_dbfs
    )
}

/// Writes `audio` (clamped to `[-1, 1]`) as a 16-bit PCM mono WAV with `hound`.
pub fn write_wav(path: &Path, rate: u32, audio: &[f32]) -> Result<()> {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: rate,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let err = |e: hound::Error| DatasetError::io(path, std::io::Error::other(e));
    let mut w = hound::WavWriter::create(path, spec).map_err(err)?;
    for &v in audio {
        w.write_sample((v.clamp(-1.0, 1.0) * 32767.0).round() as i16)
            .map_err(err)?;
    }
    w.finalize().map_err(err)
}

fn write_text(path: &Path, text: &str) -> Result<()> {
    std::fs::write(path, text).map_err(|e| DatasetError::io(path, e))
}

fn readme(spec: &SonicPiSpec, counts: &Counts) -> String {
    let mut t = format!(
        "# {}\n\nNOT DCASE 2017: a stand-in in the DCASE 2017 task 4 layout, generated by \
         adamp-datasets (`audio::events_sonic_pi`) from the CC0 recordings of the Debian package \
         {} {} (SHA-256 {}).\n\n{}\n\nClips per category (clips holding an event of it):\n\n\
         | category | training | testing | evaluation |\n|---|---|---|---|\n",
        spec.description,
        spec.package,
        spec.version,
        spec.deb_sha256,
        spec.summary()
    );
    for (c, class) in spec.classes.iter().enumerate() {
        t.push_str(&format!(
            "| {class} | {} | {} | {} |\n",
            counts[0][c], counts[1][c], counts[2][c]
        ));
    }
    t.push_str(&format!(
        "\nSettings: `{GENERATOR}`; every event: `{EVENTS}`; checksums: `{MANIFEST}`.\n"
    ));
    t
}

/// Every file under `dir` (relative paths with `/`, sorted), the manifest excepted.
fn files_under(dir: &Path) -> Result<Vec<String>> {
    let mut out = Vec::new();
    let mut stack: Vec<PathBuf> = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).map_err(|e| DatasetError::io(&d, e))? {
            let p = e.map_err(|e| DatasetError::io(&d, e))?.path();
            if p.is_dir() {
                stack.push(p);
            } else if let Ok(rel) = p.strip_prefix(dir) {
                let rel = rel.to_string_lossy().replace('\\', "/");
                if rel != MANIFEST {
                    out.push(rel);
                }
            }
        }
    }
    out.sort();
    Ok(out)
}

/// Writes `dir/MANIFEST.sha256`: `<sha256>  <relative path>` for every other file.
pub fn write_manifest(dir: &Path) -> Result<()> {
    let mut text = String::new();
    for rel in files_under(dir)? {
        text.push_str(&format!("{}  {rel}\n", sha256_file(&dir.join(&rel))?));
    }
    write_text(&dir.join(MANIFEST), &text)
}

/// Whether `dir` holds a complete tree of the generator settings `stamp`: its `GENERATOR` is
/// `stamp`, its manifest lists exactly the files present and each has the listed SHA-256.
pub fn is_complete(dir: &Path, stamp: &str) -> bool {
    if std::fs::read_to_string(dir.join(GENERATOR)).ok().as_deref() != Some(stamp) {
        return false;
    }
    let Ok(manifest) = std::fs::read_to_string(dir.join(MANIFEST)) else {
        return false;
    };
    let mut listed = Vec::new();
    for line in manifest.lines() {
        let Some((sha, rel)) = line.split_once("  ") else {
            return false;
        };
        if !sha256_file(&dir.join(rel)).is_ok_and(|h| h == sha) {
            return false;
        }
        listed.push(rel.to_string());
    }
    listed.sort();
    files_under(dir).is_ok_and(|present| present == listed)
}
