//! The mixer and the pool split on synthetic in-memory recordings.

use std::collections::BTreeSet;

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use super::mixer::{plan_clip, render_clip, rms, trim_silence, MixSettings, Sample, MAX_PEAK};
use super::pools::{prefix, split_pools};
use super::SONIC_PI_EVENTS;

const RATE: u32 = 16_000;

/// 4 s clips, 3 s chunks (the stand-in's settings).
fn settings() -> MixSettings {
    SONIC_PI_EVENTS.mix
}

fn sine(freq: f32, frames: usize, amp: f32) -> Vec<f32> {
    (0..frames)
        .map(|n| amp * (2.0 * std::f32::consts::PI * freq * n as f32 / RATE as f32).sin())
        .collect()
}

/// Three categories: class `c`'s recordings are sines of `300 (c + 1)` Hz; lengths 0.05 s
/// (shorter than any event), 1 s and 5 s (longer than any event).
fn samples() -> Vec<Sample> {
    let mut out = Vec::new();
    for c in 0..3 {
        for (k, frames) in [800usize, 16_000, 80_000].into_iter().enumerate() {
            out.push(Sample {
                name: format!("c{c}_{k}.flac"),
                class: c,
                audio: sine(300.0 * (c + 1) as f32, frames, 0.5),
            });
        }
    }
    out
}

fn all_pools(samples: &[Sample]) -> Vec<Vec<usize>> {
    (0..3)
        .map(|c| {
            (0..samples.len())
                .filter(|&i| samples[i].class == c)
                .collect()
        })
        .collect()
}

#[test]
fn the_stand_in_settings_are_valid_and_its_core_is_the_middle_two_seconds() {
    let s = settings();
    s.validate().unwrap();
    assert_eq!(s.core(), (16_000, 48_000));
    let mut short_chunk = s;
    short_chunk.chunk_frames = 24_000; // 1.5 s chunks of a 4 s clip: no common core
    let msg = short_chunk.validate().unwrap_err().to_string();
    assert!(msg.contains("chunk_frames"), "{msg}");
    let mut long_event = s;
    long_event.max_event_frames = 70_000;
    assert!(long_event.validate().is_err());
}

#[test]
fn planned_events_fit_the_clip_overlap_the_core_and_use_their_pools() {
    let s = settings();
    let samples = samples();
    let mut pools = all_pools(&samples);
    pools[1] = vec![4]; // class 1 may only use its 1 s recording
    pools[2].clear(); // class 2 is never drawn
    let (core_start, core_end) = s.core();
    let mut n_events = BTreeSet::new();
    let mut shortest = usize::MAX;
    for seed in 0..400 {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let events = plan_clip(&mut rng, &pools, &samples, &s);
        n_events.insert(events.len());
        let classes: BTreeSet<usize> = events.iter().map(|e| e.class).collect();
        assert_eq!(classes.len(), events.len(), "distinct categories");
        for e in &events {
            assert!(pools[e.class].contains(&e.sample), "{e:?}");
            assert_eq!(samples[e.sample].class, e.class);
            let len = samples[e.sample].audio.len();
            assert!(e.offset + e.frames <= len, "{e:?}");
            assert!(e.onset + e.frames <= s.clip_frames, "{e:?}");
            if len >= s.min_event_frames {
                assert!(e.frames >= s.min_event_frames && e.frames <= s.max_event_frames);
            } else {
                assert_eq!(
                    (e.offset, e.frames),
                    (0, len),
                    "a short recording is used whole"
                );
            }
            let overlap =
                (e.onset + e.frames).min(core_end) as i64 - e.onset.max(core_start) as i64;
            assert!(
                overlap >= e.frames.min(s.min_overlap_frames) as i64,
                "{e:?} overlaps the core by {overlap}"
            );
            assert!((s.event_dbfs.0..=s.event_dbfs.1).contains(&e.level_dbfs));
            shortest = shortest.min(e.frames);
        }
    }
    // With two open categories, clips hold one or two events; short recordings were drawn.
    assert_eq!(n_events, BTreeSet::from([1, 2]));
    assert_eq!(shortest, 800);
}

#[test]
fn up_to_three_events_one_most_often() {
    let s = settings();
    let samples = samples();
    let pools = all_pools(&samples);
    let mut counts = [0usize; 4];
    for seed in 0..1_100 {
        counts[plan_clip(&mut ChaCha8Rng::seed_from_u64(seed), &pools, &samples, &s).len()] += 1;
    }
    // P(k) ∝ 1/k: expected 600, 300, 200 of 1,100 (binomial sd <= 17).
    assert_eq!(counts[0], 0);
    for (k, want) in [(1, 600.0), (2, 300.0), (3, 200.0)] {
        assert!((counts[k] as f64 - want).abs() < 60.0, "{counts:?}");
    }
}

