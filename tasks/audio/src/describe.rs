//! The one-line description of a built audio task (sizes, clip counts, skips), which the harness
//! logs when a run starts.

use adamp_models::audio::HarmonicCnn;

use crate::chunking::ChunkLength;
use crate::data::AudioData;
use crate::dataset::AudioDataset;

/// How many skipped clips the description names (all are in `skipped_clips.txt`).
pub const NAMED_SKIPS: usize = 3;

/// What [`describe`] reports.
pub struct Summary<'a> {
    /// The dataset.
    pub dataset: AudioDataset,
    /// The network.
    pub model: &'a HarmonicCnn,
    /// The clips.
    pub data: &'a AudioData,
    /// Train, valid, test clips.
    pub counts: [usize; 3],
    /// Samples per chunk.
    pub chunk: ChunkLength,
    /// Chunks per clip at evaluation.
    pub eval_chunks: usize,
    /// Clips per batch.
    pub batch: usize,
    /// Batches per epoch.
    pub steps_per_epoch: usize,
}

/// The description (see the module docs).
pub fn describe(s: &Summary<'_>) -> String {
    let cfg = s.model.config();
    let fb = s.model.filterbank();
    let skipped = &s.data.listing.skipped;
    let skips = if skipped.is_empty() {
        "no clip skipped".to_string()
    } else {
        let named: Vec<String> = skipped
            .iter()
            .take(NAMED_SKIPS)
            .map(|k| format!("{}: {}", k.path.display(), k.reason))
            .collect();
        format!(
            "{} clip(s) skipped ({}{})",
            skipped.len(),
            named.join("; "),
            if skipped.len() > NAMED_SKIPS {
                "; the rest in skipped_clips.txt"
            } else {
                ""
            }
        )
    };
    let short = short_clips(s.data, s.chunk.samples);
    let raised = match s.chunk.raised_from {
        Some(d) => format!(" (the dataset's {d} raised to fit the network's time pooling)"),
        None => String::new(),
    };
    let cache = s.data.cache.stats();
    let params = s.model.params();
    let invariant = params
        .params()
        .iter()
        .filter(|p| p.meta.followed_by_norm)
        .count();
    format!(
        "audio: Harmonic CNN ({:?} network, {} channels, {} harmonics x {} bands, bw_Q {}, {} \
         parameters, {} outputs) on {} from {} ({} classes); train / valid / test {} / {} / {} \
         clips, {skips}{short}; chunks of {} samples{raised}, {} per clip at evaluation; batches of {}, \
         {} per epoch; clip cache {} ({} decoded, {} read back); {} tensors, {invariant} \
         scale-invariant",
        cfg.variant,
        cfg.conv_channels,
        fb.n_harmonic(),
        fb.level(),
        if s.model.learns_bandwidth() {
            "learnt"
        } else {
            "fixed"
        },
        s.model.num_params(),
        cfg.classes(),
        s.dataset.name(),
        s.data.source,
        s.data.listing.classes.len(),
        s.counts[0],
        s.counts[1],
        s.counts[2],
        s.chunk.samples,
        s.eval_chunks,
        s.batch,
        s.steps_per_epoch,
        s.data.cache.dir().display(),
        cache.decodes,
        cache.hits,
        params.len(),
    )
}

/// `"; N clip(s) shorter than a chunk of `samples` ..."` naming the first, or `""`: such clips are
/// zero-padded at a seeded offset (the reference pads them), and the description says so.
fn short_clips(data: &AudioData, samples: usize) -> String {
    let mut short = data
        .listing
        .clips
        .iter()
        .zip(&data.lengths)
        .filter(|(_, &n)| n < samples);
    match short.next() {
        None => String::new(),
        Some((first, n)) => format!(
            "; {} clip(s) shorter than a chunk, zero-padded (first: {}, {n} samples)",
            1 + short.count(),
            first.path.display()
        ),
    }
}
