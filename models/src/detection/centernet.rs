//! CenterNet ("Objects as Points", Zhou et al. 2019) with a ResNet backbone, as
//! `xingyizhou/CenterNet` `src/lib/models/networks/resnet_dcn.py` (`get_pose_net`), **with the
//! deformable 3x3 convolution (DCN) of each up-sampling stage replaced by a plain 3x3 conv**
//! (no deformable convolutions here; the reference keeps the plain conv as a commented-out
//! alternative).
//!
//! * Backbone: the last stage of [`crate::Network::stages_t`] (ResNet-18: `layer4`, stride 32;
//!   CIFAR ResNet-20: its third stage, stride 4).
//! * `deconv_layers`: `log2(stride / 4)` stages (ResNet-18: 3, CIFAR ResNet-20: 0) of
//!   conv3x3 (no bias) + BN + ReLU + ConvTranspose2d(4, stride 2, padding 1, no bias) + BN +
//!   ReLU with `up_channels[i]` channels (reference `[256, 128, 64]`), named as the reference's
//!   `nn.Sequential` (`deconv_layers.0` conv, `.1` BN, `.3` up, `.4` BN, then `.6`, ...). BN
//!   momentum 0.1 (`BN_MOMENTUM`). Init: the conv as DCNv2's `reset_parameters`
//!   (`U(±1/sqrt(fan_in))`); the transposed conv torch's default then `fill_up_weights`
//!   (bilinear kernel in `w[c, 0]` for every `c`).
//! * Heads `hm` (classes), `wh` (2), `reg` (2): conv3x3(→`head_conv`, bias) + ReLU +
//!   conv1x1(bias) (`hm.0`, `hm.2`, ...); `hm` keeps torch's default init with its last bias
//!   filled with -2.19 (prior 0.1), `wh`/`reg` use `fill_fc_weights` (normal std 0.001, bias 0).
//!   The heatmap is returned as logits (the reference's `_sigmoid` is the loss's business).
//! * Output stride 4: maps `[N, ·, ceil(H/4), ceil(W/4)]` (exactly `H/4` for `H` divisible by
//!   the backbone stride).

use std::path::Path;

use adamp_optim::ParamList;
use candle_core::{DType, Device, Tensor, Var};

use super::{check_input, load_backbone, BACKBONE_PREFIX};
use crate::builder::{LayerImpl, ParamBuilder};
use crate::error::{ModelError, Result};
use crate::init::Init;
use crate::kind::ModelKind;
use crate::layers::{relu, BatchNorm2d, Conv2d, Conv2dConfig, ConvTranspose2d};
use crate::model::Network;
use crate::nets;
use crate::weights::Weights;

/// Everything [`CenterNet::new`] needs.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CenterNetConfig {
    /// Backbone (ResNet-18/50, CIFAR ResNet-20/56).
    pub backbone: ModelKind,
    /// Input channels.
    pub in_channels: usize,
    /// Object classes (heatmap channels).
    pub num_classes: usize,
    /// Input height and width the network is checked against at build time.
    pub input_hw: (usize, usize),
    /// Channels of the heads' hidden conv (reference 64).
    pub head_conv: usize,
    /// Channels of each up-sampling stage (reference `[256, 128, 64]`); the first
    /// `log2(backbone stride / 4)` are used.
    pub up_channels: Vec<usize>,
    /// Seed of the deterministic initialisation.
    pub seed: u64,
    /// Layer implementation.
    #[serde(default)]
    pub layer_impl: LayerImpl,
}

impl CenterNetConfig {
    /// The reference's hyper-parameters (`head_conv` 64, up channels `[256, 128, 64]`), seed 0,
    /// fast layers.
    pub fn new(
        backbone: ModelKind,
        in_channels: usize,
        num_classes: usize,
        input_hw: (usize, usize),
    ) -> Self {
        Self {
            backbone,
            in_channels,
            num_classes,
            input_hw,
            head_conv: 64,
            up_channels: vec![256, 128, 64],
            seed: 0,
            layer_impl: LayerImpl::Fast,
        }
    }
}

/// CenterNet's three output maps at stride 4.
#[derive(Debug, Clone)]
pub struct CenterNetOutput {
    /// Class heatmap logits `[N, num_classes, H/4, W/4]`.
    pub hm: Tensor,
    /// Box width and height `[N, 2, H/4, W/4]` (in output-map pixels, as the reference).
    pub wh: Tensor,
    /// Sub-pixel centre offset `[N, 2, H/4, W/4]`.
    pub reg: Tensor,
}

