//! The tags of the music-tagging stand-in and the General MIDI instruments behind them.
//!
//! Ten melodic instrument families, each a set of General MIDI programs (0-based; the
//! `timgm6mb-soundfont` presets of bank 0 with those numbers), the drum kit (bank 128, program 0,
//! played on MIDI channel 10), and two tempo tags. Family names follow MagnaTagATune's own tags
//! where it has one (`piano`, `guitar`, `strings`, `drums`, `flute`, `synth`, `choir`, `fast`,
//! `slow`); `organ`, `bass`, `brass` and `sax` are the General MIDI family names.

/// The tags, in label order: the ten melodic families, `drums`, then `fast` and `slow`.
pub const TAGS: [&str; 13] = [
    "piano", "organ", "guitar", "bass", "strings", "choir", "brass", "sax", "flute", "synth",
    "drums", "fast", "slow",
];

/// Label index of `drums` in [`TAGS`].
pub const DRUMS_TAG: usize = 10;
/// Label index of `fast` in [`TAGS`].
pub const FAST_TAG: usize = 11;
/// Label index of `slow` in [`TAGS`].
pub const SLOW_TAG: usize = 12;

/// What a part plays (see `music.rs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// The chord's root, one or two notes per beat, in the bass register.
    Bass,
    /// The chord held for its whole length.
    Pad,
    /// The chord struck on a rhythmic pattern.
    Comp,
    /// The chord's notes one after another, in eighths (sixteenths at slow tempi).
    Arpeggio,
    /// A random walk over the scale, notes of a half, one or two beats.
    Melody,
}

/// A melodic instrument family: its tag, programs, register and the roles it can take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Family {
    /// The tag (an entry of [`TAGS`]).
    pub tag: &'static str,
    /// General MIDI programs (0-based), one drawn per part.
    pub programs: &'static [u8],
    /// Lowest and highest MIDI note the part plays.
    pub register: (u8, u8),
    /// Roles, one drawn per part.
    pub roles: &'static [Role],
}

/// The melodic families, in the order of their tags in [`TAGS`].
pub const FAMILIES: [Family; 10] = [
    Family {
        tag: "piano",
        // Acoustic grand, bright acoustic, electric grand, electric piano 1 and 2.
        programs: &[0, 1, 2, 4, 5],
        register: (48, 84),
        roles: &[Role::Comp, Role::Arpeggio, Role::Melody],
    },
    Family {
        tag: "organ",
        // Drawbar, percussive, rock, church, reed organ.
        programs: &[16, 17, 18, 19, 20],
        register: (48, 79),
        roles: &[Role::Pad, Role::Comp, Role::Melody],
    },
    Family {
        tag: "guitar",
        // Nylon, steel, jazz, clean electric, overdriven, distortion guitar.
        programs: &[24, 25, 26, 27, 29, 30],
        register: (43, 76),
        roles: &[Role::Comp, Role::Arpeggio, Role::Melody],
    },
    Family {
        tag: "bass",
        // Acoustic, finger, pick, fretless, slap bass 1.
        programs: &[32, 33, 34, 35, 36],
        register: (28, 52),
        roles: &[Role::Bass],
    },
    Family {
        tag: "strings",
        // Violin, viola, cello, string ensemble 1 and 2.
        programs: &[40, 41, 42, 48, 49],
        register: (48, 84),
        roles: &[Role::Pad, Role::Melody],
    },
    Family {
        tag: "choir",
        // Choir aahs, voice oohs.
        programs: &[52, 53],
        register: (52, 76),
        roles: &[Role::Pad],
    },
    Family {
        tag: "brass",
        // Trumpet, trombone, French horn, brass section.
        programs: &[56, 57, 60, 61],
        register: (50, 77),
        roles: &[Role::Comp, Role::Melody],
    },
    Family {
        tag: "sax",
        // Soprano, alto, tenor, baritone sax.
        programs: &[64, 65, 66, 67],
        register: (49, 80),
        roles: &[Role::Melody],
    },
    Family {
        tag: "flute",
        // Piccolo, flute, recorder, pan flute.
        programs: &[72, 73, 74, 75],
        register: (67, 96),
        roles: &[Role::Melody, Role::Arpeggio],
    },
    Family {
        tag: "synth",
        // Square lead, sawtooth lead, warm pad, polysynth pad.
        programs: &[80, 81, 89, 90],
        register: (48, 84),
        roles: &[Role::Pad, Role::Arpeggio, Role::Melody],
    },
];

/// The drum kit: bank 128, program 0 (General MIDI standard kit), MIDI channel 10.
pub const DRUM_KIT: (u16, u8) = (128, 0);

/// Tempo classes: `(tag index or none, lowest BPM, highest BPM)`, drawn with equal chance. The
/// gaps between the ranges keep `fast` and `slow` clear of the untagged middle.
pub const TEMPI: [(Option<usize>, u32, u32); 3] = [
    (Some(SLOW_TAG), 60, 80),
    (None, 96, 120),
    (Some(FAST_TAG), 140, 180),
];

/// Every `(bank, program)` preset the generated music uses (the soundfont must have them all).
pub fn presets_used() -> Vec<(u16, u8)> {
    let mut all: Vec<(u16, u8)> = FAMILIES
        .iter()
        .flat_map(|f| f.programs.iter().map(|&p| (0u16, p)))
        .collect();
    all.push(DRUM_KIT);
    all
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn family_tags_are_the_first_ten_tags_in_order() {
        for (i, f) in FAMILIES.iter().enumerate() {
            assert_eq!(TAGS[i], f.tag);
            assert!(f.register.0 < f.register.1 && f.register.1 <= 127);
            assert!(!f.programs.is_empty() && !f.roles.is_empty());
        }
        assert_eq!(
            (TAGS[DRUMS_TAG], TAGS[FAST_TAG], TAGS[SLOW_TAG]),
            ("drums", "fast", "slow")
        );
        let mut p = presets_used();
        let n = p.len();
        p.sort();
        p.dedup();
        assert_eq!(p.len(), n, "a program is in two families");
    }
}
