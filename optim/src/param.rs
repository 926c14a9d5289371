//! Named parameters with structural metadata, and parameter groups.
//!
//! The paper (Heo et al., ICLR 2021, Section 3) is about *scale-invariant* weights: a weight that is
//! followed by a normalisation layer (BatchNorm, LayerNorm, weight norm, or an l2-normalised
//! embedding). SGDP/AdamP never use this metadata to decide a projection -- they use the reference's
//! cosine test (`adamp` 0.3.0, `adamp/adamp.py::_projection`) -- but the metadata is recorded when a
//! model is built so that the harness can log per-kind statistics, and so a test can check that the
//! cosine test and the structure agree.
//!
//! A [`ParamList`] is always sorted by name and has unique names (Candle's `VarMap` has no stable
//! order, so we never iterate one). BatchNorm running statistics are *buffers*, not parameters, and
//! never belong in a `ParamList`.

use candle_core::Var;

use crate::error::{OptimError, Result};

/// What a parameter is, structurally. Recorded by the model builder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ParamKind {
    /// A convolution kernel `[out, in/groups, kh, kw]`.
    Conv,
    /// A fully connected weight `[out, in]`.
    Linear,
    /// An embedding table `[num, dim]` (or learnable proxies in metric learning).
    Embedding,
    /// The multiplicative gain of a normalisation layer (`gamma`), 1-D.
    NormGain,
    /// An additive bias (including a normalisation layer's `beta`), 1-D.
    Bias,
    /// Anything else (e.g. a learnable scalar temperature).
    Other,
}

impl ParamKind {
    /// A short lower-case name used in logs and CSV files.
    pub fn as_str(self) -> &'static str {
        match self {
            ParamKind::Conv => "conv",
            ParamKind::Linear => "linear",
            ParamKind::Embedding => "embedding",
            ParamKind::NormGain => "norm_gain",
            ParamKind::Bias => "bias",
            ParamKind::Other => "other",
        }
    }
}

/// Structural metadata recorded when a model is built.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ParamMeta {
    /// What kind of tensor this is.
    pub kind: ParamKind,
    /// Whether the layer's output goes straight into a normalisation layer, which makes this
    /// weight scale-invariant (`f(c w) = f(w)` for `c > 0`; paper Section 2.1).
    pub followed_by_norm: bool,
}

impl ParamMeta {
    /// Metadata for a parameter of `kind`, not followed by a normalisation layer.
    pub fn new(kind: ParamKind) -> Self {
        Self {
            kind,
            followed_by_norm: false,
        }
    }

    /// Metadata for a parameter of `kind` whose layer feeds a normalisation layer.
    pub fn scale_invariant(kind: ParamKind) -> Self {
        Self {
            kind,
            followed_by_norm: true,
        }
    }
}

/// One optimizer parameter group: a learning-rate multiplier and an optional weight-decay override.
///
/// This is `torch.optim`'s `param_groups` reduced to what the paper's benchmarks need: the
/// retrieval benchmark trains proxies at 100x the base learning rate, and most benchmarks exclude
/// 1-D parameters from weight decay.
#[derive(Debug, Clone, PartialEq)]
pub struct ParamGroup {
    /// A name for logs ("default", "no_decay", "proxies", ...).
    pub name: String,
    /// The group's learning rate is `lr_scale * base_lr` (so schedules scale every group alike).
    pub lr_scale: f64,
    /// Weight decay for this group; `None` uses the optimizer's own `weight_decay`.
    pub weight_decay: Option<f64>,
}

impl ParamGroup {
    /// The default group: base learning rate, the optimizer's weight decay.
    pub fn default_group() -> Self {
        Self {
            name: "default".to_string(),
            lr_scale: 1.0,
            weight_decay: None,
        }
    }

    /// A group without weight decay (for biases and norm gains when `no_decay_1d` is set).
    pub fn no_decay() -> Self {
        Self {
            name: "no_decay".to_string(),
            lr_scale: 1.0,
            weight_decay: Some(0.0),
        }
    }
}

/// A trainable parameter: its variable, its full dotted name, its metadata and its group index.
#[derive(Debug, Clone)]
pub struct Param {
    /// Full dotted name, e.g. `layer1.0.conv1.weight` (torchvision naming where one exists).
    pub name: String,
    /// The variable holding the values; the optimizer updates it in place.
    pub var: Var,
    /// Structural metadata recorded at build time.
    pub meta: ParamMeta,
    /// Index into [`ParamList::groups`].
    pub group: usize,
}

/// The optimizer's parameter list: sorted by name, unique names, with its groups.
#[derive(Debug, Clone)]
pub struct ParamList {
    params: Vec<Param>,
    groups: Vec<ParamGroup>,
}

impl ParamList {
    /// Build a list with a single default group. Every `Param::group` must be 0.
    pub fn new(params: Vec<Param>) -> Result<Self> {
        Self::with_groups(params, vec![ParamGroup::default_group()])
    }

    /// Build a list with explicit groups; sorts by name and rejects duplicate names and group
    /// indices that name no group.
    pub fn with_groups(mut params: Vec<Param>, groups: Vec<ParamGroup>) -> Result<Self> {
        if groups.is_empty() {
            return Err(OptimError::InvalidParams(
                "a parameter list needs at least one group".into(),
            ));
        }
        params.sort_by(|a, b| a.name.cmp(&b.name));
        for pair in params.windows(2) {
            if pair[0].name == pair[1].name {
                return Err(OptimError::InvalidParams(format!(
                    "parameter name `{}` appears twice",
                    pair[0].name
                )));
            }
        }
        for p in &params {
            if p.group >= groups.len() {
                return Err(OptimError::InvalidParams(format!(
                    "parameter `{}` is in group {} but only {} group(s) exist",
                    p.name,
                    p.group,
                    groups.len()
                )));
            }
        }
        Ok(Self { params, groups })
    }

    /// Move every parameter with at most one dimension (biases, norm gains) into a group without
    /// weight decay, appended to the existing groups (the common `no_decay_1d` recipe).
    pub fn exclude_1d_from_weight_decay(mut self) -> Self {
        let idx = self.groups.len();
        let mut moved = false;
        for p in &mut self.params {
            if p.var.rank() <= 1 {
                p.group = idx;
                moved = true;
            }
        }
        if moved {
            self.groups.push(ParamGroup::no_decay());
        }
        self
    }

    /// The parameters, sorted by name.
    pub fn params(&self) -> &[Param] {
        &self.params
    }

    /// The groups.
    pub fn groups(&self) -> &[ParamGroup] {
        &self.groups
    }

    /// Look a parameter up by its full name.
    pub fn get(&self, name: &str) -> Option<&Param> {
        self.params
            .binary_search_by(|p| p.name.as_str().cmp(name))
            .ok()
            .map(|i| &self.params[i])
    }

    /// Number of parameters (tensors).
    pub fn len(&self) -> usize {
        self.params.len()
    }

    /// Whether the list is empty.
    pub fn is_empty(&self) -> bool {
        self.params.is_empty()
    }

    /// Total number of scalar elements over all parameters.
    pub fn numel(&self) -> usize {
        self.params.iter().map(|p| p.var.elem_count()).sum()
    }
}
