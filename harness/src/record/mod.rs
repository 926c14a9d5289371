//! Recording: what the loop observed, as long-format rows (`metrics.csv`), one summary row per
//! evaluation (`summary.csv`) and the resolved config (`config.resolved.toml`). Formats are fixed by
//! `harness-contract.md`.
//!
//! Which parameters get per-parameter rows: those whose [`adamp_optim::ParamMeta`] says
//! `followed_by_norm` (recorded by the model builder; the paper's scale-invariant weights). The
//! statistics come from the optimizer's `StepReport` (computed during the step, one read-back),
//! never from extra tensor work here. `__all__` is the mean over those parameters.

pub mod csv;
pub mod read;
pub mod recorder;
pub mod resolved;

pub use recorder::{Recorder, RecorderState, SummaryRow, TrackedParam};
