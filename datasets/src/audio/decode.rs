//! Decoding a WAV, FLAC or MP3 file to mono `f32` samples with `symphonia`.
//!
//! The conventions are those of the references' loaders (`librosa.load(path, sr=None,
//! mono=True)` in minzwon/sota-music-tagging-models `preprocessing/*_read.py`, and
//! `torchaudio.load`):
//! - integer PCM is scaled to `[-1, 1)` by dividing by `2^(bits-1)` (`i16 / 32768`,
//!   `i24 / 8388608`, `i32 / 2147483648`; unsigned 8-bit: `(u8 - 128) / 128`), float PCM is
//!   taken as it is;
//! - several channels are downmixed to mono by averaging them (`mono=True`: the mean over
//!   channels);
//! - MP3 encoder delay and padding are trimmed when the file's LAME/Xing tag gives them
//!   (symphonia's gapless mode), as ffmpeg (torchaudio's and librosa's audioread backend) does.
//!
//! Enabled in symphonia: the WAV container with PCM (8/16/24/32-bit integer, 32/64-bit float,
//! A-law, mu-law), FLAC and MP3. Everything else (ADPCM WAV, Vorbis, AAC, ...) is refused with an
//! error naming the file and the codec.
//!
//! Damaged input is an error, never a silently shorter clip: a packet that fails to decode, a
//! read error in the middle of the stream, or fewer frames than the container declares (a WAV
//! data chunk or a FLAC STREAMINFO sample count; MP3 frame counts are estimates and are not
//! checked) give [`DatasetError::AudioDecode`] naming the file and how far decoding got. A loader
//! may skip such a clip and count it ([`DatasetError::is_per_sample`]).

use std::fs::File;
use std::path::Path;

use symphonia::core::codecs::audio::{AudioCodecParameters, AudioDecoderOptions};
use symphonia::core::errors::Error as SymphoniaError;
use symphonia::core::formats::probe::Hint;
use symphonia::core::formats::{FormatOptions, TrackType};
use symphonia::core::io::MediaSourceStream;
use symphonia::core::meta::MetadataOptions;

use crate::error::{DatasetError, Result};

/// A decoded audio file, downmixed to mono.
#[derive(Debug, Clone, PartialEq)]
pub struct Decoded {
    /// The mono samples in `[-1, 1]` (integer PCM: `[-1, 1)`), one per frame.
    pub samples: Vec<f32>,
    /// The file's sample rate in Hz.
    pub sample_rate: u32,
    /// The number of channels in the file (averaged into `samples`).
    pub channels_in: usize,
    /// The number of frames decoded (`samples.len()`).
    pub frames: usize,
}

