//! `[task]` of `kind = "audio"`: how clips are cut into chunks and how a split is scored
//! (minzwon/data-driven-harmonic-filters `training/main.py --input_length`, `eval.py`
//! `num_chunks`, `solver.py`'s DCASE threshold).
//!
//! ```toml
//! [task]
//! kind = "audio"
//! # input_length = 80000   # samples per chunk at 16 kHz; default by dataset: 80000 (MTAT, 5 s),
//! #                        #   48000 (DCASE, 3 s), 16000 (keywords, 1 s) raised to the fewest
//! #                        #   samples whose spectrogram the keyword network accepts (16129)
//! # eval_chunks = 16       # chunks averaged per clip at evaluation; default 16 (MTAT, DCASE),
//! #                        #   1 (keywords)
//! f1_threshold = 0.1       # DCASE: a tag is predicted when its probability is > this
//! ```

use adamp_task_api::factory::invalid;
use adamp_task_api::Result;
use serde::{Deserialize, Serialize};

/// The longest chunk a config may ask for: 60 s at 16 kHz (a typo must not allocate gigabytes).
pub const MAX_INPUT_LENGTH: usize = 60 * 16_000;
/// The most chunks per clip at evaluation.
pub const MAX_EVAL_CHUNKS: usize = 256;

/// `[task]` for `kind = "audio"`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AudioSettings {
    /// Samples per chunk; `None`: the dataset's (see the module docs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_length: Option<usize>,
    /// Chunks averaged per clip at evaluation; `None`: the dataset's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub eval_chunks: Option<usize>,
    /// DCASE's decision threshold (`est_array > 0.1` in `solver.py` and `eval.py`).
    #[serde(default = "f1_threshold")]
    pub f1_threshold: f64,
}

fn f1_threshold() -> f64 {
    0.1
}

impl Default for AudioSettings {
    fn default() -> Self {
        Self {
            input_length: None,
            eval_chunks: None,
            f1_threshold: f1_threshold(),
        }
    }
}

impl AudioSettings {
    /// Every check that needs neither the data nor the model, naming the `[task]` key.
    pub fn validate(&self) -> Result<()> {
        if let Some(n) = self.input_length {
            if !(1..=MAX_INPUT_LENGTH).contains(&n) {
                return Err(invalid(
                    "input_length",
                    format!("samples per chunk in 1..={MAX_INPUT_LENGTH}, got {n}"),
                ));
            }
        }
        if let Some(n) = self.eval_chunks {
            if !(1..=MAX_EVAL_CHUNKS).contains(&n) {
                return Err(invalid(
                    "eval_chunks",
                    format!(
                        "chunks per clip in 1..={MAX_EVAL_CHUNKS} (the reference's 16), got {n}"
                    ),
                ));
            }
        }
        if !(self.f1_threshold.is_finite() && (0.0..1.0).contains(&self.f1_threshold)) {
            return Err(invalid(
                "f1_threshold",
                format!(
                    "a probability threshold in [0, 1) (the reference's 0.1), got {}",
                    self.f1_threshold
                ),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> std::result::Result<AudioSettings, String> {
        toml::from_str::<AudioSettings>(text).map_err(|e| e.to_string())
    }

    #[test]
    fn defaults_are_the_references() {
        let s = parse("").unwrap();
        assert_eq!(s, AudioSettings::default());
        assert_eq!(s.f1_threshold, 0.1);
        s.validate().unwrap();
    }

    #[test]
    fn bad_values_name_their_key() {
        for (text, key) in [
            ("input_length = 0", "task.input_length"),
            ("input_length = 100000000", "task.input_length"),
            ("eval_chunks = 0", "task.eval_chunks"),
            ("f1_threshold = 1.5", "task.f1_threshold"),
            ("f1_threshold = nan", "task.f1_threshold"),
        ] {
            let e = parse(text).unwrap().validate().unwrap_err().to_string();
            assert!(e.starts_with(key), "{text}: {e}");
        }
        assert!(parse("chunks = 3").unwrap_err().contains("chunks"));
    }
}
