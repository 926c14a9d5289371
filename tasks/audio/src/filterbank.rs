//! The learnt harmonic filterbank, recorded at each evaluation: `bw_Q` as the metric `bw_q`, and
//! every filter's centre frequency and bandwidth as `filterbank.csv` in the run folder
//! (`harmonic,band,centre_hz,bandwidth_hz`, one row per filter, harmonic-major as the
//! reference's `f0`). In the reference (`HarmonicSTFT`, `learn_bw='only_Q'`) the centres are
//! fixed and one quality factor scales every bandwidth:
//! `bw = (0.1079 · f0 + 24.7) / bw_Q`.

use adamp_models::audio::harmonic_filterbank::{BW_ALPHA, BW_BETA};
use adamp_models::audio::HarmonicFilterbank;
use adamp_task_api::Result;
use candle_core::DType;

/// The file each evaluation leaves in the run folder.
pub const FILTERBANK_FILE: &str = "filterbank.csv";

/// `bw_Q` now.
pub fn bw_q(fb: &HarmonicFilterbank) -> Result<f64> {
    let v: Vec<f32> = fb.bw_q().to_dtype(DType::F32)?.flatten_all()?.to_vec1()?;
    Ok(v.first().copied().unwrap_or(f32::NAN) as f64)
}

/// `filterbank.csv`'s content.
pub fn filterbank_csv(fb: &HarmonicFilterbank) -> Result<Vec<u8>> {
    let q = bw_q(fb)?;
    let level = fb.level();
    let mut out = String::from("harmonic,band,centre_hz,bandwidth_hz\n");
    for (k, &f0) in fb.centre_hz().iter().enumerate() {
        let bw = (BW_ALPHA as f64 * f0 as f64 + BW_BETA as f64) / q;
        out.push_str(&format!("{},{},{},{}\n", k / level + 1, k % level, f0, bw));
    }
    Ok(out.into_bytes())
}
