//! Tests of the keyword stand-in with a fake `espeak-ng` (a shell script copying prepared
//! WAVs) and a tiny asterisk `.deb` built with `dpkg-deb --build`: no espeak-ng, no network.
//! The real build is `builds_the_real_stand_in` (ignored: needs apt, a Debian mirror and
//! espeak-ng 1.51).

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use super::asterisk::{RecordingsPackage, ASTERISK_SOUNDS};
use super::clip::{fit_clip, CLIP_FRAMES, CLIP_RATE};
use super::espeak::{parse_version, EspeakNg};
use super::manifest::{check_built, read_manifest, Counts, MANIFEST};
use super::voices::{voices, ACCENTS, PITCHES, SPEEDS, TRAIN_VARIANTS, VALID_VARIANTS};
use super::words::KEYWORDS;
use super::*;
use crate::audio::test_signals::fit_sine;
use crate::audio::{decode_file, list_speech_commands, AudioSplit, ClipLabel};
use crate::fetch::{sha256_file, LocalDeb};
use crate::testdata_audio::{tone, write_wav};

/// The test words and the tone each fake recording holds.
const WORDS: [(&str, f32); 3] = [("alpha", 300.0), ("one", 500.0), ("zero", 700.0)];

/// A downloader that must not be called.
struct NoDownload;
impl DebDownloader for NoDownload {
    fn download(&self, _: &str, _: &str, _: &Path) -> Result<PathBuf> {
        panic!("a verified build must not download anything");
    }
}

/// `lead` s of silence, `len` s of a 0.5-amplitude tone, `trail` s of silence.
fn word_signal(freq: f32, rate: u32, lead: f32, len: f32, trail: f32) -> Vec<f32> {
    let n = |s: f32| (s * rate as f32) as usize;
    let mut x = vec![0.0; n(lead)];
    x.extend(tone(freq, rate, n(len)));
    x.extend(vec![0.0; n(trail)]);
    x
}

/// A `.deb` holding one 8 kHz recording per test word at the real package's paths, and its
/// pinned description.
fn tiny_asterisk_deb(dir: &Path) -> (PathBuf, RecordingsPackage) {
    let root = dir.join("pkgroot");
    let sounds = root.join(ASTERISK_SOUNDS.sounds_dir);
    for (class, freq) in WORDS {
        let kw = KEYWORDS.iter().find(|k| k.class == class).unwrap();
        let x = word_signal(freq, 8_000, 0.2, 0.5, 0.1);
        write_wav(&sounds.join(kw.recording), 8_000, &x).unwrap();
    }
    std::fs::create_dir_all(root.join("DEBIAN")).unwrap();
    std::fs::write(
        root.join("DEBIAN/control"),
        "Package: asterisk-tiny\nVersion: 1.0-1\nArchitecture: all\nMaintainer: t <t@t>\nDescription: tiny\n",
    )
    .unwrap();
    let deb = dir.join("asterisk-tiny_1.0-1_all.deb");
    let out = Command::new("dpkg-deb")
        .args(["--root-owner-group", "--build"])
        .arg(&root)
        .arg(&deb)
        .output()
        .expect("this test needs dpkg-deb (Debian's dpkg), as `adamp data fetch` does");
    assert!(out.status.success(), "{out:?}");
    let pkg = RecordingsPackage {
        package: "asterisk-tiny",
        version: "1.0-1",
        deb_sha256: sha256_file(&deb).unwrap().leak(),
        sounds_dir: ASTERISK_SOUNDS.sounds_dir,
    };
    (deb, pkg)
}

/// A fake `espeak-ng` in `dir`: `--version` prints `version`; otherwise it logs its arguments
/// to `dir/calls.log` and copies `dir/<word>.wav` (a 22.05 kHz tone, one per test word) to the
/// `-w` file, or, if `fail` is set, prints espeak-ng's unknown-voice error and exits 1.
fn fake_espeak(dir: &Path, version: &str, fail: bool) -> EspeakNg {
    std::fs::create_dir_all(dir).unwrap();
    for (class, freq) in WORDS {
        let x = word_signal(freq * 1.5, 22_050, 0.1, 0.6, 0.3);
        write_wav(&dir.join(format!("{class}.wav")), 22_050, &x).unwrap();
    }
    let speak = if fail {
        "echo 'Error: The specified espeak-ng voice does not exist.' >&2; exit 1".to_string()
    } else {
        format!("cp '{d}'/\"$9\".wav \"$8\"", d = dir.display())
    };
    let script = format!(
        "#!/bin/sh\nif [ \"$1\" = --version ]; then \
         echo 'eSpeak NG text-to-speech: {version}  Data at: /fake/espeak-ng-data'; exit 0; fi\n\
         echo \"$@\" >> '{d}/calls.log'\n{speak}\n",
        d = dir.display()
    );
    let program = dir.join("espeak-ng");
    std::fs::write(&program, script).unwrap();
    std::fs::set_permissions(&program, std::fs::Permissions::from_mode(0o755)).unwrap();
    EspeakNg { program }
}

