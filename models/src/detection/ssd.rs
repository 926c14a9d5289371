//! SSD ("Single Shot MultiBox Detector", Liu et al. 2016) as `amdegroot/ssd.pytorch`
//! `ssd.py`, **with the VGG-16 base network replaced by a ResNet backbone** (ResNet-18/50 or,
//! for the embedded setting, CIFAR ResNet-20/56), and without the `L2Norm` of `conv4_3` (a VGG
//! detail).
//!
//! * Sources: the backbone stages of stride >= 8 (ResNet-18 at 300 px: `layer2` 38x38,
//!   `layer3` 19x19, `layer4` 10x10), or its last stage alone if none has stride >= 8 (CIFAR
//!   ResNet-20 at 64 px: 16x16), then one source per pair of extra layers until the map is 1x1.
//! * Extra layers (`add_extras`): pairs of a 1x1 conv to `mid` channels and a 3x3 conv to `out`
//!   channels, each followed by ReLU as in `SSD.forward`; the 3x3 conv has stride 2 and padding
//!   1 on maps of size >= 6 or exactly 2 (10→5, 16→8, 2→1), else stride 1 and padding 0
//!   (5→3, 4→2, 3→1): SSD300's 10→5→3→1 exactly. Channels: the first pair (256, 512), later
//!   pairs (128, 256), as SSD300, scaled by `min(1, C / 512)` with `C` the backbone's last stage
//!   channels (CIFAR ResNet-20: 64, so (32, 64) then (16, 32)). The extras keep the reference's
//!   bias and have **no BatchNorm**, so (like the heads) they are not scale-invariant.
//!   Names `extras.0`, `extras.1`, ... (the reference's `ModuleList`).
//! * Heads: per source `k` a 3x3 conv (padding 1, bias) to `anchors[k] * 4` (`loc.k`) and to
//!   `anchors[k] * (classes + 1)` (`conf.k`); outputs permuted to NHWC and concatenated in
//!   source order, so prior `p` of source `k`, row `i`, column `j`, anchor `a` lines up with
//!   ssd.pytorch's `PriorBox` order.
//! * Init: `weights_init` of ssd.pytorch's `train.py` for extras and heads (Xavier uniform,
//!   bias 0); the backbone keeps its own.

use std::path::Path;

use adamp_optim::ParamList;
use candle_core::{DType, Device, Tensor, Var};

use super::{check_input, load_backbone};
use crate::builder::{LayerImpl, ParamBuilder};
use crate::error::{shape_err, ModelError, Result};
use crate::init::Init;
use crate::kind::ModelKind;
use crate::layers::{relu, Conv2d, Conv2dConfig};
use crate::model::Network;
use crate::nets;
use crate::weights::Weights;

/// Everything [`SsdNet::new`] needs.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SsdConfig {
    /// Backbone (ResNet-18/50, CIFAR ResNet-20/56).
    pub backbone: ModelKind,
    /// Input channels.
    pub in_channels: usize,
    /// Object classes, without the background (the classifier has `num_classes + 1` outputs,
    /// background at index 0 as in ssd.pytorch).
    pub num_classes: usize,
    /// Input side (square images; 300 for SSD300).
    pub input: usize,
    /// Seed of the deterministic initialisation.
    pub seed: u64,
    /// Layer implementation.
    #[serde(default)]
    pub layer_impl: LayerImpl,
}

/// SSD's raw predictions for every prior.
#[derive(Debug, Clone)]
pub struct SsdOutput {
    /// Box regression `[N, P, 4]` (encoded offsets, as ssd.pytorch).
    pub loc: Tensor,
    /// Class logits `[N, P, num_classes + 1]` (index 0: background).
    pub conf: Tensor,
}

/// One pair of extra layers: 1x1 conv + ReLU + 3x3 conv + ReLU.
#[derive(Debug)]
struct Extra {
    reduce: Conv2d,
    conv: Conv2d,
}

/// The 3x3 extra conv's `(stride, padding)` on a `size x size` map, and the output size.
fn extra_geometry(size: usize) -> (usize, usize, usize) {
    if size >= 6 || size == 2 {
        (2, 1, (size - 1) / 2 + 1)
    } else {
        (1, 0, size - 2)
    }
}

