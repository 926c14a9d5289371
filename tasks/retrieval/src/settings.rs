//! `[task]` of `kind = "retrieval"`: the loss and the training rules of the ProxyAnchor codebase
//! (`tjddus9597/Proxy-Anchor-CVPR2020`, `code/train.py`), the AdamP paper's retrieval setting
//! (arXiv 2006.08217, Section 4; shared paper.md section 4).
//!
//! ```toml
//! [task]
//! kind = "retrieval"
//! loss = { kind = "proxy_anchor", alpha = 32.0, delta = 0.1 }   # or { kind = "triplet", margin = 0.1 }
//! embedding_dim = 512         # the linear embedding after GAP + GMP (default 512)
//! per_class = 3               # optional: class-balanced batches of m images per class;
//!                             #   absent: uniformly shuffled batches (the codebase without --IPC)
//! warmup_epochs = 5           # epochs training only the embedding and the proxies (default 5)
//! clip_value = 10.0           # gradient value clipping (default 10)
//! proxy_lr_scale = 100.0      # proxy_anchor only: the proxies' lr multiple (default 100)
//! recall_at = [1, 2, 4, 8]    # default by data.format: 1,2,4,8 (cub, cars); 1,10,100,1000 (sop);
//!                             #   1,10,20,30,40,50 (inshop)
//! ```

use adamp_datasets::retrieval::RetrievalFormat;
use adamp_task_api::factory::invalid;
use adamp_task_api::Result;
use serde::{Deserialize, Serialize};

use crate::proxy_anchor::ProxyAnchor;
use crate::triplet::SemiHardTriplet;

/// The proxies' learning-rate multiple of the reference (`'lr': float(args.lr) * 100`).
pub const DEFAULT_PROXY_LR_SCALE: f64 = 100.0;

/// The largest embedding a config may ask for (a mistyped value must not allocate gigabytes).
pub const MAX_EMBEDDING_DIM: usize = 65_536;

/// `[task] loss`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", deny_unknown_fields)]
pub enum LossSettings {
    /// Proxy-Anchor (Kim et al., CVPR 2020), [`crate::proxy_anchor`].
    #[serde(rename = "proxy_anchor")]
    ProxyAnchor {
        /// Scale (reference default 32).
        #[serde(default = "default_alpha")]
        alpha: f64,
        /// Margin (reference `mrg`, default 0.1).
        #[serde(default = "default_margin")]
        delta: f64,
    },
    /// Triplet margin loss over semi-hard mined triplets, [`crate::triplet`].
    #[serde(rename = "triplet")]
    Triplet {
        /// The miner's and the loss's margin (reference 0.1).
        #[serde(default = "default_margin")]
        margin: f64,
    },
}

fn default_alpha() -> f64 {
    32.0
}

fn default_margin() -> f64 {
    0.1
}

impl std::fmt::Display for LossSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LossSettings::ProxyAnchor { alpha, delta } => {
                write!(f, "Proxy-Anchor (alpha {alpha}, delta {delta})")
            }
            LossSettings::Triplet { margin } => {
                write!(f, "semi-hard triplet (margin {margin})")
            }
        }
    }
}

/// The loss function a run trains with.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Loss {
    /// Proxy-Anchor: one proxy per training class.
    ProxyAnchor(ProxyAnchor),
    /// Semi-hard triplet.
    Triplet(SemiHardTriplet),
}

impl LossSettings {
    /// The loss.
    pub fn loss(&self) -> Loss {
        match *self {
            LossSettings::ProxyAnchor { alpha, delta } => {
                Loss::ProxyAnchor(ProxyAnchor { alpha, delta })
            }
            LossSettings::Triplet { margin } => Loss::Triplet(SemiHardTriplet { margin }),
        }
    }

    /// Whether the loss has proxies (a parameter group of its own).
    pub fn has_proxies(&self) -> bool {
        matches!(self, LossSettings::ProxyAnchor { .. })
    }
}

/// `[task]` for `kind = "retrieval"`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetrievalSettings {
    /// The metric-learning loss.
    pub loss: LossSettings,
    /// Embedding dimension (paper: 512).
    #[serde(default = "default_embedding_dim")]
    pub embedding_dim: usize,
    /// Images per class in a batch (class-balanced sampling); uniformly shuffled batches when
    /// absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub per_class: Option<usize>,
    /// Warm-up epochs in which only the embedding and the proxies train (paper: 5).
    #[serde(default = "default_warmup_epochs")]
    pub warmup_epochs: usize,
    /// Every gradient is clamped to `[-clip_value, clip_value]` (paper: 10).
    #[serde(default = "default_clip_value")]
    pub clip_value: f64,
    /// The proxies' learning rate as a multiple of the base rate (proxy_anchor only; 100).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proxy_lr_scale: Option<f64>,
    /// The K of the reported Recall@K; default by `data.format` ([`default_recall_at`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recall_at: Option<Vec<usize>>,
}

