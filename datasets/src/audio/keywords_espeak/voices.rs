//! The espeak-ng voices that speak the training and validation words.
//!
//! A voice is an English accent of espeak-ng 1.51 with a voice variant (`+m1`, `+f2`, ...:
//! formant and pitch settings of a male or female voice), spoken at one speed (`-s`, words per
//! minute) and one pitch (`-p`, 0-99). Training and validation use the same seven accents but
//! different variants, so every validation voice is unheard in training:
//!
//! - accents ([`ACCENTS`]): `en` (British), `en-us`, `en-gb-scotland`, `en-gb-x-gbclan`
//!   (Lancaster), `en-gb-x-rp` (Received Pronunciation), `en-gb-x-gbcwmd` (West Midlands),
//!   `en-029` (Caribbean). Left out because espeak-ng 1.51 ignores them with a variant (checked
//!   2026-12-05 by comparing `espeak-ng -v <voice> -w` outputs): `en-gb+<variant>` speaks as
//!   plain `en-gb` whatever the variant, and `en-us-nyc+<variant>` as `en-us+<variant>`. The 84
//!   accent-variant pairs of `ACCENTS` × `m1..m7, f1..f5` all give different audio;
//! - training variants [`TRAIN_VARIANTS`] (7): 49 voices; validation variants
//!   [`VALID_VARIANTS`] (2): 14 voices;
//! - speed and pitch: voice `i` of a list (accent-major) speaks at `SPEEDS[i % 3]` and
//!   `PITCHES[(i / 3) % 3]`, so each list covers the 3 × 3 grid about evenly.

/// The espeak-ng accents (voice names) used.
pub const ACCENTS: [&str; 7] = [
    "en",
    "en-us",
    "en-gb-scotland",
    "en-gb-x-gbclan",
    "en-gb-x-rp",
    "en-gb-x-gbcwmd",
    "en-029",
];

/// The voice variants of the training voices.
pub const TRAIN_VARIANTS: [&str; 7] = ["m1", "m2", "m3", "m5", "f1", "f2", "f3"];

/// The voice variants of the validation voices (none of them in training).
pub const VALID_VARIANTS: [&str; 2] = ["m4", "f4"];

/// Speaking speeds in words per minute (espeak-ng's default is 175). Slower than the default:
/// the test speaker's words last 0.69 s on average once trimmed, espeak-ng's 0.52 s at
/// 130-200 wpm (measured 2026-12-05 on the built clips); below 120 wpm the longest words
/// (`november`) pass 1 s.
pub const SPEEDS: [u32; 3] = [120, 145, 170];

/// Pitches on espeak-ng's 0-99 scale (default 50).
pub const PITCHES: [u32; 3] = [30, 50, 70];

/// One espeak-ng voice setting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Voice {
    /// The `-v` argument: `<accent>+<variant>`.
    pub voice: String,
    /// The `-s` argument (words per minute).
    pub speed: u32,
    /// The `-p` argument (0-99).
    pub pitch: u32,
}

impl Voice {
    /// The speaker part of its clips' file names (`<speaker>_nohash_0.wav`):
    /// `espeak-<accent>-<variant>`.
    pub fn speaker(&self) -> String {
        format!("espeak-{}", self.voice.replace('+', "-"))
    }

    /// `voice/speed/pitch`, as the manifest records it.
    pub fn describe(&self) -> String {
        format!("{}/{}/{}", self.voice, self.speed, self.pitch)
    }
}

/// Every `accent+variant` pair (accent-major), with speeds and pitches as the module documents.
pub fn voices(accents: &[&str], variants: &[&str]) -> Vec<Voice> {
    let mut out = Vec::with_capacity(accents.len() * variants.len());
    for accent in accents {
        for variant in variants {
            let i = out.len();
            out.push(Voice {
                voice: format!("{accent}+{variant}"),
                speed: SPEEDS[i % SPEEDS.len()],
                pitch: PITCHES[(i / SPEEDS.len()) % PITCHES.len()],
            });
        }
    }
    out
}
