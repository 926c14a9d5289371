//! Decoding: every enabled format against its known signal, and every kind of bad input.

use std::path::Path;

use super::decode::decode_file;
use super::test_signals::{fit_sine, fixture, rms, sine, write_float_wav, write_int_wav};
use crate::error::DatasetError;

/// The error's text, asserting it is an audio decoding error naming `path`.
fn audio_error(path: &Path) -> String {
    let err = decode_file(path).expect_err("decoding should fail");
    assert!(
        matches!(err, DatasetError::AudioDecode { .. }),
        "not an AudioDecode error: {err:?}"
    );
    assert!(err.is_per_sample());
    let text = err.to_string();
    assert!(
        text.contains(&path.display().to_string()),
        "the message does not name the file: {text}"
    );
    text
}

#[test]
fn integer_pcm_wav_is_divided_by_two_to_the_bits_minus_one() {
    let dir = tempfile::tempdir().unwrap();
    for bits in [8u16, 16, 24, 32] {
        let max = (1i64 << (bits - 1)) - 1;
        let min = -(1i64 << (bits - 1));
        let ints: Vec<i32> = [min, min + 1, -12345 % (max + 1), -1, 0, 1, 7, max / 3, max]
            .iter()
            .map(|&v| v as i32)
            .collect();
        let path = dir.path().join(format!("s{bits}.wav"));
        write_int_wav(&path, 16_000, 1, bits, &ints);
        let d = decode_file(&path).unwrap();
        assert_eq!(
            (d.sample_rate, d.channels_in, d.frames),
            (16_000, 1, ints.len())
        );
        let scale = (1i64 << (bits - 1)) as f64;
        for (&got, &int) in d.samples.iter().zip(&ints) {
            // torchaudio.load's normalisation: int / 2^(bits-1), computed exactly in f64.
            let want = (f64::from(int) / scale) as f32;
            assert_eq!(got, want, "{bits}-bit sample {int}");
        }
        assert_eq!(d.samples[0], -1.0, "{bits}-bit minimum is -1");
        // The maximum is 1 - 2^(1-bits): below 1 up to 24 bits; 2^31 - 1 rounds to 1.0 in f32
        // (as in torchaudio's float32 output).
        let top = *d.samples.last().unwrap();
        if bits <= 24 {
            assert!(top < 1.0, "{bits}-bit maximum {top}");
        } else {
            assert_eq!(top, 1.0);
        }
    }
}

#[test]
fn float_wav_is_taken_as_it_is() {
    let dir = tempfile::tempdir().unwrap();
    let values = [-1.0f32, -0.25, 0.0, 1e-7, 0.3, 0.999_999_9, 1.0];
    let path = dir.path().join("f32.wav");
    write_float_wav(&path, 22_050, 1, &values);
    let d = decode_file(&path).unwrap();
    assert_eq!(d.sample_rate, 22_050);
    assert_eq!(d.samples, values);
}

#[test]
fn multichannel_wav_is_the_mean_over_channels() {
    let dir = tempfile::tempdir().unwrap();
    // Three channels (hound writes WAVE_FORMAT_EXTENSIBLE), 16-bit.
    let frames: [[i32; 3]; 4] = [[32767, -32768, 0], [100, 200, 301], [-7, -7, -7], [1, 0, 0]];
    let interleaved: Vec<i32> = frames.iter().flatten().copied().collect();
    let path = dir.path().join("three.wav");
    write_int_wav(&path, 8_000, 3, 16, &interleaved);
    let d = decode_file(&path).unwrap();
    assert_eq!((d.channels_in, d.frames, d.sample_rate), (3, 4, 8_000));
    for (got, frame) in d.samples.iter().zip(&frames) {
        let channels: Vec<f32> = frame.iter().map(|&v| v as f32 / 32768.0).collect();
        let want = channels.iter().sum::<f32>() / 3.0;
        assert_eq!(*got, want, "{frame:?}");
    }
}

#[test]
fn flac_16_bit_mono_is_the_source_signal_to_the_quantisation_step() {
    let d = decode_file(&fixture("sine440_22050_s16_mono.flac")).unwrap();
    assert_eq!(
        (d.sample_rate, d.channels_in, d.frames),
        (22_050, 1, 11_025)
    );
    let want = sine(16384.0, 440.0, 22_050, 11_025);
    for (n, (&got, &w)) in d.samples.iter().zip(&want).enumerate() {
        let int = f64::from(got) * 32768.0;
        assert_eq!(int, int.round(), "sample {n} is not a 16-bit step");
        assert!((int - w).abs() <= 0.5 + 1e-9, "sample {n}: {int} vs {w}");
    }
}

