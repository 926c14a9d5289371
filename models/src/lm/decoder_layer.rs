//! kimiyoung/transformer-xl `pytorch/mem_transformer.py`, `RelPartialLearnableDecoderLayer`:
//! relative attention (`dec_attn`) followed by the position-wise feed-forward block (`pos_ff`).

use candle_core::Tensor;

use crate::builder::ParamBuilder;
use crate::error::Result;
use crate::lm::config::TransformerXlConfig;
use crate::lm::dropout_stream::DropoutStream;
use crate::lm::feed_forward::PositionwiseFf;
use crate::lm::rel_attention::{AttnInputs, RelPartialLearnableAttn};

/// One decoder layer (`layers.<i>.dec_attn.*`, `layers.<i>.pos_ff.*`).
#[derive(Debug, Clone)]
pub(crate) struct DecoderLayer {
    dec_attn: RelPartialLearnableAttn,
    pos_ff: PositionwiseFf,
}

impl DecoderLayer {
    pub(crate) fn new(b: &ParamBuilder, cfg: &TransformerXlConfig) -> Result<Self> {
        Ok(Self {
            dec_attn: RelPartialLearnableAttn::new(&b.pp("dec_attn"), cfg)?,
            pos_ff: PositionwiseFf::new(&b.pp("pos_ff"), cfg)?,
        })
    }

    pub(crate) fn forward(
        &self,
        x: &Tensor,
        mem: Option<&Tensor>,
        a: &AttnInputs,
        drop: &DropoutStream,
    ) -> Result<Tensor> {
        let out = self.dec_attn.forward(x, mem, a, drop)?;
        self.pos_ff.forward(&out, drop)
    }
}
