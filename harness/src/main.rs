//! The `adamp` binary: see `adamp --help` and harness/README.md.

use clap::Parser;

fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        // Colours only on a terminal: batch logs (Slurm's) stay plain text.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_target(false)
        .init();
    // Training allocates and frees the same large buffers every step: keep them in the process
    // instead of page-faulting them in again (measured in `adamp_models::alloc`).
    adamp_models::alloc::keep_freed_memory();
    let cli = adamp_harness::cli::Cli::parse();
    std::process::exit(adamp_harness::cli::execute(cli));
}
