//! NOT BUILT YET (placeholder of the audio-base branch; replaced by its own branch): sonic-pi-samples mixed into weakly labelled clips, DCASE 2017 task 4 layout.

use std::path::Path;

use crate::error::{DatasetError, Result};
use crate::fetch::FetchOutcome;

/// What `adamp data fetch` says it built.
pub const DESCRIPTION: &str = "sonic-pi-samples mixed into weakly labelled clips, DCASE 2017 task 4 layout";

/// The classes, in label order.
pub const CLASSES: [&str; 2] = ["PLACEHOLDER_EVENT_A", "PLACEHOLDER_EVENT_B"];

/// Builds the stand-in under `data_root`.
pub fn install(_data_root: &Path) -> Result<FetchOutcome> {
    Err(DatasetError::Config {
        name: "stand_in".into(),
        reason: "this stand-in is not built yet".into(),
    })
}
