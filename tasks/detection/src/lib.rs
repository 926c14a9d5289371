//! # adamp-task-detection
//!
//! Benchmark 2 of the AdamP paper (Heo et al., ICLR 2021, arXiv 2006.08217, Section 4): object
//! detection on MS-COCO with CenterNet and SSD, Adam vs AdamP, reported as COCO box AP.
//! `[task] kind = "detection"` ([`settings`]), `[model]` ([`model_settings`]: the backbone and
//! its ImageNet weights), `[data]` ([`data_settings`]: a COCO-format dataset, real or the
//! generated stand-in). The task ([`task`]) prepares batches ([`batch`]: the references'
//! augmentation, deterministic per seed), trains with the detector's loss
//! ([`centernet_step`], [`ssd_step`]) and evaluates by the COCO protocol ([`results`]),
//! leaving the detections in the run folder (`detections.json`, the COCO results format).
//! Per step it records the loss parts (`hm_loss`, `wh_loss`, `off_loss` or `loc_loss`,
//! `conf_loss`, `positives`) and `objects`; per evaluation `ap`, `ap50`, `ap75`, `ap_small`,
//! `ap_medium`, `ap_large`, `ar1`, `ar10`, `ar100`, `ar_small`, `ar_medium`, `ar_large` (percent).
//!
//! The pieces, each checked against its reference:
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

pub mod batch;
pub mod centernet_step;
pub mod coco_eval;
pub mod data;
pub mod data_settings;
pub mod decode;
pub mod factory;
pub mod focal;
pub mod model_settings;
pub mod results;
pub mod settings;
pub mod ssd;
pub mod ssd_step;
pub mod targets;
pub mod task;

pub use coco_eval::{evaluate, CocoEvalError, CocoStats, Detection, GroundTruth};
pub use settings::DetectionSettings;
pub use task::DetectionTask;
