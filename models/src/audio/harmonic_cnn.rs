//! The Harmonic CNN (Won, Chun, Nieto, Serra, "Data-driven harmonic filters for audio
//! representation learning", ICASSP 2020): minzwon/data-driven-harmonic-filters
//! `training/model.py` (`Model`: `hstft`, `hstft_bn = BatchNorm2d(n_harmonic)`, `conv_2d`) and
//! `training/modules.py` (`ResNet_mtat`, `ResNet_keyword`, `ResNet_dcase`).
//!
//! `conv_2d`: `res1 = Conv3_2d(n_harmonic, C)`, `res2..res4 = Conv3_2d_resmp(C)`,
//! `res5 = Conv3_2d(C, 2C)`, `res6, res7 = Conv3_2d_resmp(2C)`; every block pools by 2 except
//! `res6`/`res7`: `(2, 3)` for MagnaTagATune, `(2, 1)` for `res7` of the keyword network. Then
//! the frequency axis (1 after seven halvings of the 128 bands) is squeezed, time is
//! max-pooled globally, and the head is `fc_1` (2C → 2C), `bn` (BatchNorm1d), ReLU, dropout 0.5,
//! `fc_2` (2C → classes), a sigmoid for the two tagging variants (50 and 17 tags) and none for
//! keywords (35 classes). Parameter and buffer names are the torch `state_dict`'s
//! (`hstft.bw_Q`, `hstft_bn.weight`, `conv_2d.res2.conv_1.weight`, `conv_2d.fc_1.bias`, ...),
//! except the STFT window `hstft.spec.window`, which lives with the STFT (adamp-task-audio).

use adamp_optim::ParamList;
use candle_core::{Device, Tensor, Var};

use super::harmonic_filterbank::{BandwidthMode, HarmonicFilterbank, HarmonicFilterbankConfig};
use super::res_blocks::{Conv3Block, Conv3ResBlock, Pool};
use crate::builder::{LayerImpl, ParamBuilder};
use crate::error::{shape_err, ModelError, Result};
use crate::init::Init;
use crate::layers::{relu, BatchNorm2d, Dropout, Linear};
use crate::weights::Weights;

/// Which of the reference's three 2-D CNNs (they differ in classes, pooling and output).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HarmonicCnnVariant {
    /// `ResNet_mtat`: 50 tags, sigmoid outputs, `res6`/`res7` pool `(2, 3)`.
    Mtat,
    /// `ResNet_keyword`: 35 classes, logits, `res7` pools `(2, 1)`.
    Keyword,
    /// `ResNet_dcase`: 17 events, sigmoid outputs, every block pools by 2.
    Dcase,
}

impl HarmonicCnnVariant {
    /// Output size of `fc_2`.
    pub fn num_classes(self) -> usize {
        match self {
            Self::Mtat => 50,
            Self::Keyword => 35,
            Self::Dcase => 17,
        }
    }

    /// Whether [`HarmonicCnn::forward_t`] ends with a sigmoid (multi-label tagging).
    pub fn sigmoid_output(self) -> bool {
        !matches!(self, Self::Keyword)
    }

    /// The max-pool windows `(frequency, time)` of `res1..res7`.
    pub fn pools(self) -> [Pool; 7] {
        let (p6, p7) = match self {
            Self::Mtat => ((2, 3), (2, 3)),
            Self::Keyword => ((2, 2), (2, 1)),
            Self::Dcase => ((2, 2), (2, 2)),
        };
        [(2, 2), (2, 2), (2, 2), (2, 2), (2, 2), p6, p7]
    }
}

/// Everything [`HarmonicCnn::new`] needs. Defaults: the reference's `main.py` (128 channels,
/// 16 kHz, 6 harmonics, 2 bands per semitone, `learn_bw='only_Q'`, bw_Q 1), 257 bins.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HarmonicCnnConfig {
    /// Which 2-D CNN and head.
    pub variant: HarmonicCnnVariant,
    /// `conv_channels` (`C` above; 128).
    pub conv_channels: usize,
    /// The filterbank front end.
    pub filterbank: HarmonicFilterbankConfig,
    /// Outputs of `fc_2`; `None`: the variant's (50, 35, 17). A dataset with another label set
    /// (an embedded stand-in) sets its own.
    pub num_classes: Option<usize>,
    /// The head's dropout probability (0.5 in the reference).
    pub dropout: f64,
    /// Seed of the deterministic initialisation and of the dropout masks.
    pub seed: u64,
    /// Layer implementation.
    pub layer_impl: LayerImpl,
}

