//! Resampling: frequency and amplitude kept, anti-aliasing, the length rule, determinism.

use super::resample::{fft_block_frames, resample, resampled_len, DEFAULT_TARGET_RATE};
use super::test_signals::{fit_sine, rms, sine};
use crate::error::DatasetError;

fn sine_f32(amplitude: f64, freq: f64, rate: u32, frames: usize) -> Vec<f32> {
    sine(amplitude, freq, rate, frames)
        .into_iter()
        .map(|s| s as f32)
        .collect()
}

/// Output frames left out at each end when measuring (100 ms): the clip is zero beyond its
/// ends, which the filter spreads into the first and last outputs (errors above 1e-6 reach 1056
/// frames in from the ends at 8 kHz, 476 at 22.05 kHz, 268 at 44.1 kHz, measured).
const EDGE: usize = 1600;

#[test]
fn a_sine_keeps_its_frequency_and_amplitude_at_16_khz() {
    for (rate_in, freq) in [(8_000u32, 440.0), (22_050, 1000.0), (44_100, 3000.0)] {
        let frames = rate_in as usize; // one second
        let input = sine_f32(0.5, freq, rate_in, frames);
        let out = resample(&input, rate_in, DEFAULT_TARGET_RATE).unwrap();
        assert_eq!(out.len(), 16_000, "{rate_in} Hz");
        let middle = &out[EDGE..out.len() - EDGE];
        let (got_freq, amplitude) = fit_sine(middle, DEFAULT_TARGET_RATE);
        // Measured: frequency within 5e-7 Hz, amplitude within 2e-9, samples within 3e-8.
        assert!(
            (got_freq - freq).abs() < 1e-5,
            "{rate_in} Hz: frequency {got_freq}, expected {freq}"
        );
        assert!(
            (amplitude - 0.5).abs() < 1e-6,
            "{rate_in} Hz: amplitude {amplitude}, expected 0.5"
        );
        // Sample by sample against the ideal resampled sine (phase 0 at t = 0: no delay left).
        let ideal = sine(0.5, freq, DEFAULT_TARGET_RATE, out.len());
        let max_err = (EDGE..out.len() - EDGE)
            .map(|m| (f64::from(out[m]) - ideal[m]).abs())
            .fold(0.0, f64::max);
        assert!(max_err < 1e-6, "{rate_in} Hz: max error {max_err}");
    }
}

/// The gain in dB of a 0.5-amplitude sine at `freq` Hz resampled from 44.1 kHz to 16 kHz.
fn gain_db_44k_to_16k(freq: f64) -> f64 {
    let input = sine_f32(0.5, freq, 44_100, 44_100);
    let out = resample(&input, 44_100, 16_000).unwrap();
    20.0 * (rms(&out[EDGE..out.len() - EDGE]) / rms(&input)).log10()
}

#[test]
fn the_passband_is_flat_and_the_stopband_is_filtered_out() {
    // Measured: 0.00 dB up to 7.8 kHz; -157 to -159 dB from 8.2 kHz up.
    for freq in [1000.0, 7000.0, 7800.0] {
        let gain = gain_db_44k_to_16k(freq);
        assert!(gain.abs() < 0.01, "{freq} Hz: {gain} dB");
    }
    // Above the new Nyquist frequency (8 kHz): 10 kHz would alias to 6 kHz unfiltered.
    for freq in [8200.0, 10_000.0, 20_000.0] {
        let gain = gain_db_44k_to_16k(freq);
        assert!(gain < -120.0, "{freq} Hz: {gain} dB");
    }
}

#[test]
fn the_output_length_is_the_ceiling_of_n_times_the_ratio() {
    for (rate_in, rate_out) in [
        (44_100u32, 16_000u32),
        (22_050, 16_000),
        (8_000, 16_000),
        (48_000, 16_000),
        (16_000, 22_050),
    ] {
        for n in [1usize, 2, 3, 440, 441, 442, 2205, 4410, 12_345, 44_100] {
            let want = (n as u64 * u64::from(rate_out)).div_ceil(u64::from(rate_in)) as usize;
            assert_eq!(resampled_len(n, rate_in, rate_out), want);
            let out = resample(&vec![0.1; n], rate_in, rate_out).unwrap();
            assert_eq!(out.len(), want, "{n} frames {rate_in} -> {rate_out}");
        }
    }
}

#[test]
fn equal_rates_return_the_samples_unchanged() {
    let input = sine_f32(0.3, 123.0, 16_000, 1000);
    assert_eq!(resample(&input, 16_000, 16_000).unwrap(), input);
}

#[test]
fn resampling_is_deterministic() {
    let input = sine_f32(0.4, 700.0, 44_100, 30_000);
    let a = resample(&input, 44_100, 16_000).unwrap();
    let b = resample(&input, 44_100, 16_000).unwrap();
    assert_eq!(
        a.iter().map(|s| s.to_bits()).collect::<Vec<_>>(),
        b.iter().map(|s| s.to_bits()).collect::<Vec<_>>()
    );
}

#[test]
fn a_zero_rate_is_a_config_error() {
    let err = resample(&[0.0; 4], 0, 16_000).unwrap_err();
    assert!(matches!(err, DatasetError::Config { .. }), "{err:?}");
    assert!(err.to_string().contains("0 Hz"), "{err}");
}

#[test]
fn fft_blocks_are_even_multiples_of_the_minimum_block() {
    // (rate_in, block in input frames, block in output frames at 16 kHz)
    for (rate_in, block_in, block_out) in [
        (44_100u32, 2646usize, 960usize),
        (22_050, 2646, 1920),
        (48_000, 2052, 684),
        (8_000, 2048, 4096),
    ] {
        assert_eq!(fft_block_frames(rate_in, 16_000), block_in, "{rate_in}");
        assert_eq!(block_in * 16_000 / rate_in as usize, block_out, "{rate_in}");
        assert_eq!((block_in % 2, block_out % 2), (0, 0), "{rate_in}");
    }
}
