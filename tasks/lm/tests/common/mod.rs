//! What the task's tests share: a small WikiText folder and a small Transformer-XL.
#![allow(dead_code)]

use std::path::Path;

use adamp_optim::{AdamW, AdamWConfig, Optimizer};
use adamp_task_api::{OptimizerSet, Task, TaskContext};
use adamp_task_lm::data_settings::LmDataSettings;
use adamp_task_lm::model_settings::LmModelSettings;
use adamp_task_lm::settings::{EvalSettings, LmSettings};
use adamp_task_lm::LmTask;
use candle_core::Device;

/// Writes `wiki.{train,valid,test}.tokens` of `lines` lines each (train: 3x) over a 40-word
/// vocabulary, drawn by a fixed generator, in WikiText's line format.
pub fn write_corpus(dir: &Path, lines: usize) {
    let mut state = 0x1234_5678_u64;
    let mut next = move || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 33) as usize
    };
    let words: Vec<String> = (0..40).map(|i| format!("w{i}")).collect();
    for (file, n) in [
        ("wiki.train.tokens", 3 * lines),
        ("wiki.valid.tokens", lines),
        ("wiki.test.tokens", lines),
    ] {
        let mut text = String::new();
        for _ in 0..n {
            let len = 3 + next() % 6;
            // Zipf-like: low word ids are frequent; every word appears in train.
            let line: Vec<&str> = (0..len)
                .map(|_| words[(next() % 40).min(next() % 40)].as_str())
                .collect();
            text.push(' ');
            text.push_str(&line.join(" "));
            text.push_str(" \n");
        }
        if file == "wiki.train.tokens" {
            text.push(' ');
            text.push_str(&words.join(" "));
            text.push_str(" \n");
        }
        std::fs::write(dir.join(file), text).unwrap();
    }
}

/// `[task]`: segments of 5 with a memory of 7 (so it grows, then is cut), no clipping bound
/// that matters for the tests unless they set one.
pub fn settings() -> LmSettings {
    LmSettings {
        tgt_len: 5,
        mem_len: 7,
        clip: 0.25,
        eval: EvalSettings {
            tgt_len: 4,
            mem_len: 9,
            clamp_len: 6,
            same_length: true,
            batch_size: 3,
        },
    }
}

/// A 2-layer Transformer-XL of width 16 with adaptive softmax cutoffs [10, 20], dropout on.
pub fn model(weight_norm: bool) -> LmModelSettings {
    toml::from_str(&format!(
        "kind = \"transformer_xl\"\nn_layer = 2\nn_head = 2\nd_model = 16\nd_head = 8\n\
         d_inner = 32\ndropout = 0.1\ndropatt = 0.1\ncutoffs = [10, 20]\ndiv_val = 2\n\
         weight_norm = {weight_norm}"
    ))
    .unwrap()
}

/// The folder as `[data]`.
pub fn data(dir: &Path) -> LmDataSettings {
    LmDataSettings {
        dir: Some(dir.to_path_buf()),
        ..Default::default()
    }
}

/// A CPU context with seed 3.
pub fn ctx(batch_size: usize) -> TaskContext {
    TaskContext {
        seed: 3,
        device: Device::Cpu,
        batch_size,
    }
}

/// The task on the folder.
pub fn task(dir: &Path, settings: &LmSettings, batch: usize) -> LmTask {
    LmTask::new(settings, &model(false), &data(dir), &ctx(batch)).unwrap()
}

/// AdamW (lr `lr`) over the task's parameters.
pub fn adamw(task: &LmTask, lr: f64) -> OptimizerSet {
    let params = task.param_sets().remove(0).params;
    let cfg = AdamWConfig {
        lr,
        ..Default::default()
    };
    let opt: Box<dyn Optimizer> = Box::new(AdamW::new(params, cfg).unwrap());
    OptimizerSet::new(vec![opt])
}
