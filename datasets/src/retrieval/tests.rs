//! The four readers on tiny data written in their real layouts, and their bad-input errors.

use std::path::Path;
use std::sync::Arc;

use super::*;
use crate::testdata_retrieval::write_tiny;

fn labels(s: &Arc<dyn ImageSource>) -> Vec<u32> {
    (0..s.len()).map(|i| s.label(i)).collect()
}

fn within(d: &RetrievalData) -> &Arc<dyn ImageSource> {
    match &d.eval {
        RetrievalEval::Within(s) => s,
        RetrievalEval::QueryGallery { .. } => panic!("expected a within-set evaluation"),
    }
}

fn open_err(format: RetrievalFormat, root: &Path) -> String {
    match open_retrieval(format, root) {
        Ok(_) => panic!("{format} at {} opened", root.display()),
        Err(e) => e.to_string(),
    }
}

#[test]
fn cub_and_cars_split_classes_in_halves_with_labels_from_zero() {
    for format in [RetrievalFormat::Cub, RetrievalFormat::Cars] {
        let t = tempfile::tempdir().unwrap();
        write_tiny(format, t.path(), 6, 3, 8).unwrap();
        let d = open_retrieval(format, t.path()).unwrap();
        let eval = within(&d);
        assert_eq!((d.train.len(), eval.len()), (9, 9), "{format}");
        assert_eq!((d.train.num_classes(), eval.num_classes()), (3, 3));
        // Train holds ids 1-3 (labels 0-2), eval ids 4-6 (labels 0-2), in file order.
        assert_eq!(labels(&d.train), [0, 0, 0, 1, 1, 1, 2, 2, 2]);
        assert_eq!(labels(eval), [0, 0, 0, 1, 1, 1, 2, 2, 2]);
        let img = eval.image(4).unwrap();
        assert_eq!((img.height, img.width, img.channels), (8, 8, 3));
    }
}

#[test]
fn cub_accepts_the_unpacked_archive_folder_and_maps_odd_class_counts() {
    let t = tempfile::tempdir().unwrap();
    write_tiny(
        RetrievalFormat::Cub,
        &t.path().join("CUB_200_2011"),
        5,
        2,
        4,
    )
    .unwrap();
    let d = open_retrieval(RetrievalFormat::Cub, t.path()).unwrap();
    // 5 classes: the first 2 train, the last 3 evaluate.
    assert_eq!((d.train.num_classes(), within(&d).num_classes()), (2, 3));
    assert_eq!(within(&d).len(), 6);
}

#[test]
fn sop_uses_its_own_files_and_numbers_each_split_from_zero() {
    let t = tempfile::tempdir().unwrap();
    write_tiny(RetrievalFormat::Sop, t.path(), 4, 3, 6).unwrap();
    let d = open_retrieval(RetrievalFormat::Sop, t.path()).unwrap();
    assert_eq!((d.train.len(), within(&d).len()), (6, 6));
    assert_eq!(labels(&d.train), [0, 0, 0, 1, 1, 1]);
    assert_eq!(labels(within(&d)), [0, 0, 0, 1, 1, 1]);
    assert!(d.train.describe().contains("Ebay_train.txt"));
}

