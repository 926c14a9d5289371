//! NOT BUILT YET (placeholder of the audio-base branch; replaced by its own branch): Keywords spoken by espeak-ng (training) and asterisk-core-sounds-en-wav (test), Speech Commands layout.

use std::path::Path;

use crate::error::{DatasetError, Result};
use crate::fetch::FetchOutcome;

/// What `adamp data fetch` says it built.
pub const DESCRIPTION: &str = "Keywords spoken by espeak-ng (training) and asterisk-core-sounds-en-wav (test), Speech Commands layout";

/// The classes, in label order.
pub const CLASSES: [&str; 2] = ["PLACEHOLDER_KEYWORD_A", "PLACEHOLDER_KEYWORD_B"];

/// Builds the stand-in under `data_root`.
pub fn install(_data_root: &Path) -> Result<FetchOutcome> {
    Err(DatasetError::Config {
        name: "stand_in".into(),
        reason: "this stand-in is not built yet".into(),
    })
}
