//! The three loaders on the tiny datasets of `crate::testdata_audio`, and their bad inputs.

use std::path::Path;

use super::chunks::{cut_chunks, ChunkMode, DCASE_CHUNK, KEYWORD_CHUNK, MTAT_CHUNK};
use super::clip_cache::load_clip;
use super::dcase::{list_dcase, DcaseOptions, DCASE_CLASSES, DCASE_LISTS};
use super::listing::{AudioSplit, ClipLabel};
use super::mtat::{list_mtat, MtatOptions};
use super::speech_commands::{list_speech_commands, SpeechCommandsOptions, KEYWORD_CLASSES};
use crate::testdata_audio::*;
use crate::DatasetError;

fn rel(root: &Path, p: &Path) -> String {
    p.strip_prefix(root)
        .unwrap()
        .to_string_lossy()
        .replace('\\', "/")
}

#[test]
fn speech_commands_splits_follow_the_lists() {
    let dir = tempfile::tempdir().unwrap();
    write_tiny_speech_commands(dir.path()).unwrap();
    let l = list_speech_commands(dir.path(), &SpeechCommandsOptions::default()).unwrap();
    assert_eq!(l.classes.len(), 35);
    assert_eq!(
        (
            l.count(AudioSplit::Train),
            l.count(AudioSplit::Valid),
            l.count(AudioSplit::Test)
        ),
        (12, 4, 4)
    );
    assert!(l.skipped.is_empty());
    for c in &l.clips {
        let r = rel(dir.path(), &c.path);
        assert!(!r.starts_with("_background_noise_"), "{r}");
        let word = r.split('/').next().unwrap();
        assert_eq!(
            c.label,
            ClipLabel::Class(KEYWORD_CLASSES.iter().position(|w| *w == word).unwrap())
        );
        let speaker = TINY_KEYWORD_SPEAKERS
            .iter()
            .position(|s| r.contains(s))
            .unwrap();
        let want = match speaker {
            3 => AudioSplit::Valid,
            4 => AudioSplit::Test,
            _ => AudioSplit::Train,
        };
        assert_eq!(c.split, want, "{r}");
    }
    // Exactly the files the lists name, sorted.
    let valid: Vec<String> = l
        .split(AudioSplit::Valid)
        .iter()
        .map(|c| rel(dir.path(), &c.path))
        .collect();
    let listed = std::fs::read_to_string(dir.path().join("validation_list.txt")).unwrap();
    let mut want: Vec<&str> = listed.lines().collect();
    want.sort();
    assert_eq!(valid, want);
    // yes = 33, zero = 34 in the reference order.
    assert_eq!(KEYWORD_CLASSES[33], "yes");
    let yes = l
        .clips
        .iter()
        .filter(|c| c.label == ClipLabel::Class(33))
        .count();
    assert_eq!(yes, 5);
}

#[test]
fn speech_commands_short_clip_is_padded_to_one_chunk() {
    let dir = tempfile::tempdir().unwrap();
    write_tiny_speech_commands(dir.path()).unwrap();
    let l = list_speech_commands(dir.path(), &SpeechCommandsOptions::default()).unwrap();
    let short = l
        .clips
        .iter()
        .find(|c| c.path.to_string_lossy().contains(TINY_KEYWORD_SPEAKERS[2]))
        .unwrap();
    let clip = load_clip(&short.path, 16_000, None).unwrap();
    assert_eq!(clip.samples.len(), TINY_KEYWORD_FRAMES[1]);
    let cut = cut_chunks(
        &clip.samples,
        KEYWORD_CHUNK,
        ChunkMode::Train { seed: 1, epoch: 0 },
        0,
    )
    .unwrap();
    assert_eq!(cut.len(), 1);
    assert_eq!(cut[0].len(), KEYWORD_CHUNK);
}

