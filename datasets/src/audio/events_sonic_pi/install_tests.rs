//! The install path on a tiny `.deb` built here with `dpkg-deb --build` (no network): FLAC
//! recordings copied from the decoding fixtures (`datasets/tests/fixtures/audio`, made by
//! `tools/gen_audio_io_fixtures.sh`) under sonic-pi-like names.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use super::layout::{is_complete, EVENTS, MANIFEST};
use super::mixer::MixSettings;
use super::{install_with, SonicPiSpec, CLASSES, SONIC_PI_EVENTS};
use crate::audio::{decode_file, list_dcase, AudioSplit, AudioStandIn, DcaseOptions};
use crate::error::{DatasetError, Result};
use crate::fetch::{sha256_file, DebDownloader, FetchOutcome, LocalDeb};

const TINY_CLASSES: [&str; 3] = ["ambi", "bass", "drum"];

/// The tiny package's recordings: 4 `ambi` (test: `ambi_d`), 2 `bass` (too few to split),
/// 5 `drum` (test: `drum_4`), a dropped `misc` one and the package's README.
const TINY_FILES: [&str; 13] = [
    "ambi_a.flac",
    "ambi_b.flac",
    "ambi_c.flac",
    "ambi_d.flac",
    "bass_a.flac",
    "bass_b.flac",
    "drum_1.flac",
    "drum_2.flac",
    "drum_3.flac",
    "drum_4.flac",
    "drum_5.flac",
    "misc_x.flac",
    "README.md",
];

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/audio")
        .join(name)
}

/// Builds `sonic-pi-tiny_1.0-1_all.deb` holding `files` under `usr/share/sonic-pi/samples/`
/// (FLAC names alternate between the 0.5 s 22.05 kHz sine and the 0.1 s 44.1 kHz two-tone
/// fixture) and the matching spec: 1 s clips, 0.75 s chunks, 8 + 4 training-pool and 6 test
/// clips.
fn tiny_deb(dir: &Path, files: &[&str]) -> (PathBuf, SonicPiSpec<'static>) {
    let root = dir.join("pkgroot");
    let inner = root.join("usr/share/sonic-pi/samples");
    std::fs::create_dir_all(&inner).unwrap();
    std::fs::create_dir_all(root.join("DEBIAN")).unwrap();
    std::fs::write(
        root.join("DEBIAN/control"),
        "Package: sonic-pi-tiny\nVersion: 1.0-1\nArchitecture: all\nMaintainer: t <t@t>\nDescription: tiny\n",
    )
    .unwrap();
    for (k, name) in files.iter().enumerate() {
        if name.ends_with(".flac") {
            let src = if k % 2 == 0 {
                "sine440_22050_s16_mono.flac"
            } else {
                "two_tone_44100_s24_stereo.flac"
            };
            std::fs::copy(fixture(src), inner.join(name)).unwrap();
        } else {
            std::fs::write(inner.join(name), "# samples\n").unwrap();
        }
    }
    let deb = dir.join("sonic-pi-tiny_1.0-1_all.deb");
    let out = Command::new("dpkg-deb")
        .args(["--root-owner-group", "--build"])
        .arg(&root)
        .arg(&deb)
        .output()
        .expect("this test needs dpkg-deb (Debian's dpkg), as `adamp data fetch` does");
    assert!(out.status.success(), "{out:?}");
    let spec = SonicPiSpec {
        package: "sonic-pi-tiny",
        version: "1.0-1",
        deb_sha256: sha256_file(&deb).unwrap().leak(),
        folder: "tiny-events",
        classes: &TINY_CLASSES,
        clips: [8, 4, 6],
        seed: 5,
        mix: MixSettings {
            clip_frames: 16_000,
            chunk_frames: 12_000,
            min_event_frames: 1_600,
            max_event_frames: 6_400,
            min_overlap_frames: 800,
            ..SONIC_PI_EVENTS.mix
        },
        ..SONIC_PI_EVENTS
    };
    (deb, spec)
}

/// A downloader that must not be called.
struct NoDownload;
impl DebDownloader for NoDownload {
    fn download(&self, _: &str, _: &str, _: &Path) -> Result<PathBuf> {
        panic!("a complete, verified tree must not be built again");
    }
}

/// `file → [(list, label, recording)]` from `events.tsv`.
fn read_events(dir: &Path) -> BTreeMap<String, Vec<(String, String, String)>> {
    let text = std::fs::read_to_string(dir.join(EVENTS)).unwrap();
    let mut out: BTreeMap<String, Vec<_>> = BTreeMap::new();
    for line in text.lines().skip(1) {
        let f: Vec<&str> = line.split('\t').collect();
        assert_eq!(f.len(), 8, "{line}");
        out.entry(f[1].to_string()).or_default().push((
            f[0].to_string(),
            f[4].to_string(),
            f[5].to_string(),
        ));
    }
    out
}

fn classes(spec: &SonicPiSpec) -> Vec<String> {
    spec.classes.iter().map(|s| s.to_string()).collect()
}

