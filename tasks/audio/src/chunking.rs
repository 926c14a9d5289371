//! The chunk length of a run: `[task] input_length`, or the dataset's (5 s, 1 s, 3 s at 16 kHz),
//! checked against the fewest spectrogram frames the network's time pooling accepts
//! ([`adamp_models::audio::HarmonicCnn::min_frames`]).
//!
//! The keyword network pools time by 2 six times (64 frames); a 1 s chunk of 16000 samples gives
//! `1 + 15999 / 256 = 63` frames with the 513-point STFT, which torch's pooling refuses too. The
//! default keyword chunk is therefore raised to the fewest samples that give 64 frames (16129,
//! 8 ms more; the 1 s clips are zero-padded at a seeded offset, as the reference pads clips
//! shorter than a chunk). An explicit `input_length` that is too short is an error.

use adamp_models::audio::HarmonicCnnVariant;
use adamp_task_api::factory::invalid;
use adamp_task_api::Result;

use crate::dataset::AudioDataset;
use crate::stft::Stft;

/// A run's chunk length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChunkLength {
    /// Samples per chunk.
    pub samples: usize,
    /// The dataset's length when it was raised to fit the network.
    pub raised_from: Option<usize>,
}

/// The fewest spectrogram frames `variant` accepts (the product of its time pools).
pub fn min_frames(variant: HarmonicCnnVariant) -> usize {
    variant.pools().iter().map(|p| p.1).product()
}

/// The fewest samples whose spectrogram has at least `frames` frames.
pub fn min_samples(stft: &Stft, frames: usize) -> usize {
    let n = stft.n_fft();
    let pad = if stft.center() { 2 * (n / 2) } else { 0 };
    let by_frames = ((frames.max(1) - 1) * stft.hop() + n).saturating_sub(pad);
    let mut len = by_frames.max(if stft.center() { n / 2 + 1 } else { n });
    while stft.n_frames(len).is_none_or(|f| f < frames) {
        len += 1;
    }
    len
}

/// The chunk length for `dataset` with the configured `input_length` (see the module docs).
pub fn chunk_length(
    input_length: Option<usize>,
    dataset: AudioDataset,
    stft: &Stft,
) -> Result<ChunkLength> {
    let frames = min_frames(dataset.variant());
    let least = min_samples(stft, frames);
    match input_length {
        Some(n) if n < least => Err(invalid(
            "input_length",
            format!(
                "at least {least} samples: the {:?} network needs {frames} spectrogram frames \
                 (n_fft {}, hop {}), got {n}",
                dataset.variant(),
                stft.n_fft(),
                stft.hop()
            ),
        )),
        Some(n) => Ok(ChunkLength {
            samples: n,
            raised_from: None,
        }),
        None => {
            let d = dataset.chunk();
            Ok(ChunkLength {
                samples: d.max(least),
                raised_from: (least > d).then_some(d),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_keyword_chunk_is_raised_to_64_frames_and_the_others_fit() {
        let stft = Stft::harmonic_cnn();
        assert_eq!(min_frames(HarmonicCnnVariant::Keyword), 64);
        assert_eq!(stft.n_frames(16_000), Some(63));
        let k = chunk_length(None, AudioDataset::SpeechCommands, &stft).unwrap();
        assert_eq!(k.samples, 16_129);
        assert_eq!(k.raised_from, Some(16_000));
        assert_eq!(stft.n_frames(16_129), Some(64));
        assert_eq!(stft.n_frames(16_128), Some(63));
        for d in [AudioDataset::Mtat, AudioDataset::Dcase2017] {
            let c = chunk_length(None, d, &stft).unwrap();
            assert_eq!((c.samples, c.raised_from), (d.chunk(), None));
        }
        let even = Stft::new(512, 256, true).unwrap();
        assert_eq!(min_samples(&even, 64), 63 * 256);
        let e = chunk_length(Some(16_000), AudioDataset::SpeechCommands, &stft)
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("task.input_length") && e.contains("16129"),
            "{e}"
        );
        assert_eq!(
            chunk_length(Some(20_000), AudioDataset::SpeechCommands, &stft)
                .unwrap()
                .samples,
            20_000
        );
    }
}
