//! The `adamp` binary: see `adamp --help` and harness/README.md.

use clap::Parser;

fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .with_target(false)
        .init();
    let cli = adamp_harness::cli::Cli::parse();
    std::process::exit(adamp_harness::cli::execute(cli));
}