#[test]
fn flac_24_bit_stereo_is_the_mean_of_its_channels() {
    let d = decode_file(&fixture("two_tone_44100_s24_stereo.flac")).unwrap();
    assert_eq!((d.sample_rate, d.channels_in, d.frames), (44_100, 2, 4_410));
    let left = sine(4_194_304.0, 440.0, 44_100, 4_410);
    let right = sine(2_097_152.0, 1000.0, 44_100, 4_410);
    let step = 1.0 / 8_388_608.0;
    for n in 0..d.frames {
        let want = (left[n] + right[n]) / 2.0 / 8_388_608.0;
        // Each channel is within half a 24-bit step of the formula, so their mean is too.
        let err = (f64::from(d.samples[n]) - want).abs();
        assert!(err <= 0.5 * step + 1e-12, "frame {n}: off by {err}");
    }
}

/// The encoded 1 kHz sine in `samples[start..start + 16000]` (the source's 16000 frames),
/// measured 100 ms away from its ends: frequency, amplitude, lossy-coding residue, alignment.
/// LAME 3.100 encodes the source's amplitude 0.5 as 0.475 (`lame --decode` of both fixtures
/// peaks at 0.47501), so that is the amplitude expected of the decoder.
fn assert_mp3_sine(samples: &[f32], start: usize) {
    let middle = &samples[start + 1600..start + 14_400];
    let (freq, amplitude) = fit_sine(middle, 16_000);
    assert!((freq - 1000.0).abs() < 0.05, "frequency {freq}");
    assert!((amplitude - 0.475).abs() < 0.005, "amplitude {amplitude}");
    // The fitted sine carries nearly all the power: what is left is the codec's noise.
    let residual = (rms(middle).powi(2) - amplitude.powi(2) / 2.0)
        .max(0.0)
        .sqrt();
    assert!(residual < 0.02, "residual rms {residual}");
    // And it sits where the source put it: phase 0 at frame `start`.
    let ideal = sine(amplitude, 1000.0, 16_000, 14_400);
    let err = (1600..14_400)
        .map(|n| (f64::from(samples[start + n]) - ideal[n]).abs())
        .fold(0.0, f64::max);
    assert!(err < 0.1, "max error against the aligned sine {err}");
}

#[test]
fn mp3_at_32_kbit_keeps_the_sine_after_the_codec_delay() {
    // 16 kHz mono 32 kbit/s, like MagnaTagATune's clips. A 144-byte frame has no room for a
    // LAME/Info tag, so the file does not say its encoder delay or padding and nothing is
    // trimmed (as ffmpeg does without the tag): the decoded stream is whole 576-frame granules,
    // ceil((16000 + 1105) / 576) * 576 = 17280 frames, the source delayed by LAME's 576-frame
    // encoder delay plus the 529-frame decoder delay.
    let d = decode_file(&fixture("sine1000_16000_mono_32k.mp3")).unwrap();
    assert_eq!((d.sample_rate, d.channels_in), (16_000, 1));
    assert_eq!(d.frames, 17_280);
    assert_mp3_sine(&d.samples, 1105);
}

#[test]
fn mp3_with_a_lame_tag_is_trimmed_to_the_source_length() {
    // 64 kbit/s: the first frame holds the LAME Info tag (delay 576 + 529, padding), which
    // symphonia's gapless mode trims, so the clip has the source's 16000 frames, undelayed.
    let d = decode_file(&fixture("sine1000_16000_mono_64k.mp3")).unwrap();
    assert_eq!((d.sample_rate, d.channels_in), (16_000, 1));
    assert_eq!(d.frames, 16_000);
    assert_mp3_sine(&d.samples, 0);
}