#[test]
fn the_tree_reads_back_through_list_dcase_with_the_events_as_weak_labels() {
    let t = tempfile::tempdir().unwrap();
    let (deb, spec) = tiny_deb(t.path(), &TINY_FILES);
    let root = t.path().join("data");
    let out = install_with(&spec, &root, &LocalDeb(deb)).unwrap();
    let dest = root.join("tiny-events");
    assert_eq!(out, FetchOutcome::Installed(dest.clone()));
    let names: Vec<_> = std::fs::read_dir(&root).unwrap().flatten().collect();
    assert_eq!(names.len(), 1, "no work folder is left: {names:?}");

    let options = DcaseOptions {
        classes: classes(&spec),
        ..DcaseOptions::default()
    };
    let listing = list_dcase(&dest, &options).unwrap();
    assert!(listing.skipped.is_empty(), "{:?}", listing.skipped);
    assert_eq!(listing.classes, classes(&spec));
    let count = |split| listing.clips.iter().filter(|c| c.split == split).count();
    assert_eq!(count(AudioSplit::Test), 6);
    assert_eq!(count(AudioSplit::Train) + count(AudioSplit::Valid), 12);
    assert!(count(AudioSplit::Valid) > 0);

    let events = read_events(&dest);
    assert_eq!(events.len(), 18);
    for clip in &listing.clips {
        let name = clip.path.file_name().unwrap().to_string_lossy();
        let file = name.strip_prefix('Y').unwrap();
        let ev = &events[file];
        let labels: BTreeSet<&str> = ev.iter().map(|(_, l, _)| l.as_str()).collect();
        assert!(
            (1..=3).contains(&ev.len()) && labels.len() == ev.len(),
            "{ev:?}"
        );
        let want: Vec<f32> = spec
            .classes
            .iter()
            .map(|c| f32::from(u8::from(labels.contains(c))))
            .collect();
        assert_eq!(clip.label.tags().unwrap(), &want[..], "{file}");
        for (list, label, recording) in ev {
            assert!(recording.starts_with(&format!("{label}_")), "{recording}");
            assert_eq!(list.contains("evaluation"), clip.split == AudioSplit::Test);
            // Test clips: the test recordings (`bass` has too few to split and shares).
            let test_recording = ["ambi_d.flac", "drum_4.flac"].contains(&recording.as_str());
            if label != "bass" {
                assert_eq!(
                    test_recording,
                    clip.split == AudioSplit::Test,
                    "{recording}"
                );
            }
        }
        let decoded = decode_file(&clip.path).unwrap();
        assert_eq!((decoded.sample_rate, decoded.frames), (16_000, 16_000));
        assert!(decoded.samples.iter().any(|v| v.abs() > 0.01));
    }
    let used: BTreeSet<&str> = events
        .values()
        .flatten()
        .map(|(_, _, r)| r.as_str())
        .collect();
    assert!(!used.iter().any(|r| r.starts_with("misc_")));
    assert!(used.contains("ambi_d.flac") && used.contains("drum_4.flac"));

    let list =
        std::fs::read_to_string(dest.join("groundtruth_weak_label_training_set.csv")).unwrap();
    let first: Vec<&str> = list.lines().next().unwrap().split('\t').collect();
    assert_eq!(first[0], "spitrain00000_0.000_1.000.wav");
    assert_eq!((first[1], first[2]), ("0.000", "1.000"));
}

#[test]
fn a_built_tree_is_left_alone_and_a_damaged_or_stale_one_is_rebuilt_the_same() {
    let t = tempfile::tempdir().unwrap();
    let (deb, spec) = tiny_deb(t.path(), &TINY_FILES);
    let root = t.path().join("data");
    // A work folder left by an interrupted build is removed.
    std::fs::create_dir_all(root.join(".build-tiny-events-old")).unwrap();
    install_with(&spec, &root, &LocalDeb(deb.clone())).unwrap();
    assert!(!root.join(".build-tiny-events-old").exists());
    let dest = root.join("tiny-events");
    let manifest = std::fs::read_to_string(dest.join(MANIFEST)).unwrap();
    assert_eq!(manifest.lines().count(), 18 + 3 + 3); // clips, lists, events/README/GENERATOR

    let again = install_with(&spec, &root, &NoDownload).unwrap();
    assert_eq!(again, FetchOutcome::AlreadyPresent(dest.clone()));

    // A damaged clip: rebuilt, byte for byte the same tree (deterministic).
    let clip = dest
        .join("raw/evaluation_set_formatted_audio_segments")
        .join("Yspieval00002_0.000_1.000.wav");
    std::fs::write(&clip, b"RIFF junk").unwrap();
    assert!(!is_complete(&dest, &spec.stamp()));
    let out = install_with(&spec, &root, &LocalDeb(deb.clone())).unwrap();
    assert_eq!(out, FetchOutcome::Installed(dest.clone()));
    assert_eq!(
        std::fs::read_to_string(dest.join(MANIFEST)).unwrap(),
        manifest
    );

    // A stray file is not part of a complete tree.
    std::fs::write(dest.join("raw/stray.wav"), b"x").unwrap();
    assert!(!is_complete(&dest, &spec.stamp()));

    // Other settings (seed): rebuilt with other clips.
    let other = SonicPiSpec { seed: 6, ..spec };
    let out = install_with(&other, &root, &LocalDeb(deb)).unwrap();
    assert_eq!(out, FetchOutcome::Installed(dest.clone()));
    assert_ne!(
        std::fs::read_to_string(dest.join(MANIFEST)).unwrap(),
        manifest
    );
    assert!(is_complete(&dest, &other.stamp()) && !is_complete(&dest, &spec.stamp()));
    assert!(!dest.join("raw/stray.wav").exists());
    assert_eq!(std::fs::read_dir(&root).unwrap().count(), 1);
}

