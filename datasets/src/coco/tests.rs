use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use super::*;
use crate::testdata_coco::{box_of, write_tiny, HEIGHT, WIDTH};

fn tiny() -> (tempfile::TempDir, CocoDetection, CocoDetection) {
    let t = tempfile::tempdir().unwrap();
    write_tiny(t.path(), 4, 3).unwrap();
    let train = open_coco(
        &t.path().join("annotations/instances_train2017.json"),
        &t.path().join("train2017"),
    )
    .unwrap();
    let val = open_coco(
        &t.path().join("annotations/instances_val2017.json"),
        &t.path().join("val2017"),
    )
    .unwrap();
    (t, train, val)
}

#[test]
fn tiny_data_opens_with_its_counts_labels_boxes_and_image_sizes() {
    let (t, train, val) = tiny();
    assert_eq!((train.len(), train.ground_truths().len()), (4, 6));
    assert_eq!((val.len(), val.ground_truths().len()), (3, 3));
    assert_eq!(train.skipped(), SkipCounts::default());

    let c = train.categories();
    assert_eq!(c.ids(), [1, 3, 90]);
    assert_eq!(c.names(), ["person", "car", "toothbrush"]);
    assert_eq!((c.label_of(90), c.id_of(1)), (Some(2), 3));

    let ids: Vec<u64> = train.images().iter().map(|i| i.id).collect();
    assert_eq!(ids, [1000, 1007, 1014, 1021]);
    assert_eq!(
        train.images()[2].path,
        t.path().join("train2017/000000001014.jpg")
    );
    let per_image: Vec<usize> = (0..4).map(|i| train.boxes(i).count()).collect();
    assert_eq!(per_image, [1, 2, 3, 0]);

    // Image 2 (j = 2): objects of categories 90, 1, 3 → labels 2, 0, 1.
    let b: Vec<&CocoAnnotation> = train.boxes(2).collect();
    assert_eq!(b.iter().map(|a| a.label).collect::<Vec<_>>(), [2, 0, 1]);
    assert_eq!(b.iter().map(|a| a.id).collect::<Vec<_>>(), [4, 5, 6]);
    assert_eq!(b[1].bbox, box_of(2, 1));
    assert_eq!(b[1].area, 0.9 * 12.0 * 11.0);
    assert_eq!(b[1].image_id, 1014);

    let crowd: Vec<(u64, u64)> = val
        .ground_truths()
        .iter()
        .filter(|g| g.iscrowd)
        .map(|g| (g.id, g.category_id))
        .collect();
    assert_eq!(crowd, [(502, 3)]);

    for i in 0..train.len() {
        let img = train.image(i).unwrap();
        assert_eq!(
            (img.width, img.height, img.channels),
            (WIDTH as usize, HEIGHT as usize, 3)
        );
    }
    // The object of image 0 is category 1 (red) at [4, 4, 12, 10]; the background grey.
    let img = train.image(0).unwrap();
    let inside = (img.at(8, 9, 0), img.at(8, 9, 1));
    assert!(inside.0 > 180 && inside.1 < 90, "{inside:?}");
    assert!((img.at(40, 60, 0) as i32 - 128).abs() < 10);
    // The last image was written grey (1 channel) and decodes as RGB.
    let grey = val.image(2).unwrap();
    assert_eq!(grey.channels, 3);
    assert_eq!(grey.at(5, 5, 0), grey.at(5, 5, 2));
    assert!(train
        .describe()
        .contains("4 images, 6 annotations, 3 categories"));
}

#[test]
fn write_tiny_is_deterministic_and_refuses_too_few_images() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    write_tiny(a.path(), 3, 3).unwrap();
    write_tiny(b.path(), 3, 3).unwrap();
    for f in [
        "annotations/instances_val2017.json",
        "val2017/000000005007.jpg",
    ] {
        let read = |d: &Path| std::fs::read(d.join(f)).unwrap();
        assert_eq!(read(a.path()), read(b.path()), "{f}");
    }
    assert!(write_tiny(a.path(), 2, 3).is_err());
}

