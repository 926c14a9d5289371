//! Tests of the music-tagging stand-in. The install tests use a tiny SoundFont (`tiny_sf2.rs`)
//! packed into a real `.deb` by `dpkg-deb --build`; no network. The real package is built by the
//! `#[ignore]` test at the end.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::families::{FAST_TAG, SLOW_TAG, TEMPI};
use super::music::PPQ;
use super::tiny_sf2::tiny_soundfont;
use super::*;
use crate::audio::decode::decode_file;
use crate::audio::listing::ClipLabel;
use crate::audio::stand_in::AudioStandIn;

fn leak(s: String) -> &'static str {
    Box::leak(s.into_boxed_str())
}

/// A downloader that must not be called.
struct NoDownload;
impl DebDownloader for NoDownload {
    fn download(&self, _: &str, _: &str, _: &Path) -> Result<PathBuf> {
        panic!("an installed, verified stand-in must not be downloaded again");
    }
}

/// A real `.deb` holding `sf2` at `usr/share/sounds/sf2/TimGM6mb.sf2`, and a spec pinned to it:
/// 16 clips (one per hex folder) of 2 s.
fn tiny_deb(dir: &Path, sf2: &[u8]) -> (PathBuf, TagsSpec<'static>) {
    let root = dir.join("pkgroot");
    let inner = root.join("usr/share/sounds/sf2");
    std::fs::create_dir_all(&inner).unwrap();
    std::fs::create_dir_all(root.join("DEBIAN")).unwrap();
    std::fs::write(
        root.join("DEBIAN/control"),
        "Package: timgm6mb-soundfont\nVersion: 1.3-5\nArchitecture: all\nMaintainer: t <t@t>\nDescription: tiny\n",
    )
    .unwrap();
    std::fs::write(inner.join("TimGM6mb.sf2"), sf2).unwrap();
    let deb = dir.join("timgm6mb-soundfont_1.3-5_all.deb");
    let out = Command::new("dpkg-deb")
        .args(["--root-owner-group", "--build"])
        .arg(&root)
        .arg(&deb)
        .output()
        .expect("this test needs dpkg-deb (Debian's dpkg), as `adamp data fetch` does");
    assert!(out.status.success(), "{out:?}");
    let sf2_sha = leak(sha256_file(&inner.join("TimGM6mb.sf2")).unwrap());
    let files = vec![PinnedFile {
        name: "TimGM6mb.sf2",
        sha256: sf2_sha,
        content_sha256: sf2_sha,
    }];
    let mut spec = TagsSpec {
        soundfont: DebDataset {
            deb_sha256: leak(sha256_file(&deb).unwrap()),
            files: files.leak(),
            ..TIMGM6MB_TAGS.soundfont
        },
        clips_per_folder: 1,
        clip_frames: 32_000,
        ..TIMGM6MB_TAGS
    };
    spec.annotations_sha256 = leak(hex(&Sha256::digest(annotations_text(&spec.plan()))));
    (deb, spec)
}

fn split_of(path: &str) -> AudioSplit {
    match u32::from_str_radix(&path[..1], 16).unwrap() {
        0..=11 => AudioSplit::Train,
        12 => AudioSplit::Valid,
        _ => AudioSplit::Test,
    }
}

#[test]
fn the_stand_in_registry_names_this_folder_and_these_tags() {
    let s = AudioStandIn::Timgm6mbTags;
    assert_eq!(s.folder(), TIMGM6MB_TAGS.folder);
    assert_eq!(s.classes(), CLASSES.map(String::from).to_vec());
    assert_eq!(s.describe(), DESCRIPTION);
    assert_eq!(TIMGM6MB_TAGS.split_counts(), (300, 25, 75));
}