/// Three words, two training voices, one validation voice.
fn tiny_spec(recordings: RecordingsPackage) -> KeywordsSpec {
    KeywordsSpec {
        folder: FOLDER,
        words: WORDS
            .iter()
            .map(|(c, _)| *KEYWORDS.iter().find(|k| k.class == *c).unwrap())
            .collect(),
        train_voices: voices(&["en-us", "en"], &["m1"]),
        valid_voices: voices(&["en-us"], &["f4"]),
        recordings,
    }
}

/// The entries of `dir` (empty if it does not exist).
fn entries(dir: &Path) -> Vec<String> {
    match std::fs::read_dir(dir) {
        Ok(rd) => {
            let mut v: Vec<String> = rd
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect();
            v.sort();
            v
        }
        Err(_) => Vec::new(),
    }
}

fn rel(root: &Path, p: &Path) -> String {
    p.strip_prefix(root).unwrap().to_string_lossy().into_owned()
}

#[test]
fn builds_the_speech_commands_layout_and_reads_it_back() {
    let t = tempfile::tempdir().unwrap();
    let (deb, pkg) = tiny_asterisk_deb(t.path());
    let espeak = fake_espeak(&t.path().join("bin"), "1.51", false);
    let spec = tiny_spec(pkg);
    let root = t.path().join("data");
    let out = install_with(&root, &spec, &LocalDeb(deb), &espeak).unwrap();
    let dir = root.join(FOLDER);
    assert_eq!(out, FetchOutcome::Installed(dir.clone()));
    assert_eq!(
        entries(&root),
        vec![FOLDER.to_string()],
        "no work folder left"
    );

    let classes: Vec<String> = WORDS.iter().map(|(c, _)| c.to_string()).collect();
    let options = SpeechCommandsOptions {
        classes: classes.clone(),
    };
    let listing = list_speech_commands(&dir, &options).unwrap();
    let paths = |s: AudioSplit| -> Vec<String> {
        listing
            .split(s)
            .iter()
            .map(|c| rel(&dir, &c.path))
            .collect()
    };
    assert_eq!(
        paths(AudioSplit::Train),
        [
            "alpha/espeak-en-m1_nohash_0.wav",
            "alpha/espeak-en-us-m1_nohash_0.wav",
            "one/espeak-en-m1_nohash_0.wav",
            "one/espeak-en-us-m1_nohash_0.wav",
            "zero/espeak-en-m1_nohash_0.wav",
            "zero/espeak-en-us-m1_nohash_0.wav",
        ]
    );
    assert_eq!(
        paths(AudioSplit::Valid),
        [
            "alpha/espeak-en-us-f4_nohash_0.wav",
            "one/espeak-en-us-f4_nohash_0.wav",
            "zero/espeak-en-us-f4_nohash_0.wav",
        ]
    );
    assert_eq!(
        paths(AudioSplit::Test),
        [
            "alpha/asterisk_nohash_0.wav",
            "one/asterisk_nohash_0.wav",
            "zero/asterisk_nohash_0.wav",
        ]
    );
    for clip in &listing.clips {
        let word = rel(&dir, &clip.path).split('/').next().unwrap().to_string();
        let class = classes.iter().position(|c| *c == word).unwrap();
        assert_eq!(clip.label, ClipLabel::Class(class));
        // 16 kHz, 1 s, the word's tone, centred between zeros.
        let d = decode_file(&clip.path).unwrap();
        assert_eq!(
            (d.sample_rate, d.channels_in, d.frames),
            (CLIP_RATE, 1, CLIP_FRAMES)
        );
        let (freq, amp) = fit_sine(&d.samples[6_000..10_000], CLIP_RATE);
        let base = WORDS[class].1 as f64;
        let want = if clip.split == AudioSplit::Test {
            base
        } else {
            1.5 * base
        };
        assert!(
            (freq - want).abs() < 1.0,
            "{}: {freq} Hz",
            clip.path.display()
        );
        assert!(
            (amp - 0.5).abs() < 0.01,
            "{}: amplitude {amp}",
            clip.path.display()
        );
        let edge = if clip.split == AudioSplit::Test {
            3_500 // 0.5 s word: 0.25 s of zeros each side
        } else {
            2_500 // 0.6 s word: 0.2 s each side
        };
        assert!(d.samples[..edge].iter().all(|&s| s == 0.0));
        assert!(d.samples[CLIP_FRAMES - edge..].iter().all(|&s| s == 0.0));
    }

    // espeak-ng ran once per voice and word with the voice's settings.
    let calls = std::fs::read_to_string(t.path().join("bin/calls.log")).unwrap();
    let calls: Vec<&str> = calls.lines().collect();
    assert_eq!(calls.len(), 9);
    assert!(
        calls[0].starts_with("-v en-us+m1 -s 120 -p 30 -w ") && calls[0].ends_with(" alpha"),
        "{}",
        calls[0]
    );
    assert!(
        calls[3].starts_with("-v en+m1 -s 145 -p 30 -w "),
        "{}",
        calls[3]
    );
    assert!(calls[8].starts_with("-v en-us+f4 -s 120 -p 30 -w ") && calls[8].ends_with(" zero"));

    let manifest = read_manifest(&dir).unwrap();
    assert_eq!(
        manifest.counts,
        Counts {
            train: 6,
            valid: 3,
            test: 3
        }
    );
    assert_eq!(manifest.settings, spec.settings());
    // 9 espeak clips + 3 recordings + 2 lists + README.
    assert_eq!(manifest.files.len(), 15);
    assert_eq!(
        manifest.files["one/asterisk_nohash_0.wav"],
        sha256_file(&dir.join("one/asterisk_nohash_0.wav")).unwrap()
    );
}