/// A one-image annotation file (`a.jpg`, 20x10, written as an empty file) with `annotations`
/// and categories 1 and 7; returns (json path, image dir).
fn one_image(t: &Path, annotations: Value) -> (PathBuf, PathBuf) {
    let doc = json!({
        "images": [{"id": 1, "file_name": "a.jpg", "width": 20, "height": 10}],
        "annotations": annotations,
        "categories": [{"id": 1, "name": "one"}, {"id": 7, "name": "seven"}],
    });
    write_doc(t, &doc)
}

fn write_doc(t: &Path, doc: &Value) -> (PathBuf, PathBuf) {
    let json = t.join("instances_bad.json");
    std::fs::write(&json, doc.to_string()).unwrap();
    std::fs::write(t.join("a.jpg"), b"").unwrap();
    (json, t.to_path_buf())
}

fn ann(id: u64, image_id: u64, category_id: u64, bbox: [f64; 4]) -> Value {
    json!({"id": id, "image_id": image_id, "category_id": category_id, "bbox": bbox,
           "area": bbox[2] * bbox[3], "iscrowd": 0, "segmentation": [[0, 0, 1, 1]]})
}

fn open_err(json: &Path, dir: &Path) -> String {
    open_coco(json, dir).unwrap_err().to_string()
}

#[test]
fn a_file_that_is_not_coco_json_is_an_error_naming_the_file() {
    let t = tempfile::tempdir().unwrap();
    let json = t.path().join("instances_x.json");
    std::fs::write(&json, "this is not json").unwrap();
    let msg = open_err(&json, t.path());
    assert!(
        msg.contains("instances_x.json") && msg.contains("not a COCO instances file"),
        "{msg}"
    );
    for missing in ["images", "annotations", "categories"] {
        let mut doc = json!({"images": [], "annotations": [], "categories": []});
        doc.as_object_mut().unwrap().remove(missing);
        std::fs::write(&json, doc.to_string()).unwrap();
        let msg = open_err(&json, t.path());
        assert!(
            msg.contains("instances_x.json") && msg.contains(&format!("`{missing}`")),
            "{msg}"
        );
    }
    let msg = open_err(&t.path().join("nope.json"), t.path());
    assert!(
        msg.contains("nope.json") && msg.contains("not found"),
        "{msg}"
    );
}

#[test]
fn unknown_category_or_image_ids_name_the_annotation_and_the_file() {
    let t = tempfile::tempdir().unwrap();
    let (json, dir) = one_image(
        t.path(),
        json!([
            ann(11, 1, 1, [1.0, 1.0, 2.0, 2.0]),
            ann(12, 1, 5, [1.0, 1.0, 2.0, 2.0])
        ]),
    );
    let msg = open_err(&json, &dir);
    assert!(
        msg.contains("instances_bad.json")
            && msg.contains("annotation id 12")
            && msg.contains("category_id 5"),
        "{msg}"
    );
    let (json, dir) = one_image(t.path(), json!([ann(13, 2, 7, [1.0, 1.0, 2.0, 2.0])]));
    let msg = open_err(&json, &dir);
    assert!(
        msg.contains("instances_bad.json")
            && msg.contains("annotation id 13")
            && msg.contains("image_id 2"),
        "{msg}"
    );
}

