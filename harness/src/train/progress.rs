//! The progress bar: steps, ETA and the current loss and metric; hidden when stderr is not a
//! terminal (CI, tests, redirected logs).

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Create the bar for a run of `total` steps starting at `done`.
pub fn bar(run: &str, total: u64, done: u64, enabled: bool) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::hidden());
    if enabled && std::io::stderr().is_terminal() {
        bar.set_draw_target(ProgressDrawTarget::stderr());
    }
    if let Ok(style) =
        ProgressStyle::with_template("{prefix} [{bar:20}] {pos}/{len} ETA {eta} {msg}")
    {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_prefix(run.to_string());
    bar.set_position(done);
    bar
}