#[test]
fn a_built_folder_is_verified_and_left_alone_and_a_damaged_one_rebuilt() {
    let t = tempfile::tempdir().unwrap();
    let (deb, pkg) = tiny_asterisk_deb(t.path());
    let espeak = fake_espeak(&t.path().join("bin"), "1.51", false);
    let spec = tiny_spec(pkg);
    let root = t.path().join("data");
    let dir = root.join(FOLDER);
    install_with(&root, &spec, &LocalDeb(deb.clone()), &espeak).unwrap();
    let first = read_manifest(&dir).unwrap();

    // Verified: neither apt nor espeak-ng is needed.
    let absent = EspeakNg {
        program: t.path().join("nowhere/espeak-ng"),
    };
    let again = install_with(&root, &spec, &NoDownload, &absent).unwrap();
    assert_eq!(again, FetchOutcome::AlreadyPresent(dir.clone()));

    // A stray clip, a damaged clip, other settings: each makes it rebuild, to the same bytes.
    let stray = dir.join("one/stray_nohash_0.wav");
    std::fs::copy(dir.join("one/asterisk_nohash_0.wav"), &stray).unwrap();
    let damaged = dir.join("zero/espeak-en-m1_nohash_0.wav");
    let mut other = spec.clone();
    other.valid_voices = voices(&["en"], &["f4"]);
    // (the reason expected, a clip to damage first, the spec to build)
    let cases: [(&str, Option<&Path>, &KeywordsSpec); 3] = [
        ("files present differ", None, &spec),
        ("SHA-256 differs", Some(&damaged), &spec),
        ("other settings", None, &other),
    ];
    for (why, damage, s) in cases {
        if let Some(clip) = damage {
            std::fs::write(clip, b"RIFF").unwrap();
        }
        let reason = check_built(&dir, &s.settings()).expect(why);
        assert!(reason.contains(why), "{reason}");
        let out = install_with(&root, s, &LocalDeb(deb.clone()), &espeak).unwrap();
        assert_eq!(out, FetchOutcome::Installed(dir.clone()));
        assert_eq!(entries(&root), vec![FOLDER.to_string()]);
    }
    assert!(!stray.exists());
    let rebuilt = install_with(&root, &spec, &LocalDeb(deb), &espeak).unwrap();
    assert_eq!(rebuilt, FetchOutcome::Installed(dir.clone()));
    assert_eq!(read_manifest(&dir).unwrap(), first, "deterministic rebuild");
}