/// The pinned draw: its annotations hash, and every tag both present and absent in each split
/// (so macro ROC-AUC and PR-AUC are defined on each).
#[test]
fn the_real_plan_is_pinned_and_every_split_has_every_tag() {
    let plan = TIMGM6MB_TAGS.plan();
    let text = annotations_text(&plan);
    assert_eq!(
        hex(&Sha256::digest(text.as_bytes())),
        TIMGM6MB_TAGS.annotations_sha256
    );
    let mut counts = [[0usize; 13]; 3];
    let mut sizes = [0usize; 3];
    for c in &plan {
        let s = split_of(&c.path) as usize;
        sizes[s] += 1;
        for &t in &c.music.tags {
            counts[s][t] += 1;
        }
        let n = c.music.tags.len();
        assert!((1..=5).contains(&n), "clip {}: {n} tags", c.id);
        assert!(c.music.tags.iter().any(|&t| t < FAST_TAG), "no instrument");
    }
    for s in 0..3 {
        for t in 0..13 {
            assert!(
                counts[s][t] > 0 && counts[s][t] < sizes[s],
                "split {s}, tag {}: {} of {}",
                TAGS[t],
                counts[s][t],
                sizes[s]
            );
        }
    }
    println!("tag counts (train, valid, test) of {sizes:?} clips:");
    for t in 0..13 {
        println!(
            "  {:8} {:4} {:3} {:3}",
            TAGS[t], counts[0][t], counts[1][t], counts[2][t]
        );
    }
}

#[test]
fn tags_follow_the_parts_and_tempo_and_every_part_plays_throughout() {
    for c in TIMGM6MB_TAGS.plan() {
        let m = &c.music;
        let mut want: Vec<usize> = m.parts.iter().map(|p| p.tag).collect();
        let class = TEMPI
            .iter()
            .find(|(_, lo, hi)| (*lo..=*hi).contains(&m.bpm))
            .expect("bpm in a tempo class");
        want.extend(class.0);
        want.sort_unstable();
        assert_eq!(m.tags, want, "clip {}", c.id);
        assert_eq!(m.tags.contains(&FAST_TAG), m.bpm >= 140);
        assert_eq!(m.tags.contains(&SLOW_TAG), m.bpm <= 80);
        // 6 s of beats, rounded up.
        assert_eq!(
            m.end_tick,
            (6.0 * m.bpm as f64 / 60.0 * PPQ as f64).ceil() as u32
        );
        let mut channels: Vec<u8> = m.parts.iter().map(|p| p.channel).collect();
        channels.dedup();
        assert_eq!(channels.len(), m.parts.len(), "two parts on one channel");
        for p in &m.parts {
            let first = p.notes.iter().map(|n| n.tick).min().unwrap();
            let last = p.notes.iter().map(|n| n.tick + n.length).max().unwrap();
            assert!(first < PPQ, "clip {} tag {}", c.id, TAGS[p.tag]);
            // Sounding within the last two beats (the longest gap of any role).
            assert!(
                last + 2 * PPQ >= m.end_tick,
                "clip {} tag {}",
                c.id,
                TAGS[p.tag]
            );
            assert!(p
                .notes
                .iter()
                .all(|n| n.tick < m.end_tick && n.velocity > 0));
        }
    }
}

#[test]
fn each_clip_depends_only_on_the_seed_and_its_id() {
    let small = TagsSpec {
        clips_per_folder: 2,
        ..TIMGM6MB_TAGS
    };
    let (a, b) = (small.plan(), TIMGM6MB_TAGS.plan());
    for (x, y) in a.iter().zip(&b) {
        assert_eq!((x.id, &x.path, &x.music), (y.id, &y.path, &y.music));
    }
    let other = TagsSpec {
        seed: 1,
        ..TIMGM6MB_TAGS
    }
    .plan();
    let same = other
        .iter()
        .zip(&b)
        .filter(|(x, y)| x.music == y.music)
        .count();
    assert_eq!(same, 0);
    assert_eq!(b[0x1d].path, "d/timgm6mb_0029.wav");
}

/// One A4 note on the tiny soundfont (a 441 Hz sawtooth sample): the 16 kHz clip has its energy
/// at 441 Hz and its multiples, little between them, and the peak scaled to `PEAK`.
#[test]
fn a_rendered_note_has_the_sample_pitch_at_16_khz() {
    use super::music::{Note, Part};
    let t = tempfile::tempdir().unwrap();
    let sf2 = t.path().join("tiny.sf2");
    std::fs::write(&sf2, tiny_soundfont(&[(0, 0)])).unwrap();
    let sf = render::load_soundfont(&sf2).unwrap();
    let music = ClipMusic {
        bpm: 120,
        end_tick: 4 * PPQ,
        parts: vec![Part {
            tag: 0,
            channel: 0,
            preset: (0, 0),
            volume: 100,
            pan: 64,
            reverb: 0,
            notes: vec![Note {
                tick: 0,
                length: 4 * PPQ,
                key: 69,
                velocity: 100,
            }],
        }],
        tags: vec![0],
    };
    let clip = render::render_clip(&sf, &write_smf(&music), 16_000, &sf2).unwrap();
    assert_eq!(clip.len(), 16_000);
    let peak = clip.iter().fold(0f32, |m, v| m.max(v.abs()));
    assert!((peak - render::PEAK).abs() < 1e-6, "{peak}");
    // Goertzel-style power at frequency f over 0.2-0.8 s (sustained part of the note).
    let power = |f: f64| {
        let (mut re, mut im) = (0f64, 0f64);
        for (n, &v) in clip[3_200..12_800].iter().enumerate() {
            let w = 2.0 * std::f64::consts::PI * f * (n + 3_200) as f64 / 16_000.0;
            re += v as f64 * w.cos();
            im += v as f64 * w.sin();
        }
        re * re + im * im
    };
    let (on, off) = (power(441.0), power(300.0));
    assert!(on > 1000.0 * off, "441 Hz {on}, 300 Hz {off}");
    assert!(power(882.0) > 1000.0 * power(650.0));
}