impl Default for HarmonicCnnConfig {
    fn default() -> Self {
        Self {
            variant: HarmonicCnnVariant::Mtat,
            conv_channels: 128,
            filterbank: HarmonicFilterbankConfig::default(),
            num_classes: None,
            dropout: 0.5,
            seed: 0,
            layer_impl: LayerImpl::Fast,
        }
    }
}

impl HarmonicCnnConfig {
    /// Outputs of `fc_2`: [`HarmonicCnnConfig::num_classes`], or the variant's.
    pub fn classes(&self) -> usize {
        self.num_classes.unwrap_or(self.variant.num_classes())
    }

    /// The defaults for `variant`.
    pub fn for_variant(variant: HarmonicCnnVariant) -> Self {
        Self {
            variant,
            ..Self::default()
        }
    }
}

/// The Harmonic CNN: power spectrogram `[B, n_bins, T]` → `[B, classes]`.
#[derive(Debug)]
pub struct HarmonicCnn {
    config: HarmonicCnnConfig,
    hstft: HarmonicFilterbank,
    hstft_bn: BatchNorm2d,
    blocks: Vec<Block>,
    fc_1: Linear,
    bn: BatchNorm2d,
    dropout: Dropout,
    fc_2: Linear,
    weights: Weights,
}

#[derive(Debug)]
enum Block {
    Plain(Conv3Block),
    Residual(Conv3ResBlock),
}

impl Block {
    fn forward_t(&self, x: &Tensor, train: bool) -> Result<Tensor> {
        match self {
            Block::Plain(b) => b.forward_t(x, train),
            Block::Residual(b) => b.forward_t(x, train),
        }
    }
}

