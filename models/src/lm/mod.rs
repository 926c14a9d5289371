//! Transformer-XL language model (benchmark 13: WikiText-103), a port of kimiyoung/transformer-xl
//! `pytorch/mem_transformer.py` `MemTransformerLM` (attn_type 0) with
//! `pytorch/utils/proj_adaptive_softmax.py` `ProjectedAdaptiveLogSoftmax`, optionally with weight
//! normalisation on every Linear of the decoder layers.
//!
//! * [`TransformerXl::new`]`(&cfg, device)` builds it ([`TransformerXlConfig`]); parameters are
//!   named like the reference's `state_dict` (`word_emb.emb_layers.0.weight`,
//!   `layers.0.dec_attn.qkv_net.weight`, `r_w_bias`, `crit.cluster_weight`, ...).
//! * [`TransformerXl::forward`]`(data, target, &mems, &spec, dropout)` runs one segment and
//!   returns the per-token NLL and the next [`Mems`].

pub mod adaptive_embedding;
pub mod adaptive_softmax;
pub mod config;
pub mod decoder_layer;
pub mod dropout_stream;
pub mod feed_forward;
pub mod fused;
pub mod layer_norm;
pub mod mems;
pub mod positional;
pub mod rel_attention;
pub mod softmax;
pub mod transformer_xl;
pub mod wn_linear;

pub use config::{SegmentSpec, TransformerXlConfig};
pub use mems::Mems;
pub use rel_attention::rel_shift;
pub use transformer_xl::{SegmentOutput, TransformerXl};
