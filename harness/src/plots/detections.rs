//! Object detection (arXiv 2006.08217, benchmark 2: COCO): `detections.png`, a grid of a few
//! validation images with the predicted boxes, one row per optimizer label.
//!
//! Inputs, per run folder (left by the detection task at every evaluation):
//! - [`DETECTIONS_FILE`]: the COCO results format, a JSON list of `{"image_id", "category_id",
//!   "bbox": [x, y, w, h] (original image pixels), "score"}`, the latest evaluation's
//!   detections on the validation split;
//! - [`SOURCE_FILE`]: `{"annotation_file", "image_dir"}`, the validation split they belong to.
//!
//! Rows: one per optimizer label (sorted), drawn from the label's smallest seed that has both
//! files (named in the row title). Columns: the first [`IMAGES`] validation images in ascending
//! image id, each resampled (nearest neighbour) so its long side is [`CELL`] pixels. Ground-truth
//! boxes are thin and white; predicted boxes with score ≥ [`SCORE_THRESHOLD`] (at most
//! [`MAX_BOXES`] per image, highest scores) are drawn in the label's colour
//! ([`super::palette::label_color`]) with `category score` text. Images and ground truth come
//! from the first row's split (a config's runs share it).
//!
//! PNG only: plotters' SVG backend, as built here, would write every pixel as its own `<rect>`.
//! A missing or corrupt file (detections, annotation file, images) leaves the figure out with a
//! warning naming it; it never fails the report.

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::io::BufReader;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use plotters::coord::Shift;
use plotters::prelude::*;
use serde::Deserialize;

use adamp_datasets::coco::{open_coco, CocoDetection};
use adamp_datasets::source::ImageU8;

use super::palette::label_color;
use super::render::{render_png, Figure, PlotResult};
use crate::report::load::RunData;

/// The detections of a run folder's latest evaluation.
pub const DETECTIONS_FILE: &str = "detections.json";
/// The validation split those detections belong to.
pub const SOURCE_FILE: &str = "detections_source.json";
/// File stem of the figure in the plots folder.
pub const STEM: &str = "detections";
/// Predicted boxes scoring below this are not drawn.
pub const SCORE_THRESHOLD: f64 = 0.3;
/// At most this many predicted boxes per image (the highest scores), so a figure stays readable.
pub const MAX_BOXES: usize = 10;
/// Images per row: the first validation images in ascending image id.
pub const IMAGES: usize = 4;
/// Long side (pixels) of each drawn image; the tiny 64 x 48 test images are scaled 3x.
pub const CELL: u32 = 192;

/// Outer margin and the gap between columns and between rows.
const GAP: i32 = 12;
/// Height of the figure title.
const TITLE_H: i32 = 40;
/// Height of the column headers (image ids).
const HEADER_H: i32 = 22;
/// Height of a row's title, above its images.
const ROW_TITLE_H: i32 = 26;
/// Font size of the `category score` text on the boxes.
const BOX_FONT: u32 = 12;
/// Ground-truth box colour.
const TRUTH: RGBColor = RGBColor(235, 235, 235);

/// One line of [`DETECTIONS_FILE`].
#[derive(Debug, Clone, Deserialize)]
struct Detection {
    image_id: u64,
    category_id: u64,
    bbox: [f64; 4],
    score: f64,
}

/// [`SOURCE_FILE`].
#[derive(Debug, Clone, PartialEq, Deserialize)]
struct Source {
    annotation_file: PathBuf,
    image_dir: PathBuf,
}

/// A predicted box to draw: `[x, y, w, h]` in original pixels and its text.
#[derive(Debug, Clone)]
struct Pred {
    bbox: [f64; 4],
    text: String,
}

/// One validation image, resampled, with its boxes.
#[derive(Debug, Clone)]
struct Cell {
    /// Resampled size (pixels).
    size: (u32, u32),
    /// Resampled RGB pixels, HWC.
    rgb: Vec<u8>,
    /// Drawn pixels per original pixel.
    scale: f64,
    /// Ground-truth boxes, original pixels.
    truths: Vec<[f64; 4]>,
    /// Predicted boxes to draw.
    preds: Vec<Pred>,
}

