//! A deterministic, multi-threaded batch iterator with bounded memory.
//!
//! Determinism: the sample order of epoch `e` is a permutation drawn from `(seed, e)`; the
//! augmentation of dataset sample `i` in epoch `e` draws from an RNG seeded by `(seed, e, i)`;
//! CutMix for batch `b` draws from `(seed, e, b)`. Worker threads only decide *when* a batch is
//! computed, never *what* it holds, so batches are identical for any worker count.
//!
//! Memory: at most `prefetch` batches are requested ahead of the one the caller consumes
//! (computed or in flight); images are loaded (and, for folders, decoded) per batch inside the
//! workers. Dropping an epoch's iterator early stops its workers after the batch each is on.
//!
//! Damaged samples: an image that fails to decode ([`DatasetError::is_per_sample`]) is left out
//! of its batch with a `tracing` warning and counted ([`BatchLoader::skipped_samples`]), so one
//! bad JPEG in ImageNet does not stop an epoch. Any other error ends the epoch with that error.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use candle_core::{Device, Tensor};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::cutmix::{CutMix, MixedLabels};
use crate::error::{DatasetError, Result};
use crate::source::ImageSource;
use crate::transforms::Transform;

/// How batches are drawn.
#[derive(Debug, Clone, PartialEq)]
pub struct LoaderConfig {
    /// Samples per batch.
    pub batch_size: usize,
    /// Shuffle the order every epoch (training) or keep dataset order (evaluation).
    pub shuffle: bool,
    /// Drop the last incomplete batch.
    pub drop_last: bool,
    /// The run's seed.
    pub seed: u64,
    /// Worker threads (0: compute batches in the calling thread).
    pub workers: usize,
    /// Batches requested ahead of the one being consumed (at least 1).
    pub prefetch: usize,
}

impl LoaderConfig {
    /// Training: shuffled, last partial batch kept, 4 batches prefetched.
    pub fn train(batch_size: usize, seed: u64, workers: usize) -> Self {
        Self {
            batch_size,
            shuffle: true,
            drop_last: false,
            seed,
            workers,
            prefetch: 4,
        }
    }

    /// Evaluation: dataset order, every sample once.
    pub fn eval(batch_size: usize, workers: usize) -> Self {
        Self {
            shuffle: false,
            ..Self::train(batch_size, 0, workers)
        }
    }
}

/// One batch, on the CPU.
#[derive(Debug, Clone)]
pub struct Batch {
    /// `[B, C, H, W]` f32, normalised (and CutMix-ed if enabled).
    pub images: Tensor,
    /// `[B]` u32 labels (the original labels, `labels_a` under CutMix).
    pub labels: Tensor,
    /// CutMix labels, when the loader has CutMix enabled.
    pub mixed: Option<MixedLabels>,
    /// Dataset indices of the samples in the batch (damaged ones left out).
    pub indices: Vec<usize>,
    /// Samples of this batch left out because they failed to decode.
    pub skipped: usize,
}

impl Batch {
    /// CutMix soft targets `[B, num_classes]` f32 (see [`MixedLabels::soft_targets`]), or
    /// `None` without CutMix.
    pub fn soft_targets(&self, num_classes: usize) -> Result<Option<Tensor>> {
        let Some(m) = &self.mixed else {
            return Ok(None);
        };
        let t = Tensor::from_vec(
            m.soft_targets(num_classes),
            (m.lambda.len(), num_classes),
            self.images.device(),
        )?;
        Ok(Some(t))
    }

    /// Moves the image and label tensors to `device`.
    pub fn to_device(self, device: &Device) -> Result<Self> {
        Ok(Self {
            images: self.images.to_device(device)?,
            labels: self.labels.to_device(device)?,
            ..self
        })
    }
}

/// SplitMix64's finaliser: a bijective mix of 64 bits.
fn mix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// An RNG that depends only on `(seed, epoch, index, stream)`.
pub fn derived_rng(seed: u64, epoch: u64, index: u64, stream: u64) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(mix64(seed ^ mix64(epoch ^ mix64(index ^ mix64(stream)))))
}