#[test]
fn installs_from_a_tiny_deb_reads_back_through_list_mtat_and_is_idempotent() {
    let t = tempfile::tempdir().unwrap();
    let (deb, spec) = tiny_deb(t.path(), &tiny_soundfont(&families::presets_used()));
    let root = t.path().join("data");
    let out = install_with(&spec, &root, &LocalDeb(deb.clone())).unwrap();
    let dir = root.join(spec.folder);
    assert_eq!(out, FetchOutcome::Installed(dir.clone()));
    // Only the stand-in is left under the data root.
    let names: Vec<_> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, vec![std::ffi::OsString::from(spec.folder)]);

    let tags = Some(CLASSES.map(String::from).to_vec());
    let listing = list_mtat(&dir, &MtatOptions { tags }).unwrap();
    assert_eq!(listing.classes, CLASSES.map(String::from).to_vec());
    assert!(listing.skipped.is_empty());
    let plan = spec.plan();
    assert_eq!(listing.clips.len(), 16);
    for clip in &listing.clips {
        let rel = clip.path.strip_prefix(dir.join("mp3")).unwrap();
        let rel = rel.to_str().unwrap();
        let planned = plan.iter().find(|c| c.path == rel).unwrap();
        assert_eq!(clip.split, split_of(rel));
        let want: Vec<f32> = (0..13)
            .map(|t| f32::from(u8::from(planned.music.tags.contains(&t))))
            .collect();
        assert_eq!(clip.label, ClipLabel::Tags(want), "{rel}");
        let decoded = decode_file(&clip.path).unwrap();
        assert_eq!(
            (decoded.sample_rate, decoded.samples.len()),
            (16_000, 32_000)
        );
        let peak = decoded.samples.iter().fold(0f32, |m, v| m.max(v.abs()));
        assert!((peak - render::PEAK).abs() < 1e-3, "{rel}: {peak}");
    }
    let splits: Vec<AudioSplit> = listing.clips.iter().map(|c| c.split).collect();
    assert_eq!(
        splits.iter().filter(|&&s| s == AudioSplit::Train).count(),
        12
    );
    assert_eq!(
        splits.iter().filter(|&&s| s == AudioSplit::Valid).count(),
        1
    );
    let stamp = std::fs::read_to_string(dir.join(GENERATOR_FILE)).unwrap();
    assert!(stamp.starts_with("Generated music in the MagnaTagATune layout; not MagnaTagATune."));

    // Second run: verified, nothing downloaded, nothing rewritten.
    let first = std::fs::read(dir.join("mp3/5/timgm6mb_0005.wav")).unwrap();
    let again = install_with(&spec, &root, &NoDownload).unwrap();
    assert_eq!(again, FetchOutcome::AlreadyPresent(dir.clone()));
    // A damaged clip triggers a rebuild, which writes the same bytes.
    std::fs::write(dir.join("mp3/5/timgm6mb_0005.wav"), b"junk").unwrap();
    assert!(!is_installed(&spec, &dir));
    let rebuilt = install_with(&spec, &root, &LocalDeb(deb)).unwrap();
    assert_eq!(rebuilt, FetchOutcome::Installed(dir.clone()));
    assert_eq!(
        std::fs::read(dir.join("mp3/5/timgm6mb_0005.wav")).unwrap(),
        first
    );
    assert!(is_installed(&spec, &dir));
    // SHA256SUMS must list exactly the planned files.
    let sums = dir.join(SHA256SUMS_FILE);
    let good = std::fs::read_to_string(&sums).unwrap();
    std::fs::write(
        &sums,
        good.replace("mp3/0/timgm6mb_0000.wav", "mp3/0/other.wav"),
    )
    .unwrap();
    assert!(!is_installed(&spec, &dir));
    std::fs::write(&sums, &good).unwrap();
    assert!(is_installed(&spec, &dir));
    // Another seed is another dataset: the stamp no longer matches.
    assert!(!is_installed(&TagsSpec { seed: 7, ..spec }, &dir));
}

