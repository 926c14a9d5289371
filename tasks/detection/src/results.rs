//! From decoded boxes to COCO results and metrics: boxes in input pixels are mapped back to the
//! original image through the sample's inverse transform (CenterNet's `transform_preds`, SSD's
//! rescale by the image size), written in the COCO results format (`detections.json`, which
//! pycocotools' `loadRes` reads) and scored with [`crate::coco_eval`].

use std::path::Path;

use adamp_datasets::coco::augment::Affine;
use adamp_datasets::coco::CocoDetection;
use adamp_task_api::{Result, TaskError};

use crate::coco_eval::{evaluate, CocoStats, Detection, GroundTruth};

/// The metric names, in [`CocoStats`] order, as the task records them (`eval_ap`, ...).
pub const METRICS: [&str; 12] = [
    "ap",
    "ap50",
    "ap75",
    "ap_small",
    "ap_medium",
    "ap_large",
    "ar1",
    "ar10",
    "ar100",
    "ar_small",
    "ar_medium",
    "ar_large",
];

/// The run-folder file holding the latest evaluation's detections (COCO results format).
pub const DETECTIONS_FILE: &str = "detections.json";
/// The run-folder file naming the validation annotations and images those detections are of.
pub const SOURCE_FILE: &str = "detections_source.json";

/// One image's decoded boxes `[x1, y1, x2, y2, score, label]` (input pixels) as COCO detections.
pub fn to_coco(
    image_id: u64,
    boxes: &[[f32; 6]],
    to_original: &Affine,
    coco: &CocoDetection,
) -> Vec<Detection> {
    boxes
        .iter()
        .map(|d| {
            let (x1, y1) = to_original.apply(d[0] as f64, d[1] as f64);
            let (x2, y2) = to_original.apply(d[2] as f64, d[3] as f64);
            let (x1, x2) = (x1.min(x2), x1.max(x2));
            let (y1, y2) = (y1.min(y2), y1.max(y2));
            Detection {
                image_id,
                category_id: coco.categories().id_of(d[5] as u32),
                bbox: [x1, y1, x2 - x1, y2 - y1],
                score: d[4] as f64,
            }
        })
        .collect()
}

/// The ground truths of the images in use.
pub fn ground_truths(coco: &CocoDetection, indices: &[usize]) -> Vec<GroundTruth> {
    indices
        .iter()
        .flat_map(|&i| {
            coco.boxes(i).map(|a| GroundTruth {
                image_id: a.image_id,
                category_id: a.category_id,
                bbox: a.bbox,
                area: a.area,
                iscrowd: a.iscrowd,
                id: a.id,
            })
        })
        .collect()
}

/// COCOeval over the images in use and every category; AP and AR in percent (the paper's
/// unit), `-1` kept where pycocotools gives -1 (no ground truth in that area range).
pub fn metrics(
    coco: &CocoDetection,
    indices: &[usize],
    detections: &[Detection],
) -> Result<Vec<(String, f64)>> {
    let image_ids: Vec<u64> = indices.iter().map(|&i| coco.images()[i].id).collect();
    let stats: CocoStats = evaluate(
        &ground_truths(coco, indices),
        detections,
        &image_ids,
        coco.categories().ids(),
    )
    .map_err(|e| TaskError::Other(format!("COCO evaluation: {e}")))?;
    Ok(METRICS
        .iter()
        .zip(stats.0)
        .map(|(name, v)| (name.to_string(), if v < 0.0 { v } else { 100.0 * v }))
        .collect())
}

fn json_number(v: f64) -> serde_json::Value {
    serde_json::Number::from_f64(v)
        .map(serde_json::Value::Number)
        .unwrap_or(serde_json::Value::Null)
}

/// `detections.json`: `[{"image_id", "category_id", "bbox": [x, y, w, h], "score"}, ...]`.
pub fn detections_json(detections: &[Detection]) -> Vec<u8> {
    let list: Vec<serde_json::Value> = detections
        .iter()
        .map(|d| {
            serde_json::json!({
                "image_id": d.image_id,
                "category_id": d.category_id,
                "bbox": d.bbox.iter().map(|&v| json_number(v)).collect::<Vec<_>>(),
                "score": json_number(d.score),
            })
        })
        .collect();
    serde_json::to_vec(&list).unwrap_or_default()
}

/// `detections_source.json`: the validation annotation file and image folder (absolute).
pub fn source_json(annotation_file: &Path, image_dir: &Path) -> Vec<u8> {
    let abs = |p: &Path| std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
    serde_json::to_vec_pretty(&serde_json::json!({
        "annotation_file": abs(annotation_file),
        "image_dir": abs(image_dir),
    }))
    .unwrap_or_default()
}