/// [`derived_rng`] stream of an epoch's order.
pub const STREAM_ORDER: u64 = 1;
/// [`derived_rng`] stream of one sample's augmentation.
pub const STREAM_SAMPLE: u64 = 2;
const STREAM_CUTMIX: u64 = 3;

/// What every batch computation needs; shared by the worker threads.
struct Ctx {
    source: Arc<dyn ImageSource>,
    transform: Transform,
    cutmix: Option<CutMix>,
    cfg: LoaderConfig,
    skipped: AtomicUsize,
    skipped_indices: Mutex<BTreeSet<usize>>,
}

/// Batches of an [`ImageSource`] through a [`Transform`] (and optional [`CutMix`]).
#[derive(Clone)]
pub struct BatchLoader {
    ctx: Arc<Ctx>,
}

impl BatchLoader {
    /// Checks the settings and builds the loader.
    pub fn new(
        source: Arc<dyn ImageSource>,
        transform: Transform,
        cutmix: Option<CutMix>,
        cfg: LoaderConfig,
    ) -> Result<Self> {
        let bad = |name: &str, reason: String| DatasetError::Config {
            name: name.into(),
            reason,
        };
        if cfg.batch_size == 0 {
            return Err(bad("batch_size", "must be at least 1".into()));
        }
        if cfg.prefetch == 0 {
            return Err(bad("prefetch", "must be at least 1".into()));
        }
        if source.is_empty() {
            return Err(bad(
                "dataset",
                format!("{} holds no samples", source.describe()),
            ));
        }
        if let Some(c) = &cutmix {
            c.validate()?;
        }
        Ok(Self {
            ctx: Arc::new(Ctx {
                source,
                transform,
                cutmix,
                cfg,
                skipped: AtomicUsize::new(0),
                skipped_indices: Mutex::new(BTreeSet::new()),
            }),
        })
    }

    /// Batches per epoch.
    pub fn num_batches(&self) -> usize {
        let (n, b) = (self.ctx.source.len(), self.ctx.cfg.batch_size);
        if self.ctx.cfg.drop_last {
            n / b
        } else {
            n.div_ceil(b)
        }
    }

    /// Samples per batch.
    pub fn batch_size(&self) -> usize {
        self.ctx.cfg.batch_size
    }

    /// The dataset.
    pub fn source(&self) -> &Arc<dyn ImageSource> {
        &self.ctx.source
    }

    /// How many times a sample was left out because it failed to decode (over all epochs).
    pub fn skipped_samples(&self) -> usize {
        self.ctx.skipped.load(Ordering::Relaxed)
    }

    /// The distinct dataset indices that were ever left out.
    pub fn skipped_indices(&self) -> Vec<usize> {
        self.ctx
            .skipped_indices
            .lock()
            .map(|s| s.iter().copied().collect())
            .unwrap_or_default()
    }

    /// The sample order of `epoch` (a seeded permutation, or `0..n` without shuffling).
    pub fn order(&self, epoch: u64) -> Vec<usize> {
        let mut order: Vec<usize> = (0..self.ctx.source.len()).collect();
        if self.ctx.cfg.shuffle {
            order.shuffle(&mut derived_rng(self.ctx.cfg.seed, epoch, 0, STREAM_ORDER));
        }
        order
    }

    /// The batches of `epoch`, computed by the worker pool in the background.
    pub fn epoch(&self, epoch: u64) -> EpochBatches {
        let order = self.order(epoch);
        let n_batches = self.num_batches();
        self.start(epoch, order, n_batches)
    }

