//! `[task]` of `kind = "detection"`: which detector, its loss weights and decoding, the input
//! size and whether training images are augmented (AdamP, arXiv 2006.08217, Section 4 object
//! detection; shared paper.md section 4 "CenterNet").
//!
//! ```toml
//! [task]
//! kind = "detection"
//! # CenterNet (xingyizhou/CenterNet src/lib/opts.py defaults):
//! detector = { kind = "centernet", hm_weight = 1.0, wh_weight = 0.1, off_weight = 1.0, head_conv = 64, max_detections = 100, color_aug = true }
//! # ... or SSD (amdegroot/ssd.pytorch train.py / eval.py defaults):
//! # detector = { kind = "ssd", overlap = 0.5, neg_pos = 3, conf_thresh = 0.01, nms_thresh = 0.45, top_k = 200 }
//! input_size = 512   # square network input: 512 (CenterNet), 300 (SSD300)
//! augment = true     # the reference's training augmentation; false: the evaluation transform
//! ```

use adamp_task_api::factory::invalid;
use adamp_task_api::Result;
use serde::{Deserialize, Serialize};

/// `[task] detector`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", deny_unknown_fields)]
pub enum DetectorSettings {
    /// CenterNet `ctdet` (Zhou et al. 2019): heatmap focal loss + L1 size and offset losses.
    #[serde(rename = "centernet")]
    CenterNet {
        /// `--hm_weight` (1).
        #[serde(default = "one")]
        hm_weight: f64,
        /// `--wh_weight` (0.1).
        #[serde(default = "wh_weight")]
        wh_weight: f64,
        /// `--off_weight` (1).
        #[serde(default = "one")]
        off_weight: f64,
        /// `--head_conv` channels of each head's 3x3 conv (64 for ResNets).
        #[serde(default = "head_conv")]
        head_conv: usize,
        /// `--K`: detections kept per image by the decoder (100).
        #[serde(default = "max_detections")]
        max_detections: usize,
        /// The colour augmentation of training images (`--no_color_aug` turns it off).
        #[serde(default = "yes")]
        color_aug: bool,
    },
    /// SSD (Liu et al. 2016) as ssd.pytorch: multibox loss with hard negative mining.
    #[serde(rename = "ssd")]
    Ssd {
        /// Matching IoU threshold (0.5).
        #[serde(default = "overlap")]
        overlap: f64,
        /// Negatives per positive in hard negative mining (3).
        #[serde(default = "neg_pos")]
        neg_pos: usize,
        /// Scores below it are dropped before NMS (0.01).
        #[serde(default = "conf_thresh")]
        conf_thresh: f32,
        /// NMS IoU threshold (0.45).
        #[serde(default = "nms_thresh")]
        nms_thresh: f32,
        /// Boxes kept per class and per image (200).
        #[serde(default = "top_k")]
        top_k: usize,
    },
}

fn one() -> f64 {
    1.0
}
fn wh_weight() -> f64 {
    0.1
}
fn head_conv() -> usize {
    64
}
fn max_detections() -> usize {
    100
}
fn yes() -> bool {
    true
}
fn overlap() -> f64 {
    0.5
}
fn neg_pos() -> usize {
    3
}
fn conf_thresh() -> f32 {
    0.01
}
fn nms_thresh() -> f32 {
    0.45
}
fn top_k() -> usize {
    200
}

impl DetectorSettings {
    /// `centernet` or `ssd`.
    pub fn name(&self) -> &'static str {
        match self {
            DetectorSettings::CenterNet { .. } => "CenterNet",
            DetectorSettings::Ssd { .. } => "SSD",
        }
    }
}

/// `[task]` for `kind = "detection"`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DetectionSettings {
    /// The detector and its loss / decoding settings.
    pub detector: DetectorSettings,
    /// Side of the square network input in pixels.
    pub input_size: usize,
    /// Augment training images as the reference does (default true).
    #[serde(default = "yes")]
    pub augment: bool,
}

/// The largest input side a config may ask for (a typo must not allocate gigabytes).
pub const MAX_INPUT_SIZE: usize = 2048;

impl DetectionSettings {
    /// Every check that needs no data.
    pub fn validate(&self) -> Result<()> {
        if !(32..=MAX_INPUT_SIZE).contains(&self.input_size) || !self.input_size.is_multiple_of(4) {
            return Err(invalid(
                "input_size",
                format!(
                    "a multiple of 4 in 32..={MAX_INPUT_SIZE} (the heads work at stride 4 or more), got {}",
                    self.input_size
                ),
            ));
        }
        let positive = |key: &str, v: f64| {
            if v.is_finite() && v >= 0.0 {
                Ok(())
            } else {
                Err(invalid(
                    format!("detector.{key}"),
                    format!("a finite weight ≥ 0, got {v}"),
                ))
            }
        };
        match *self {
            DetectionSettings {
                detector:
                    DetectorSettings::CenterNet {
                        hm_weight,
                        wh_weight,
                        off_weight,
                        head_conv,
                        max_detections,
                        ..
                    },
                ..
            } => {
                positive("hm_weight", hm_weight)?;
                positive("wh_weight", wh_weight)?;
                positive("off_weight", off_weight)?;
                if head_conv == 0 || head_conv > 4096 {
                    return Err(invalid("detector.head_conv", "channels in 1..=4096"));
                }
                if max_detections == 0 || max_detections > 1000 {
                    return Err(invalid(
                        "detector.max_detections",
                        "in 1..=1000 (COCO counts at most 100 per image)",
                    ));
                }
            }
            DetectionSettings {
                detector:
                    DetectorSettings::Ssd {
                        overlap,
                        neg_pos,
                        conf_thresh,
                        nms_thresh,
                        top_k,
                    },
                ..
            } => {
                if !(overlap > 0.0 && overlap <= 1.0) {
                    return Err(invalid("detector.overlap", "an IoU in (0, 1]"));
                }
                if neg_pos == 0 || neg_pos > 100 {
                    return Err(invalid("detector.neg_pos", "in 1..=100"));
                }
                if !(0.0..1.0).contains(&conf_thresh) {
                    return Err(invalid("detector.conf_thresh", "a score in [0, 1)"));
                }
                if !(nms_thresh > 0.0 && nms_thresh <= 1.0) {
                    return Err(invalid("detector.nms_thresh", "an IoU in (0, 1]"));
                }
                if top_k == 0 || top_k > 1000 {
                    return Err(invalid("detector.top_k", "in 1..=1000"));
                }
            }
        }
        Ok(())
    }
}