#[test]
fn inshop_query_and_gallery_share_one_numbering() {
    let t = tempfile::tempdir().unwrap();
    write_tiny(RetrievalFormat::InShop, t.path(), 4, 5, 6).unwrap();
    let d = open_retrieval(RetrievalFormat::InShop, t.path()).unwrap();
    assert_eq!((d.train.len(), d.train.num_classes()), (10, 2));
    let RetrievalEval::QueryGallery { query, gallery } = &d.eval else {
        panic!("In-Shop evaluates query against gallery");
    };
    // Items 3 and 4: images 0-1 query, 2-4 gallery.
    assert_eq!((query.len(), gallery.len()), (4, 6));
    assert_eq!((query.num_classes(), gallery.num_classes()), (2, 2));
    assert_eq!(labels(query), [0, 0, 1, 1]);
    assert_eq!(labels(gallery), [0, 0, 0, 1, 1, 1]);
    // An item only in the gallery still shares the numbering: drop item 3's queries.
    let file = t.path().join("list_eval_partition.txt");
    let text = std::fs::read_to_string(&file).unwrap();
    let kept: Vec<&str> = text
        .lines()
        .filter(|l| !(l.contains("id_00000003") && l.ends_with("query")))
        .collect();
    let mut kept = kept.into_iter().map(String::from).collect::<Vec<_>>();
    kept[0] = (kept.len() - 2).to_string();
    std::fs::write(&file, kept.join("\n")).unwrap();
    let d = open_retrieval(RetrievalFormat::InShop, t.path()).unwrap();
    let RetrievalEval::QueryGallery { query, gallery } = &d.eval else {
        panic!()
    };
    assert_eq!(labels(query), [1, 1]);
    assert_eq!(gallery.num_classes(), 2);
}

#[test]
fn a_missing_image_is_named_with_its_split_file_and_line_at_open_time() {
    for (format, list, line) in [
        (RetrievalFormat::Cub, "images.txt", 5),
        (RetrievalFormat::Cars, "cars_annos.csv", 6),
        (RetrievalFormat::Sop, "Ebay_train.txt", 4),
        (RetrievalFormat::InShop, "list_eval_partition.txt", 7),
    ] {
        let t = tempfile::tempdir().unwrap();
        write_tiny(format, t.path(), 4, 2, 4).unwrap();
        // An image named on line `line` of a split file.
        let text = std::fs::read_to_string(t.path().join(list)).unwrap();
        let row = text.lines().nth(line - 1).unwrap();
        let rel = row
            .split([' ', ','])
            .find(|f| f.ends_with(".jpg") || f.ends_with(".JPG"))
            .unwrap();
        let img = match format {
            RetrievalFormat::Cub => t.path().join("images").join(rel),
            _ => t.path().join(rel),
        };
        std::fs::remove_file(&img).unwrap();
        let msg = open_err(format, t.path());
        assert!(msg.contains(rel), "{format}: {msg}");
        assert!(msg.contains(&format!("{list}:{line}")), "{format}: {msg}");
        assert!(msg.contains("not found"), "{format}: {msg}");
    }
}

#[test]
fn malformed_lines_are_named_by_file_and_line() {
    let cases: [(RetrievalFormat, &str, usize, &str); 5] = [
        (RetrievalFormat::Cub, "image_class_labels.txt", 3, "3 three"),
        (RetrievalFormat::Cub, "images.txt", 2, "2"),
        (
            RetrievalFormat::Cars,
            "cars_annos.csv",
            3,
            "car_ims/000002.jpg,1,2",
        ),
        (RetrievalFormat::Sop, "Ebay_test.txt", 2, "1 3 1"),
        (
            RetrievalFormat::InShop,
            "list_eval_partition.txt",
            4,
            "img/x.jpg 7 train",
        ),
    ];
    for (format, file, line, bad) in cases {
        let t = tempfile::tempdir().unwrap();
        write_tiny(format, t.path(), 4, 2, 4).unwrap();
        let path = t.path().join(file);
        let text = std::fs::read_to_string(&path).unwrap();
        let mut lines: Vec<&str> = text.lines().collect();
        lines[line - 1] = bad;
        std::fs::write(&path, lines.join("\n")).unwrap();
        let msg = open_err(format, t.path());
        assert!(msg.contains(&format!("{file}:{line}")), "{format}: {msg}");
        assert!(msg.contains(bad), "{format}: {msg}");
    }
}