#[test]
fn a_wrong_deb_checksum_fails_and_leaves_nothing() {
    let t = tempfile::tempdir().unwrap();
    let (deb, mut pkg) = tiny_asterisk_deb(t.path());
    let actual = pkg.deb_sha256;
    pkg.deb_sha256 = "00".repeat(32).leak();
    let espeak = fake_espeak(&t.path().join("bin"), "1.51", false);
    let root = t.path().join("data");
    let err = install_with(&root, &tiny_spec(pkg), &LocalDeb(deb), &espeak).unwrap_err();
    let msg = err.to_string();
    assert!(
        matches!(err, DatasetError::ChecksumMismatch { .. }),
        "{msg}"
    );
    assert!(msg.contains("asterisk-tiny_1.0-1_all.deb"), "{msg}");
    assert!(
        msg.contains(&"00".repeat(32)) && msg.contains(actual),
        "{msg}"
    );
    assert_eq!(entries(&root), Vec::<String>::new());
}

#[test]
fn a_missing_espeak_ng_is_named_with_the_fix() {
    let t = tempfile::tempdir().unwrap();
    let (deb, pkg) = tiny_asterisk_deb(t.path());
    let absent = EspeakNg {
        program: t.path().join("nowhere/espeak-ng"),
    };
    let root = t.path().join("data");
    let err = install_with(&root, &tiny_spec(pkg), &LocalDeb(deb), &absent).unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, DatasetError::Tool { .. }), "{msg}");
    assert!(msg.contains("nowhere/espeak-ng --version"), "{msg}");
    assert!(msg.contains("program not found"), "{msg}");
    assert!(msg.contains("apt-get install espeak-ng"), "{msg}");
    assert!(!root.exists());
}

#[test]
fn another_espeak_ng_version_is_refused() {
    let t = tempfile::tempdir().unwrap();
    let (deb, pkg) = tiny_asterisk_deb(t.path());
    let espeak = fake_espeak(&t.path().join("bin"), "1.52.0", false);
    let root = t.path().join("data");
    let msg = install_with(&root, &tiny_spec(pkg), &LocalDeb(deb), &espeak)
        .unwrap_err()
        .to_string();
    assert!(msg.contains("expected eSpeak NG 1.51, got 1.52.0"), "{msg}");
    assert!(msg.contains("1.51+dfsg-10+deb12u2"), "{msg}");
    assert!(!root.exists());
}

#[test]
fn a_failing_espeak_ng_leaves_the_previous_folder_and_no_work_folder() {
    let t = tempfile::tempdir().unwrap();
    let (deb, pkg) = tiny_asterisk_deb(t.path());
    let spec = tiny_spec(pkg);
    let root = t.path().join("data");
    let failing = fake_espeak(&t.path().join("bad"), "1.51", true);

    // Nothing built yet: nothing is left.
    let err = install_with(&root, &spec, &LocalDeb(deb.clone()), &failing).unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, DatasetError::Tool { .. }), "{msg}");
    assert!(msg.contains("-v en-us+m1 -s 120 -p 30 -w"), "{msg}");
    assert!(msg.contains("voice does not exist"), "{msg}");
    assert_eq!(entries(&root), Vec::<String>::new());

    // A damaged earlier build stays as it was.
    let good = fake_espeak(&t.path().join("bin"), "1.51", false);
    install_with(&root, &spec, &LocalDeb(deb.clone()), &good).unwrap();
    let readme = root.join(FOLDER).join("README.md");
    std::fs::write(&readme, "edited").unwrap();
    install_with(&root, &spec, &LocalDeb(deb), &failing).unwrap_err();
    assert_eq!(entries(&root), vec![FOLDER.to_string()]);
    assert_eq!(std::fs::read_to_string(&readme).unwrap(), "edited");
    assert!(root.join(FOLDER).join(MANIFEST).is_file());
}

