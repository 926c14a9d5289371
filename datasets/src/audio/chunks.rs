//! Cutting clips into fixed-length chunks and averaging chunk predictions per clip, as the
//! Harmonic CNN reference does (minzwon/data-driven-harmonic-filters):
//!
//! - clips shorter than one chunk are zero-padded to one chunk, the clip placed at an offset
//!   drawn in `[0, chunk_len - clip_len)` (`training/data_loader/{keyword,dcase}_loader.py`,
//!   `get_npy`; `training/eval.py`, `get_tensor`); here that offset is drawn from a generator
//!   seeded by `(seed, epoch, clip index)`, so it is reproducible. Never skipped;
//!   [`ChunkPlan::pad_offset`] says where the clip was placed.
//! - training ([`ChunkMode::Train`]): one chunk per clip per epoch at a start drawn in
//!   `[0, len - chunk_len)` (`random_idx = floor(random() * (len - input_length))` in
//!   `{mtat,dcase}_loader.py`; `0` when the clip is exactly one chunk), seeded by
//!   `(seed, epoch, clip index)`.
//! - evaluation ([`ChunkMode::Eval`]): `n` chunks at starts `i * hop`, `hop = (len - chunk_len)
//!   / n` (integer division; `training/eval.py` and `training/solver.py`, `get_tensor`, with
//!   `n = 16`, [`EVAL_CHUNKS`]); the model's outputs for the `n` chunks are averaged per clip
//!   ([`average_chunk_predictions`], `np.array(prd).mean(axis=0)`). Speech Commands is evaluated
//!   on one padded 1 s chunk per clip (`evaluate_singleclass` feeds the `keyword_loader` batches),
//!   i.e. `Eval { num_chunks: 1 }`.
//!
//! Chunk lengths at 16 kHz: [`KEYWORD_CHUNK`] 16000 (1 s), [`DCASE_CHUNK`] 48000 (3 s,
//! `training/eval.sh`), [`MTAT_CHUNK`] 80000 (5 s, the `--input_length` default of
//! `training/main.py`).

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::error::{DatasetError, Result};

/// Speech Commands chunk: 1 s at 16 kHz.
pub const KEYWORD_CHUNK: usize = 16_000;
/// DCASE 2017 task 4 chunk: 3 s at 16 kHz.
pub const DCASE_CHUNK: usize = 48_000;
/// MagnaTagATune chunk: 5 s at 16 kHz.
pub const MTAT_CHUNK: usize = 80_000;
/// Chunks per clip at evaluation (MagnaTagATune, DCASE).
pub const EVAL_CHUNKS: usize = 16;

/// How a clip is cut.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChunkMode {
    /// One chunk at a start drawn from `(seed, epoch, clip index)`.
    Train {
        /// The run's data seed.
        seed: u64,
        /// The epoch.
        epoch: u64,
    },
    /// `num_chunks` evenly spaced chunks; a short clip's padding offset is drawn from
    /// `(seed, clip index)`.
    Eval {
        /// Chunks per clip (at least 1).
        num_chunks: usize,
        /// The run's data seed.
        seed: u64,
    },
}

/// Where the chunks of one clip lie.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChunkPlan {
    /// `Some(o)` when the clip is shorter than one chunk: it is placed at `o` in a zero buffer of
    /// `chunk_len` samples, and that buffer is the "padded clip" the starts index.
    pub pad_offset: Option<usize>,
    /// The chunk starts in the (padded) clip; each chunk is `chunk_len` samples.
    pub starts: Vec<usize>,
}

/// The generator for clip `index` in `mode` (eval uses the epoch slot `u64::MAX`).
fn rng_for(mode: ChunkMode, index: u64) -> ChaCha8Rng {
    let (seed, epoch) = match mode {
        ChunkMode::Train { seed, epoch } => (seed, epoch),
        ChunkMode::Eval { seed, .. } => (seed, u64::MAX),
    };
    let mut key = [0u8; 32];
    key[..8].copy_from_slice(&seed.to_le_bytes());
    key[8..16].copy_from_slice(&epoch.to_le_bytes());
    key[16..24].copy_from_slice(&index.to_le_bytes());
    key[24..].copy_from_slice(b"chunks\0\0");
    ChaCha8Rng::from_seed(key)
}