#[test]
fn speech_commands_bad_inputs_are_named_errors() {
    let opts = SpeechCommandsOptions::default();
    // A list naming a missing clip.
    let dir = tempfile::tempdir().unwrap();
    write_tiny_speech_commands(dir.path()).unwrap();
    let list = dir.path().join("testing_list.txt");
    let mut text = std::fs::read_to_string(&list).unwrap();
    text.push_str("yes/ffffffff_nohash_9.wav\n");
    std::fs::write(&list, text).unwrap();
    let e = list_speech_commands(dir.path(), &opts).unwrap_err();
    assert!(matches!(e, DatasetError::Line { line: 5, .. }), "{e}");
    assert!(
        e.to_string().contains("ffffffff_nohash_9.wav")
            && e.to_string().contains("testing_list.txt"),
        "{e}"
    );

    // A list naming an unknown word.
    let dir = tempfile::tempdir().unwrap();
    write_tiny_speech_commands(dir.path()).unwrap();
    write_wav(
        &dir.path().join("maybe/aa_nohash_0.wav"),
        16_000,
        &[0.1; 100],
    )
    .unwrap();
    std::fs::write(
        dir.path().join("validation_list.txt"),
        "maybe/aa_nohash_0.wav\n",
    )
    .unwrap();
    let e = list_speech_commands(dir.path(), &opts).unwrap_err();
    assert!(e.to_string().contains("unknown word `maybe`"), "{e}");

    // An unknown word folder.
    std::fs::write(dir.path().join("validation_list.txt"), "").unwrap();
    let e = list_speech_commands(dir.path(), &opts).unwrap_err();
    assert!(
        matches!(e, DatasetError::Format { .. }) && e.to_string().contains("maybe"),
        "{e}"
    );

    // A missing list file.
    let dir = tempfile::tempdir().unwrap();
    write_tiny_speech_commands(dir.path()).unwrap();
    std::fs::remove_file(dir.path().join("validation_list.txt")).unwrap();
    let e = list_speech_commands(dir.path(), &opts).unwrap_err();
    assert!(
        matches!(e, DatasetError::Missing { .. }) && e.to_string().contains("validation_list.txt"),
        "{e}"
    );
}

#[test]
fn unreadable_audio_is_a_counted_skip_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    write_tiny_speech_commands(dir.path()).unwrap();
    let bad = dir
        .path()
        .join("up")
        .join(format!("{}_nohash_0.wav", TINY_KEYWORD_SPEAKERS[0]));
    std::fs::write(&bad, b"RIFF\x00\x00\x00\x00WAVEnot audio at all").unwrap();
    let mut l = list_speech_commands(dir.path(), &SpeechCommandsOptions::default()).unwrap();
    let cache = super::ClipCache::new(dir.path().join("cache"), dir.path()).unwrap();
    assert_eq!(l.drop_unreadable(16_000, Some(&cache)).unwrap(), 1);
    assert_eq!(l.count(AudioSplit::Train), 11);
    assert_eq!(l.skipped.len(), 1);
    assert_eq!(l.skipped[0].path, bad);
    assert!(
        l.skip_report().contains("cannot decode audio"),
        "{}",
        l.skip_report()
    );
    assert!(l.clips.iter().all(|c| c.path != bad));
}