#[test]
fn fit_clip_centres_short_words_and_keeps_the_loudest_second() {
    // A 0.25 s word between 0.1 s and 0.3 s of near-silence (-60 dB): trimmed, then centred.
    let mut x = vec![0.0005; 1_600];
    x.extend(tone(400.0, 16_000, 4_000));
    x.extend(vec![-0.0005; 4_800]);
    let y = fit_clip(&x, 16_000).unwrap();
    assert_eq!(y.len(), 16_000);
    assert_eq!(&y[6_000..10_000], &x[1_600..5_600]);
    assert!(y[..6_000].iter().chain(&y[10_000..]).all(|&s| s == 0.0));

    // 1.5 s of sound, loudest in 0.6-1.1 s: the second around it is kept.
    let mut x: Vec<f32> = tone(300.0, 16_000, 24_000)
        .iter()
        .map(|s| s * 0.1)
        .collect();
    for s in &mut x[9_600..17_600] {
        *s *= 8.0;
    }
    let y = fit_clip(&x, 16_000).unwrap();
    assert_eq!(y.len(), 16_000);
    let from = (0..=8_000).find(|&f| x[f..f + 16_000] == y[..]).unwrap();
    assert!(
        from <= 9_600 && from + 16_000 >= 17_600,
        "window from {from}"
    );

    assert_eq!(fit_clip(&[0.0; 500], 16_000), None);
}

#[test]
fn the_embedded_words_and_voices() {
    let classes: Vec<&str> = KEYWORDS.iter().map(|k| k.class).collect();
    assert_eq!(classes, CLASSES);
    let mut sorted = classes.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted, classes, "alphabetical and unique");
    for d in [
        "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
    ] {
        assert!(
            classes.contains(&d)
                && KEYWORDS
                    .iter()
                    .any(|k| k.class == d && k.recording.starts_with("digits/"))
        );
    }
    let spec = KeywordsSpec::embedded();
    assert_eq!(
        spec.counts(),
        Counts {
            train: 1_764,
            valid: 504,
            test: 36
        }
    );
    let stand_in = crate::audio::AudioStandIn::EspeakKeywords;
    assert_eq!(spec.classes(), stand_in.classes());
    assert_eq!(spec.folder, stand_in.folder());
    let mut speakers: Vec<String> = spec
        .train_voices
        .iter()
        .chain(&spec.valid_voices)
        .map(|v| v.speaker())
        .collect();
    speakers.sort();
    speakers.dedup();
    assert_eq!(speakers.len(), 63);
    assert!(VALID_VARIANTS.iter().all(|v| !TRAIN_VARIANTS.contains(v)));
    // Every speed-pitch pair is used, by 5 or 6 of the 49 training voices.
    for s in SPEEDS {
        for p in PITCHES {
            let n = spec
                .train_voices
                .iter()
                .filter(|v| v.speed == s && v.pitch == p)
                .count();
            assert!((5..=6).contains(&n), "{s}/{p}: {n}");
        }
    }
    assert_eq!(
        spec.train_voices.len(),
        ACCENTS.len() * TRAIN_VARIANTS.len()
    );
}

#[test]
fn parses_the_espeak_ng_version_line() {
    let line =
        "eSpeak NG text-to-speech: 1.51  Data at: /usr/lib/x86_64-linux-gnu/espeak-ng-data\n";
    assert_eq!(parse_version(line).as_deref(), Some("1.51"));
    assert_eq!(parse_version("espeak 1.48"), None);
}

/// The real build: `apt-get download` of the pinned asterisk package and the system's
/// espeak-ng 1.51. Run with
/// `cargo test --release -p adamp-datasets keywords_espeak -- --ignored --nocapture`.
#[test]
#[ignore = "needs apt, a Debian mirror and espeak-ng 1.51; about a minute"]
fn builds_the_real_stand_in() {
    let t = tempfile::tempdir().unwrap();
    let start = std::time::Instant::now();
    let out = install(t.path()).unwrap();
    let built = start.elapsed();
    let dir = t.path().join(FOLDER);
    assert_eq!(out, FetchOutcome::Installed(dir.clone()));
    let options = SpeechCommandsOptions {
        classes: CLASSES.iter().map(|c| c.to_string()).collect(),
    };
    let listing = list_speech_commands(&dir, &options).unwrap();
    let counts = [AudioSplit::Train, AudioSplit::Valid, AudioSplit::Test].map(|s| listing.count(s));
    assert_eq!(counts, [1_764, 504, 36]);
    let manifest = read_manifest(&dir).unwrap();
    let bytes: u64 = manifest
        .files
        .keys()
        .map(|f| std::fs::metadata(dir.join(f)).unwrap().len())
        .sum();
    let start = std::time::Instant::now();
    assert_eq!(
        install(t.path()).unwrap(),
        FetchOutcome::AlreadyPresent(dir.clone())
    );
    let verified = start.elapsed();
    println!(
        "keyword stand-in: {counts:?} clips (train, valid, test), {} files, {bytes} bytes, \
         built in {built:.1?}, verified in {verified:.1?}",
        manifest.files.len()
    );
}
