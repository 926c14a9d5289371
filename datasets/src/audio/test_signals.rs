//! Test helpers: known signals, a sine fit by direct DTFT, fixture paths, WAV writers.

use std::f64::consts::PI;
use std::path::{Path, PathBuf};

/// The committed fixtures (made by `tools/gen_audio_io_fixtures.sh`).
pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/audio")
        .join(name)
}

/// `amplitude * sin(2 pi freq n / rate)` for `n` in `0..frames`, in f64.
pub fn sine(amplitude: f64, freq: f64, rate: u32, frames: usize) -> Vec<f64> {
    (0..frames)
        .map(|n| amplitude * (2.0 * PI * freq * n as f64 / f64::from(rate)).sin())
        .collect()
}

/// The magnitude of the Hann-windowed DTFT of `x` at `freq` Hz.
fn dtft_magnitude(x: &[f32], window: &[f64], rate: u32, freq: f64) -> f64 {
    // e^{-i w n} by rotation (one complex product per sample, no trigonometry in the loop).
    let w = 2.0 * PI * freq / f64::from(rate);
    let (step_re, step_im) = (w.cos(), -w.sin());
    let (mut rot_re, mut rot_im) = (1.0f64, 0.0f64);
    let (mut re, mut im) = (0.0, 0.0);
    for (&s, &h) in x.iter().zip(window) {
        let v = f64::from(s) * h;
        re += v * rot_re;
        im += v * rot_im;
        (rot_re, rot_im) = (
            rot_re * step_re - rot_im * step_im,
            rot_re * step_im + rot_im * step_re,
        );
    }
    re.hypot(im)
}

/// The frequency (Hz) and amplitude of the strongest sinusoid in `x`: the Hann-windowed DTFT's
/// peak over all bins `k * rate / len`, refined by golden-section search within one bin, then
/// the amplitude of the least-squares fit of `a cos + b sin` at that frequency.
pub fn fit_sine(x: &[f32], rate: u32) -> (f64, f64) {
    let len = x.len();
    let window: Vec<f64> = (0..len)
        .map(|n| 0.5 - 0.5 * (2.0 * PI * n as f64 / len as f64).cos())
        .collect();
    let bin = f64::from(rate) / len as f64;
    let best_k = (1..len / 2)
        .max_by(|&a, &b| {
            let ma = dtft_magnitude(x, &window, rate, a as f64 * bin);
            let mb = dtft_magnitude(x, &window, rate, b as f64 * bin);
            ma.total_cmp(&mb)
        })
        .expect("at least 4 samples");
    let (mut lo, mut hi) = ((best_k as f64 - 1.0) * bin, (best_k as f64 + 1.0) * bin);
    let g = (5f64.sqrt() - 1.0) / 2.0;
    for _ in 0..80 {
        let a = hi - g * (hi - lo);
        let b = lo + g * (hi - lo);
        if dtft_magnitude(x, &window, rate, a) > dtft_magnitude(x, &window, rate, b) {
            hi = b;
        } else {
            lo = a;
        }
    }
    let freq = 0.5 * (lo + hi);
    // Least squares for x ≈ a cos(wn) + b sin(wn).
    let w = 2.0 * PI * freq / f64::from(rate);
    let (mut cc, mut ss, mut cs, mut xc, mut xs) = (0.0, 0.0, 0.0, 0.0, 0.0);
    for (n, &s) in x.iter().enumerate() {
        let (c, si) = ((w * n as f64).cos(), (w * n as f64).sin());
        cc += c * c;
        ss += si * si;
        cs += c * si;
        xc += f64::from(s) * c;
        xs += f64::from(s) * si;
    }
    let det = cc * ss - cs * cs;
    let a = (xc * ss - xs * cs) / det;
    let b = (xs * cc - xc * cs) / det;
    (freq, a.hypot(b))
}

/// The root mean square of `x`.
pub fn rms(x: &[f32]) -> f64 {
    (x.iter().map(|&s| f64::from(s).powi(2)).sum::<f64>() / x.len() as f64).sqrt()
}

/// Write integer samples (interleaved) as a PCM WAV with hound.
pub fn write_int_wav(path: &Path, rate: u32, channels: u16, bits: u16, samples: &[i32]) {
    let spec = hound::WavSpec {
        channels,
        sample_rate: rate,
        bits_per_sample: bits,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(path, spec).unwrap();
    for &s in samples {
        match bits {
            8 => w.write_sample(s as i8).unwrap(),
            16 => w.write_sample(s as i16).unwrap(),
            _ => w.write_sample(s).unwrap(),
        }
    }
    w.finalize().unwrap();
}

/// Write `f32` samples (interleaved) as an IEEE-float WAV with hound.
pub fn write_float_wav(path: &Path, rate: u32, channels: u16, samples: &[f32]) {
    let spec = hound::WavSpec {
        channels,
        sample_rate: rate,
        bits_per_sample: 32,
        sample_format: hound::SampleFormat::Float,
    };
    let mut w = hound::WavWriter::create(path, spec).unwrap();
    for &s in samples {
        w.write_sample(s).unwrap();
    }
    w.finalize().unwrap();
}
