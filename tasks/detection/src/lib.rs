//! # adamp-task-detection
//!
//! This crate will hold benchmark 2 of the AdamP paper (Heo et al., ICLR 2021, arXiv
//! 2006.08217): object detection on MS-COCO with CenterNet, reported as COCO box AP. It is not
//! a harness task yet. Today it holds:
//!
//! * [`coco_eval`]: the COCO bbox protocol of pycocotools' `COCOeval` (`iouType="bbox"`),
//!   checked against pycocotools 2.0.10 on the fixtures written by
//!   `tools/gen_coco_eval_fixtures.py`;
//! * CenterNet's pieces (Zhou et al. 2019, github xingyizhou/CenterNet), checked against the
//!   numpy port in `tools/gen_centernet_fixtures.py`: [`targets`] (gaussian radius, heatmap
//!   splatting, the `ctdet` targets at stride 4), [`focal`] (the penalty-reduced focal loss and
//!   the masked L1, on Candle tensors) and [`decode`] (3×3 peak NMS, top K, boxes);
//! * [`ssd`]: SSD's box machinery after ssd.pytorch (github amdegroot/ssd.pytorch): priors,
//!   box coding, matching, the MultiBox loss with hard-negative mining (on Candle tensors) and
//!   `Detect`'s NMS decoding, checked against the numpy port in `tools/gen_ssd_fixtures.py`.

pub mod coco_eval;
pub mod decode;
pub mod focal;
pub mod ssd;
pub mod targets;

pub use coco_eval::{evaluate, CocoEvalError, CocoStats, Detection, GroundTruth};