fn default_embedding_dim() -> usize {
    512
}

fn default_warmup_epochs() -> usize {
    5
}

fn default_clip_value() -> f64 {
    10.0
}

/// The Ks the ProxyAnchor codebase reports per dataset (`code/train.py`, `code/utils.py`).
pub fn default_recall_at(format: RetrievalFormat) -> Vec<usize> {
    match format {
        RetrievalFormat::Cub | RetrievalFormat::Cars => vec![1, 2, 4, 8],
        RetrievalFormat::Sop => vec![1, 10, 100, 1000],
        RetrievalFormat::InShop => vec![1, 10, 20, 30, 40, 50],
    }
}

/// The evaluation metric of Recall@`k`.
pub fn recall_metric(k: usize) -> String {
    format!("recall_at_{k}")
}

impl RetrievalSettings {
    /// The Ks of this run's Recall@K.
    pub fn recall_ks(&self, format: RetrievalFormat) -> Vec<usize> {
        self.recall_at
            .clone()
            .unwrap_or_else(|| default_recall_at(format))
    }

    /// The proxies' learning-rate multiple (proxy_anchor).
    pub fn proxy_lr_scale(&self) -> f64 {
        self.proxy_lr_scale.unwrap_or(DEFAULT_PROXY_LR_SCALE)
    }

    /// Every check that needs no data, naming the `[task]` key.
    pub fn validate(&self) -> Result<()> {
        match self.loss {
            LossSettings::ProxyAnchor { alpha, delta } => {
                positive("loss.alpha", alpha, "a scale > 0 (the reference's 32)")?;
                non_negative("loss.delta", delta, "a margin >= 0 (the reference's 0.1)")?;
            }
            LossSettings::Triplet { margin } => {
                positive("loss.margin", margin, "a margin > 0 (the reference's 0.1)")?;
                if self.proxy_lr_scale.is_some() {
                    return Err(invalid(
                        "proxy_lr_scale",
                        "the triplet loss has no proxies; remove proxy_lr_scale",
                    ));
                }
            }
        }
        if self.embedding_dim == 0 || self.embedding_dim > MAX_EMBEDDING_DIM {
            return Err(invalid(
                "embedding_dim",
                format!(
                    "expected 1 to {MAX_EMBEDDING_DIM} dimensions (the paper's 512), got {}",
                    self.embedding_dim
                ),
            ));
        }
        if self.per_class == Some(0) {
            return Err(invalid(
                "per_class",
                "expected at least 1 image per class (leave it out for shuffled batches), got 0",
            ));
        }
        if self.per_class == Some(1) && matches!(self.loss, LossSettings::Triplet { .. }) {
            return Err(invalid(
                "per_class",
                "the triplet loss needs at least 2 images of a class in a batch, got 1",
            ));
        }
        positive(
            "clip_value",
            self.clip_value,
            "a clipping value > 0 (the reference's 10)",
        )?;
        if let Some(s) = self.proxy_lr_scale {
            positive("proxy_lr_scale", s, "a multiple > 0 (the reference's 100)")?;
        }
        if let Some(ks) = &self.recall_at {
            if ks.is_empty() {
                return Err(invalid(
                    "recall_at",
                    "expected at least one K (leave it out for the dataset's defaults), got []",
                ));
            }
            for (i, &k) in ks.iter().enumerate() {
                if k == 0 {
                    return Err(invalid(format!("recall_at[{i}]"), "expected K >= 1, got 0"));
                }
                if ks[..i].contains(&k) {
                    return Err(invalid(
                        format!("recall_at[{i}]"),
                        format!("expected distinct Ks, got {k} twice"),
                    ));
                }
            }
        }
        Ok(())
    }
}

fn positive(key: &str, v: f64, what: &str) -> Result<()> {
    if v.is_finite() && v > 0.0 {
        Ok(())
    } else {
        Err(invalid(key, format!("expected {what}, got {v}")))
    }
}

fn non_negative(key: &str, v: f64, what: &str) -> Result<()> {
    if v.is_finite() && v >= 0.0 {
        Ok(())
    } else {
        Err(invalid(key, format!("expected {what}, got {v}")))
    }
}