/// A conv with bias and ssd.pytorch's `weights_init` (Xavier uniform, bias 0), no norm after it.
fn xavier_conv(
    b: &ParamBuilder,
    cin: usize,
    cout: usize,
    k: usize,
    s: usize,
    p: usize,
) -> Result<Conv2d> {
    let cfg = Conv2dConfig {
        stride: s,
        padding: p,
        bias: true,
        ..Conv2dConfig::default()
    };
    let init = Init::xavier_uniform(&[cout, cin, k, k]);
    Conv2d::with_bias_init(b, (cin, cout, k), cfg, init, Init::Const(0.0), false)
}

/// SSD on a ResNet backbone (see the module documentation).
#[derive(Debug)]
pub struct SsdNet {
    config: SsdConfig,
    backbone: Box<dyn Network>,
    /// Indices into the backbone's stages used as sources.
    stage_sources: Vec<usize>,
    extras: Vec<Extra>,
    loc: Vec<Conv2d>,
    conf: Vec<Conv2d>,
    sizes: Vec<usize>,
    anchors: Vec<usize>,
    imp: LayerImpl,
    weights: Weights,
}

impl SsdNet {
    /// Build the network for `cfg.input x cfg.input` images on `device` (f32).
    /// `anchors_for(source sizes)` gives the number of anchors per cell of each source (SSD300:
    /// `[38, 19, 10, 5, 3, 1]` → `[4, 6, 6, 6, 4, 4]`); it must return one count >= 1 per
    /// source. Runs the backbone once on a zero image to find the source sizes.
    pub fn new(
        cfg: &SsdConfig,
        anchors_for: &dyn Fn(&[usize]) -> Vec<usize>,
        device: &Device,
    ) -> Result<Self> {
        if cfg.in_channels == 0 || cfg.num_classes == 0 || cfg.input == 0 {
            return Err(ModelError::Config(format!(
                "SSD: in_channels ({}), num_classes ({}) and input ({}) must be >= 1",
                cfg.in_channels, cfg.num_classes, cfg.input
            )));
        }
        let b = ParamBuilder::new(cfg.seed, device, cfg.layer_impl);
        let backbone = nets::backbone(cfg.backbone, &b.pp("backbone"), cfg.in_channels)?;
        let strides = backbone.stage_strides();
        let channels = backbone.stage_channels();
        let last = strides.len().checked_sub(1).ok_or_else(|| {
            ModelError::Config(format!("SSD: backbone `{}` has no stages", cfg.backbone))
        })?;
        let mut stage_sources: Vec<usize> = (0..=last).filter(|&i| strides[i] >= 8).collect();
        if stage_sources.is_empty() {
            stage_sources.push(last);
        }
        let probe = Tensor::zeros(
            (1, cfg.in_channels, cfg.input, cfg.input),
            DType::F32,
            device,
        )?;
        let stages = backbone.stages_t(&probe, false)?;
        let mut sizes = Vec::new();
        let mut src_channels = Vec::new();
        for &i in &stage_sources {
            let (_, _, h, w) = stages[i].dims4()?;
            if h != w {
                return Err(ModelError::Config(format!(
                    "SSD: non-square stage map {h}x{w}"
                )));
            }
            sizes.push(h);
            src_channels.push(channels[i]);
        }
        let scale = |c: usize| (c * channels[last].min(512) / 512).max(1);
        let eb = b.pp("extras");
        let mut extras = Vec::new();
        let (mut size, mut cin) = (sizes[sizes.len() - 1], channels[last]);
        while size > 1 {
            let (mid, out) = if extras.is_empty() {
                (256, 512)
            } else {
                (128, 256)
            };
            let (mid, out) = (scale(mid), scale(out));
            let (s, p, next) = extra_geometry(size);
            let k = 2 * extras.len();
            extras.push(Extra {
                reduce: xavier_conv(&eb.pp(k), cin, mid, 1, 1, 0)?,
                conv: xavier_conv(&eb.pp(k + 1), mid, out, 3, s, p)?,
            });
            sizes.push(next);
            src_channels.push(out);
            (size, cin) = (next, out);
        }
        let anchors = anchors_for(&sizes);
        if anchors.len() != sizes.len() || anchors.contains(&0) {
            return Err(ModelError::Config(format!(
                "SSD: anchors_for({sizes:?}) returned {anchors:?}; expected one count >= 1 per source"
            )));
        }
        let classes = cfg.num_classes + 1;
        let mut loc = Vec::new();
        let mut conf = Vec::new();
        for (k, (&c, &a)) in src_channels.iter().zip(&anchors).enumerate() {
            loc.push(xavier_conv(&b.pp("loc").pp(k), c, a * 4, 3, 1, 1)?);
            conf.push(xavier_conv(&b.pp("conf").pp(k), c, a * classes, 3, 1, 1)?);
        }
        Ok(Self {
            config: cfg.clone(),
            backbone,
            stage_sources,
            extras,
            loc,
            conf,
            sizes,
            anchors,
            imp: cfg.layer_impl,
            weights: b.weights()?,
        })
    }

