//! Waveform → [`Stft::harmonic_cnn`] → `adamp_models::audio::HarmonicCnn`, against torch 2.15.0
//! running the reference's `Model.forward(waveform)` (minzwon/data-driven-harmonic-filters
//! `training/model.py`; fixtures written by `tools/gen_harmonic_cnn_fixtures.py` into
//! `models/tests/fixtures/harmonic_cnn/`): the power spectrogram, the filterbank front end and
//! the keyword network's evaluation-mode logits.

use std::collections::HashMap;
use std::path::PathBuf;

use adamp_models::audio::{
    HarmonicCnn, HarmonicCnnConfig, HarmonicCnnVariant, HarmonicFilterbank,
    HarmonicFilterbankConfig,
};
use adamp_models::{LayerImpl, ParamBuilder};
use adamp_task_audio::Stft;
use candle_core::{Device, Tensor};

fn fixture() -> HashMap<String, Tensor> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../models/tests/fixtures/harmonic_cnn/harmonic_cnn.safetensors");
    candle_core::safetensors::load(&path, &Device::Cpu).unwrap()
}

fn get<'a>(f: &'a HashMap<String, Tensor>, name: &str) -> &'a Tensor {
    f.get(name)
        .unwrap_or_else(|| panic!("fixture has no `{name}`"))
}

fn flat(t: &Tensor) -> Vec<f32> {
    t.flatten_all().unwrap().to_vec1::<f32>().unwrap()
}

/// Largest `|got − want| / max(|want|, floor)`.
fn max_rel_err(got: &Tensor, want: &Tensor, floor: f32) -> f32 {
    assert_eq!(got.dims(), want.dims());
    flat(got)
        .iter()
        .zip(flat(want))
        .map(|(a, b)| (a - b).abs() / b.abs().max(floor))
        .fold(0.0, f32::max)
}

/// The `[B, 257, T]` power spectrogram of each row of `waveform` `[B, samples]`.
fn spectrogram(stft: &Stft, waveform: &Tensor) -> Tensor {
    let rows = waveform.to_vec2::<f32>().unwrap();
    let per_row: Vec<Tensor> = rows
        .iter()
        .map(|x| {
            let frames = stft.n_frames(x.len()).unwrap();
            let p = stft.power_spectrogram(x).unwrap(); // [frames][bins]
            Tensor::from_vec(p, (frames, stft.n_bins()), &Device::Cpu)
                .unwrap()
                .t()
                .unwrap()
        })
        .collect();
    Tensor::stack(&per_row, 0).unwrap().contiguous().unwrap()
}

#[test]
fn waveform_to_logits_matches_the_reference() {
    let f = fixture();
    let stft = Stft::harmonic_cnn();
    let spec = spectrogram(&stft, get(&f, "waveform"));
    let want = get(&f, "spec");
    assert_eq!(spec.dims(), want.dims());
    // The STFT (realfft vs torch's pocketfft), relative to the largest power: measured 2.5e-7
    // (torch's own float32 STFT is 1.8e-7 from its float64 one).
    let peak = flat(want).iter().fold(0f32, |m, v| m.max(*v));
    let err = max_rel_err(&spec, want, peak);
    assert!(
        err < 1e-6,
        "power spectrogram: error {err} of the peak {peak}"
    );

    // The front end on our spectrogram (bw_Q 0.8). The two STFTs' float32 rounding moves the
    // decibels of the quiet bands: torch's own float32 STFT differs from its float64 one by
    // 1.2e-5 (relative, |dB| floored at 1) after the front end; ours differs from torch's float32
    // by 1.8e-5. (On torch's spectrogram the front end agrees to 2.2e-7: models/tests/harmonic_cnn.rs.)
    let b = ParamBuilder::new(0, &Device::Cpu, LayerImpl::Fast);
    let cfg = HarmonicFilterbankConfig {
        n_bins: stft.n_bins(),
        bw_q: 0.8,
        ..HarmonicFilterbankConfig::default()
    };
    let fb = HarmonicFilterbank::new(&b.pp("hstft"), &cfg).unwrap();
    // (Stored for the first 16 frames.)
    let db = fb.forward(&spec).unwrap().narrow(3, 0, 16).unwrap();
    let err = max_rel_err(&db, get(&f, "frontend.out"), 1.0);
    assert!(err < 5e-5, "front end: max relative error {err}");

    // The keyword network (8 channels) with the fixture's weights, evaluation mode.
    let net = HarmonicCnn::new(
        &HarmonicCnnConfig {
            variant: HarmonicCnnVariant::Keyword,
            conv_channels: 8,
            ..HarmonicCnnConfig::default()
        },
        &Device::Cpu,
    )
    .unwrap();
    for p in net.params().params() {
        p.var
            .set(get(&f, &format!("net.param.{}", p.name)))
            .unwrap();
    }
    for (name, var) in net.buffers() {
        var.set(get(&f, &format!("net.buffer.{name}"))).unwrap();
    }
    // Measured 3.2e-5 of the logits' scale (9.5e-6 on torch's own spectrogram): the quiet bands'
    // decibels above move by the STFTs' rounding and hstft_bn divides them by the running std.
    let logits = net.forward_t(&spec, false).unwrap();
    let want = get(&f, "net.eval.logits");
    let scale = flat(want).iter().fold(0f32, |m, v| m.max(v.abs()));
    let err = flat(&logits)
        .iter()
        .zip(flat(want))
        .map(|(a, b)| (a - b).abs())
        .fold(0f32, f32::max)
        / scale;
    assert!(err < 1e-4, "logits: error {err} of their scale {scale}");
}