/// One up-sampling stage: conv3x3 + BN + ReLU + ConvTranspose2d + BN + ReLU.
#[derive(Debug)]
struct UpStage {
    conv: Conv2d,
    bn1: BatchNorm2d,
    up: ConvTranspose2d,
    bn2: BatchNorm2d,
}

impl UpStage {
    fn new(b: &ParamBuilder, i: usize, cin: usize, planes: usize) -> Result<Self> {
        let conv = Conv2d::new(
            &b.pp(6 * i),
            cin,
            planes,
            3,
            Conv2dConfig::sp(1, 1),
            Init::torch_default(cin * 9),
            true,
        )?;
        let up = ConvTranspose2d::new(
            &b.pp(6 * i + 3),
            planes,
            planes,
            4,
            (2, 1, 0),
            Init::torch_default(planes * 16),
            true,
        )?;
        fill_up_weights(up.weight())?;
        Ok(Self {
            conv,
            bn1: BatchNorm2d::new(&b.pp(6 * i + 1), planes)?,
            up,
            bn2: BatchNorm2d::new(&b.pp(6 * i + 4), planes)?,
        })
    }

    fn forward_t(&self, x: &Tensor, train: bool) -> Result<Tensor> {
        let x = self.bn1.forward_relu_t(&self.conv.forward(x)?, train)?;
        self.bn2.forward_relu_t(&self.up.forward(&x)?, train)
    }
}

/// The reference's `fill_up_weights`: a bilinear up-sampling kernel in `w[c, 0, :, :]` for every
/// input channel `c` (the rest of the weight keeps its initial values).
pub fn fill_up_weights(w: &Var) -> Result<()> {
    let (cin, cout, kh, kw) = w.dims4()?;
    let f = kh.div_ceil(2) as f64;
    let c = (2.0 * f - 1.0 - (f % 2.0)) / (2.0 * f);
    let mut v = w.flatten_all()?.to_vec1::<f32>()?;
    for ci in 0..cin {
        for i in 0..kh {
            for j in 0..kw {
                let val = (1.0 - (i as f64 / f - c).abs()) * (1.0 - (j as f64 / f - c).abs());
                v[((ci * cout) * kh + i) * kw + j] = val as f32;
            }
        }
    }
    w.set(&Tensor::from_vec(v, w.dims(), w.device())?)?;
    Ok(())
}

/// A prediction head: conv3x3(bias) + ReLU + conv1x1(bias).
#[derive(Debug)]
struct Head {
    conv1: Conv2d,
    conv2: Conv2d,
    imp: LayerImpl,
}

impl Head {
    /// `heatmap`: torch default init with the last bias at -2.19; otherwise `fill_fc_weights`.
    fn new(b: &ParamBuilder, cin: usize, hidden: usize, out: usize, heatmap: bool) -> Result<Self> {
        let cfg1 = Conv2dConfig {
            padding: 1,
            bias: true,
            ..Conv2dConfig::default()
        };
        let cfg2 = Conv2dConfig {
            bias: true,
            ..Conv2dConfig::default()
        };
        let small = Init::Normal { std: 0.001 };
        let (conv1, conv2) = if heatmap {
            (
                Conv2d::new(
                    &b.pp(0),
                    cin,
                    hidden,
                    3,
                    cfg1,
                    Init::torch_default(cin * 9),
                    false,
                )?,
                Conv2d::with_bias_init(
                    &b.pp(2),
                    (hidden, out, 1),
                    cfg2,
                    Init::torch_default(hidden),
                    Init::Const(-2.19),
                    false,
                )?,
            )
        } else {
            let zero = Init::Const(0.0);
            (
                Conv2d::with_bias_init(&b.pp(0), (cin, hidden, 3), cfg1, small, zero, false)?,
                Conv2d::with_bias_init(&b.pp(2), (hidden, out, 1), cfg2, small, zero, false)?,
            )
        };
        Ok(Self {
            conv1,
            conv2,
            imp: b.layer_impl(),
        })
    }

    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        self.conv2
            .forward(&relu(&self.conv1.forward(x)?, self.imp)?)
    }
}

/// CenterNet on a ResNet backbone (see the module documentation).
#[derive(Debug)]
pub struct CenterNet {
    config: CenterNetConfig,
    backbone: Box<dyn Network>,
    deconv: Vec<UpStage>,
    hm: Head,
    wh: Head,
    reg: Head,
    weights: Weights,
}