    /// Side of every source map, in source order (SSD300 on ResNet-18: `[38, 19, 10, 5, 3, 1]`).
    pub fn source_sizes(&self) -> &[usize] {
        &self.sizes
    }

    /// Anchors per cell of every source (what `anchors_for` returned).
    pub fn anchors_per_cell(&self) -> &[usize] {
        &self.anchors
    }

    /// Number of priors `P = sum_k size_k^2 * anchors_k`.
    pub fn num_priors(&self) -> usize {
        self.sizes
            .iter()
            .zip(&self.anchors)
            .map(|(s, a)| s * s * a)
            .sum()
    }

    /// Predictions for images `[N, in_channels, input, input]`; `train` selects batch statistics
    /// (and running-statistics updates) in the backbone's BatchNorm.
    pub fn forward_t(&self, x: &Tensor, train: bool) -> Result<SsdOutput> {
        check_input("SSD", x, self.config.in_channels)?;
        let (_, _, h, w) = x.dims4()?;
        if h != self.config.input || w != self.config.input {
            return Err(shape_err(
                "SSD",
                "input height/width",
                format!(
                    "{0}x{0} (the size the priors are laid out for)",
                    self.config.input
                ),
                format!("{h}x{w}"),
            ));
        }
        let stages = self.backbone.stages_t(x, train)?;
        let mut sources: Vec<Tensor> = self
            .stage_sources
            .iter()
            .map(|&i| stages[i].clone())
            .collect();
        let mut f = stages[stages.len() - 1].clone();
        for e in &self.extras {
            f = relu(&e.reduce.forward(&f)?, self.imp)?;
            f = relu(&e.conv.forward(&f)?, self.imp)?;
            sources.push(f.clone());
        }
        let n = x.dim(0)?;
        let classes = self.config.num_classes + 1;
        let mut locs = Vec::with_capacity(sources.len());
        let mut confs = Vec::with_capacity(sources.len());
        for ((s, l), c) in sources.iter().zip(&self.loc).zip(&self.conf) {
            locs.push(nhwc_rows(&l.forward(s)?, n, 4)?);
            confs.push(nhwc_rows(&c.forward(s)?, n, classes)?);
        }
        Ok(SsdOutput {
            loc: Tensor::cat(&locs, 1)?,
            conf: Tensor::cat(&confs, 1)?,
        })
    }

    /// The trainable parameters, sorted by name, with metadata.
    pub fn params(&self) -> ParamList {
        self.weights.params()
    }

    /// The buffers (the backbone's BatchNorm running statistics), sorted by name.
    pub fn buffers(&self) -> &[(String, Var)] {
        self.weights.buffers()
    }

    /// Parameters and buffers, with checkpointing by name.
    pub fn weights(&self) -> &Weights {
        &self.weights
    }

    /// The configuration this network was built from.
    pub fn config(&self) -> &SsdConfig {
        &self.config
    }

    /// Total number of trainable scalars.
    pub fn num_params(&self) -> usize {
        self.weights.num_params()
    }

    /// Load torchvision-named ImageNet weights into the backbone (`backbone.*`), ignoring the
    /// checkpoint's `fc.*`; extras and heads keep their initial values. Returns the number of
    /// tensors loaded.
    pub fn load_backbone_pretrained(&self, path: &Path) -> Result<usize> {
        load_backbone(&self.weights, path)
    }
}

/// `[N, A*k, h, w]` → `[N, h*w*A, k]` (ssd.pytorch: `permute(0, 2, 3, 1)` then `view`).
fn nhwc_rows(t: &Tensor, n: usize, k: usize) -> Result<Tensor> {
    let t = t.permute((0, 2, 3, 1))?.contiguous()?;
    let total = t.elem_count() / n;
    Ok(t.reshape((n, total / k, k))?)
}
