//! The one line the harness logs about a built retrieval run (nanoGPT: the program says what it
//! decided): the loss, the trunk and its starting weights, BatchNorm's mode, the data and its
//! batches, the evaluation, the warm-up, and how many tensors are scale-invariant.

use adamp_models::ModelConfig;
use adamp_optim::ParamList;

use crate::data::Opened;
use crate::settings::RetrievalSettings;

/// What [`Description::line`] reports.
pub struct Description<'a> {
    /// `[task]`.
    pub settings: &'a RetrievalSettings,
    /// The trunk.
    pub config: &'a ModelConfig,
    /// Whether BatchNorm is frozen.
    pub bn_frozen: bool,
    /// `", <n> tensors from <file>"` when starting weights were loaded, else empty.
    pub loaded: &'a str,
    /// The data.
    pub opened: &'a Opened,
    /// Batches per epoch.
    pub per_epoch: usize,
    /// Images per batch.
    pub batch_size: usize,
    /// The Ks of Recall@K.
    pub ks: &'a [usize],
    /// The optimizer's parameters.
    pub params: &'a ParamList,
}

impl Description<'_> {
    /// The line.
    pub fn line(&self) -> String {
        let s = self.settings;
        let c = self.config;
        let sampling = match s.per_class {
            Some(m) => format!(", {m} images per class"),
            None => ", shuffled".to_string(),
        };
        let proxies = if s.loss.has_proxies() {
            format!(" + proxies at {}x lr", s.proxy_lr_scale())
        } else {
            String::new()
        };
        let invariant = self
            .params
            .params()
            .iter()
            .filter(|p| p.meta.followed_by_norm)
            .count();
        format!(
            "retrieval: {} loss, {} trunk ({} channels, input {}x{}{}), GAP+GMP -> {}-d \
             l2-normalised embedding, BatchNorm {}; {} train images of {} classes ({}), {} \
             batches of {} per epoch{sampling}; evaluation {}, Recall@{:?}; warm-up {} epoch(s) \
             (embedding{proxies} only), gradient clip {}; {} parameters in {} tensors, \
             {invariant} scale-invariant",
            s.loss,
            c.kind,
            c.in_channels,
            c.input_hw.0,
            c.input_hw.1,
            self.loaded,
            s.embedding_dim,
            if self.bn_frozen {
                "frozen"
            } else {
                "in training mode"
            },
            self.opened.train.len(),
            self.opened.train.num_classes(),
            self.opened.train.describe(),
            self.per_epoch,
            self.batch_size,
            self.opened.eval.describe(),
            self.ks,
            s.warmup_epochs,
            s.clip_value,
            self.params.numel(),
            self.params.len(),
        )
    }
}
