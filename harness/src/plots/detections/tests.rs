//! Tests of the detections figure on the tiny COCO split (`testdata_coco`: 64 x 48 images, so
//! each is drawn 3x, 192 x 144, at the top of its 192 x 192 cell).

use std::path::{Path, PathBuf};

use adamp_datasets::testdata_coco::write_tiny;
use plotters::style::RGBColor;
use serde_json::json;

use super::*;
use crate::report::load::{ReportSpec, RunStatus, SummaryTable};
use crate::report::markdown::render_report;
use crate::report::ConfigRuns;

/// A run of config `c` whose folder is `root/c/<label>/seed-<seed>` (created).
fn run(root: &Path, label: &str, seed: u64) -> RunData {
    let dir = root.join("c").join(label).join(format!("seed-{seed}"));
    std::fs::create_dir_all(&dir).unwrap();
    RunData {
        dir,
        config: "c".into(),
        label: label.into(),
        seed,
        spec: ReportSpec {
            benchmark: "coco_detection".into(),
            title: "CenterNet on tiny COCO".into(),
            scale: "embedded".into(),
            dataset: String::new(),
            metric: None,
            higher_is_better: None,
            pairs: Vec::new(),
            paper_row: None,
            also: Vec::new(),
            sweep: None,
        },
        git_revision: None,
        status: RunStatus::Completed,
        summary: SummaryTable::default(),
        metrics: Default::default(),
        filterbank: None,
    }
}

/// Writes both detection files into `run`'s folder, pointing at the tiny split under `coco`.
fn write_detections(run: &RunData, coco: &Path, dets: serde_json::Value) {
    std::fs::write(run.dir.join(DETECTIONS_FILE), dets.to_string()).unwrap();
    let source = json!({
        "annotation_file": coco.join("annotations/instances_val2017.json"),
        "image_dir": coco.join("val2017"),
    });
    std::fs::write(run.dir.join(SOURCE_FILE), source.to_string()).unwrap();
}

/// One detection of the COCO results format.
fn det(image_id: u64, category_id: u64, bbox: [f64; 4], score: f64) -> serde_json::Value {
    json!({"image_id": image_id, "category_id": category_id, "bbox": bbox, "score": score})
}

/// The pixels of `img` within `radius` of `(x, y)`.
fn around(img: &image::RgbImage, (x, y): (i32, i32), radius: i32) -> Vec<RGBColor> {
    let mut out = Vec::new();
    for yy in y - radius..=y + radius {
        for xx in x - radius..=x + radius {
            let p = img.get_pixel(xx as u32, yy as u32);
            out.push(RGBColor(p[0], p[1], p[2]));
        }
    }
    out
}

/// Tiny COCO (val ids 5000, 5007, ...) with two labels: adam seeds 1 and 0, adamp seed 2 with
/// files and seed 0 without.
fn two_labels(root: &Path) -> Vec<RunData> {
    let coco = root.join("coco");
    write_tiny(&coco, 3, 5).unwrap();
    let runs = vec![
        run(root, "adam", 0),
        run(root, "adam", 1),
        run(root, "adamp", 0),
        run(root, "adamp", 2),
    ];
    // adam: a confident car away from the ground truth and a low-score box below it.
    let adam = json!([
        det(5000, 3, [30.0, 20.0, 20.0, 16.0], 0.9),
        det(5000, 1, [4.0, 30.0, 40.0, 10.0], 0.1),
        det(5007, 90, [22.0, 6.0, 12.0, 11.0], 0.7),
    ]);
    write_detections(&runs[0], &coco, adam.clone());
    write_detections(&runs[1], &coco, json!([]));
    write_detections(
        &runs[3],
        &coco,
        json!([det(5000, 1, [10.0, 24.0, 24.0, 14.0], 0.8)]),
    );
    runs
}