#[test]
fn zero_area_and_outside_boxes_are_counted_and_skipped_but_border_boxes_kept() {
    let t = tempfile::tempdir().unwrap();
    let (json, dir) = one_image(
        t.path(),
        json!([
            ann(1, 1, 1, [1.0, 1.0, 0.0, 3.0]),   // zero width
            ann(2, 1, 1, [1.0, 1.0, 3.0, -1.0]),  // negative height
            ann(3, 1, 7, [15.0, 2.0, 7.0, 3.0]),  // right edge 22 > 20 + 1
            ann(4, 1, 7, [2.0, -1.5, 3.0, 3.0]),  // top -1.5 < -1
            ann(5, 1, 7, [0.0, 0.0, 20.0, 10.0]), // the whole image
            ann(6, 1, 1, [-0.5, 0.5, 20.9, 9.5]), // past the border, within 1 px
        ]),
    );
    let d = open_coco(&json, &dir).unwrap();
    assert_eq!(
        d.skipped(),
        SkipCounts {
            zero_area: 2,
            outside_image: 2
        }
    );
    assert_eq!(d.boxes(0).map(|a| a.id).collect::<Vec<_>>(), [5, 6]);
    assert_eq!(d.ground_truths().len(), 6);
    let s = d.describe();
    assert!(
        s.contains("skipped 4 boxes (2 zero-area, 2 outside the image)"),
        "{s}"
    );
}

#[test]
fn duplicate_image_annotation_or_category_ids_are_errors() {
    let t = tempfile::tempdir().unwrap();
    let (json, dir) = one_image(
        t.path(),
        json!([
            ann(9, 1, 1, [1.0, 1.0, 2.0, 2.0]),
            ann(9, 1, 7, [2.0, 2.0, 2.0, 2.0])
        ]),
    );
    let msg = open_err(&json, &dir);
    assert!(
        msg.contains("instances_bad.json") && msg.contains("annotation id 9 is listed twice"),
        "{msg}"
    );
    let img = json!({"id": 4, "file_name": "a.jpg", "width": 20, "height": 10});
    let doc = json!({"images": [img, img], "annotations": [],
                     "categories": [{"id": 1, "name": "one"}]});
    let (json, dir) = write_doc(t.path(), &doc);
    let msg = open_err(&json, &dir);
    assert!(msg.contains("image id 4 is listed twice"), "{msg}");
    let doc = json!({"images": [img], "annotations": [],
                     "categories": [{"id": 3, "name": "a"}, {"id": 3, "name": "b"}]});
    let (json, dir) = write_doc(t.path(), &doc);
    let msg = open_err(&json, &dir);
    assert!(msg.contains("category id 3 is listed twice"), "{msg}");
}

#[test]
fn missing_image_files_are_an_error_at_open_naming_the_first_and_the_count() {
    let t = tempfile::tempdir().unwrap();
    write_tiny(t.path(), 4, 3).unwrap();
    for f in ["000000001007.jpg", "000000001021.jpg"] {
        std::fs::remove_file(t.path().join("train2017").join(f)).unwrap();
    }
    let msg = open_err(
        &t.path().join("annotations/instances_train2017.json"),
        &t.path().join("train2017"),
    );
    assert!(
        msg.contains("000000001007.jpg") && msg.contains("2 of its 4 image files are missing"),
        "{msg}"
    );
    let msg = open_err(
        &t.path().join("annotations/instances_val2017.json"),
        &t.path().join("nowhere"),
    );
    assert!(
        msg.contains("nowhere") && msg.contains("not found"),
        "{msg}"
    );
}

#[test]
fn a_corrupt_or_wrongly_sized_image_is_a_decode_error_naming_the_file() {
    let (t, train, _) = tiny();
    let path = t.path().join("train2017/000000001000.jpg");
    std::fs::write(&path, b"not a jpeg").unwrap();
    let err = train.image(0).unwrap_err();
    assert!(err.is_per_sample());
    assert!(err.to_string().contains("000000001000.jpg"), "{err}");
    image::RgbImage::new(10, 10)
        .save_with_format(&path, image::ImageFormat::Jpeg)
        .unwrap();
    let msg = train.image(0).unwrap_err().to_string();
    assert!(
        msg.contains("000000001000.jpg") && msg.contains("decoded 10x10") && msg.contains("64x48"),
        "{msg}"
    );
    std::fs::remove_file(&path).unwrap();
    let msg = train.image(0).unwrap_err().to_string();
    assert!(msg.contains("000000001000.jpg"), "{msg}");
}
