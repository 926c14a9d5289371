//! # adamp-task-retrieval
//!
//! Benchmarks 9-12 of the AdamP paper (Heo et al., ICLR 2021, arXiv 2006.08217, image retrieval
//! table): deep metric learning on CUB-200-2011, Cars-196, Stanford Online Products and In-Shop
//! with the triplet (semi-hard mining, margin 0.1) and Proxy-Anchor (alpha 32, delta 0.1)
//! losses, AdamW vs AdamP, reporting Recall@K. The settings are those of the ProxyAnchor codebase
//! (`tjddus9597/Proxy-Anchor-CVPR2020`) the paper used; the embedded stand-ins run the same code
//! on Fashion-MNIST in the CUB layout and emoji sprites in the SOP layout.
//!
//! `[task] kind = "retrieval"` ([`settings`]), `[model]` ([`model_settings`]: the trunk and its
//! starting weights), `[data]` ([`data_settings`]: the dataset layout). The network
//! ([`embedding`]) is a trunk with frozen BatchNorm, GAP + GMP, a linear embedding and l2
//! normalisation; the losses are [`proxy_anchor`] and [`triplet`]; [`freeze`] holds the warm-up
//! and clipping rules; [`recall`] the blockwise Recall@K. Per step the task records `warmup`
//! (1 during the warm-up) and, for the triplet loss, `triplets_mined` / `triplets_active`; per
//! evaluation `recall_at_<k>` (percent) for every K.

pub mod batches;
pub mod data;
pub mod data_settings;
pub mod describe;
pub mod embedding;
pub mod factory;
pub mod freeze;
pub mod groups;
pub mod model_settings;
pub mod proxy_anchor;
pub mod recall;
pub mod settings;
pub mod task;
pub mod triplet;

pub use settings::RetrievalSettings;
pub use task::RetrievalTask;
