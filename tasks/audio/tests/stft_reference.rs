//! The STFT against a direct O(n²) DFT (float64) on random signals, and hand cases: a pure
//! sine lands in its bin, a constant lands in bin 0 with the window's sum, torch's frame count.

use adamp_task_audio::{hann_periodic, Stft, StftError};

/// A small deterministic generator (splitmix64), uniform in [-1, 1).
fn random_signal(len: usize, seed: u64) -> Vec<f32> {
    let mut state = seed;
    (0..len)
        .map(|_| {
            state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^= z >> 31;
            ((z >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0) as f32
        })
        .collect()
}

/// torch's reflect padding written as an index map (independent of the library's loop).
fn reflect_index(i: isize, n: isize) -> usize {
    let j = if i < 0 {
        -i
    } else if i >= n {
        2 * (n - 1) - i
    } else {
        i
    };
    j as usize
}

/// `|Σ_n w[n] x[f·hop + n − pad] e^{−2πikn/N}|²` in float64, window computed here in float64.
fn direct_power(signal: &[f32], n_fft: usize, hop: usize, center: bool) -> Vec<f64> {
    let n = signal.len() as isize;
    let pad = if center { (n_fft / 2) as isize } else { 0 };
    let padded_len = signal.len() + 2 * pad as usize;
    let frames = 1 + (padded_len - n_fft) / hop;
    let n_bins = n_fft / 2 + 1;
    let two_pi = 2.0 * std::f64::consts::PI;
    let window: Vec<f64> = (0..n_fft)
        .map(|k| 0.5 - 0.5 * (two_pi * k as f64 / n_fft as f64).cos())
        .collect();
    let mut out = Vec::with_capacity(frames * n_bins);
    for f in 0..frames {
        let frame: Vec<f64> = (0..n_fft)
            .map(|m| {
                let i = (f * hop + m) as isize - pad;
                window[m] * signal[reflect_index(i, n)] as f64
            })
            .collect();
        for k in 0..n_bins {
            let (mut re, mut im) = (0.0f64, 0.0f64);
            for (m, &x) in frame.iter().enumerate() {
                // Reduce k·m mod N first so the angle stays exact.
                let angle = two_pi * ((k * m) % n_fft) as f64 / n_fft as f64;
                re += x * angle.cos();
                im -= x * angle.sin();
            }
            out.push(re * re + im * im);
        }
    }
    out
}

#[test]
fn matches_a_direct_dft_on_random_signals() {
    // (n_fft, hop, center, len): the Harmonic CNN's odd 513, even sizes, no centring, a prime.
    let configs = [
        (513, 256, true, 3000),
        (512, 128, true, 2048),
        (400, 160, false, 1999),
        (31, 7, true, 100),
        (16, 16, false, 64),
    ];
    for (seed, &(n_fft, hop, center, len)) in configs.iter().enumerate() {
        let signal = random_signal(len, seed as u64 + 1);
        let stft = Stft::new(n_fft, hop, center).unwrap();
        let got = stft.power_spectrogram(&signal).unwrap();
        let want = direct_power(&signal, n_fft, hop, center);
        assert_eq!(got.len(), want.len(), "n_fft {n_fft}: length");
        let n_bins = stft.n_bins();
        for (f, (g_row, w_row)) in got.chunks(n_bins).zip(want.chunks(n_bins)).enumerate() {
            let peak = w_row.iter().cloned().fold(0.0f64, f64::max);
            for (k, (&g, &w)) in g_row.iter().zip(w_row).enumerate() {
                let g = g as f64;
                // Amplitudes within 1e-4 of the frame's peak amplitude; powers of the bins
                // above 1% of the peak within 1e-4 relative.
                let amp_err = (g.sqrt() - w.sqrt()).abs();
                assert!(
                    amp_err <= 1e-4 * peak.sqrt(),
                    "n_fft {n_fft} frame {f} bin {k}: {g} vs {w}"
                );
                if w > 1e-2 * peak {
                    assert!(
                        (g - w).abs() <= 1e-4 * w,
                        "n_fft {n_fft} frame {f} bin {k}: {g} vs {w} (relative)"
                    );
                }
            }
        }
    }
}

#[test]
fn a_pure_sine_lands_in_its_bin() {
    let sample_rate = 16000.0f64;
    for (n_fft, bin) in [(512usize, 40usize), (513, 77)] {
        let freq = bin as f64 * sample_rate / n_fft as f64;
        let signal: Vec<f32> = (0..8000)
            .map(|i| (2.0 * std::f64::consts::PI * freq * i as f64 / sample_rate).sin() as f32)
            .collect();
        let stft = Stft::new(n_fft, 256, true).unwrap();
        let power = stft.power_spectrogram(&signal).unwrap();
        let n_bins = stft.n_bins();
        let frames = power.len() / n_bins;
        // Interior frames (no padding in them): the peak is the sine's bin, with power
        // (A·Σw/2)² = (n_fft/4)² for a unit sine on a bin centre.
        for f in 2..frames - 2 {
            let row = &power[f * n_bins..(f + 1) * n_bins];
            let argmax = (0..n_bins)
                .max_by(|&a, &b| row[a].total_cmp(&row[b]))
                .unwrap();
            assert_eq!(argmax, bin, "n_fft {n_fft} frame {f}");
            let expected = (n_fft as f64 / 4.0).powi(2);
            assert!(
                ((row[bin] as f64) - expected).abs() <= 1e-3 * expected,
                "n_fft {n_fft} frame {f}: {} vs {expected}",
                row[bin]
            );
        }
    }
}

#[test]
fn a_constant_lands_in_bin_zero() {
    // Reflect padding keeps a constant constant; the periodic Hann window sums to n_fft / 2.
    let stft = Stft::new(64, 16, true).unwrap();
    let power = stft.power_spectrogram(&vec![1.0; 200]).unwrap();
    for row in power.chunks(stft.n_bins()) {
        assert!((row[0] - 32.0f32.powi(2)).abs() < 1e-2, "{}", row[0]);
        assert!(row[2..].iter().all(|&p| p < 1e-6), "{row:?}");
    }
}

#[test]
fn frame_count_is_torchs() {
    // Centred, even n_fft: 1 + len / hop.
    let even = Stft::new(512, 128, true).unwrap();
    for len in [257, 1000, 2048, 2049, 16000] {
        assert_eq!(even.n_frames(len), Some(1 + len / 128), "len {len}");
        let out = even.power_spectrogram(&random_signal(len, 7)).unwrap();
        assert_eq!(out.len(), (1 + len / 128) * 257);
    }
    // Centred, odd n_fft (the Harmonic CNN's 513): 1 + (len - 1) / hop.
    let hcnn = Stft::harmonic_cnn();
    assert_eq!(
        (hcnn.n_fft(), hcnn.hop(), hcnn.center(), hcnn.n_bins()),
        (513, 256, true, 257)
    );
    assert_eq!(hcnn.n_frames(49152), Some(192));
    assert_eq!(hcnn.n_frames(48000), Some(188));
    assert_eq!(hcnn.n_frames(256), None); // too short to reflect-pad by 256
    assert_eq!(hcnn.n_frames(257), Some(2));
    // Not centred: 1 + (len - n_fft) / hop.
    let plain = Stft::new(400, 160, false).unwrap();
    assert_eq!(plain.n_frames(16000), Some(1 + (16000 - 400) / 160));
    assert_eq!(plain.n_frames(400), Some(1));
    assert_eq!(plain.n_frames(399), None);
}

#[test]
fn short_signals_and_zero_sizes_are_errors() {
    let hcnn = Stft::harmonic_cnn();
    // Reflect padding by 256 needs at least 257 samples (torch raises too).
    assert_eq!(
        hcnn.power_spectrogram(&[0.0; 256]),
        Err(StftError::TooShort { len: 256, min: 257 })
    );
    assert!(hcnn.power_spectrogram(&[0.0; 257]).is_ok());
    let plain = Stft::new(400, 160, false).unwrap();
    assert_eq!(
        plain.power_spectrogram(&[0.0; 399]),
        Err(StftError::TooShort { len: 399, min: 400 })
    );
    assert!(matches!(
        Stft::new(0, 1, true),
        Err(StftError::ZeroSize { .. })
    ));
    assert!(matches!(
        Stft::new(8, 0, true),
        Err(StftError::ZeroSize { .. })
    ));
}

#[test]
fn hann_window_is_periodic() {
    let w = hann_periodic(8);
    assert_eq!(w[0], 0.0);
    assert!((w[4] - 1.0).abs() < 1e-7);
    for k in 1..8 {
        assert!((w[k] - w[8 - k]).abs() < 1e-7);
    }
    // Periodic, not symmetric: the last sample is not zero.
    assert!(w[7] > 0.1);
}
