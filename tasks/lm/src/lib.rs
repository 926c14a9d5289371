//! # adamp-task-lm
//!
//! Benchmark 13 of the AdamP paper (Heo et al., ICLR 2021, arXiv 2006.08217, Section 4 language
//! modelling): Transformer-XL base on WikiText-103, AdamW vs AdamP, with and without weight
//! normalisation, reported as test perplexity. `[task] kind = "language_model"` ([`settings`]),
//! `[model]` ([`model_settings`]: the `adamp_models::lm` Transformer-XL), `[data]`
//! ([`data_settings`]: a WikiText folder, the Hugging Face hub parquet, or the Brown-corpus
//! stand-in). The task ([`task`]) follows kimiyoung/transformer-xl `pytorch/train.py` and
//! `pytorch/eval.py`.
//!
//! ## What maps to what in the reference
//!
//! | reference (`pytorch/`) | here |
//! |---|---|
//! | `train.py --max_step`, `--eval_interval` | `[training] steps`, `eval_every` (`Length::Steps`) |
//! | `--batch_size`, `--tgt_len`, `--mem_len`, `--clip` | `training.batch_size`, `[task] tgt_len`, `mem_len`, `clip` |
//! | `--lr`, `--scheduler cosine`, `--eta_min` (stepped per optimizer step) | optimizer `lr`, `[training.lr_schedule] kind = "cosine"`, `min_factor` (per step) |
//! | `--n_layer`, `--d_model`, ..., `--adaptive` cutoffs, `--div_val`, `--not_tied`, `--init_std`, `--proj_init_std` | `[model]` ([`model_settings`]) |
//! | `corpus.get_iterator('train', bsz, tgt_len)` (`LMOrderedIterator`) | `OrderedBatches(batch_size, tgt_len)`; step `s` takes segment `(s - 1) mod n_batches` |
//! | `train()`: `mems = tuple()` per pass, carried per batch | memories emptied when the pass starts, carried otherwise, checkpointed as buffers |
//! | `loss.float().mean()`; `clip_grad_norm_(model.parameters(), clip)` | mean NLL of the segment; [`clip::clip_grad_norm`] over all parameters (a tied weight once) |
//! | `eval.py --tgt_len 64 --mem_len 640 --clamp_len 400 --same_length --batch_size 10` | `[task] eval = { tgt_len, mem_len, clamp_len, same_length, batch_size }` |
//! | `evaluate()`: `total_loss / total_len`, `math.exp` | [`perplexity::stream_loss`]: `valid_loss`, `valid_ppl`, `test_loss`, `test_ppl` |
//!
//! ## Deviations
//!
//! * The reference reports the test perplexity of the checkpoint with the best validation loss
//!   (train.py keeps it; eval.py scores it). Here every evaluation scores the whole validation
//!   AND test streams and the report takes the test perplexity of the last evaluation (after a
//!   cosine decay to 0 the last is normally the best).
//! * train.py's own evaluations during training use `eval_tgt_len` with the training memory;
//!   here every evaluation already uses eval.py's settings.
//! * Dropout masks are drawn from a stream seeded by (run seed, step) ([`stream::dropout_seed`]),
//!   so a resumed run is the uninterrupted run exactly; torch draws them from one global
//!   generator.
//! * `clip = 0` turns clipping off (torch's `max_norm = 0` would zero every gradient); a
//!   non-finite gradient norm leaves the gradients as they are, so the loop stops the run as
//!   diverged.
//! * train.py trains with plain Adam and no weight decay; the paper compares AdamW and AdamP and
//!   does not state the weight decay; the configs use torch AdamW's default 0.01 for both.
//! * A segment length longer than a stream's column is refused (the reference serves one shorter
//!   segment).
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
