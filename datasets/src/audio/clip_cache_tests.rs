//! The clip cache: written once, read back, validated, replaced when damaged.

use std::path::Path;

use super::clip_cache::{
    load_clip, CacheStats, ClipCache, CACHE_HEADER_LEN, CACHE_MAGIC, CACHE_VERSION,
};
use super::test_signals::{fixture, write_int_wav};
use crate::error::DatasetError;

/// A dataset root with one 44.1 kHz stereo FLAC clip (the fixture) at `clips/a.flac`.
fn dataset() -> (tempfile::TempDir, std::path::PathBuf) {
    let root = tempfile::tempdir().unwrap();
    std::fs::create_dir(root.path().join("clips")).unwrap();
    let clip = root.path().join("clips/a.flac");
    std::fs::copy(fixture("two_tone_44100_s24_stereo.flac"), &clip).unwrap();
    (root, clip)
}

fn stats(hits: usize, decodes: usize, replaced: usize) -> CacheStats {
    CacheStats {
        hits,
        decodes,
        replaced,
    }
}

/// The bytes of a cache file holding `samples`, with a valid header for `key`.
fn entry_bytes(key: &[u8; 32], rate: u32, samples: &[f32]) -> Vec<u8> {
    let mut b = CACHE_MAGIC.to_vec();
    b.extend_from_slice(&CACHE_VERSION.to_le_bytes());
    b.extend_from_slice(&rate.to_le_bytes());
    b.extend_from_slice(&(samples.len() as u64).to_le_bytes());
    b.extend_from_slice(key);
    for s in samples {
        b.extend_from_slice(&s.to_le_bytes());
    }
    b
}

#[test]
fn the_second_load_reads_the_cache_file() {
    let (root, clip) = dataset();
    let cache_dir = root.path().join("cache");
    let cache = ClipCache::new(&cache_dir, root.path()).unwrap();
    let first = load_clip(&clip, 16_000, Some(&cache)).unwrap();
    assert_eq!(first.sample_rate, 16_000);
    assert_eq!(first.samples.len(), 1600); // ceil(4410 * 16000 / 44100)
    assert_eq!(first, load_clip(&clip, 16_000, None).unwrap());
    assert_eq!(cache.stats(), stats(0, 1, 0));

    let second = load_clip(&clip, 16_000, Some(&cache)).unwrap();
    assert_eq!(second, first);
    assert_eq!(cache.stats(), stats(1, 1, 0));

    // Proof that the samples come from the file: replace it with a valid entry of other samples.
    let key = cache.key(&clip, 16_000).unwrap();
    let entry = cache.entry_path(&clip, 16_000).unwrap();
    std::fs::write(&entry, entry_bytes(&key, 16_000, &[0.25; 3])).unwrap();
    let third = load_clip(&clip, 16_000, Some(&cache)).unwrap();
    assert_eq!(third.samples, [0.25; 3]);
    assert_eq!(cache.stats(), stats(2, 1, 0));
}

#[test]
fn the_cache_file_has_the_documented_layout() {
    let (root, clip) = dataset();
    let cache = ClipCache::new(root.path().join("cache"), root.path()).unwrap();
    let loaded = load_clip(&clip, 16_000, Some(&cache)).unwrap();
    let entry = cache.entry_path(&clip, 16_000).unwrap();
    let key = cache.key(&clip, 16_000).unwrap();
    let hex: String = key.iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(
        entry.file_name().unwrap().to_string_lossy(),
        format!("{hex}.f32")
    );
    let bytes = std::fs::read(&entry).unwrap();
    assert_eq!(bytes, entry_bytes(&key, 16_000, &loaded.samples));
    assert_eq!(bytes.len(), CACHE_HEADER_LEN + 4 * 1600);
    // Nothing else in the folder (no temporary file left).
    assert_eq!(std::fs::read_dir(cache.dir()).unwrap().count(), 1);
}