#[test]
fn dcase_lists_labels_and_validation_draw() {
    let dir = tempfile::tempdir().unwrap();
    write_tiny_dcase(dir.path()).unwrap();
    let l = list_dcase(dir.path(), &DcaseOptions::default()).unwrap();
    assert_eq!(l.classes.len(), 17);
    assert_eq!(l.classes[11], "Car");
    assert!(l.skipped.is_empty(), "{}", l.skip_report());
    assert_eq!(
        (
            l.count(AudioSplit::Train),
            l.count(AudioSplit::Valid),
            l.count(AudioSplit::Test)
        ),
        (27, 2, 4)
    );
    let [training, testing, evaluation] = tiny_dcase_labels();
    let mut want = std::collections::BTreeMap::new();
    for (k, list) in [training, testing, evaluation].iter().enumerate() {
        for (j, classes) in list.iter().enumerate() {
            let mut v = vec![0.0f32; 17];
            for &c in classes {
                v[c] = 1.0;
            }
            want.insert(format!("Y{}", tiny_dcase_file(k, j)), (k, v));
        }
    }
    for c in &l.clips {
        let name = c.path.file_name().unwrap().to_string_lossy().into_owned();
        let (k, v) = &want[&name];
        assert_eq!(c.label.tags().unwrap(), &v[..], "{name}");
        assert_eq!(c.split == AudioSplit::Test, *k == 2, "{name}");
        assert!(c.path.parent().unwrap().ends_with(DCASE_LISTS[*k].1));
    }
    // One validation clip of class 0 and one of class 1; none of the 5-line classes 11/13.
    let valid: Vec<_> = l
        .split(AudioSplit::Valid)
        .iter()
        .map(|c| c.label.tags().unwrap().to_vec())
        .collect();
    assert_eq!(valid.iter().filter(|v| v[0] == 1.0).count(), 1);
    assert_eq!(valid.iter().filter(|v| v[1] == 1.0).count(), 1);
    // Deterministic, and the seed matters.
    assert_eq!(l, list_dcase(dir.path(), &DcaseOptions::default()).unwrap());
    let other = (0..20u64)
        .map(|s| {
            list_dcase(
                dir.path(),
                &DcaseOptions {
                    valid_seed: s,
                    ..Default::default()
                },
            )
            .unwrap()
        })
        .any(|o| o.split(AudioSplit::Valid) != l.split(AudioSplit::Valid));
    assert!(other);
    // A 3.5 s clip at 8 kHz → 56000 samples at 16 kHz → 16 eval chunks of 3 s.
    let clip = load_clip(&l.clips[0].path, 16_000, None).unwrap();
    assert_eq!(clip.samples.len(), 56_000);
    let cut = cut_chunks(
        &clip.samples,
        DCASE_CHUNK,
        ChunkMode::Eval {
            num_chunks: 16,
            seed: 0,
        },
        0,
    )
    .unwrap();
    assert_eq!(cut.len(), 16);
    assert_eq!(DCASE_CLASSES.len(), 17);
}

#[test]
fn dcase_missing_audio_is_skipped_unknown_label_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    write_tiny_dcase(dir.path()).unwrap();
    let gone = dir
        .path()
        .join("raw")
        .join(DCASE_LISTS[2].1)
        .join(format!("Y{}", tiny_dcase_file(2, 1)));
    std::fs::remove_file(&gone).unwrap();
    let l = list_dcase(dir.path(), &DcaseOptions::default()).unwrap();
    assert_eq!(l.count(AudioSplit::Test), 3);
    assert_eq!(l.skipped.len(), 1);
    assert_eq!(l.skipped[0].path, gone);
    assert!(
        l.skipped[0]
            .reason
            .contains("groundtruth_weak_label_evaluation_set.csv:2"),
        "{}",
        l.skipped[0].reason
    );

    let list = dir.path().join(DCASE_LISTS[1].0);
    let mut text = std::fs::read_to_string(&list).unwrap();
    text.push_str("zzz_0.000_10.000.wav\t0.000\t10.000\tTram\n");
    std::fs::write(&list, text).unwrap();
    let e = list_dcase(dir.path(), &DcaseOptions::default()).unwrap_err();
    assert!(matches!(e, DatasetError::Line { line: 5, .. }), "{e}");
    assert!(e.to_string().contains("unknown label `Tram`"), "{e}");

    std::fs::write(&list, "only\ttwo\n").unwrap();
    let e = list_dcase(dir.path(), &DcaseOptions::default()).unwrap_err();
    assert!(e.to_string().contains("4 tab-separated fields"), "{e}");
}