impl HarmonicCnn {
    /// Build the network on `device`. Errors when the filterbank's `level` does not pool down to
    /// one frequency row after the seven blocks (the reference's `squeeze(2)` needs it: `level`
    /// in 128..=255 for these blocks), or on an invalid configuration.
    pub fn new(config: &HarmonicCnnConfig, device: &Device) -> Result<Self> {
        let c = config.conv_channels;
        if c == 0 {
            return Err(ModelError::Config("conv_channels must be positive".into()));
        }
        let root = ParamBuilder::new(config.seed, device, config.layer_impl);
        let hstft = HarmonicFilterbank::new(&root.pp("hstft"), &config.filterbank)?;
        let pools = config.variant.pools();
        let rows = pools.iter().fold(hstft.level(), |h, p| h / p.0);
        if rows != 1 {
            return Err(ModelError::Config(format!(
                "harmonic filterbank level {} pools to {rows} frequency rows after the seven \
                 blocks; the reference squeezes that axis and needs exactly 1 (level 128..=255)",
                hstft.level()
            )));
        }
        let n_harmonic = config.filterbank.n_harmonic;
        let hstft_bn = BatchNorm2d::new(&root.pp("hstft_bn"), n_harmonic)?;
        let b = root.pp("conv_2d");
        let mut blocks = Vec::with_capacity(7);
        for (i, &pool) in pools.iter().enumerate() {
            let name = format!("res{}", i + 1);
            blocks.push(match i {
                0 => Block::Plain(Conv3Block::new(&b.pp(&name), n_harmonic, c, pool)?),
                4 => Block::Plain(Conv3Block::new(&b.pp(&name), c, 2 * c, pool)?),
                1..=3 => Block::Residual(Conv3ResBlock::new(&b.pp(&name), c, pool)?),
                _ => Block::Residual(Conv3ResBlock::new(&b.pp(&name), 2 * c, pool)?),
            });
        }
        let init = Init::torch_default(2 * c);
        let fc_1 = Linear::new(&b.pp("fc_1"), 2 * c, 2 * c, init, Some(init), true)?;
        let bn = BatchNorm2d::new(&b.pp("bn"), 2 * c)?;
        let dropout = Dropout::new(&b.pp("dropout"), config.dropout)?;
        let classes = config.classes();
        if classes == 0 {
            return Err(ModelError::Config("num_classes must be positive".into()));
        }
        let fc_2 = Linear::new(&b.pp("fc_2"), 2 * c, classes, init, Some(init), false)?;
        let weights = root.weights()?;
        Ok(Self {
            config: *config,
            hstft,
            hstft_bn,
            blocks,
            fc_1,
            bn,
            dropout,
            fc_2,
            weights,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &HarmonicCnnConfig {
        &self.config
    }

    /// The front end (`hstft`).
    pub fn filterbank(&self) -> &HarmonicFilterbank {
        &self.hstft
    }

    /// The fewest spectrogram frames the blocks' time pooling accepts (keyword 64, DCASE 128,
    /// MagnaTagATune 288).
    pub fn min_frames(&self) -> usize {
        self.config.variant.pools().iter().map(|p| p.1).product()
    }

    /// `fc_2`'s output `[B, classes]` (before the tagging variants' sigmoid) for a power
    /// spectrogram `[B, n_bins, T]`. Training mode: batch statistics in every BatchNorm (and
    /// their running averages updated) and dropout.
    pub fn logits_t(&self, power_spec: &Tensor, train: bool) -> Result<Tensor> {
        if let [_, _, t] = *power_spec.dims() {
            if t < self.min_frames() {
                return Err(shape_err(
                    "conv_2d",
                    "spectrogram frames",
                    format!(
                        "at least {} (the {:?} network's time pooling)",
                        self.min_frames(),
                        self.config.variant
                    ),
                    format!("{t} (input shape {:?})", power_spec.dims()),
                ));
            }
        }
        let x = self.hstft.forward(power_spec)?;
        let mut x = self.hstft_bn.forward_t(&x, train)?;
        for block in &self.blocks {
            x = block.forward_t(&x, train)?;
        }
        // [B, 2C, 1, T'] → squeeze(2) → global max over time (MaxPool1d(T') when T' > 1).
        let x = x.squeeze(2)?;
        let x = if x.dim(2)? == 1 {
            x.squeeze(2)?
        } else {
            x.max(2)?
        };
        let x = self.bn.forward_t(&self.fc_1.forward(&x)?, train)?;
        let x = relu(&x, self.config.layer_impl)?;
        let x = self.dropout.forward_t(&x, train)?;
        self.fc_2.forward(&x)
    }

    /// The reference's output: [`HarmonicCnn::logits_t`] followed by a sigmoid for the tagging
    /// variants (`ResNet_mtat`, `ResNet_dcase`), the logits themselves for keywords.
    pub fn forward_t(&self, power_spec: &Tensor, train: bool) -> Result<Tensor> {
        let logits = self.logits_t(power_spec, train)?;
        if self.config.variant.sigmoid_output() {
            Ok(candle_nn::ops::sigmoid(&logits)?)
        } else {
            Ok(logits)
        }
    }

    /// The trainable parameters, sorted by name, with metadata.
    pub fn params(&self) -> ParamList {
        self.weights.params()
    }

    /// The BatchNorm running statistics, sorted by name.
    pub fn buffers(&self) -> &[(String, Var)] {
        self.weights.buffers()
    }

    /// Parameters and buffers (checkpointing by name).
    pub fn weights(&self) -> &Weights {
        &self.weights
    }

    /// Total number of trainable scalars.
    pub fn num_params(&self) -> usize {
        self.weights.num_params()
    }

    /// Restart the head's dropout mask stream from `seed` (see
    /// [`crate::layers::Dropout::reseed`]).
    pub fn reseed_dropout(&self, seed: u64) {
        self.dropout.reseed(seed);
    }

    /// Whether `bw_Q` is a parameter.
    pub fn learns_bandwidth(&self) -> bool {
        self.config.filterbank.learn_bw == BandwidthMode::OnlyQ
    }
}