#[test]
fn a_wrong_checksum_is_a_clear_error_and_writes_nothing() {
    let t = tempfile::tempdir().unwrap();
    let (deb, spec) = tiny_deb(t.path(), &TINY_FILES);
    let wrong = "00".repeat(32);
    let spec = SonicPiSpec {
        deb_sha256: wrong.clone().leak(),
        ..spec
    };
    let root = t.path().join("data");
    let err = install_with(&spec, &root, &LocalDeb(deb)).unwrap_err();
    let msg = err.to_string();
    assert!(
        matches!(err, DatasetError::ChecksumMismatch { .. }),
        "{msg}"
    );
    assert!(
        msg.contains("sonic-pi-tiny_1.0-1_all.deb") && msg.contains(&wrong),
        "{msg}"
    );
    assert!(!root.join("tiny-events").exists());
    assert_eq!(std::fs::read_dir(&root).unwrap().count(), 0);
}

#[test]
fn a_recording_of_an_unknown_category_is_named() {
    let t = tempfile::tempdir().unwrap();
    let mut files = TINY_FILES.to_vec();
    files.push("foley_step.flac");
    let (deb, spec) = tiny_deb(t.path(), &files);
    let root = t.path().join("data");
    let msg = install_with(&spec, &root, &LocalDeb(deb))
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("foley_step.flac") && msg.contains("`foley`"),
        "{msg}"
    );
    assert_eq!(std::fs::read_dir(&root).unwrap().count(), 0);
}

#[test]
fn the_stand_in_registry_agrees_with_the_spec() {
    let s = AudioStandIn::SonicPiEvents;
    assert_eq!(s.folder(), SONIC_PI_EVENTS.folder);
    assert_eq!(s.classes(), CLASSES.map(String::from).to_vec());
    assert_eq!(s.describe(), super::DESCRIPTION);
    let [train, testing, eval] = SONIC_PI_EVENTS.clips;
    assert!(super::DESCRIPTION.contains(&format!("{} training-pool, {eval} test", train + testing)));
    assert!(super::DESCRIPTION.contains(&format!("{} categories", CLASSES.len())));
}

/// The real package (needs apt and a Debian mirror; `cargo test -p adamp-datasets --release
/// -- --ignored events_sonic_pi`). Prints the counts, the size and the wall time.
#[test]
#[ignore = "downloads 22 MB from a Debian mirror with apt-get"]
fn builds_the_real_stand_in() {
    let t = tempfile::tempdir().unwrap();
    let start = std::time::Instant::now();
    let out = super::install(t.path()).unwrap();
    let secs = start.elapsed().as_secs_f64();
    let dest = super::dir(t.path());
    assert_eq!(out, FetchOutcome::Installed(dest.clone()));
    let options = DcaseOptions {
        classes: classes(&SONIC_PI_EVENTS),
        ..DcaseOptions::default()
    };
    let listing = list_dcase(&dest, &options).unwrap();
    assert!(listing.skipped.is_empty());
    let mut per_split: BTreeMap<String, (usize, Vec<usize>)> = BTreeMap::new();
    for c in &listing.clips {
        let e = per_split
            .entry(format!("{:?}", c.split))
            .or_insert((0, vec![0; CLASSES.len()]));
        e.0 += 1;
        for (k, &v) in c.label.tags().unwrap().iter().enumerate() {
            e.1[k] += v as usize;
        }
    }
    let (test, test_per_class) = &per_split["Test"];
    assert_eq!(*test, 160);
    assert!(test_per_class.iter().all(|&n| n > 0), "{test_per_class:?}");
    let bytes: u64 = walk_size(&dest);
    eprintln!(
        "built in {secs:.1} s, {:.1} MB, clips per split and class: {per_split:?}",
        bytes as f64 / 1e6
    );
    let recordings: BTreeSet<String> = read_events(&dest)
        .values()
        .flatten()
        .map(|(_, _, r)| r.clone())
        .collect();
    eprintln!("{} recordings used", recordings.len());
    let again = super::install(t.path()).unwrap();
    assert_eq!(again, FetchOutcome::AlreadyPresent(dest));
}

fn walk_size(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| {
            let p = e.path();
            if p.is_dir() {
                walk_size(&p)
            } else {
                p.metadata().unwrap().len()
            }
        })
        .sum()
}