#[test]
fn a_wrong_deb_checksum_is_a_clear_error_and_leaves_nothing() {
    let t = tempfile::tempdir().unwrap();
    let (deb, mut spec) = tiny_deb(t.path(), &tiny_soundfont(&families::presets_used()));
    let wrong = "ab".repeat(32);
    spec.soundfont.deb_sha256 = leak(wrong.clone());
    let root = t.path().join("data");
    let err = install_with(&spec, &root, &LocalDeb(deb)).unwrap_err();
    let msg = err.to_string();
    assert!(
        matches!(err, DatasetError::ChecksumMismatch { .. }),
        "{msg}"
    );
    assert!(msg.contains("timgm6mb-soundfont_1.3-5_all.deb"), "{msg}");
    assert!(msg.contains(&wrong), "{msg}");
    assert!(!root.join(spec.folder).exists());
    assert_eq!(std::fs::read_dir(&root).unwrap().count(), 0);
}

#[test]
fn a_wrong_soundfont_or_a_missing_preset_is_named_and_leaves_nothing() {
    let t = tempfile::tempdir().unwrap();
    let (deb, mut spec) = tiny_deb(t.path(), &tiny_soundfont(&families::presets_used()));
    let mut files = spec.soundfont.files.to_vec();
    files[0].sha256 = leak("11".repeat(32));
    spec.soundfont.files = files.leak();
    let root = t.path().join("data");
    let msg = install_with(&spec, &root, &LocalDeb(deb))
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("TimGM6mb.sf2") && msg.contains(&"11".repeat(32)),
        "{msg}"
    );
    assert_eq!(std::fs::read_dir(&root).unwrap().count(), 0);

    // A soundfont without the drum kit.
    let t = tempfile::tempdir().unwrap();
    let mut presets = families::presets_used();
    presets.pop();
    let (deb, spec) = tiny_deb(t.path(), &tiny_soundfont(&presets));
    let root = t.path().join("data");
    let msg = install_with(&spec, &root, &LocalDeb(deb))
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("TimGM6mb.sf2") && msg.contains("bank 128 program 0"),
        "{msg}"
    );
    assert_eq!(std::fs::read_dir(&root).unwrap().count(), 0);
}

/// The real thing: `apt-get download timgm6mb-soundfont=1.3-5` and all 400 clips (run with
/// `cargo test --release -p adamp-datasets tags_timgm6mb -- --ignored --nocapture`).
#[test]
#[ignore = "downloads 5.4 MB from a Debian mirror with apt-get and renders 400 clips"]
fn builds_the_real_stand_in() {
    let t = tempfile::tempdir().unwrap();
    let started = std::time::Instant::now();
    let out = install(t.path()).unwrap();
    let build_s = started.elapsed().as_secs_f64();
    let dir = tags_dir(t.path());
    assert_eq!(out, FetchOutcome::Installed(dir.clone()));
    let tags = Some(CLASSES.map(String::from).to_vec());
    let listing = list_mtat(&dir, &MtatOptions { tags }).unwrap();
    let count = |s: AudioSplit| listing.clips.iter().filter(|c| c.split == s).count();
    let counts = (
        count(AudioSplit::Train),
        count(AudioSplit::Valid),
        count(AudioSplit::Test),
    );
    assert_eq!(counts, (300, 25, 75));
    let bytes: u64 = walk(&dir).iter().map(|p| p.metadata().unwrap().len()).sum();
    let started = std::time::Instant::now();
    assert_eq!(
        install(t.path()).unwrap(),
        FetchOutcome::AlreadyPresent(dir)
    );
    println!(
        "built {counts:?} clips (train, valid, test), {:.1} MB, in {build_s:.1} s; verified again in {:.2} s",
        bytes as f64 / 1e6,
        started.elapsed().as_secs_f64()
    );
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}