#[test]
fn rows_use_each_labels_smallest_seed_with_the_files() {
    let dir = tempfile::tempdir().unwrap();
    let runs = two_labels(dir.path());
    assert_eq!(shown_seeds(&runs), "adam seed 0, adamp seed 2");
    let grid = detection_grid(&runs, "t").unwrap().unwrap();
    assert_eq!(grid.image_ids, [5000, 5007, 5014, 5021]);
    assert_eq!(grid.rows.len(), 2);
    let adam = &grid.rows[0];
    assert!(adam.title.starts_with("adam (seed 0)"), "{}", adam.title);
    // The 0.1 box is below the threshold.
    assert_eq!(adam.cells[0].preds.len(), 1);
    assert_eq!(adam.cells[0].preds[0].text, "car 0.90");
    assert_eq!(adam.cells[1].preds[0].text, "toothbrush 0.70");
    assert_eq!(adam.cells[0].truths, [[4.0, 4.0, 12.0, 10.0]]);
    assert_eq!(adam.cells[0].size, (192, 144));
}

#[test]
fn png_has_the_grid_size_and_boxes_in_the_label_colours() {
    let dir = tempfile::tempdir().unwrap();
    let runs = two_labels(dir.path());
    let plots = dir.path().join("plots");
    let written = detections_plot(&runs, &plots);
    assert_eq!(written, [plots.join("detections.png")]);
    let img = image::open(&written[0]).unwrap().to_rgb8();
    // 4 columns of 192 px with 12 px gaps; 2 rows of 26 + 192 + 12 px under 62 px of titles.
    assert_eq!(img.dimensions(), (828, 522));

    let (adam, adamp) = (label_color("adam"), label_color("adamp"));
    // adam's car [30, 20, 20, 16] x 3: bottom edge at y = 108, x from 90 to 150.
    let (ox, oy) = DetectionGrid::image_origin(0, 0, (192, 144));
    assert!(around(&img, (ox + 120, oy + 108), 1).contains(&adam));
    // Its 0.1 box [4, 30, 40, 10] is not drawn: bottom edge y = 120, x from 12 to 132.
    assert!(!around(&img, (ox + 70, oy + 120), 2).contains(&adam));
    // adamp's box [10, 24, 24, 14] in the second row: bottom edge y = 114, x from 30 to 102.
    let (ox, oy) = DetectionGrid::image_origin(1, 0, (192, 144));
    assert!(around(&img, (ox + 66, oy + 114), 1).contains(&adamp));
    assert!(!around(&img, (ox + 120, oy + 108), 2).contains(&adam));
}

#[test]
fn report_embeds_the_figure_with_its_seeds_and_threshold() {
    let dir = tempfile::tempdir().unwrap();
    let runs = two_labels(dir.path());
    let plots = vec![PathBuf::from("c/plots/detections.png")];
    let cfg = ConfigRuns {
        name: "c".into(),
        runs,
        plots,
    };
    let text = render_report(&[cfg], &[], &[], dir.path());
    assert!(
        text.contains("![c: validation images with predicted boxes](c/plots/detections.png)"),
        "{text}"
    );
    assert!(text.contains("score ≥ 0.3"), "{text}");
    assert!(text.contains("rows: adam seed 0, adamp seed 2."), "{text}");
    // PNG only: no SVG link.
    assert!(
        text.contains("[detections](c/plots/detections.png)\n"),
        "{text}"
    );
}

#[test]
fn runs_without_the_files_write_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let runs = vec![run(dir.path(), "adam", 0), run(dir.path(), "adamp", 0)];
    let plots = dir.path().join("plots");
    assert!(detection_grid(&runs, "t").unwrap().is_none());
    assert!(detections_plot(&runs, &plots).is_empty());
    assert!(!plots.join("detections.png").exists());
}

#[test]
fn corrupt_detections_or_missing_images_give_no_figure_and_no_error() {
    let dir = tempfile::tempdir().unwrap();
    let runs = two_labels(dir.path());
    let plots = dir.path().join("plots");
    std::fs::write(runs[3].dir.join(DETECTIONS_FILE), "[{\"image_id\": 5000,").unwrap();
    let err = detection_grid(&runs, "t").unwrap_err();
    assert!(format!("{err:#}").contains("detections.json"), "{err:#}");
    let written = crate::plots::plot_config(&runs, &plots).unwrap();
    assert!(!written.iter().any(|p| p.ends_with("detections.png")));
    assert!(!plots.join("detections.png").exists());

    let runs = two_labels(&dir.path().join("again"));
    std::fs::remove_file(dir.path().join("again/coco/val2017/000000005007.jpg")).unwrap();
    assert!(detections_plot(&runs, &plots).is_empty());
    assert!(!plots.join("detections.png").exists());
}