/// One optimizer label's row.
#[derive(Debug, Clone)]
struct Row {
    title: String,
    color: RGBColor,
    cells: Vec<Cell>,
}

/// The whole figure.
#[derive(Debug, Clone)]
pub struct DetectionGrid {
    title: String,
    image_ids: Vec<u64>,
    rows: Vec<Row>,
}

/// Whether a run folder holds both detection files.
fn has_files(run: &RunData) -> bool {
    run.dir.join(DETECTIONS_FILE).is_file() && run.dir.join(SOURCE_FILE).is_file()
}

/// The run drawn for each label (sorted): its smallest seed holding both files.
pub fn shown_runs(runs: &[RunData]) -> Vec<&RunData> {
    let mut best: BTreeMap<&str, &RunData> = BTreeMap::new();
    for r in runs.iter().filter(|r| has_files(r)) {
        best.entry(r.label.as_str())
            .and_modify(|b| {
                if r.seed < b.seed {
                    *b = r;
                }
            })
            .or_insert(r);
    }
    best.into_values().collect()
}

/// `label seed N` of every row, comma separated (for captions).
pub fn shown_seeds(runs: &[RunData]) -> String {
    shown_runs(runs)
        .iter()
        .map(|r| format!("{} seed {}", r.label, r.seed))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Reads a JSON file into `T`, naming the file in errors.
fn read_json<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<T> {
    let file = std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
    serde_json::from_reader(BufReader::new(file))
        .with_context(|| format!("{} is not valid JSON of the expected form", path.display()))
}

/// The detections of a run, checked for non-finite numbers.
fn read_detections(run: &RunData) -> Result<Vec<Detection>> {
    let path = run.dir.join(DETECTIONS_FILE);
    let dets: Vec<Detection> = read_json(&path)?;
    if let Some(d) = dets
        .iter()
        .find(|d| !d.score.is_finite() || d.bbox.iter().any(|v| !v.is_finite()))
    {
        bail!(
            "{}: a detection of image {} has a non-finite box or score",
            path.display(),
            d.image_id
        );
    }
    Ok(dets)
}

/// The validation split named by a run's [`SOURCE_FILE`] (relative paths from the run folder).
fn read_source(run: &RunData) -> Result<Source> {
    let s: Source = read_json(&run.dir.join(SOURCE_FILE))?;
    Ok(Source {
        annotation_file: run.dir.join(s.annotation_file),
        image_dir: run.dir.join(s.image_dir),
    })
}

/// `img` resampled (nearest neighbour) to `w` x `h`, as RGB HWC bytes.
fn resample(img: &ImageU8, w: u32, h: u32) -> Vec<u8> {
    let mut out = Vec::with_capacity((w * h * 3) as usize);
    for y in 0..h as usize {
        let sy = (y * img.height / h as usize).min(img.height - 1);
        for x in 0..w as usize {
            let sx = (x * img.width / w as usize).min(img.width - 1);
            let at = (sy * img.width + sx) * img.channels;
            if img.channels == 3 {
                out.extend_from_slice(&img.data[at..at + 3]);
            } else {
                out.extend([img.data[at]; 3]);
            }
        }
    }
    out
}

/// The text of a predicted box: the category name (or id) and the score.
fn box_text(ds: &CocoDetection, d: &Detection) -> String {
    let cats = ds.categories();
    match cats.label_of(d.category_id) {
        Some(l) => format!("{} {:.2}", cats.name(l), d.score),
        None => format!("category {} {:.2}", d.category_id, d.score),
    }
}

/// Builds the figure; `None` when no run has the detection files.
pub fn detection_grid(runs: &[RunData], title: &str) -> Result<Option<DetectionGrid>> {
    let shown = shown_runs(runs);
    let Some(first) = shown.first() else {
        return Ok(None);
    };
    let source = read_source(first)?;
    let ds = open_coco(&source.annotation_file, &source.image_dir).with_context(|| {
        format!(
            "opening the validation split named in {}",
            first.dir.join(SOURCE_FILE).display()
        )
    })?;
    let mut order: Vec<usize> = (0..ds.len()).collect();
    order.sort_by_key(|&i| ds.images()[i].id);
    order.truncate(IMAGES);

    let mut images = Vec::new();
    for &i in &order {
        let info = &ds.images()[i];
        let img = ds
            .image(i)
            .context("reading a validation image for the figure")?;
        if img.width == 0 || img.height == 0 {
            bail!("{}: empty image", info.path.display());
        }
        let scale = f64::from(CELL) / img.width.max(img.height) as f64;
        let size = (
            ((img.width as f64 * scale).round() as u32).max(1),
            ((img.height as f64 * scale).round() as u32).max(1),
        );
        let truths = ds.boxes(i).map(|a| a.bbox).collect();
        images.push((info.id, size, resample(&img, size.0, size.1), scale, truths));
    }

    let mut rows = Vec::new();
    for run in &shown {
        if run.dir != first.dir && read_source(run)? != source {
            tracing::warn!(
                "{} names another validation split than {}; drawing its detections on the latter",
                run.dir.join(SOURCE_FILE).display(),
                first.dir.join(SOURCE_FILE).display()
            );
        }
        let dets = read_detections(run)?;
        let cells = images
            .iter()
            .map(|(id, size, rgb, scale, truths)| {
                let mut mine: Vec<&Detection> = dets
                    .iter()
                    .filter(|d| d.image_id == *id && d.score >= SCORE_THRESHOLD)
                    .collect();
                mine.sort_by(|a, b| b.score.total_cmp(&a.score));
                mine.truncate(MAX_BOXES);
                Cell {
                    size: *size,
                    rgb: rgb.clone(),
                    scale: *scale,
                    truths: Vec::clone(truths),
                    preds: mine
                        .iter()
                        .map(|d| Pred {
                            bbox: d.bbox,
                            text: box_text(&ds, d),
                        })
                        .collect(),
                }
            })
            .collect();
        rows.push(Row {
            title: format!(
                "{} (seed {}): predicted boxes with score ≥ {SCORE_THRESHOLD}",
                run.label, run.seed
            ),
            color: label_color(&run.label),
            cells,
        });
    }
    Ok(Some(DetectionGrid {
        title: title.to_string(),
        image_ids: images.iter().map(|im| im.0).collect(),
        rows,
    }))
}

/// Writes `detections.png` for one config's runs if any has detections; a missing or corrupt
/// input is a warning and no figure.
pub fn detections_plot(runs: &[RunData], dir: &Path) -> Vec<PathBuf> {
    let title = match runs.first() {
        Some(r) => format!(
            "{}: validation detections (white: ground truth)",
            r.spec.title
        ),
        None => return Vec::new(),
    };
    let drawn = detection_grid(runs, &title)
        .and_then(|grid| grid.map(|g| render_png(&g, dir, STEM)).transpose());
    match drawn {
        Ok(written) => written.into_iter().collect(),
        Err(e) => {
            tracing::warn!("no {STEM} figure for {}: {e:#}", dir.display());
            Vec::new()
        }
    }
}

impl DetectionGrid {
    /// Top-left pixel of the image area of cell (`row`, `col`) (`CELL` x `CELL`; the image is
    /// centred across it, at its top).
    fn cell_origin(row: usize, col: usize) -> (i32, i32) {
        let cell = CELL as i32;
        (
            GAP + col as i32 * (cell + GAP),
            TITLE_H + HEADER_H + row as i32 * (ROW_TITLE_H + cell + GAP) + ROW_TITLE_H,
        )
    }

    /// Top-left pixel of the image of cell (`row`, `col`) whose resampled size is `size`.
    fn image_origin(row: usize, col: usize, size: (u32, u32)) -> (i32, i32) {
        let (x, y) = Self::cell_origin(row, col);
        (x + (CELL - size.0) as i32 / 2, y)
    }

    /// Draws one cell's image and boxes.
    fn draw_cell<DB: DrawingBackend>(
        root: &DrawingArea<DB, Shift>,
        (row, col): (usize, usize),
        cell: &Cell,
        color: RGBColor,
    ) -> Result<()> {
        let (ox, oy) = Self::image_origin(row, col, cell.size);
        let (w, h) = (cell.size.0 as i32, cell.size.1 as i32);
        let Some(bitmap) = BitMapElement::with_owned_buffer((ox, oy), cell.size, cell.rgb.clone())
        else {
            bail!("image buffer of cell ({row}, {col}) does not match its size");
        };
        root.draw(&bitmap).plot("a validation image")?;
        // Box corners in figure pixels, kept inside the image.
        let corners = |b: &[f64; 4]| {
            let px = |v: f64, o: i32, max: i32| o + ((v * cell.scale).round() as i32).clamp(0, max);
            (
                (px(b[0], ox, w - 1), px(b[1], oy, h - 1)),
                (px(b[0] + b[2], ox, w - 1), px(b[1] + b[3], oy, h - 1)),
            )
        };
        for t in &cell.truths {
            let (a, b) = corners(t);
            root.draw(&Rectangle::new([a, b], TRUTH.stroke_width(1)))
                .plot("a ground-truth box")?;
        }
        let font = ("sans-serif", BOX_FONT).into_font().color(&WHITE);
        // Lowest scores first, so the best box and its text end on top.
        for p in cell.preds.iter().rev() {
            let (a, b) = corners(&p.bbox);
            root.draw(&Rectangle::new([a, b], color.stroke_width(2)))
                .plot("a predicted box")?;
            let (tw, th) = root.estimate_text_size(&p.text, &font).plot("box text")?;
            let (tw, th) = (tw as i32 + 4, th as i32 + 2);
            // Above the box when it fits inside the image, else inside its top edge.
            let ty = if a.1 - th >= oy { a.1 - th } else { a.1 };
            root.draw(&Rectangle::new(
                [(a.0, ty), (a.0 + tw, ty + th)],
                color.filled(),
            ))
            .plot("box text")?;
            root.draw(&Text::new(p.text.clone(), (a.0 + 2, ty + 1), font.clone()))
                .plot("box text")?;
        }
        Ok(())
    }
}

impl Figure for DetectionGrid {
    fn size(&self) -> (u32, u32) {
        let cols = self.image_ids.len().max(1) as u32;
        let rows = self.rows.len() as u32;
        let gap = GAP as u32;
        (
            gap + cols * (CELL + gap),
            (TITLE_H + HEADER_H) as u32 + rows * (ROW_TITLE_H as u32 + CELL + gap),
        )
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()> {
        root.draw(&Text::new(
            self.title.clone(),
            (GAP, 10),
            ("sans-serif", 22).into_font(),
        ))
        .plot(&self.title)?;
        let small = ("sans-serif", 15).into_font();
        for (col, id) in self.image_ids.iter().enumerate() {
            let (x, _) = Self::cell_origin(0, col);
            root.draw(&Text::new(
                format!("image id {id}"),
                (x, TITLE_H),
                small.clone(),
            ))
            .plot("column headers")?;
        }
        let heading = ("sans-serif", 17).into_font();
        for (r, row) in self.rows.iter().enumerate() {
            let (x, y) = Self::cell_origin(r, 0);
            root.draw(&Text::new(
                row.title.clone(),
                (x, y - ROW_TITLE_H + 4),
                heading.clone().color(&row.color),
            ))
            .plot(&row.title)?;
            for (c, cell) in row.cells.iter().enumerate() {
                Self::draw_cell(root, (r, c), cell, row.color)?;
            }
        }
        Ok(())
    }
}