    /// The batches of `epoch` in a sample order chosen by the caller (a class-balanced sampler's,
    /// [`crate::retrieval::ClassBalancedSampler::order`]): consecutive `batch_size` chunks of
    /// `order` are the batches (the last one partial unless `drop_last`), with the same worker
    /// pool, prefetch, per-sample augmentation seeds `(seed, epoch, i)` and damaged-sample skipping
    /// as [`BatchLoader::epoch`]. Indices may repeat; one not below the dataset's length ends the
    /// epoch with an error naming it when its batch is built.
    pub fn epoch_in_order(&self, epoch: u64, order: Vec<usize>) -> EpochBatches {
        let b = self.ctx.cfg.batch_size;
        let n_batches = if self.ctx.cfg.drop_last {
            order.len() / b
        } else {
            order.len().div_ceil(b)
        };
        self.start(epoch, order, n_batches)
    }

    fn start(&self, epoch: u64, order: Vec<usize>, n_batches: usize) -> EpochBatches {
        let order = Arc::new(order);
        let workers = self.ctx.cfg.workers;
        let (job_tx, job_rx) = mpsc::channel::<usize>();
        let (res_tx, res_rx) = mpsc::channel::<(usize, Result<Batch>)>();
        let job_rx = Arc::new(Mutex::new(job_rx));
        let cancel = Arc::new(AtomicBool::new(false));
        let handles = (0..workers)
            .map(|_| {
                let (ctx, order, job_rx, res_tx, cancel) = (
                    self.ctx.clone(),
                    order.clone(),
                    job_rx.clone(),
                    res_tx.clone(),
                    cancel.clone(),
                );
                std::thread::spawn(move || worker(&ctx, epoch, &order, &job_rx, &res_tx, &cancel))
            })
            .collect();
        EpochBatches {
            ctx: self.ctx.clone(),
            epoch,
            order,
            n_batches,
            next_submit: 0,
            next_yield: 0,
            pending: BTreeMap::new(),
            job_tx: Some(job_tx),
            res_rx,
            handles,
            cancel,
            failed: false,
        }
    }
}

fn worker(
    ctx: &Ctx,
    epoch: u64,
    order: &[usize],
    jobs: &Mutex<Receiver<usize>>,
    results: &Sender<(usize, Result<Batch>)>,
    cancel: &AtomicBool,
) {
    loop {
        let job = match jobs.lock() {
            Ok(rx) => rx.recv(),
            Err(_) => return,
        };
        let Ok(b) = job else { return };
        if cancel.load(Ordering::Relaxed) {
            return;
        }
        // A panic inside a decoder must not leave the consumer waiting for this batch.
        let batch = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            make_batch(ctx, epoch, order, b)
        }))
        .unwrap_or_else(|p| {
            let msg = p
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| p.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            Err(DatasetError::Config {
                name: "workers".into(),
                reason: format!("a worker panicked while building batch {b}: {msg}"),
            })
        });
        if results.send((b, batch)).is_err() {
            return;
        }
    }
}

