//! The COCO bbox evaluator against pycocotools, case by case, and on hand-computed examples.
//!
//! Fixture: `tasks/detection/tests/fixtures/coco_eval.json`, written by
//! `python tools/gen_coco_eval_fixtures.py` (pycocotools 2.0.10, numpy 2.4.6; see
//! tools/README.md): per case the images, categories, ground truths, detections and the 12
//! `COCOeval.stats` of `summarize()`.

use std::path::Path;

use adamp_task_detection::coco_eval::{evaluate, iou, CocoStats, Detection, GroundTruth};
use serde_json::Value;

const CASES: [&str; 10] = [
    "random_multi",
    "duplicates",
    "crowd",
    "missing_dets_and_gts",
    "score_ties",
    "area_boundaries",
    "over_100_dets",
    "category_without_gts",
    "iou_on_thresholds",
    "recall_grid",
];

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap()
}

fn ids(v: &Value) -> Vec<u64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_u64().unwrap())
        .collect()
}

fn rows(v: &Value) -> Vec<Vec<Value>> {
    (v.as_array().unwrap().iter())
        .map(|r| r.as_array().unwrap().clone())
        .collect()
}

fn bbox(r: &[Value]) -> [f64; 4] {
    [f(&r[2]), f(&r[3]), f(&r[4]), f(&r[5])]
}

/// Rows `[image, category, x, y, w, h, area, iscrowd, id]`.
fn gts(v: &Value) -> Vec<GroundTruth> {
    (rows(v).iter())
        .map(|r| GroundTruth {
            image_id: r[0].as_u64().unwrap(),
            category_id: r[1].as_u64().unwrap(),
            bbox: bbox(r),
            area: f(&r[6]),
            iscrowd: r[7].as_u64().unwrap() == 1,
            id: r[8].as_u64().unwrap(),
        })
        .collect()
}

/// Rows `[image, category, x, y, w, h, score]`.
fn dets(v: &Value) -> Vec<Detection> {
    (rows(v).iter())
        .map(|r| Detection {
            image_id: r[0].as_u64().unwrap(),
            category_id: r[1].as_u64().unwrap(),
            bbox: bbox(r),
            score: f(&r[6]),
        })
        .collect()
}

fn case(name: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/coco_eval.json");
    let json: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let cases = json["cases"].as_array().unwrap();
    assert_eq!(cases.len(), CASES.len());
    let found = cases.iter().find(|c| c["name"] == name);
    found.unwrap_or_else(|| panic!("no case {name}")).clone()
}

fn check(name: &str) {
    let c = case(name);
    let got = evaluate(
        &gts(&c["gts"]),
        &dets(&c["dets"]),
        &ids(&c["images"]),
        &ids(&c["categories"]),
    )
    .unwrap();
    let expected: Vec<f64> = c["stats"].as_array().unwrap().iter().map(f).collect();
    for ((stat, a), b) in CocoStats::NAMES.iter().zip(got.0).zip(expected) {
        assert!(
            (a - b).abs() <= 1e-4,
            "{name}: {stat} = {a}, pycocotools {b}"
        );
    }
}

macro_rules! fixture_tests {
    ($($name:ident),*) => {$(
        #[test]
        fn $name() {
            check(stringify!($name));
        }
    )*};
}

fixture_tests!(
    random_multi,
    duplicates,
    crowd,
    missing_dets_and_gts,
    score_ties,
    area_boundaries,
    over_100_dets,
    category_without_gts,
    iou_on_thresholds,
    recall_grid
);

#[test]
fn every_fixture_case_has_a_test() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/coco_eval.json");
    let json: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let names: Vec<&str> = (json["cases"].as_array().unwrap().iter())
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, CASES);
}

fn gt(image_id: u64, bbox: [f64; 4], iscrowd: bool, id: u64) -> GroundTruth {
    let area = bbox[2] * bbox[3];
    GroundTruth {
        image_id,
        category_id: 1,
        bbox,
        area,
        iscrowd,
        id,
    }
}

fn det(image_id: u64, bbox: [f64; 4], score: f64) -> Detection {
    Detection {
        image_id,
        category_id: 1,
        bbox,
        score,
    }
}

