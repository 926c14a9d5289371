//! The centre frequencies of the harmonic filterbank: minzwon/data-driven-harmonic-filters
//! `training/modules.py`, `initialize_filterbank`, with the librosa conversions it calls
//! (`librosa/core/convert.py`: `note_to_midi`, `hz_to_note`, `hz_to_midi`) written out.
//!
//! The lowest note is C1 (MIDI 24); the highest is the note nearest to
//! `sample_rate / (2 · n_harmonic)` (so that the top harmonic of the top band stays below
//! Nyquist); `level = (high − low) · semitone_scale` bands are spaced equally in MIDI
//! (`np.linspace(low, high, level + 1)[:-1]`), and harmonic `h` (1-based) of band `l` sits at
//! `h · midi_to_hz(midi_l)`. All in float64, rounded to f32 at the end as the reference's
//! `harmonic_hz.astype('float32')`.

use crate::error::{ModelError, Result};

/// `librosa.hz_to_midi`: `12 · (log2(hz) − log2(440)) + 69`.
pub fn hz_to_midi(hz: f64) -> f64 {
    12.0 * (hz.log2() - 440f64.log2()) + 69.0
}

/// `modules.midi_to_hz`: `440 · 2^((midi − 69) / 12)`.
pub fn midi_to_hz(midi: f64) -> f64 {
    440.0 * 2f64.powf((midi - 69.0) / 12.0)
}

/// Sharp note names, librosa's default spelling (`C:maj`), as ASCII.
const NOTE_NAMES: [&str; 12] = [
    "C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B",
];

/// `librosa.midi_to_note(midi)` (octave, no cents): the note of `round(midi)` (numpy rounds
/// half to even), e.g. `88.19 → "E6"`.
pub fn midi_to_note(midi: f64) -> String {
    let num = midi.round_ties_even() as i64;
    format!(
        "{}{}",
        NOTE_NAMES[num.rem_euclid(12) as usize],
        num.div_euclid(12) - 1
    )
}

/// `librosa.hz_to_note(hz)`.
pub fn hz_to_note(hz: f64) -> String {
    midi_to_note(hz_to_midi(hz))
}

/// `librosa.note_to_midi(note)` for names like `C1`, `C#4`, `Db3`, `E♭2`, `B♯-1` (no cents):
/// `12 · (octave + 1) + pitch + accidentals`. `None` when the name does not parse.
pub fn note_to_midi(note: &str) -> Option<i64> {
    let mut chars = note.chars();
    let pitch = match chars.next()?.to_ascii_uppercase() {
        'C' => 0,
        'D' => 2,
        'E' => 4,
        'F' => 5,
        'G' => 7,
        'A' => 9,
        'B' => 11,
        _ => return None,
    };
    let rest: String = chars.collect();
    let octave_at = rest.find(|c: char| c == '-' || c.is_ascii_digit())?;
    let (acc, octave) = rest.split_at(octave_at);
    let mut shift = 0i64;
    for c in acc.chars() {
        shift += match c {
            '#' | '♯' => 1,
            'b' | '!' | '♭' => -1,
            _ => return None,
        };
    }
    let octave: i64 = octave.parse().ok()?;
    Some(12 * (octave + 1) + pitch + shift)
}

/// The harmonic filterbank's layout: `level` bands per harmonic and their centre frequencies,
/// harmonic-major (`centre_hz[h · level + l]` is harmonic `h + 1` of band `l`).
#[derive(Debug, Clone, PartialEq)]
pub struct HarmonicCentres {
    /// MIDI number of the lowest band (`note_to_midi("C1") = 24`).
    pub low_midi: i64,
    /// MIDI number of the note nearest to `sample_rate / (2 · n_harmonic)`.
    pub high_midi: i64,
    /// Bands per harmonic: `(high_midi − low_midi) · semitone_scale`.
    pub level: usize,
    /// `n_harmonic · level` centre frequencies in Hz (f32, as the reference's `f0`).
    pub centre_hz: Vec<f32>,
}

/// `initialize_filterbank(sample_rate, n_harmonic, semitone_scale)`.
pub fn initialize_filterbank(
    sample_rate: u32,
    n_harmonic: usize,
    semitone_scale: usize,
) -> Result<HarmonicCentres> {
    if sample_rate == 0 || n_harmonic == 0 || semitone_scale == 0 {
        return Err(ModelError::Config(format!(
            "harmonic filterbank: sample_rate ({sample_rate}), n_harmonic ({n_harmonic}) and \
             semitone_scale ({semitone_scale}) must be positive"
        )));
    }
    let low_midi = 24; // note_to_midi("C1")
    let high_note = hz_to_note(f64::from(sample_rate) / (2 * n_harmonic) as f64);
    let high_midi = note_to_midi(&high_note).ok_or_else(|| {
        ModelError::Config(format!(
            "harmonic filterbank: note `{high_note}` does not parse"
        ))
    })?;
    if high_midi <= low_midi {
        return Err(ModelError::Config(format!(
            "harmonic filterbank: sample_rate {sample_rate} / (2 · {n_harmonic} harmonics) is \
             note {high_note} (MIDI {high_midi}), not above C1 (MIDI {low_midi}): no bands"
        )));
    }
    let level = (high_midi - low_midi) as usize * semitone_scale;
    // np.linspace(low, high, level + 1): i · step + start, step = (high − low) / level.
    let step = (high_midi - low_midi) as f64 / level as f64;
    let band_hz: Vec<f64> = (0..level)
        .map(|i| midi_to_hz(i as f64 * step + low_midi as f64))
        .collect();
    let centre_hz = (1..=n_harmonic)
        .flat_map(|h| band_hz.iter().map(move |&f| (f * h as f64) as f32))
        .collect();
    Ok(HarmonicCentres {
        low_midi,
        high_midi,
        level,
        centre_hz,
    })
}