#[test]
fn an_adpcm_wav_is_an_unsupported_encoding() {
    // A well-formed Microsoft ADPCM WAV (format tag 0x0002): one 256-byte block of 500 frames.
    let mut fmt = Vec::new();
    fmt.extend_from_slice(&2u16.to_le_bytes()); // wFormatTag: WAVE_FORMAT_ADPCM
    fmt.extend_from_slice(&1u16.to_le_bytes()); // channels
    fmt.extend_from_slice(&8000u32.to_le_bytes()); // sample rate
    fmt.extend_from_slice(&4096u32.to_le_bytes()); // byte rate
    fmt.extend_from_slice(&256u16.to_le_bytes()); // block align
    fmt.extend_from_slice(&4u16.to_le_bytes()); // bits per sample
    fmt.extend_from_slice(&32u16.to_le_bytes()); // cbSize
    fmt.extend_from_slice(&500u16.to_le_bytes()); // samples per block
    fmt.extend_from_slice(&7u16.to_le_bytes()); // number of coefficient pairs
    for (a, b) in [
        (256i16, 0i16),
        (512, -256),
        (0, 0),
        (192, 64),
        (240, 0),
        (460, -208),
        (392, -232),
    ] {
        fmt.extend_from_slice(&a.to_le_bytes());
        fmt.extend_from_slice(&b.to_le_bytes());
    }
    let data = vec![0u8; 256];
    let mut riff = Vec::new();
    riff.extend_from_slice(b"WAVE");
    riff.extend_from_slice(b"fmt ");
    riff.extend_from_slice(&(fmt.len() as u32).to_le_bytes());
    riff.extend_from_slice(&fmt);
    riff.extend_from_slice(b"fact");
    riff.extend_from_slice(&4u32.to_le_bytes());
    riff.extend_from_slice(&500u32.to_le_bytes());
    riff.extend_from_slice(b"data");
    riff.extend_from_slice(&(data.len() as u32).to_le_bytes());
    riff.extend_from_slice(&data);
    let mut file = b"RIFF".to_vec();
    file.extend_from_slice(&(riff.len() as u32).to_le_bytes());
    file.extend_from_slice(&riff);

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("adpcm.wav");
    std::fs::write(&path, file).unwrap();
    let text = audio_error(&path);
    assert!(
        text.contains("unsupported encoding (Microsoft ADPCM"),
        "{text}"
    );
}

#[test]
fn a_truncated_flac_is_an_error_not_a_shorter_clip() {
    // The fixture's second audio frame starts at byte 1501 and its third at 2917 (`flac -a`):
    // cut in the middle of the second.
    let bytes = std::fs::read(fixture("sine440_22050_s16_mono.flac")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cut.flac");
    std::fs::write(&path, &bytes[..2000]).unwrap();
    let text = audio_error(&path);
    assert!(text.contains("truncated"), "{text}");
    // Cut between frames (at the third frame's first byte): no packet is damaged, the declared
    // sample count is what reveals it.
    std::fs::write(&path, &bytes[..2917]).unwrap();
    let text = audio_error(&path);
    assert!(text.contains("truncated"), "{text}");
    assert!(text.contains("after 8192 frames of the 11025"), "{text}");
}

#[test]
fn a_truncated_wav_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cut.wav");
    write_int_wav(&path, 16_000, 1, 16, &vec![1000; 4000]);
    let bytes = std::fs::read(&path).unwrap();
    std::fs::write(&path, &bytes[..bytes.len() - 3001]).unwrap();
    let text = audio_error(&path);
    assert!(text.contains("truncated"), "{text}");
}

#[test]
fn an_empty_file_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("empty.wav");
    std::fs::write(&path, b"").unwrap();
    let text = audio_error(&path);
    assert!(text.contains("empty"), "{text}");
}

#[test]
fn a_text_file_named_wav_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("notes.wav");
    std::fs::write(&path, "these are not audio samples\n".repeat(200)).unwrap();
    let text = audio_error(&path);
    assert!(text.contains("not a WAV, FLAC or MP3"), "{text}");
}

#[test]
fn a_wav_with_no_frames_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("silence.wav");
    write_int_wav(&path, 16_000, 1, 16, &[]);
    let text = audio_error(&path);
    assert!(text.contains("zero-length"), "{text}");
}

#[test]
fn a_missing_file_is_an_io_error_naming_it() {
    let path = Path::new("/nonexistent/clip.wav");
    let err = decode_file(path).unwrap_err();
    assert!(matches!(err, DatasetError::Io { .. }), "{err:?}");
    assert!(err.to_string().contains("/nonexistent/clip.wav"));
}