#[test]
fn a_rendered_event_has_its_level_and_the_rest_is_the_noise_floor() {
    let s = settings();
    let samples = samples();
    let mut pools = all_pools(&samples);
    pools[0] = vec![1]; // the 1 s sine of class 0
    pools[1].clear();
    pools[2].clear();
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let events = plan_clip(&mut rng, &pools, &samples, &s);
    assert_eq!(events.len(), 1);
    let e = events[0];
    let clip = render_clip(&mut rng, &events, &samples, &s);
    assert_eq!(clip.len(), s.clip_frames);
    let db = |x: &[f32]| 20.0 * rms(x).log10();
    // Inside the event (away from its fades): the planned level (noise 15+ dB below).
    let inside = &clip[e.onset + 200..e.onset + e.frames - 200];
    assert!(
        (db(inside) - e.level_dbfs).abs() < 0.3,
        "{} vs {}",
        db(inside),
        e.level_dbfs
    );
    // Outside: the -50 dBFS noise floor.
    let outside: Vec<f32> = clip[..e.onset]
        .iter()
        .chain(&clip[e.onset + e.frames..])
        .copied()
        .collect();
    assert!(outside.len() > 16_000);
    assert!(
        (db(&outside) - s.noise_dbfs).abs() < 0.3,
        "{}",
        db(&outside)
    );
    assert!(clip.iter().all(|v| v.abs() <= MAX_PEAK));
}

#[test]
fn rendering_is_deterministic_and_loud_clips_are_scaled_to_the_peak() {
    let mut s = settings();
    s.event_dbfs = (0.0, 0.0); // 0 dBFS RMS sines peak at 1.41: scaled down
    let samples = samples();
    let pools = all_pools(&samples);
    let render = |seed| {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let events = plan_clip(&mut rng, &pools, &samples, &s);
        render_clip(&mut rng, &events, &samples, &s)
    };
    let a = render(3);
    assert_eq!(a, render(3));
    assert_ne!(a, render(4));
    let peak = a.iter().fold(0.0f32, |m, v| m.max(v.abs()));
    assert!((peak - MAX_PEAK).abs() < 1e-6, "{peak}");
}

#[test]
fn fades_only_where_a_segment_cuts_a_recording() {
    let s = settings();
    let samples = samples();
    let mut pools = all_pools(&samples);
    pools[0] = vec![2]; // the 5 s recording: every event cuts it
    pools[1].clear();
    pools[2].clear();
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let mut events = plan_clip(&mut rng, &pools, &samples, &s);
    events[0].offset = 1; // cut at both ends
    let mut quiet = s;
    quiet.noise_dbfs = -200.0;
    let clip = render_clip(&mut rng, &events, &samples, &quiet);
    let e = events[0];
    // The first and last frames are faded to (near) zero.
    assert!(clip[e.onset].abs() < 1e-6 && clip[e.onset + e.frames - 1].abs() < 1e-6);
    // A whole recording (the 0.05 s one) is not faded: its second frame is at full gain.
    let whole = super::mixer::Event {
        sample: 0,
        offset: 0,
        frames: 800,
        onset: 20_000,
        ..e
    };
    let clip = render_clip(&mut rng, &[whole], &samples, &quiet);
    let gain = 10f32.powf(e.level_dbfs / 20.0) / rms(&samples[0].audio);
    assert!((clip[20_001] - gain * samples[0].audio[1]).abs() < 1e-6);
}

#[test]
fn trimming_cuts_silent_ends_only() {
    let mut audio = vec![0.0f32; 1_600];
    audio.extend(sine(440.0, 3_200, 0.5));
    audio.extend(vec![1e-5; 1_600]); // -97 dBFS: below the 50 dB floor
    let trimmed = trim_silence(&audio).unwrap();
    assert_eq!(trimmed.len(), 3_200);
    assert_eq!(trimmed[..], audio[1_600..4_800]);
    assert_eq!(trim_silence(&[0.0; 500]), None);
}

#[test]
fn every_fourth_recording_of_a_category_is_a_test_recording() {
    let mk = |class, n| {
        (0..n).map(move |k| Sample {
            name: format!("c{class}_{k:02}.flac"),
            class,
            audio: vec![0.1; 10],
        })
    };
    // Class 0: 9 recordings, class 1: 3 (too few to split), class 2: 4.
    let samples: Vec<Sample> = mk(0, 9).chain(mk(1, 3)).chain(mk(2, 4)).collect();
    let [train, test] = split_pools(&samples, 3);
    assert_eq!(test[0], vec![3, 7]);
    assert_eq!(train[0], vec![0, 1, 2, 4, 5, 6, 8]);
    assert_eq!(
        (train[1].clone(), test[1].clone()),
        (vec![9, 10, 11], vec![9, 10, 11])
    );
    assert_eq!(
        (train[2].clone(), test[2].clone()),
        (vec![12, 13, 14], vec![15])
    );
    assert_eq!(prefix("ambi_glass_hum.flac"), "ambi");
    assert_eq!(prefix("mehackit_phone1.flac"), "mehackit");
}