#[test]
fn iou_of_known_boxes_and_the_crowd_rule() {
    let (a, b) = ([0.0, 0.0, 10.0, 10.0], [5.0, 0.0, 10.0, 10.0]);
    assert_eq!(iou(&a, &b, false), 50.0 / 150.0);
    // Crowd: intersection over the detection's area.
    assert_eq!(iou(&a, &b, true), 0.5);
    assert_eq!(
        iou(&[2.0, 2.0, 4.0, 4.0], &[0.0, 0.0, 100.0, 100.0], true),
        1.0
    );
    assert_eq!(iou(&a, &[10.0, 0.0, 5.0, 5.0], false), 0.0); // touching edges
}

#[test]
fn one_perfect_detection_gives_ap_1() {
    let s = evaluate(
        &[gt(1, [10.0, 10.0, 50.0, 50.0], false, 1)],
        &[det(1, [10.0, 10.0, 50.0, 50.0], 0.9)],
        &[1],
        &[1],
    )
    .unwrap();
    // A 50x50 box is medium: small and large have no ground truth.
    let expected = [1., 1., 1., -1., 1., -1., 1., 1., 1., -1., 1., -1.];
    close(&s.0, &expected);
}

/// Equal up to pycocotools' own rounding: precision is `tp / (fp + tp + eps)`.
fn close(got: &[f64], expected: &[f64]) {
    let ok = got.iter().zip(expected).all(|(a, b)| (a - b).abs() < 1e-12);
    assert!(ok, "{got:?} vs {expected:?}");
}

#[test]
fn detections_on_a_crowd_only_image_are_ignored() {
    // Image 1: one object, found at score 0.5. Image 2: only a crowd region, with three
    // higher-scored detections inside it. They match the crowd (IoU 1 by the crowd rule) and
    // are ignored, so AP stays 1; with the plain IoU they would be false positives ranked first.
    let crowd = [0.0, 0.0, 200.0, 200.0];
    let g = [
        gt(1, [0.0, 0.0, 50.0, 50.0], false, 1),
        gt(2, crowd, true, 2),
    ];
    let d = [
        det(1, [0.0, 0.0, 50.0, 50.0], 0.5),
        det(2, [0.0, 0.0, 40.0, 40.0], 0.9),
        det(2, [100.0, 100.0, 40.0, 40.0], 0.8),
        det(2, [10.0, 150.0, 40.0, 40.0], 0.7),
    ];
    let s = evaluate(&g, &d, &[1, 2], &[1]).unwrap();
    close(&[s.0[0], s.0[8]], &[1.0, 1.0]);
}

#[test]
fn ap_reads_precision_at_101_recall_points() {
    // Three objects; a false positive ranked first, then two hits: recall 0, 1/3, 2/3 at
    // precision 0, 1/2, 2/3, envelope 2/3. The recall points 0.00..0.66 (67 of 101) read 2/3,
    // the rest 0: AP = 67/101 * 2/3 (the area under the curve would be 4/9).
    let g = [
        gt(1, [0.0, 0.0, 50.0, 50.0], false, 1),
        gt(1, [100.0, 0.0, 50.0, 50.0], false, 2),
        gt(1, [200.0, 0.0, 50.0, 50.0], false, 3),
    ];
    let d = [
        det(1, [300.0, 300.0, 50.0, 50.0], 0.9),
        det(1, [0.0, 0.0, 50.0, 50.0], 0.8),
        det(1, [100.0, 0.0, 50.0, 50.0], 0.7),
    ];
    let s = evaluate(&g, &d, &[1], &[1]).unwrap();
    let expected = 67.0 / 101.0 * (2.0 / 3.0);
    assert!(
        (s.0[0] - expected).abs() < 1e-12,
        "{} vs {expected}",
        s.0[0]
    );
}

#[test]
fn non_finite_inputs_are_refused() {
    let d = [det(1, [0.0, 0.0, 1.0, 1.0], f64::NAN)];
    assert!(evaluate(&[], &d, &[1], &[1]).is_err());
}