/// Decode `path` (WAV, FLAC or MP3, found from its content; the extension is only a hint) to
/// mono `f32` samples at the file's own sample rate.
///
/// Errors ([`DatasetError::AudioDecode`] naming the file unless said otherwise): the file cannot
/// be opened ([`DatasetError::Io`]), is empty, is not a WAV/FLAC/MP3 stream, holds no audio
/// track, uses an encoding that is not enabled (e.g. ADPCM WAV), is damaged or truncated (see the
/// module documentation), or holds no audio frames.
pub fn decode_file(path: &Path) -> Result<Decoded> {
    let file = File::open(path).map_err(|e| DatasetError::io(path, e))?;
    let len = file
        .metadata()
        .map_err(|e| DatasetError::io(path, e))?
        .len();
    if len == 0 {
        return Err(DatasetError::audio_decode(
            path,
            "the file is empty (0 bytes)",
        ));
    }
    let stream = MediaSourceStream::new(Box::new(file), Default::default());
    let mut hint = Hint::new();
    if let Some(ext) = path.extension().and_then(|e| e.to_str()) {
        hint.with_extension(ext);
    }
    let mut format = symphonia::default::get_probe()
        .probe(
            &hint,
            stream,
            FormatOptions::default(),
            MetadataOptions::default(),
        )
        .map_err(|e| {
            DatasetError::audio_decode(
                path,
                format!("not a WAV, FLAC or MP3 stream this decoder reads ({e})"),
            )
        })?;
    let track = format
        .default_track(TrackType::Audio)
        .ok_or_else(|| DatasetError::audio_decode(path, "the file holds no audio track"))?;
    let track_id = track.id;
    let declared_frames = track.num_frames;
    let params: AudioCodecParameters = track
        .codec_params
        .as_ref()
        .and_then(|p| p.audio())
        .cloned()
        .ok_or_else(|| {
            DatasetError::audio_decode(path, "the audio track has no codec parameters")
        })?;
    let mut decoder = symphonia::default::get_codecs()
        .make_audio_decoder(&params, &AudioDecoderOptions::default())
        .map_err(|e| {
            DatasetError::audio_decode(
                path,
                format!(
                    "unsupported encoding ({}; enabled: PCM WAV, FLAC, MP3): {e}",
                    codec_name(&params)
                ),
            )
        })?;
    // Only the WAV and FLAC containers declare an exact frame count; an MP3 reader may estimate
    // it from the bit rate.
    let exact_count = declared_frames.filter(|_| !is_mpeg_audio(&params));

    let mut samples = Vec::new();
    let mut interleaved: Vec<f32> = Vec::new();
    let mut sample_rate = params.sample_rate.unwrap_or(0);
    let mut channels_in = params.channels.as_ref().map_or(0, |c| c.count());
    loop {
        let packet = match format.next_packet() {
            Ok(Some(packet)) => packet,
            Ok(None) => break,
            Err(e) => {
                return Err(damaged(
                    path,
                    samples.len(),
                    exact_count,
                    "reading the stream",
                    &e,
                ));
            }
        };
        if packet.track_id != track_id {
            continue;
        }
        let buf = decoder
            .decode(&packet)
            .map_err(|e| damaged(path, samples.len(), exact_count, "decoding a packet", &e))?;
        if buf.frames() == 0 {
            continue;
        }
        let channels = buf.spec().channels().count();
        let rate = buf.spec().rate();
        if samples.is_empty() {
            channels_in = channels;
            sample_rate = rate;
        } else if channels != channels_in || rate != sample_rate {
            return Err(DatasetError::audio_decode(
                path,
                format!(
                    "the stream changes from {channels_in} channel(s) at {sample_rate} Hz to \
                     {channels} at {rate} Hz after {} frames",
                    samples.len()
                ),
            ));
        }
        buf.copy_to_vec_interleaved(&mut interleaved);
        downmix_into(&interleaved, channels, &mut samples);
    }
    if samples.is_empty() {
        return Err(DatasetError::audio_decode(
            path,
            "no audio frames (zero-length audio)",
        ));
    }
    if sample_rate == 0 || channels_in == 0 {
        return Err(DatasetError::audio_decode(
            path,
            "the stream gives no sample rate or channel count",
        ));
    }
    // symphonia 0.6.1's WAV and FLAC readers already report a stream cut short as an
    // end-of-file error (above); this catches a reader that ends early without one.
    if let Some(declared) = exact_count {
        if (samples.len() as u64) < declared {
            return Err(DatasetError::audio_decode(
                path,
                format!(
                    "truncated: the header declares {declared} frames, the stream ends after {}",
                    samples.len()
                ),
            ));
        }
    }
    let frames = samples.len();
    Ok(Decoded {
        samples,
        sample_rate,
        channels_in,
        frames,
    })
}

/// Whether the track is MPEG audio (MP1/MP2/MP3), whose frame count the reader may estimate.
fn is_mpeg_audio(params: &AudioCodecParameters) -> bool {
    use symphonia::core::codecs::audio::well_known::{CODEC_ID_MP1, CODEC_ID_MP2, CODEC_ID_MP3};
    [CODEC_ID_MP1, CODEC_ID_MP2, CODEC_ID_MP3].contains(&params.codec)
}

/// A readable name for the codecs a WAV file may hold that are not enabled here.
fn codec_name(params: &AudioCodecParameters) -> String {
    use symphonia::core::codecs::audio::well_known::{CODEC_ID_ADPCM_IMA_WAV, CODEC_ID_ADPCM_MS};
    match params.codec {
        CODEC_ID_ADPCM_MS => "Microsoft ADPCM".into(),
        CODEC_ID_ADPCM_IMA_WAV => "IMA ADPCM".into(),
        other => format!("symphonia codec id {other}"),
    }
}

/// The error for a stream that fails part-way: how far decoding got (of how many frames, when
/// the container says) and what failed.
fn damaged(
    path: &Path,
    frames: usize,
    declared: Option<u64>,
    stage: &str,
    e: &SymphoniaError,
) -> DatasetError {
    let what = match e {
        SymphoniaError::IoError(io) if io.kind() == std::io::ErrorKind::UnexpectedEof => {
            "the file ends in the middle of the stream (truncated)".to_string()
        }
        SymphoniaError::Unsupported(feature) => format!("unsupported feature: {feature}"),
        other => format!("damaged stream: {other}"),
    };
    let of = declared.map_or(String::new(), |n| {
        format!(" of the {n} the header declares")
    });
    DatasetError::audio_decode(
        path,
        format!("{what}, while {stage} after {frames} frames{of}"),
    )
}

/// Append the mean over `channels` of each interleaved frame of `interleaved` to `mono`.
pub fn downmix_into(interleaved: &[f32], channels: usize, mono: &mut Vec<f32>) {
    if channels == 1 {
        mono.extend_from_slice(interleaved);
        return;
    }
    let n = channels as f32;
    mono.extend(
        interleaved
            .chunks_exact(channels)
            .map(|frame| frame.iter().sum::<f32>() / n),
    );
}
