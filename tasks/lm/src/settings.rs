//! `[task]` of `kind = "language_model"`: the training segment and memory lengths, the gradient
//! clipping, and how evaluation walks the validation and test streams (kimiyoung/transformer-xl
//! `pytorch/train.py` arguments `--tgt_len`, `--mem_len`, `--clip`; `pytorch/eval.py` arguments
//! `--tgt_len`, `--mem_len`, `--clamp_len`, `--same_length`, `--batch_size`).
//!
//! ```toml
//! [task]
//! kind = "language_model"
//! tgt_len = 150     # tokens per training segment (train.py --tgt_len)
//! mem_len = 150     # memory length while training (--mem_len; 0: no memory)
//! clip = 0.25       # global gradient-norm clipping (--clip; 0 turns clipping off)
//! eval = { tgt_len = 64, mem_len = 640, clamp_len = 400, same_length = true, batch_size = 10 }
//! ```

use adamp_task_api::factory::invalid;
use adamp_task_api::Result;
use serde::{Deserialize, Serialize};

/// The longest segment or memory a config may ask for (a typo must not allocate gigabytes).
pub const MAX_LEN: usize = 1 << 16;

/// `[task] eval`: how the validation and test streams are evaluated (eval.py).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EvalSettings {
    /// Tokens per evaluation segment (eval.py `--tgt_len`; the paper's 64).
    #[serde(default = "eval_tgt_len")]
    pub tgt_len: usize,
    /// Memory length in evaluation (`--mem_len`; 640).
    #[serde(default = "eval_mem_len")]
    pub mem_len: usize,
    /// Relative positions are clamped to this distance (`--clamp_len`; 400); 0: no clamping
    /// (the reference's -1).
    #[serde(default = "eval_clamp_len")]
    pub clamp_len: usize,
    /// Every token attends to the same number of positions (`--same_length`; true).
    #[serde(default = "yes")]
    pub same_length: bool,
    /// Parallel streams of the evaluation batches (eval.py `--batch_size`, default 10).
    #[serde(default = "eval_batch_size")]
    pub batch_size: usize,
}

fn eval_tgt_len() -> usize {
    64
}
fn eval_mem_len() -> usize {
    640
}
fn eval_clamp_len() -> usize {
    400
}
fn eval_batch_size() -> usize {
    10
}
fn yes() -> bool {
    true
}

impl Default for EvalSettings {
    fn default() -> Self {
        Self {
            tgt_len: eval_tgt_len(),
            mem_len: eval_mem_len(),
            clamp_len: eval_clamp_len(),
            same_length: true,
            batch_size: eval_batch_size(),
        }
    }
}

/// `[task]` for `kind = "language_model"`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LmSettings {
    /// Tokens per training segment (train.py `--tgt_len`, 150 for WikiText-103 base).
    #[serde(default = "tgt_len")]
    pub tgt_len: usize,
    /// Memory length while training (`--mem_len`, 150); 0: no memory.
    #[serde(default = "tgt_len")]
    pub mem_len: usize,
    /// Global gradient-norm clipping (`torch.nn.utils.clip_grad_norm_(model.parameters(),
    /// clip)`, 0.25); 0 turns clipping off.
    #[serde(default = "clip")]
    pub clip: f64,
    /// The evaluation of the validation and test streams.
    #[serde(default)]
    pub eval: EvalSettings,
}

fn tgt_len() -> usize {
    150
}
fn clip() -> f64 {
    0.25
}

fn length(key: &str, value: usize, min: usize, what: &str) -> Result<()> {
    if (min..=MAX_LEN).contains(&value) {
        Ok(())
    } else {
        Err(invalid(
            key,
            format!("{what} in {min}..={MAX_LEN}, got {value}"),
        ))
    }
}

impl LmSettings {
    /// Every check that needs no data, naming the `[task]` key.
    pub fn validate(&self) -> Result<()> {
        length(
            "tgt_len",
            self.tgt_len,
            1,
            "tokens per training segment (the reference's 150)",
        )?;
        length(
            "mem_len",
            self.mem_len,
            0,
            "a memory length (0: none; the reference's 150)",
        )?;
        if !(self.clip.is_finite() && self.clip >= 0.0) {
            return Err(invalid(
                "clip",
                format!(
                    "a finite gradient-norm bound >= 0 (0: no clipping; the reference's 0.25), got {}",
                    self.clip
                ),
            ));
        }
        let e = &self.eval;
        length(
            "eval.tgt_len",
            e.tgt_len,
            1,
            "tokens per evaluation segment (the paper's 64)",
        )?;
        length(
            "eval.mem_len",
            e.mem_len,
            0,
            "an evaluation memory length (the paper's 640)",
        )?;
        length(
            "eval.clamp_len",
            e.clamp_len,
            0,
            "a clamping distance (0: none; the paper's 400)",
        )?;
        length(
            "eval.batch_size",
            e.batch_size,
            1,
            "parallel evaluation streams (eval.py's 10)",
        )?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> std::result::Result<LmSettings, String> {
        toml::from_str::<LmSettings>(text).map_err(|e| e.to_string())
    }

    #[test]
    fn defaults_are_the_references() {
        let s = parse("").unwrap();
        assert_eq!((s.tgt_len, s.mem_len, s.clip), (150, 150, 0.25));
        assert_eq!(s.eval, EvalSettings::default());
        assert_eq!(
            (s.eval.tgt_len, s.eval.mem_len, s.eval.clamp_len),
            (64, 640, 400)
        );
        assert!(s.eval.same_length);
        assert_eq!(s.eval.batch_size, 10);
        s.validate().unwrap();
    }

    #[test]
    fn bad_values_name_their_key() {
        for (text, key) in [
            ("tgt_len = 0", "task.tgt_len"),
            ("clip = -1.0", "task.clip"),
            ("clip = nan", "task.clip"),
            ("mem_len = 100000", "task.mem_len"),
            ("eval = { tgt_len = 0 }", "task.eval.tgt_len"),
            ("eval = { batch_size = 0 }", "task.eval.batch_size"),
        ] {
            let e = parse(text).unwrap().validate().unwrap_err().to_string();
            assert!(e.starts_with(key), "{text}: {e}");
        }
        assert!(parse("mem_len = -1").unwrap_err().contains("mem_len"));
        assert!(parse("eval = { clamp = 3 }").unwrap_err().contains("clamp"));
        assert!(parse("tgt = 3").unwrap_err().contains("tgt"));
    }
}