/// `floor(u * range)` for a uniform `u` in `[0, 1)`: a value in `[0, range)`, `0` when
/// `range == 0`.
fn draw_below(rng: &mut ChaCha8Rng, range: usize) -> usize {
    if range == 0 {
        0
    } else {
        rng.random_range(0..range)
    }
}

/// The chunks of clip number `index` of `clip_len` samples. `index` is any stable number of the
/// clip (its position in its split of the [`crate::audio::ClipListing`]); the same
/// `(mode, index)` always gives the same plan, whatever the batch order or worker.
/// Errors on `chunk_len == 0`, an empty clip or `num_chunks == 0`.
pub fn chunks(clip_len: usize, chunk_len: usize, mode: ChunkMode, index: u64) -> Result<ChunkPlan> {
    if chunk_len == 0 {
        return Err(config_error("chunk_len", "must be at least 1 sample"));
    }
    if clip_len == 0 {
        return Err(config_error("clip_len", "the clip holds no samples"));
    }
    let mut rng = rng_for(mode, index);
    let pad_offset = (clip_len < chunk_len).then(|| draw_below(&mut rng, chunk_len - clip_len));
    let len = clip_len.max(chunk_len);
    let starts = match mode {
        ChunkMode::Train { .. } => vec![draw_below(&mut rng, len - chunk_len)],
        ChunkMode::Eval { num_chunks, .. } => {
            if num_chunks == 0 {
                return Err(config_error("num_chunks", "must be at least 1"));
            }
            let hop = (len - chunk_len) / num_chunks;
            (0..num_chunks).map(|i| i * hop).collect()
        }
    };
    Ok(ChunkPlan { pad_offset, starts })
}

/// Cuts `samples` (clip number `index`) into the chunks of [`chunks`], each `chunk_len`
/// samples, in order.
pub fn cut_chunks(
    samples: &[f32],
    chunk_len: usize,
    mode: ChunkMode,
    index: u64,
) -> Result<Vec<Vec<f32>>> {
    let plan = chunks(samples.len(), chunk_len, mode, index)?;
    let padded;
    let clip: &[f32] = match plan.pad_offset {
        Some(o) => {
            let mut buf = vec![0.0f32; chunk_len];
            buf[o..o + samples.len()].copy_from_slice(samples);
            padded = buf;
            &padded
        }
        None => samples,
    };
    Ok(plan
        .starts
        .iter()
        .map(|&s| clip[s..s + chunk_len].to_vec())
        .collect())
}

/// Averages chunk predictions per clip: `predictions` holds `clips * chunks_per_clip` rows of
/// `width` values, clip-major (the chunks of clip 0, then of clip 1, ...); returns `clips` rows
/// of `width` means (`training/eval.py`, `np.array(prd).mean(axis=0)`). Errors when the length
/// is not a whole number of clips or a size is zero.
pub fn average_chunk_predictions(
    predictions: &[f32],
    chunks_per_clip: usize,
    width: usize,
) -> Result<Vec<f32>> {
    if chunks_per_clip == 0 || width == 0 {
        return Err(config_error(
            "chunks_per_clip/width",
            "both must be at least 1",
        ));
    }
    let per_clip = chunks_per_clip * width;
    if !predictions.len().is_multiple_of(per_clip) {
        return Err(config_error(
            "predictions",
            &format!(
                "{} values is not a whole number of clips of {chunks_per_clip} chunks x {width} outputs",
                predictions.len()
            ),
        ));
    }
    let mut out = Vec::with_capacity(predictions.len() / chunks_per_clip);
    for clip in predictions.chunks(per_clip) {
        for k in 0..width {
            let sum: f64 = (0..chunks_per_clip)
                .map(|c| f64::from(clip[c * width + k]))
                .sum();
            out.push((sum / chunks_per_clip as f64) as f32);
        }
    }
    Ok(out)
}

fn config_error(name: &str, reason: &str) -> DatasetError {
    DatasetError::Config {
        name: name.into(),
        reason: reason.into(),
    }
}