#[test]
fn mtat_top_tags_split_and_labels() {
    let dir = tempfile::tempdir().unwrap();
    write_tiny_mtat(dir.path()).unwrap();
    let l = list_mtat(dir.path(), &MtatOptions::default()).unwrap();
    let want_tags: Vec<String> = (0..50).rev().map(|t| format!("tag{t:02}")).collect();
    assert_eq!(l.classes, want_tags);
    assert_eq!(
        (
            l.count(AudioSplit::Train),
            l.count(AudioSplit::Valid),
            l.count(AudioSplit::Test)
        ),
        (24, 2, 6)
    );
    assert!(l.skipped.is_empty());
    let rows = tiny_mtat_rows();
    for c in &l.clips {
        let r = rel(&dir.path().join("mp3"), &c.path);
        let (_, _, tags) = rows.iter().find(|(_, p, _)| *p == r).unwrap();
        let v: Vec<f32> = (0..50)
            .rev()
            .map(|t| if tags.contains(&t) { 1.0 } else { 0.0 })
            .collect();
        assert_eq!(c.label.tags().unwrap(), &v[..], "{r}");
        let digit = u32::from_str_radix(&r[..1], 16).unwrap();
        let want = if digit < 12 {
            AudioSplit::Train
        } else if digit == 12 {
            AudioSplit::Valid
        } else {
            AudioSplit::Test
        };
        assert_eq!(c.split, want, "{r}");
    }
    assert!(l
        .clips
        .iter()
        .all(|c| !c.path.to_string_lossy().contains("untagged")));
    // WAV data under an .mp3 name decodes; 5.5 s → one 5 s training chunk in range.
    let clip = load_clip(&l.clips[0].path, 16_000, None).unwrap();
    assert_eq!(clip.samples.len(), 88_000);
    let cut = cut_chunks(
        &clip.samples,
        MTAT_CHUNK,
        ChunkMode::Train { seed: 0, epoch: 0 },
        0,
    )
    .unwrap();
    assert_eq!(cut[0].len(), MTAT_CHUNK);
}

#[test]
fn mtat_bad_inputs() {
    let dir = tempfile::tempdir().unwrap();
    write_tiny_mtat(dir.path()).unwrap();
    // Explicit tags: unknown → error; known → in that order.
    let e = list_mtat(
        dir.path(),
        &MtatOptions {
            tags: Some(vec!["tag01".into(), "rock".into()]),
        },
    )
    .unwrap_err();
    assert!(
        e.to_string().contains("unknown tag `rock`")
            && e.to_string().contains("annotations_final.csv"),
        "{e}"
    );
    let l = list_mtat(
        dir.path(),
        &MtatOptions {
            tags: Some(vec!["tag03".into(), "tag00".into()]),
        },
    )
    .unwrap();
    assert_eq!(l.classes, ["tag03", "tag00"]);
    // Clip j has tag03 iff j % 4 == 1, tag00 iff j % 4 == 0: 16 of 32 clips.
    assert_eq!(l.clips.len(), 16);
    // A missing clip is a counted skip naming it.
    let gone = dir.path().join("mp3").join(&tiny_mtat_rows()[31].1);
    std::fs::remove_file(&gone).unwrap();
    let l = list_mtat(dir.path(), &MtatOptions::default()).unwrap();
    assert_eq!(l.count(AudioSplit::Test), 5);
    assert_eq!(l.skipped.len(), 1);
    assert_eq!(l.skipped[0].path, gone);
    // A bad tag value is a line error.
    let ann = dir.path().join("annotations_final.csv");
    let text = std::fs::read_to_string(&ann)
        .unwrap()
        .replacen("\t\"0\"", "\t\"x\"", 1);
    std::fs::write(&ann, text).unwrap();
    let e = list_mtat(dir.path(), &MtatOptions::default()).unwrap_err();
    assert!(matches!(e, DatasetError::Line { line: 2, .. }), "{e}");
}