#[test]
fn inshop_refuses_an_unknown_status_and_a_wrong_count() {
    let t = tempfile::tempdir().unwrap();
    write_tiny(RetrievalFormat::InShop, t.path(), 4, 2, 4).unwrap();
    let path = t.path().join("list_eval_partition.txt");
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, text.replacen(" gallery", " validation", 1)).unwrap();
    let msg = open_err(RetrievalFormat::InShop, t.path());
    assert!(
        msg.contains("unknown evaluation_status `validation`"),
        "{msg}"
    );
    assert!(msg.contains("list_eval_partition.txt:"), "{msg}");
    std::fs::write(&path, text.replacen("8\n", "9\n", 1)).unwrap();
    let msg = open_err(RetrievalFormat::InShop, t.path());
    assert!(
        msg.contains("list_eval_partition.txt:1") && msg.contains("9 images"),
        "{msg}"
    );
}

#[test]
fn empty_splits_and_missing_split_files_are_refused_naming_them() {
    let t = tempfile::tempdir().unwrap();
    write_tiny(RetrievalFormat::Sop, t.path(), 4, 2, 4).unwrap();
    std::fs::write(
        t.path().join("Ebay_test.txt"),
        format!("{}\n", sop::SOP_HEADER),
    )
    .unwrap();
    let msg = open_err(RetrievalFormat::Sop, t.path());
    assert!(
        msg.contains("test split is empty") && msg.contains("Ebay_test.txt"),
        "{msg}"
    );
    // In-Shop without queries.
    let t = tempfile::tempdir().unwrap();
    write_tiny(RetrievalFormat::InShop, t.path(), 4, 2, 4).unwrap();
    let path = t.path().join("list_eval_partition.txt");
    let text = std::fs::read_to_string(&path).unwrap();
    let kept: Vec<&str> = text.lines().filter(|l| !l.ends_with(" query")).collect();
    let mut kept: Vec<String> = kept.into_iter().map(String::from).collect();
    kept[0] = (kept.len() - 2).to_string();
    std::fs::write(&path, kept.join("\n")).unwrap();
    let msg = open_err(RetrievalFormat::InShop, t.path());
    assert!(msg.contains("query split is empty"), "{msg}");
    // No files at all: the missing split file and what to do.
    let t = tempfile::tempdir().unwrap();
    for format in RetrievalFormat::ALL {
        let msg = open_err(format, t.path());
        assert!(
            msg.contains("not found") && msg.contains("point the dataset root"),
            "{msg}"
        );
    }
}

#[test]
fn formats_have_their_config_names() {
    #[derive(serde::Deserialize)]
    struct C {
        f: Vec<RetrievalFormat>,
    }
    let c: C = serde_json::from_str(r#"{"f": ["cub", "cars", "sop", "inshop"]}"#).unwrap();
    assert_eq!(c.f, RetrievalFormat::ALL);
    let names: Vec<&str> = RetrievalFormat::ALL.iter().map(|f| f.as_str()).collect();
    assert_eq!(names, ["cub", "cars", "sop", "inshop"]);
    assert!(serde_json::from_str::<RetrievalFormat>(r#""in_shop""#).is_err());
}

#[test]
fn the_downloads_own_folders_are_accepted() {
    // In-Shop as downloaded: Eval/list_eval_partition.txt, images under Img/img/.
    let t = tempfile::tempdir().unwrap();
    write_tiny(RetrievalFormat::InShop, &t.path().join("Img"), 4, 2, 4).unwrap();
    std::fs::create_dir_all(t.path().join("Eval")).unwrap();
    std::fs::rename(
        t.path().join("Img/list_eval_partition.txt"),
        t.path().join("Eval/list_eval_partition.txt"),
    )
    .unwrap();
    let d = open_retrieval(RetrievalFormat::InShop, t.path()).unwrap();
    assert_eq!(d.train.len(), 4);
    // SOP unpacked as Stanford_Online_Products/ under the root.
    let t = tempfile::tempdir().unwrap();
    let inner = t.path().join("Stanford_Online_Products");
    write_tiny(RetrievalFormat::Sop, &inner, 4, 2, 4).unwrap();
    let d = open_retrieval(RetrievalFormat::Sop, t.path()).unwrap();
    assert_eq!(d.train.image(0).unwrap().height, 4);
}
