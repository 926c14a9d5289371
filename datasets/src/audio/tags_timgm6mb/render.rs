//! Rendering a clip: the Standard MIDI File played by `rustysynth` (SoundFont 2 synthesiser,
//! reverb and chorus on, 64-voice polyphony, its defaults) at [`RENDER_RATE`], the two channels
//! averaged, resampled to 16 kHz with [`crate::audio::resample`], scaled to a peak of
//! [`PEAK`] and written as a 16-bit PCM mono WAV with `hound`.
//!
//! Why not render at 16 kHz directly (rustysynth accepts 16-192 kHz): its oscillator reads the
//! samples with interpolation only, no band-limiting, so notes pitched up alias at a low output
//! rate; rendering at 44.1 kHz and resampling with the project's anti-aliasing resampler keeps the
//! 8 kHz band clean.

use std::path::Path;
use std::sync::Arc;

use rustysynth::{MidiFile, MidiFileSequencer, SoundFont, Synthesizer, SynthesizerSettings};

use crate::audio::resample::{resample, DEFAULT_TARGET_RATE};
use crate::error::{DatasetError, Result};

/// The synthesiser's output rate.
pub const RENDER_RATE: u32 = 44_100;
/// The peak amplitude of every written clip (about -1 dBFS).
pub const PEAK: f32 = 0.89;
/// A rendered clip whose peak is below this before scaling is an error (a silent render means
/// a missing preset or a broken soundfont, never a valid clip).
pub const MIN_PEAK: f32 = 1e-3;

/// Reads a SoundFont 2 file.
pub fn load_soundfont(path: &Path) -> Result<Arc<SoundFont>> {
    let mut f = std::fs::File::open(path).map_err(|e| DatasetError::io(path, e))?;
    let sf = SoundFont::new(&mut f)
        .map_err(|e| DatasetError::format(path, format!("not a readable SoundFont 2: {e}")))?;
    Ok(Arc::new(sf))
}

/// Checks that `sf` (read from `path`) has a preset for every `(bank, program)` of `needed`.
pub fn check_presets(sf: &SoundFont, path: &Path, needed: &[(u16, u8)]) -> Result<()> {
    for &(bank, program) in needed {
        let found = sf.get_presets().iter().any(|p| {
            p.get_bank_number() == i32::from(bank) && p.get_patch_number() == i32::from(program)
        });
        if !found {
            return Err(DatasetError::format(
                path,
                format!(
                    "no preset for bank {bank} program {program}, which the generated music plays"
                ),
            ));
        }
    }
    Ok(())
}

/// Plays `smf` (Standard MIDI File bytes) with `sf` for `frames` frames at 16 kHz; returns the
/// mono clip scaled to peak [`PEAK`]. `name` names the clip in errors.
pub fn render_clip(
    sf: &Arc<SoundFont>,
    smf: &[u8],
    frames: usize,
    name: &Path,
) -> Result<Vec<f32>> {
    let midi = MidiFile::new(&mut &smf[..])
        .map_err(|e| DatasetError::format(name, format!("generated MIDI unreadable: {e}")))?;
    let settings = SynthesizerSettings::new(RENDER_RATE as i32);
    let synth = Synthesizer::new(sf, &settings)
        .map_err(|e| DatasetError::format(name, format!("synthesiser: {e}")))?;
    let mut seq = MidiFileSequencer::new(synth);
    seq.play(&Arc::new(midi), false);
    let render_frames =
        (frames as u64 * RENDER_RATE as u64).div_ceil(DEFAULT_TARGET_RATE as u64) as usize;
    let mut left = vec![0f32; render_frames];
    let mut right = vec![0f32; render_frames];
    seq.render(&mut left, &mut right);
    let mono: Vec<f32> = left
        .iter()
        .zip(&right)
        .map(|(l, r)| 0.5 * (l + r))
        .collect();
    let mut out = resample(&mono, RENDER_RATE, DEFAULT_TARGET_RATE)?;
    out.truncate(frames);
    let peak = out.iter().fold(0f32, |m, v| m.max(v.abs()));
    if !peak.is_finite() || peak < MIN_PEAK {
        return Err(DatasetError::format(
            name,
            format!("rendered clip is silent or not finite (peak {peak})"),
        ));
    }
    let gain = PEAK / peak;
    Ok(out.into_iter().map(|v| v * gain).collect())
}
