//! # adamp-task-lm
//!
//! Benchmark 13 of the AdamP paper (Heo et al., ICLR 2021, arXiv 2006.08217, Section 4 language
//! modelling): Transformer-XL base on WikiText-103, AdamW vs AdamP, with and without weight
//! normalisation, reported as test perplexity. `[task] kind = "language_model"` ([`settings`]),
//! `[model]` ([`model_settings`]: the `adamp_models::lm` Transformer-XL), `[data]`
//! ([`data_settings`]: a WikiText folder, the Hugging Face hub parquet, or the Brown-corpus
//! stand-in). The task ([`task`]) follows kimiyoung/transformer-xl `pytorch/train.py` and
//! `pytorch/eval.py`; see the crate's README for what maps to what and the deviations.
//!
//! The pieces:
//! * [`stream`]: step `s` trains on segment `(s - 1) mod n_batches` of the ordered training
//!   batches, memories empty at the start of each pass; the dropout seed of a step;
//! * [`mem_buffers`]: the memories as fixed-shape task buffers (a resumed run continues the same
//!   stream); [`fingerprint`]: the vocabulary's fingerprint as a buffer (a checkpoint of another
//!   vocabulary is refused);
//! * [`clip`]: `torch.nn.utils.clip_grad_norm_` over all parameters;
//! * [`perplexity`]: mean token NLL over a whole stream with memories, as eval.py.
//!
//! Per step the task records `loss` (mean NLL of the segment), `ppl` (its `exp`), `grad_norm`
//! (before clipping) and `segment`; per evaluation `valid_ppl`, `test_ppl`, `valid_loss`,
//! `test_loss`, and it leaves the vocabulary as `tokenizer.json` in the run folder.

pub mod clip;
pub mod data;
pub mod data_settings;
pub mod factory;
pub mod fingerprint;
pub mod mem_buffers;
pub mod model_settings;
pub mod perplexity;
pub mod settings;
pub mod stream;
pub mod task;

pub use settings::LmSettings;
pub use task::LmTask;
