//! Transformer-XL's ordered language-model batches (`LMOrderedIterator` of
//! `pytorch/data_utils.py`) over one split's id stream.
//!
//! - `n_step = len(stream) // bsz`; the stream is cut to `n_step * bsz` ids (the tail is never
//!   read) and laid out as `data.view(bsz, -1).t()`: `n_step` rows of `bsz` columns, column `b`
//!   holding the contiguous piece `stream[b * n_step .. (b + 1) * n_step]`, so row `t`, column
//!   `b` is `stream[b * n_step + t]`.
//! - `get_batch(i)`: `seq_len = min(bptt, n_step - 1 - i)`; data = rows
//!   `max(0, i - ext_len) .. i + seq_len`, target = rows `i + 1 .. i + 1 + seq_len` (the next
//!   id of each data id). `get_fixlen_iter` starts segments at `i = 0, bptt, 2 * bptt, ...`
//!   while `i < n_step - 1`, so the last segment is shorter when `bptt` does not divide
//!   `n_step - 1`, and every id of rows `1 .. n_step` is a target exactly once.
//! - The reference's `n_batch = (n_step + bptt - 1) // bptt` is one more than the segments its
//!   iterator yields when `bptt` divides `n_step - 1`; [`OrderedBatches::n_batches`] counts
//!   the segments, [`OrderedBatches::reference_n_batch`] gives the reference's number.
//!
//! The trimmed stream is copied once at construction; a segment materialises only its own
//! `rows x batch` ids, so an epoch costs no further copy of the stream.

use candle_core::{Device, Tensor};

use crate::error::{DatasetError, Result};

/// A split's stream cut into `batch` parallel columns, served in segments of `tgt_len` rows.
#[derive(Debug, Clone)]
pub struct OrderedBatches {
    split: String,
    stream: Vec<u32>,
    batch: usize,
    tgt_len: usize,
    ext_len: usize,
    n_step: usize,
}

/// One segment: `data` is `data_rows x batch` row-major (time-major as the reference's
/// `[len x bsz]` tensors), `target` `seq_len x batch`; `data_rows = seq_len + ` the extended
/// context rows before it (`min(i, ext_len)`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    /// The start row `i` (the reference's `get_batch(i)`).
    pub start: usize,
    /// Input ids, `data_rows x batch`, row-major.
    pub data: Vec<u32>,
    /// Next-token targets, `seq_len x batch`, row-major.
    pub target: Vec<u32>,
    /// Rows of `data`.
    pub data_rows: usize,
    /// Rows of `target` (the reference's `seq_len`).
    pub seq_len: usize,
    /// Columns.
    pub batch: usize,
}

impl Segment {
    /// `data` as a `[data_rows, batch]` u32 tensor on `device`.
    pub fn data_tensor(&self, device: &Device) -> Result<Tensor> {
        Ok(Tensor::from_slice(
            &self.data,
            (self.data_rows, self.batch),
            device,
        )?)
    }

    /// `target` as a `[seq_len, batch]` u32 tensor on `device`.
    pub fn target_tensor(&self, device: &Device) -> Result<Tensor> {
        Ok(Tensor::from_slice(
            &self.target,
            (self.seq_len, self.batch),
            device,
        )?)
    }
}

