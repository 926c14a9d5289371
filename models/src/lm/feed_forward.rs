//! kimiyoung/transformer-xl `pytorch/mem_transformer.py`, `PositionwiseFF`:
//! `CoreNet = Linear(d_model, d_inner) -> ReLU -> Dropout -> Linear(d_inner, d_model) -> Dropout`
//! with a residual connection and `layer_norm` after (post-norm) or before (pre-norm).

use candle_core::Tensor;

use crate::builder::ParamBuilder;
use crate::error::Result;
use crate::lm::config::TransformerXlConfig;
use crate::lm::dropout_stream::DropoutStream;
use crate::lm::layer_norm::LayerNorm;
use crate::lm::wn_linear::WnLinear;

/// The position-wise feed-forward block (`<path>.CoreNet.0`, `<path>.CoreNet.3`, `<path>.layer_norm`).
#[derive(Debug, Clone)]
pub(crate) struct PositionwiseFf {
    path: String,
    core0: WnLinear,
    core3: WnLinear,
    layer_norm: LayerNorm,
    dropout: f64,
    pre_lnorm: bool,
}

impl PositionwiseFf {
    pub(crate) fn new(b: &ParamBuilder, cfg: &TransformerXlConfig) -> Result<Self> {
        let core = b.pp("CoreNet");
        Ok(Self {
            path: b.prefix().to_string(),
            core0: WnLinear::new(
                &core.pp(0),
                cfg.d_model,
                cfg.d_inner,
                true,
                cfg.weight_norm,
                cfg.init_std,
            )?,
            core3: WnLinear::new(
                &core.pp(3),
                cfg.d_inner,
                cfg.d_model,
                true,
                cfg.weight_norm,
                cfg.init_std,
            )?,
            layer_norm: LayerNorm::new(&b.pp("layer_norm"), cfg.d_model, cfg.init_std)?,
            dropout: cfg.dropout,
            pre_lnorm: cfg.pre_lnorm,
        })
    }

    fn core(&self, x: &Tensor, drop: &DropoutStream) -> Result<Tensor> {
        let h = self.core0.forward(x)?.relu()?;
        let h = drop.apply(&h, self.dropout, &format!("{}.CoreNet.2", self.path))?;
        let h = self.core3.forward(&h)?;
        drop.apply(&h, self.dropout, &format!("{}.CoreNet.4", self.path))
    }

    /// `inp`: `[N, d_model]`.
    pub(crate) fn forward(&self, inp: &Tensor, drop: &DropoutStream) -> Result<Tensor> {
        if self.pre_lnorm {
            let core = self.core(&self.layer_norm.forward(inp)?, drop)?;
            Ok((core + inp)?)
        } else {
            let core = self.core(inp, drop)?;
            self.layer_norm.forward(&(inp + core)?)
        }
    }
}