impl CenterNet {
    /// Build the network on `device` (f32), then run one evaluation-mode forward pass on a zero
    /// image of `cfg.input_hw` so a too-small input fails here. Errors: a backbone without stage
    /// outputs, a backbone stride that is not a power of two >= 4, too few `up_channels`, zero
    /// channels or classes.
    pub fn new(cfg: &CenterNetConfig, device: &Device) -> Result<Self> {
        if cfg.in_channels == 0 || cfg.num_classes == 0 || cfg.head_conv == 0 {
            return Err(ModelError::Config(format!(
                "CenterNet: in_channels ({}), num_classes ({}) and head_conv ({}) must be >= 1",
                cfg.in_channels, cfg.num_classes, cfg.head_conv
            )));
        }
        let b = ParamBuilder::new(cfg.seed, device, cfg.layer_impl);
        let backbone = nets::backbone(cfg.backbone, &b.pp("backbone"), cfg.in_channels)?;
        let stride = backbone.stage_strides().last().copied().unwrap_or(0);
        if stride < 4 || !stride.is_power_of_two() {
            return Err(ModelError::Config(format!(
                "CenterNet: backbone `{}` has output stride {stride}; a power of two >= 4 is needed",
                cfg.backbone
            )));
        }
        let n_up = (stride / 4).trailing_zeros() as usize;
        if cfg.up_channels.len() < n_up || cfg.up_channels[..n_up].contains(&0) {
            return Err(ModelError::Config(format!(
                "CenterNet: backbone `{}` (stride {stride}) needs {n_up} up-sampling stages, \
                 but up_channels is {:?}",
                cfg.backbone, cfg.up_channels
            )));
        }
        let mut cin = backbone.stage_channels().last().copied().unwrap_or(0);
        let db = b.pp("deconv_layers");
        let mut deconv = Vec::with_capacity(n_up);
        for (i, &planes) in cfg.up_channels[..n_up].iter().enumerate() {
            deconv.push(UpStage::new(&db, i, cin, planes)?);
            cin = planes;
        }
        let h = cfg.head_conv;
        let net = Self {
            hm: Head::new(&b.pp("hm"), cin, h, cfg.num_classes, true)?,
            wh: Head::new(&b.pp("wh"), cin, h, 2, false)?,
            reg: Head::new(&b.pp("reg"), cin, h, 2, false)?,
            config: cfg.clone(),
            backbone,
            deconv,
            weights: b.weights()?,
        };
        let (ph, pw) = cfg.input_hw;
        let probe = Tensor::zeros((1, cfg.in_channels, ph, pw), DType::F32, device)?;
        net.forward_t(&probe, false)?;
        Ok(net)
    }

    /// The three maps for images `[N, in_channels, H, W]`; `train` selects batch statistics
    /// (and running-statistics updates) in BatchNorm.
    pub fn forward_t(&self, x: &Tensor, train: bool) -> Result<CenterNetOutput> {
        check_input("CenterNet", x, self.config.in_channels)?;
        let mut stages = self.backbone.stages_t(x, train)?;
        let mut f = stages
            .pop()
            .ok_or_else(|| ModelError::Config("CenterNet: backbone returned no stages".into()))?;
        for stage in &self.deconv {
            f = stage.forward_t(&f, train)?;
        }
        Ok(CenterNetOutput {
            hm: self.hm.forward(&f)?,
            wh: self.wh.forward(&f)?,
            reg: self.reg.forward(&f)?,
        })
    }

    /// The trainable parameters, sorted by name, with metadata.
    pub fn params(&self) -> ParamList {
        self.weights.params()
    }

    /// The buffers (BatchNorm running statistics), sorted by name.
    pub fn buffers(&self) -> &[(String, Var)] {
        self.weights.buffers()
    }

    /// Parameters and buffers, with checkpointing by name.
    pub fn weights(&self) -> &Weights {
        &self.weights
    }

    /// The configuration this network was built from.
    pub fn config(&self) -> &CenterNetConfig {
        &self.config
    }

    /// Input pixels per output-map pixel: 4.
    pub fn output_stride(&self) -> usize {
        4
    }

    /// Number of up-sampling stages (`log2(backbone stride / 4)`).
    pub fn num_up_stages(&self) -> usize {
        self.deconv.len()
    }

    /// Total number of trainable scalars.
    pub fn num_params(&self) -> usize {
        self.weights.num_params()
    }

    /// Load torchvision-named ImageNet weights (`conv1.weight`, `layer1.0.bn1.running_mean`,
    /// ...) into the backbone (`backbone.*`), ignoring the checkpoint's `fc.*`; the up-sampling
    /// layers and heads keep their initial values. Returns the number of tensors loaded.
    pub fn load_backbone_pretrained(&self, path: &Path) -> Result<usize> {
        load_backbone(&self.weights, path)
    }

    /// The parameter-name prefix of the backbone (`backbone.`).
    pub fn backbone_prefix(&self) -> &'static str {
        BACKBONE_PREFIX
    }
}
