//! Writing 16-bit PCM mono WAV with `hound`: the clips of the generated stand-ins
//! ([`super::keywords_espeak`], [`super::events_sonic_pi`], [`super::tags_timgm6mb`]).

use std::path::Path;

use crate::error::{DatasetError, Result};

/// Writes `samples` as a 16-bit PCM mono WAV at `rate` Hz: `round(s * 32768)` clamped to the
/// `i16` range, the inverse of [`super::decode`]'s division by `2^(bits-1)`.
pub fn write_wav16(path: &Path, rate: u32, samples: &[f32]) -> Result<()> {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: rate,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let err = |e: hound::Error| DatasetError::io(path, std::io::Error::other(e));
    let mut w = hound::WavWriter::create(path, spec).map_err(err)?;
    for &s in samples {
        let v = (f64::from(s) * 32768.0).round().clamp(-32768.0, 32767.0) as i16;
        w.write_sample(v).map_err(err)?;
    }
    w.finalize().map_err(err)
}