/// Computes batch `b` of `epoch`: load, transform, stack, CutMix.
fn make_batch(ctx: &Ctx, epoch: u64, order: &[usize], b: usize) -> Result<Batch> {
    let bs = ctx.cfg.batch_size;
    let idx = &order[b * bs..((b + 1) * bs).min(order.len())];
    let mut data = Vec::new();
    let mut shape: Option<[usize; 3]> = None;
    let (mut indices, mut labels) = (Vec::new(), Vec::new());
    let mut first_failure = None;
    for &i in idx {
        if i >= ctx.source.len() {
            return Err(DatasetError::Config {
                name: "order".into(),
                reason: format!(
                    "sample index {i} in batch {b} of epoch {epoch} is not below the length {} of {}",
                    ctx.source.len(),
                    ctx.source.describe()
                ),
            });
        }
        let img = match ctx.source.image(i) {
            Ok(img) => img,
            Err(e) if e.is_per_sample() => {
                tracing::warn!(sample = i, error = %e, "skipping a damaged sample");
                ctx.skipped.fetch_add(1, Ordering::Relaxed);
                if let Ok(mut s) = ctx.skipped_indices.lock() {
                    s.insert(i);
                }
                first_failure.get_or_insert(e);
                continue;
            }
            Err(e) => return Err(e),
        };
        let mut rng = derived_rng(ctx.cfg.seed, epoch, i as u64, STREAM_SAMPLE);
        let (v, s) = ctx.transform.apply(&img, &mut rng)?;
        match shape {
            None => shape = Some(s),
            Some(prev) if prev != s => {
                return Err(DatasetError::Config {
                    name: "transform".into(),
                    reason: format!(
                        "{}: sample {i} gives a {s:?} image but the batch's first gives {prev:?}; \
                         use a transform that outputs one size (e.g. a crop)",
                        ctx.source.describe()
                    ),
                });
            }
            _ => {}
        }
        data.extend(v);
        indices.push(i);
        labels.push(ctx.source.label(i));
    }
    let skipped = idx.len() - indices.len();
    let Some([c, h, w]) = shape else {
        return Err(DatasetError::EmptyBatch {
            epoch,
            batch: b,
            first: Box::new(first_failure.unwrap_or_else(|| DatasetError::Config {
                name: "batch".into(),
                reason: "no samples".into(),
            })),
        });
    };
    let n = indices.len();
    let mixed = match &ctx.cutmix {
        Some(cm) => {
            let mut rng = derived_rng(ctx.cfg.seed, epoch, b as u64, STREAM_CUTMIX);
            Some(cm.apply(&mut data, [n, c, h, w], &labels, &mut rng)?.0)
        }
        None => None,
    };
    Ok(Batch {
        images: Tensor::from_vec(data, (n, c, h, w), &Device::Cpu)?,
        labels: Tensor::from_vec(labels, n, &Device::Cpu)?,
        mixed,
        indices,
        skipped,
    })
}

/// The batches of one epoch, in order. Dropping it stops the workers.
pub struct EpochBatches {
    ctx: Arc<Ctx>,
    epoch: u64,
    order: Arc<Vec<usize>>,
    n_batches: usize,
    next_submit: usize,
    next_yield: usize,
    pending: BTreeMap<usize, Result<Batch>>,
    job_tx: Option<Sender<usize>>,
    res_rx: Receiver<(usize, Result<Batch>)>,
    handles: Vec<JoinHandle<()>>,
    cancel: Arc<AtomicBool>,
    failed: bool,
}

impl EpochBatches {
    /// Batches requested but not yet returned (at most `prefetch`).
    pub fn in_flight(&self) -> usize {
        self.next_submit - self.next_yield
    }
}

impl Iterator for EpochBatches {
    type Item = Result<Batch>;

    fn next(&mut self) -> Option<Result<Batch>> {
        if self.failed || self.next_yield >= self.n_batches {
            return None;
        }
        let result = if self.handles.is_empty() {
            make_batch(&self.ctx, self.epoch, &self.order, self.next_yield)
        } else {
            let limit = (self.next_yield + self.ctx.cfg.prefetch).min(self.n_batches);
            while self.next_submit < limit {
                if let Some(tx) = &self.job_tx {
                    // A send fails only if every worker has exited (a panic); the receive
                    // below then reports it.
                    let _ = tx.send(self.next_submit);
                }
                self.next_submit += 1;
            }
            loop {
                if let Some(r) = self.pending.remove(&self.next_yield) {
                    break r;
                }
                match self.res_rx.recv() {
                    Ok((b, r)) => {
                        self.pending.insert(b, r);
                    }
                    Err(_) => {
                        break Err(DatasetError::Config {
                            name: "workers".into(),
                            reason: "every loader worker thread stopped (a panic)".into(),
                        })
                    }
                }
            }
        };
        self.next_yield += 1;
        if result.is_err() {
            self.failed = true;
        }
        Some(result)
    }
}

impl Drop for EpochBatches {
    fn drop(&mut self) {
        self.cancel.store(true, Ordering::Relaxed);
        self.job_tx = None;
        for h in self.handles.drain(..) {
            let _ = h.join();
        }
    }
}
