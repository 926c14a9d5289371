//! The generated detection data from a tiny Fashion-MNIST fixture, read back by `open_coco`.

use std::path::{Path, PathBuf};

use super::*;

fn small(folder: &'static str) -> FmnistCocoSpec<'static> {
    FmnistCocoSpec {
        folder,
        canvas: 64,
        train_images: 6,
        val_images: 4,
        max_objects: 3,
        min_size: 16,
        max_size: 40,
        seed: 7,
    }
}

/// A tiny Fashion-MNIST folder (30 train, 20 test images of 28 x 28) under `t`.
fn fixture(t: &Path) -> PathBuf {
    let fm = t.join("fm");
    crate::testdata::write_idx_dataset(&fm, 30, 20, 28, 5).unwrap();
    fm
}

fn open_split(dir: &Path, split: &str) -> crate::coco::CocoDetection {
    open_coco(
        &dir.join(format!("annotations/instances_{split}2017.json")),
        &dir.join(format!("{split}2017")),
    )
    .unwrap()
}

/// Every file under `dir` with its bytes, sorted by relative path.
fn tree(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let bytes = std::fs::read(&p).unwrap();
                out.push((p.strip_prefix(dir).unwrap().to_path_buf(), bytes));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn canvases_open_as_coco_with_boxes_inside_and_ten_categories() {
    let t = tempfile::tempdir().unwrap();
    let fm = fixture(t.path());
    let root = t.path().join("data");
    let spec = small("fc");
    let dir = root.join("fc");
    assert_eq!(
        build_fmnist_coco_from(&spec, &fm, &root).unwrap(),
        FetchOutcome::Installed(dir.clone())
    );
    let (train, val) = (open_split(&dir, "train"), open_split(&dir, "val"));
    assert_eq!((train.len(), val.len()), (6, 4));
    let ids: Vec<u64> = val.images().iter().map(|i| i.id).collect();
    assert_eq!(ids, [7, 8, 9, 10]);
    for d in [&train, &val] {
        assert_eq!(d.skipped().total(), 0, "{}", d.describe());
        assert_eq!(d.categories().ids(), (1..=10).collect::<Vec<u64>>());
        assert_eq!(d.categories().name(0), "T-shirt/top");
        for (i, img) in d.images().iter().enumerate() {
            assert_eq!((img.width, img.height), (64, 64));
            let n = d.boxes(i).count();
            assert!((1..=3).contains(&n), "image {i} has {n} boxes");
            let boxes: Vec<[f64; 4]> = d.boxes(i).map(|a| a.bbox).collect();
            for a in d.boxes(i) {
                let [x, y, w, h] = a.bbox;
                assert!(w >= 1.0 && h >= 1.0 && x >= 0.0 && y >= 0.0);
                assert!(x + w <= 64.0 && y + h <= 64.0, "{:?}", a.bbox);
                assert!(w <= 40.0 && h <= 40.0);
                assert!(a.area >= 1.0 && a.area <= w * h);
                assert!(!a.iscrowd);
            }
            for a in 0..boxes.len() {
                for b in a + 1..boxes.len() {
                    assert!(canvas::iou(&boxes[a], &boxes[b]) <= MAX_IOU);
                }
            }
            let rgb = d.image(i).unwrap();
            assert_eq!((rgb.height, rgb.width, rgb.channels), (64, 64, 3));
        }
    }
    let json = std::fs::read_to_string(dir.join("annotations/instances_val2017.json")).unwrap();
    assert!(json.contains("\"info\"") && json.contains("\"licenses\""));
    assert_eq!(
        std::fs::read_dir(&root).unwrap().count(),
        1,
        "no work folder left"
    );
}

#[test]
fn the_same_spec_writes_the_same_bytes_and_another_seed_does_not() {
    let t = tempfile::tempdir().unwrap();
    let fm = fixture(t.path());
    let root = t.path().join("data");
    build_fmnist_coco_from(&small("a"), &fm, &root).unwrap();
    build_fmnist_coco_from(&small("b"), &fm, &root).unwrap();
    let a = tree(&root.join("a"));
    assert_eq!(a.len(), 6 + 4 + 2 + 1);
    assert_eq!(a, tree(&root.join("b")));
    let other = FmnistCocoSpec {
        seed: 8,
        ..small("c")
    };
    build_fmnist_coco_from(&other, &fm, &root).unwrap();
    let c = tree(&root.join("c"));
    assert_ne!(a[0].1, c[0].1, "the annotation files differ");
}

#[test]
fn a_folder_with_the_matching_stamp_is_left_alone_and_a_changed_spec_rebuilds() {
    let t = tempfile::tempdir().unwrap();
    let fm = fixture(t.path());
    let root = t.path().join("data");
    let spec = small("fc");
    let dir = root.join("fc");
    build_fmnist_coco_from(&spec, &fm, &root).unwrap();
    let marker = dir.join("train2017/marker.txt");
    std::fs::write(&marker, "kept").unwrap();
    assert_eq!(
        build_fmnist_coco_from(&spec, &fm, &root).unwrap(),
        FetchOutcome::AlreadyPresent(dir.clone())
    );
    assert!(marker.is_file());
    // A missing image means the folder does not open: rebuilt.
    std::fs::remove_file(dir.join("val2017/000000000008.png")).unwrap();
    assert_eq!(
        build_fmnist_coco_from(&spec, &fm, &root).unwrap(),
        FetchOutcome::Installed(dir.clone())
    );
    assert!(!marker.exists() && dir.join("val2017/000000000008.png").is_file());
    let more = FmnistCocoSpec {
        train_images: 7,
        ..spec
    };
    assert_eq!(
        build_fmnist_coco_from(&more, &fm, &root).unwrap(),
        FetchOutcome::Installed(dir.clone())
    );
    assert_eq!(open_split(&dir, "train").len(), 7);
}

#[test]
fn missing_fashion_mnist_names_the_fetch_command_and_bad_sizes_are_refused() {
    let t = tempfile::tempdir().unwrap();
    let root = t.path().join("data");
    let err = build_fmnist_coco_from(&small("fc"), &t.path().join("none"), &root).unwrap_err();
    assert!(matches!(err, DatasetError::Missing { .. }), "{err}");
    let msg = err.to_string();
    assert!(
        msg.contains("adamp data fetch") && msg.contains("Fashion-MNIST"),
        "{msg}"
    );
    assert!(!root.join("fc").exists());
    let fm = fixture(t.path());
    let bad = FmnistCocoSpec {
        max_size: 65,
        ..small("fc")
    };
    let msg = build_fmnist_coco_from(&bad, &fm, &root)
        .unwrap_err()
        .to_string();
    assert!(msg.contains("max_size (65) <= canvas (64)"), "{msg}");
}

/// The embedded default from the real Fashion-MNIST under `$ADAMP_DATA_DIR` (run with
/// `ADAMP_DATA_DIR=data cargo test --release -p adamp-datasets -- --ignored fmnist_coco`);
/// writes into a scratch root and prints the time and size.
#[test]
#[ignore = "needs the real Fashion-MNIST under $ADAMP_DATA_DIR"]
fn generates_the_default_from_real_fashion_mnist() {
    let fm = fashion_mnist_dir(&crate::fetch::data_root(None));
    let t = tempfile::tempdir().unwrap();
    let start = std::time::Instant::now();
    build_fmnist_coco_from(&FMNIST_COCO, &fm, t.path()).unwrap();
    let took = start.elapsed();
    let _ = std::process::Command::new("cp")
        .args([
            "-r",
            t.path().join("fmnist-coco").to_str().unwrap(),
            "/tmp/fc_preview",
        ])
        .status();
    let dir = t.path().join(FMNIST_COCO.folder);
    let (train, val) = (open_split(&dir, "train"), open_split(&dir, "val"));
    let bytes: usize = tree(&dir).iter().map(|(_, b)| b.len()).sum();
    let objects = |d: &crate::coco::CocoDetection| d.ground_truths().len();
    eprintln!(
        "fmnist-coco: {} train / {} val canvases, {} / {} objects, {bytes} bytes, {took:.2?}",
        train.len(),
        val.len(),
        objects(&train),
        objects(&val)
    );
    assert_eq!((train.len(), val.len()), (1200, 200));
    assert_eq!(train.skipped().total() + val.skipped().total(), 0);
}
