//! Audio input for the audio benchmarks (issue 18: MagnaTagATune MP3 clips, Speech Commands
//! WAV, DCASE 2017 FLAC/WAV): decoding, resampling and an on-disk cache of decoded clips.
//!
//! - [`decode::decode_file`]`(path)` → [`decode::Decoded`] (mono `f32` samples, the file's rate,
//!   its channel count): WAV (PCM 8/16/24/32-bit integer, 32-bit float), FLAC, MP3 with
//!   `symphonia`; integer PCM divided by `2^(bits-1)`, channels averaged.
//! - [`resample::resample`]`(samples, rate_in, rate_out)`: `rubato`'s FFT resampler,
//!   `ceil(n * rate_out / rate_in)` frames out, a no-op at equal rates;
//!   [`resample::DEFAULT_TARGET_RATE`] = 16 kHz.
//! - [`clip_cache::load_clip`]`(path, target_rate, Some(&cache))` → [`clip_cache::Clip`]:
//!   decoded and resampled once, then read from [`clip_cache::ClipCache`] (documented
//!   `<key>.f32` files, validated on read, written atomically).
//!
//! - Dataset listings ([`listing::ClipListing`]: path, [`listing::ClipLabel`], [`listing::AudioSplit`]
//!   per clip, class names, counted skips): [`speech_commands::list_speech_commands`],
//!   [`dcase::list_dcase`], [`mtat::list_mtat`], each in the dataset's own layout;
//!   [`listing::ClipListing::drop_unreadable`] moves undecodable clips into the skips.
//! - [`chunks::chunks`] / [`chunks::cut_chunks`]: the reference's chunking (one seeded random
//!   chunk per clip per epoch in training, evenly spaced chunks at evaluation, short clips
//!   zero-padded); [`chunks::average_chunk_predictions`] averages chunk outputs per clip.
//! - [`stand_in::AudioStandIn`]: the embedded stand-ins (espeak-ng keywords, sonic-pi sound
//!   events, timgm6mb tags), built under the data root in the real layouts.
//!
//! Bad input (unsupported encoding, truncated or damaged stream, empty or non-audio file,
//! zero-length audio) is a [`crate::DatasetError::AudioDecode`] naming the file.

pub mod chunks;
pub mod clip_cache;
pub mod dcase;
pub mod decode;
pub mod events_sonic_pi;
pub mod keywords_espeak;
pub mod listing;
pub mod mtat;
pub mod resample;
pub mod speech_commands;
pub mod stand_in;
pub mod tags_timgm6mb;
pub mod wav_out;

#[cfg(test)]
mod chunks_tests;

#[cfg(test)]
mod clip_cache_tests;
#[cfg(test)]
mod decode_tests;
#[cfg(test)]
mod listing_tests;
#[cfg(test)]
mod resample_tests;
#[cfg(test)]
mod test_signals;

pub use chunks::{
    average_chunk_predictions, chunks, cut_chunks, ChunkMode, ChunkPlan, DCASE_CHUNK, EVAL_CHUNKS,
    KEYWORD_CHUNK, MTAT_CHUNK,
};
pub use clip_cache::{load_clip, CacheStats, Clip, ClipCache};
pub use dcase::{list_dcase, DcaseOptions, DCASE_CLASSES};
pub use decode::{decode_file, Decoded};
pub use listing::{AudioSplit, ClipLabel, ClipListing, ListedClip, SkippedClip};
pub use mtat::{list_mtat, MtatOptions};
pub use resample::{resample, resampled_len, DEFAULT_TARGET_RATE};
pub use speech_commands::{list_speech_commands, SpeechCommandsOptions, KEYWORD_CLASSES};
pub use stand_in::AudioStandIn;