impl OrderedBatches {
    /// Lays out `tokens` (the id stream of the split named `split`, for errors) as the module
    /// docs say. Errors, each naming the split and the numbers: `batch` or `tgt_len` 0, a stream
    /// shorter than `2 * batch` (each column needs one input and one target), and a `tgt_len`
    /// longer than the `n_step - 1` target rows of a column (`n_step = len / batch`), where not
    /// even the first segment would be whole. The reference serves that case as one shorter
    /// segment (`seq_len = min(bptt, n_step - 1 - i)`); here it is refused, as it means a split
    /// too short for the run's settings (a cut-down stand-in, or a batch too large for it).
    pub fn new(
        split: &str,
        tokens: &[u32],
        batch: usize,
        tgt_len: usize,
        ext_len: usize,
    ) -> Result<Self> {
        let bad = |name: &str, reason: String| DatasetError::Config {
            name: name.into(),
            reason: format!("{split} split: {reason}"),
        };
        if batch == 0 {
            return Err(bad("batch_size", "must be at least 1".into()));
        }
        if tgt_len == 0 {
            return Err(bad("tgt_len", "must be at least 1".into()));
        }
        let n_step = tokens.len() / batch;
        if n_step < 2 {
            return Err(bad(
                "batch_size",
                format!(
                    "the stream of {} tokens is too short for {batch} columns: each column needs \
                     at least 2 tokens (an input and its target), so at least {} tokens; use a \
                     smaller batch or a longer split",
                    tokens.len(),
                    2 * batch
                ),
            ));
        }
        if tgt_len > n_step - 1 {
            return Err(bad(
                "tgt_len",
                format!(
                    "tgt_len {tgt_len} is longer than a column: the stream of {} tokens in {batch} \
                     columns gives n_step = {n_step} rows per column, so {} target rows (at least \
                     {} tokens are needed for one whole segment); use a smaller tgt_len or batch, \
                     or a longer split",
                    tokens.len(),
                    n_step - 1,
                    (tgt_len + 1) * batch
                ),
            ));
        }
        Ok(Self {
            split: split.to_string(),
            stream: tokens[..n_step * batch].to_vec(),
            batch,
            tgt_len,
            ext_len,
            n_step,
        })
    }

    /// Rows of the layout (`n_step`, ids per column).
    pub fn n_step(&self) -> usize {
        self.n_step
    }

    /// Columns (`bsz`).
    pub fn batch(&self) -> usize {
        self.batch
    }

    /// Target rows per segment (`bptt` / `tgt_len`).
    pub fn tgt_len(&self) -> usize {
        self.tgt_len
    }

    /// Ids of the stream that are read (`n_step * batch`); the rest of the stream is cut.
    pub fn used_tokens(&self) -> usize {
        self.stream.len()
    }

    /// Segments of an epoch: `ceil((n_step - 1) / tgt_len)`, what `get_fixlen_iter` yields.
    pub fn n_batches(&self) -> usize {
        (self.n_step - 1).div_ceil(self.tgt_len)
    }

    /// The reference's `n_batch = (n_step + bptt - 1) // bptt` (see the module docs).
    pub fn reference_n_batch(&self) -> usize {
        self.n_step.div_ceil(self.tgt_len)
    }

    /// Row `t`, column `b` of the layout.
    fn at(&self, t: usize, b: usize) -> u32 {
        self.stream[b * self.n_step + t]
    }

    fn rows(&self, from: usize, to: usize) -> Vec<u32> {
        let mut out = Vec::with_capacity((to - from) * self.batch);
        for t in from..to {
            out.extend((0..self.batch).map(|b| self.at(t, b)));
        }
        out
    }

    /// The segment starting at row `i` (`get_batch(i)`); `i` must be below `n_step - 1`.
    pub fn get(&self, i: usize) -> Result<Segment> {
        if i + 1 >= self.n_step {
            return Err(DatasetError::Config {
                name: "segment start".into(),
                reason: format!(
                    "{} split: row {i} has no target (the layout has {} rows)",
                    self.split, self.n_step
                ),
            });
        }
        let seq_len = self.tgt_len.min(self.n_step - 1 - i);
        let beg = i.saturating_sub(self.ext_len);
        Ok(Segment {
            start: i,
            data: self.rows(beg, i + seq_len),
            target: self.rows(i + 1, i + 1 + seq_len),
            data_rows: i + seq_len - beg,
            seq_len,
            batch: self.batch,
        })
    }

    /// Segment `k` of the epoch (`get(k * tgt_len)`), `k < n_batches()`.
    pub fn segment(&self, k: usize) -> Result<Segment> {
        self.get(k.saturating_mul(self.tgt_len))
    }

    /// The epoch's segments in order (`get_fixlen_iter(0)`).
    pub fn iter(&self) -> impl Iterator<Item = Segment> + '_ {
        (0..self.n_batches()).filter_map(|k| self.segment(k).ok())
    }
}
