//! Stopping on a signal with a last checkpoint.
//!
//! A scheduler ends a job with SIGTERM (preemption, `scancel`, a node drain) and, with
//! `--signal=B:USR1@N`, warns the batch script N seconds before the time limit (the script passes
//! it on as SIGTERM). After [`install`], SIGTERM and SIGUSR1 only set a flag: the training loop
//! finishes the step it is in, writes a checkpoint and returns `Interrupted`, and no further run
//! starts, so the next attempt (a requeue, a resubmission, `adamp run` again) resumes exactly.
//! The process exits with [`EXIT_STOPPED`](crate::cli::EXIT_STOPPED).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

use anyhow::{Context, Result};

static FLAG: OnceLock<Arc<AtomicBool>> = OnceLock::new();

/// Route SIGTERM and SIGUSR1 to the stop flag (once per process; later calls do nothing).
pub fn install() -> Result<()> {
    if FLAG.get().is_some() {
        return Ok(());
    }
    let flag = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGUSR1] {
        signal_hook::flag::register(signal, Arc::clone(&flag))
            .with_context(|| format!("installing the handler of signal {signal}"))?;
    }
    let _ = FLAG.set(flag);
    Ok(())
}

/// Whether a stop was asked for (always false without [`install`]).
pub fn requested() -> bool {
    FLAG.get().is_some_and(|f| f.load(Ordering::SeqCst))
}
