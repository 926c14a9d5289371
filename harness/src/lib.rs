//! # adamp-harness
//!
//! The runner of adamp-rs: typed TOML configs ([`config`]), the one training loop ([`train`]),
//! recording to CSV ([`record`]), checkpoints ([`checkpoint`]), `adamp reproduce`
//! ([`reproduce`]), the report and plots ([`report`], [`plots`]) and the `adamp` command line
//! ([`cli`]). See harness/README.md for the config schema and the commands.

pub mod checkpoint;
pub mod cli;
pub mod config;
pub mod launch;
pub mod lock;
pub mod plots;
pub mod record;
pub mod report;
pub mod reproduce;
pub mod status;
pub mod stop;
pub mod tasks;
pub mod train;