#[test]
fn a_damaged_cache_file_is_decoded_again_and_replaced() {
    let (root, clip) = dataset();
    let cache = ClipCache::new(root.path().join("cache"), root.path()).unwrap();
    let good = load_clip(&clip, 16_000, Some(&cache)).unwrap();
    let entry = cache.entry_path(&clip, 16_000).unwrap();
    let key = cache.key(&clip, 16_000).unwrap();
    let valid = std::fs::read(&entry).unwrap();

    let mut bad_magic = valid.clone();
    bad_magic[0] ^= 0xff;
    let mut other_version = valid.clone();
    other_version[8] = 2;
    let mut other_rate = valid.clone();
    other_rate[12..16].copy_from_slice(&22_050u32.to_le_bytes());
    let mut other_key = valid.clone();
    other_key[30] ^= 1;
    let mut not_finite = valid.clone();
    not_finite[CACHE_HEADER_LEN + 40..CACHE_HEADER_LEN + 44]
        .copy_from_slice(&f32::NAN.to_le_bytes());
    let damaged: Vec<(&str, Vec<u8>)> = vec![
        (
            "short (cut in the samples)",
            valid[..valid.len() - 6].to_vec(),
        ),
        ("shorter than the header", valid[..20].to_vec()),
        (
            "longer than its frame count",
            [valid.clone(), vec![0; 4]].concat(),
        ),
        ("empty", Vec::new()),
        ("bad magic", bad_magic),
        ("another version", other_version),
        ("another rate", other_rate),
        ("another key", other_key),
        ("a NaN sample", not_finite),
        ("zero frames", entry_bytes(&key, 16_000, &[])),
    ];
    for (i, (what, bytes)) in damaged.into_iter().enumerate() {
        std::fs::write(&entry, bytes).unwrap();
        let again = load_clip(&clip, 16_000, Some(&cache)).unwrap();
        assert_eq!(again, good, "{what}");
        assert_eq!(cache.stats(), stats(0, 2 + i, 1 + i), "{what}");
        assert_eq!(
            std::fs::read(&entry).unwrap(),
            valid,
            "{what}: not replaced"
        );
    }
}

#[test]
fn a_changed_source_or_rate_gets_another_entry() {
    let (root, clip) = dataset();
    let cache = ClipCache::new(root.path().join("cache"), root.path()).unwrap();
    let at_16k = cache.entry_path(&clip, 16_000).unwrap();
    assert_ne!(at_16k, cache.entry_path(&clip, 22_050).unwrap());
    load_clip(&clip, 16_000, Some(&cache)).unwrap();
    // Replace the clip by a WAV of other content (another size): a new key, decoded again.
    write_int_wav(&clip, 16_000, 1, 16, &[1000, -1000, 500]);
    assert_ne!(cache.entry_path(&clip, 16_000).unwrap(), at_16k);
    let new = load_clip(&clip, 16_000, Some(&cache)).unwrap();
    assert_eq!(new.samples.len(), 3);
    assert_eq!(cache.stats(), stats(0, 2, 0));
}

#[test]
fn the_key_is_relative_to_the_dataset_root() {
    let (root, clip) = dataset();
    let moved = tempfile::tempdir().unwrap();
    let moved_clip = moved.path().join("clips/a.flac");
    std::fs::create_dir(moved.path().join("clips")).unwrap();
    std::fs::copy(&clip, &moved_clip).unwrap();
    let mtime = std::fs::metadata(&clip).unwrap().modified().unwrap();
    std::fs::File::options()
        .write(true)
        .open(&moved_clip)
        .unwrap()
        .set_modified(mtime)
        .unwrap();
    let a = ClipCache::new(root.path().join("cache"), root.path()).unwrap();
    let b = ClipCache::new(root.path().join("cache"), moved.path()).unwrap();
    assert_eq!(
        a.key(&clip, 16_000).unwrap(),
        b.key(&moved_clip, 16_000).unwrap()
    );
}

#[test]
fn a_bad_source_writes_no_cache_file() {
    let root = tempfile::tempdir().unwrap();
    let bad = root.path().join("bad.wav");
    std::fs::write(&bad, b"RIFF not really").unwrap();
    let cache = ClipCache::new(root.path().join("cache"), root.path()).unwrap();
    let err = load_clip(&bad, 16_000, Some(&cache)).unwrap_err();
    assert!(matches!(err, DatasetError::AudioDecode { .. }), "{err:?}");
    assert!(err.to_string().contains("bad.wav"));
    assert_eq!(std::fs::read_dir(cache.dir()).unwrap().count(), 0);
    let missing = Path::new("/nonexistent/x.wav");
    let err = load_clip(missing, 16_000, Some(&cache)).unwrap_err();
    assert!(err.to_string().contains("/nonexistent/x.wav"), "{err}");
}

#[test]
fn threads_loading_the_same_clip_at_once_get_the_same_samples() {
    let (root, clip) = dataset();
    let cache = ClipCache::new(root.path().join("cache"), root.path()).unwrap();
    let want = load_clip(&clip, 16_000, None).unwrap();
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..4)
            .map(|_| s.spawn(|| load_clip(&clip, 16_000, Some(&cache)).unwrap()))
            .collect();
        for h in handles {
            assert_eq!(h.join().unwrap(), want);
        }
    });
    let st = cache.stats();
    assert_eq!(st.hits + st.decodes, 4);
    assert_eq!(st.replaced, 0);
    // One valid entry, no temporary file left.
    assert_eq!(std::fs::read_dir(cache.dir()).unwrap().count(), 1);
    assert_eq!(load_clip(&clip, 16_000, Some(&cache)).unwrap(), want);
}
