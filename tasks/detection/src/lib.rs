//! # adamp-task-detection
//!
//! This crate will hold benchmark 2 of the AdamP paper (Heo et al., ICLR 2021, arXiv
//! 2006.08217): object detection on MS-COCO, reported as COCO box AP. It is not a harness task
//! yet. Today it holds the evaluator: [`coco_eval`], the COCO bbox protocol of pycocotools'
//! `COCOeval` (`iouType="bbox"`), checked against pycocotools 2.0.10 on the fixtures written by
//! `tools/gen_coco_eval_fixtures.py`.

pub mod coco_eval;

pub use coco_eval::{evaluate, CocoEvalError, CocoStats, Detection, GroundTruth};
