use super::chunks::*;

fn train(seed: u64, epoch: u64) -> ChunkMode {
    ChunkMode::Train { seed, epoch }
}

#[test]
fn train_offsets_are_deterministic_in_range_and_vary() {
    let (clip, chunk) = (100_000, MTAT_CHUNK);
    let mut seen = std::collections::BTreeSet::new();
    for epoch in 0..4 {
        for index in 0..50 {
            let a = chunks(clip, chunk, train(7, epoch), index).unwrap();
            let b = chunks(clip, chunk, train(7, epoch), index).unwrap();
            assert_eq!(a, b);
            assert_eq!(a.pad_offset, None);
            assert_eq!(a.starts.len(), 1);
            assert!(
                a.starts[0] < clip - chunk,
                "start {} out of range",
                a.starts[0]
            );
            seen.insert(a.starts[0]);
        }
    }
    // 200 draws in [0, 20000): many distinct starts, so epoch and index both enter the seed.
    assert!(seen.len() > 150, "only {} distinct starts", seen.len());
    let s0 = chunks(clip, chunk, train(7, 0), 3).unwrap();
    let s1 = chunks(clip, chunk, train(8, 0), 3).unwrap();
    let e1 = chunks(clip, chunk, train(7, 1), 3).unwrap();
    assert!(s0 != s1 || s0 != e1);
}

#[test]
fn exact_length_clip_starts_at_zero() {
    let p = chunks(DCASE_CHUNK, DCASE_CHUNK, train(1, 2), 5).unwrap();
    assert_eq!(
        p,
        ChunkPlan {
            pad_offset: None,
            starts: vec![0]
        }
    );
}

#[test]
fn eval_chunks_are_evenly_spaced_as_the_reference() {
    // hop = (len - chunk) // n, starts i * hop.
    let p = chunks(
        160_000 + 17,
        MTAT_CHUNK,
        ChunkMode::Eval {
            num_chunks: 16,
            seed: 0,
        },
        0,
    )
    .unwrap();
    let hop = (160_017 - 80_000) / 16;
    assert_eq!(hop, 5001);
    assert_eq!(p.starts, (0..16).map(|i| i * hop).collect::<Vec<_>>());
    assert!(p.starts[15] + MTAT_CHUNK <= 160_017);
    let one = chunks(
        16_000,
        KEYWORD_CHUNK,
        ChunkMode::Eval {
            num_chunks: 1,
            seed: 0,
        },
        0,
    )
    .unwrap();
    assert_eq!(one.starts, vec![0]);
}

#[test]
fn short_clip_is_padded_at_a_seeded_offset() {
    let samples: Vec<f32> = (1..=10).map(|i| i as f32).collect();
    for mode in [
        train(3, 1),
        ChunkMode::Eval {
            num_chunks: 4,
            seed: 3,
        },
    ] {
        let plan = chunks(10, 25, mode, 9).unwrap();
        let o = plan.pad_offset.expect("short clip is padded");
        assert!(o < 15);
        assert_eq!(plan, chunks(10, 25, mode, 9).unwrap());
        let cut = cut_chunks(&samples, 25, mode, 9).unwrap();
        assert_eq!(cut.len(), plan.starts.len());
        for c in &cut {
            assert_eq!(c.len(), 25);
            assert_eq!(&c[o..o + 10], &samples[..]);
            assert!(c[..o].iter().chain(&c[o + 10..]).all(|&v| v == 0.0));
        }
    }
}

#[test]
fn cut_chunks_copies_the_planned_windows() {
    let samples: Vec<f32> = (0..1000).map(|i| i as f32).collect();
    let mode = ChunkMode::Eval {
        num_chunks: 3,
        seed: 0,
    };
    let cut = cut_chunks(&samples, 100, mode, 0).unwrap();
    assert_eq!(cut.len(), 3);
    assert_eq!(cut[1][0], 300.0);
    assert_eq!(cut[2][99], 699.0);
    let t = cut_chunks(&samples, 100, train(5, 0), 4).unwrap();
    let start = chunks(1000, 100, train(5, 0), 4).unwrap().starts[0];
    assert_eq!(t[0][0], start as f32);
}

#[test]
fn bad_chunk_settings_are_errors() {
    assert!(chunks(0, 10, train(0, 0), 0).is_err());
    assert!(chunks(10, 0, train(0, 0), 0).is_err());
    assert!(chunks(
        10,
        5,
        ChunkMode::Eval {
            num_chunks: 0,
            seed: 0
        },
        0
    )
    .is_err());
}

#[test]
fn averaging_takes_the_mean_per_clip() {
    // 2 clips x 3 chunks x 2 outputs, clip-major.
    let p = [
        0.0, 1.0, 0.5, 1.0, 1.0, 1.0, // clip 0
        0.2, 0.0, 0.4, 0.3, 0.9, 0.6, // clip 1
    ];
    let avg = average_chunk_predictions(&p, 3, 2).unwrap();
    let want = [0.5, 1.0, 0.5, 0.3];
    assert_eq!(avg.len(), 4);
    for (a, w) in avg.iter().zip(want) {
        assert!((a - w).abs() < 1e-6, "{avg:?}");
    }
    assert!(average_chunk_predictions(&p, 5, 2).is_err());
    assert!(average_chunk_predictions(&p, 0, 2).is_err());
}
