//! SSD's box machinery (Liu et al. 2016, "SSD: Single Shot MultiBox Detector", arXiv
//! 1512.02325), after ssd.pytorch (github amdegroot/ssd.pytorch):
//!
//! * [`priors`]: the default boxes, `data/config.py` (`coco`) and
//!   `layers/functions/prior_box.py::PriorBox`, plus a size rule for other input sizes;
//! * [`boxes`]: `layers/box_utils.py`'s `point_form`, `center_size`, `intersect`/`jaccard`,
//!   `encode` and `decode`, one box at a time;
//! * [`matching`]: `layers/box_utils.py::match`, the per-prior regression and class targets;
//! * [`multibox`]: `layers/modules/multibox_loss.py::MultiBoxLoss` (smooth L1 + cross entropy
//!   with hard-negative mining) on Candle tensors, gradients flowing to the heads;
//! * [`detect`]: `layers/box_utils.py::nms` and `layers/functions/detection.py::Detect`.
//!
//! All of it is checked against a numpy port of those files, `tools/gen_ssd_fixtures.py`
//! (`tasks/detection/tests/ssd_fixtures.rs`). Coordinates are normalised to `[0, 1]`; boxes
//! are `[x1, y1, x2, y2]` ("xyxy", the reference's point form) or `[cx, cy, w, h]` (its
//! center-size form, the form of the priors).

pub mod boxes;
pub mod detect;
pub mod matching;
pub mod multibox;
pub mod priors;

pub use boxes::{center_size, decode, encode, jaccard, point_form};
pub use detect::{detect, nms, DetectSpec, SsdDetection};
pub use matching::{match_priors, Matched};
pub use multibox::{MultiBoxLoss, MultiBoxOutput};
pub use priors::{anchors_per_cell_for, PriorSpec, SsdError};
