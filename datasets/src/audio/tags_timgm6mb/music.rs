//! The generated music of one clip: a seeded draw of tempo, key, chord progression and parts
//! (instrument family, program, role, mix), and the notes each part plays. The clip's tags come
//! from the draw, not from the audio: the families present, `drums` when the drum kit plays,
//! `fast` / `slow` from the tempo class ([`super::families::TEMPI`]).
//!
//! Every part starts within the first beat and plays to the end of the clip, so any chunk of
//! the rendered clip holds every tagged instrument.

use rand::seq::index::sample;
use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::families::{Family, Role, DRUMS_TAG, DRUM_KIT, FAMILIES, TEMPI};

/// MIDI ticks per quarter note (beat).
pub const PPQ: u32 = 480;
/// Beats per bar.
const BAR: u32 = 4;
/// The MIDI channel of the drum kit (channel 10, 0-based 9).
pub const DRUM_CHANNEL: u8 = 9;

const MAJOR: [u8; 7] = [0, 2, 4, 5, 7, 9, 11];
const MINOR: [u8; 7] = [0, 2, 3, 5, 7, 8, 10];
/// Chord progressions as 0-based scale degrees (I-V-vi-IV, I-IV-V-I, vi-IV-I-V, I-vi-ii-V,
/// ii-V-I-I, I-iii-IV-V).
const PROGRESSIONS: [[u8; 4]; 6] = [
    [0, 4, 5, 3],
    [0, 3, 4, 0],
    [5, 3, 0, 4],
    [0, 5, 1, 4],
    [1, 4, 0, 0],
    [0, 2, 3, 4],
];

/// One note: start and length in ticks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Note {
    /// Start tick.
    pub tick: u32,
    /// Length in ticks (at least 1).
    pub length: u32,
    /// MIDI key.
    pub key: u8,
    /// MIDI velocity (1-127).
    pub velocity: u8,
}

/// One instrument part on its own MIDI channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    /// The tag index it adds ([`super::families::TAGS`]).
    pub tag: usize,
    /// MIDI channel (0-based; [`DRUM_CHANNEL`] for the drums).
    pub channel: u8,
    /// `(bank, program)` of the soundfont preset.
    pub preset: (u16, u8),
    /// Channel volume (controller 7).
    pub volume: u8,
    /// Pan (controller 10; 64 is the centre).
    pub pan: u8,
    /// Reverb send (controller 91).
    pub reverb: u8,
    /// The notes, by start tick.
    pub notes: Vec<Note>,
}

/// The music of one clip.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClipMusic {
    /// Tempo in beats per minute.
    pub bpm: u32,
    /// The clip's length in ticks (notes start before it).
    pub end_tick: u32,
    /// The parts.
    pub parts: Vec<Part>,
    /// The clip's tag indices, ascending.
    pub tags: Vec<usize>,
}

/// Harmony: key, scale and the chord of each beat.
struct Harmony {
    root: u8,
    scale: [u8; 7],
    progression: [u8; 4],
    chord_beats: u32,
}

impl Harmony {
    /// MIDI note of absolute scale degree `d` (degree 0 = the key's root in MIDI octave -1).
    fn note(&self, d: i32) -> i32 {
        self.root as i32 + 12 * d.div_euclid(7) + self.scale[d.rem_euclid(7) as usize] as i32
    }

    /// The 0-based scale degree of the chord sounding at `beat`.
    fn chord_degree(&self, beat: u32) -> i32 {
        self.progression[((beat / self.chord_beats) % 4) as usize] as i32
    }

    /// The chord's triad (root, third, fifth) as absolute degrees, the root the lowest chord root
    /// at or above MIDI `low`.
    fn triad_above(&self, beat: u32, low: u8) -> [i32; 3] {
        let mut d = self.chord_degree(beat);
        while self.note(d) < low as i32 {
            d += 7;
        }
        [d, d + 2, d + 4]
    }
}

/// Draws one clip of `seconds` from `rng`.
pub fn compose(rng: &mut ChaCha8Rng, seconds: f64) -> ClipMusic {
    let (tempo_tag, lo, hi) = TEMPI[rng.random_range(0..TEMPI.len())];
    let bpm = rng.random_range(lo..=hi);
    let end_tick = (seconds * bpm as f64 / 60.0 * PPQ as f64).ceil() as u32;
    let slow = bpm <= TEMPI[0].2;
    let harmony = Harmony {
        root: rng.random_range(0..12),
        scale: if rng.random_bool(0.5) { MINOR } else { MAJOR },
        progression: PROGRESSIONS[rng.random_range(0..PROGRESSIONS.len())],
        chord_beats: if slow { 2 } else { BAR },
    };
    // One to three melodic families (weights 3:4:3), drums in 45 % of the clips.
    let melodic = match rng.random_range(0..10) {
        0..=2 => 1,
        3..=6 => 2,
        _ => 3,
    };
    let mut families: Vec<usize> = sample(rng, FAMILIES.len(), melodic).into_vec();
    families.sort_unstable();
    let mut parts = Vec::new();
    for (channel, &f) in families.iter().enumerate() {
        parts.push(melodic_part(
            rng,
            &harmony,
            f,
            channel as u8,
            end_tick,
            slow,
        ));
    }
    if rng.random_bool(0.45) {
        parts.push(drum_part(rng, end_tick, slow));
    }
    let mut tags: Vec<usize> = parts.iter().map(|p| p.tag).collect();
    tags.extend(tempo_tag);
    tags.sort_unstable();
    ClipMusic {
        bpm,
        end_tick,
        parts,
        tags,
    }
}

fn melodic_part(
    rng: &mut ChaCha8Rng,
    h: &Harmony,
    family: usize,
    channel: u8,
    end: u32,
    slow: bool,
) -> Part {
    let fam: &Family = &FAMILIES[family];
    let program = fam.programs[rng.random_range(0..fam.programs.len())];
    let role = fam.roles[rng.random_range(0..fam.roles.len())];
    let base_velocity: u8 = rng.random_range(72..=104);
    let (low, high) = fam.register;
    let chord_low = low + (high - low) / 4;
    let mut notes = Vec::new();
    let mut push = |rng: &mut ChaCha8Rng, tick: u32, length: u32, key: i32| {
        if tick >= end {
            return;
        }
        let key = key.clamp(low as i32, high as i32) as u8;
        let velocity = (base_velocity as i32 + rng.random_range(-10..=10)).clamp(1, 127) as u8;
        notes.push(Note {
            tick,
            length: length.max(1),
            key,
            velocity,
        });
    };
    match role {
        Role::Bass => {
            // Quarters, eighths (root then fifth) or halves (slow tempi only).
            let style = rng.random_range(0..if slow { 3 } else { 2 });
            let mut beat = 0;
            while beat * PPQ < end {
                let [r, _, f] = h.triad_above(beat, low);
                let t = beat * PPQ;
                match style {
                    0 => push(rng, t, PPQ * 9 / 10, h.note(r)),
                    1 => {
                        push(rng, t, PPQ * 9 / 20, h.note(r));
                        push(rng, t + PPQ / 2, PPQ * 9 / 20, h.note(f));
                    }
                    _ => {
                        if beat.is_multiple_of(2) {
                            push(rng, t, PPQ * 19 / 10, h.note(r));
                        }
                    }
                }
                beat += 1;
            }
        }
        Role::Pad => {
            let mut beat = 0;
            while beat * PPQ < end {
                for d in h.triad_above(beat, chord_low) {
                    push(rng, beat * PPQ, h.chord_beats * PPQ - PPQ / 16, h.note(d));
                }
                beat += h.chord_beats;
            }
        }
        Role::Comp => {
            // Strikes within a bar, in eighths: every beat, beats 1 and 3, the off-beats, or
            // the Charleston (1 and the "and" of 2).
            const PATTERNS: [&[u32]; 4] = [&[0, 2, 4, 6], &[0, 4], &[1, 3, 5, 7], &[0, 3]];
            let pattern = PATTERNS[rng.random_range(0..PATTERNS.len())];
            let eighth = PPQ / 2;
            let mut bar_tick = 0;
            while bar_tick < end {
                for (k, &e) in pattern.iter().enumerate() {
                    let t = bar_tick + e * eighth;
                    // Held to 90 % of the time until the next strike.
                    let next = pattern.get(k + 1).copied().unwrap_or(pattern[0] + 8);
                    let length = (next - e) * eighth * 9 / 10;
                    for d in h.triad_above(t / PPQ, chord_low) {
                        push(rng, t, length, h.note(d));
                    }
                }
                bar_tick += BAR * PPQ;
            }
        }
        Role::Arpeggio => {
            let step = if slow { PPQ / 4 } else { PPQ / 2 };
            let up_down = rng.random_bool(0.5);
            let cycle: &[i32] = if up_down {
                &[0, 2, 4, 7, 4, 2]
            } else {
                &[0, 2, 4, 7]
            };
            let mut t = 0;
            let mut i = 0;
            while t < end {
                let [r, _, _] = h.triad_above(t / PPQ, chord_low);
                push(rng, t, step * 9 / 10, h.note(r + cycle[i % cycle.len()]));
                t += step;
                i += 1;
            }
        }
        Role::Melody => {
            // A walk over the scale from a chord tone in the register's middle third.
            let lengths: &[u32] = if slow {
                &[PPQ / 2, PPQ / 2, PPQ, PPQ]
            } else {
                &[PPQ / 2, PPQ, PPQ, 2 * PPQ]
            };
            let mid = low + (high - low) / 3;
            let mut d = h.triad_above(0, mid)[rng.random_range(0..3)];
            let mut t = 0;
            while t < end {
                let len = lengths[rng.random_range(0..lengths.len())];
                push(rng, t, len * 9 / 10, h.note(d));
                let step: i32 = [-2, -1, -1, 0, 1, 1, 2][rng.random_range(0..7)];
                d += step;
                // Turn back at the register's ends.
                if h.note(d) > high as i32 - 2 {
                    d -= 3;
                } else if h.note(d) < low as i32 + 2 {
                    d += 3;
                }
                t += len;
            }
        }
    }
    Part {
        tag: family,
        channel,
        preset: (0, program),
        volume: rng.random_range(88..=112),
        pan: rng.random_range(24..=104),
        reverb: rng.random_range(16..=64),
        notes,
    }
}

/// General MIDI percussion keys used.
mod key {
    pub const KICK: u8 = 36;
    pub const SNARE: u8 = 38;
    pub const CLAP: u8 = 39;
    pub const CLOSED_HAT: u8 = 42;
    pub const OPEN_HAT: u8 = 46;
    pub const CRASH: u8 = 49;
    pub const RIDE: u8 = 51;
}

fn drum_part(rng: &mut ChaCha8Rng, end: u32, slow: bool) -> Part {
    // Styles: rock (kick 1 and 3, snare 2 and 4), four on the floor (kick every beat, clap 2
    // and 4, open hat on the off-beats), half time (kick 1, snare 3).
    let style = rng.random_range(0..3);
    let cymbal = if rng.random_bool(0.3) {
        key::RIDE
    } else {
        key::CLOSED_HAT
    };
    let hat_step = if slow && rng.random_bool(0.5) {
        PPQ / 4
    } else {
        PPQ / 2
    };
    let mut notes = Vec::new();
    let mut hit = |rng: &mut ChaCha8Rng, tick: u32, key: u8, base: i32| {
        if tick < end {
            notes.push(Note {
                tick,
                length: PPQ / 8,
                key,
                velocity: (base + rng.random_range(-8..=8)).clamp(1, 127) as u8,
            });
        }
    };
    if rng.random_bool(0.5) {
        hit(rng, 0, key::CRASH, 100);
    }
    let mut beat = 0;
    while beat * PPQ < end {
        let t = beat * PPQ;
        let in_bar = beat % BAR;
        match style {
            0 => {
                if in_bar.is_multiple_of(2) {
                    hit(rng, t, key::KICK, 108);
                } else {
                    hit(rng, t, key::SNARE, 100);
                }
            }
            1 => {
                hit(rng, t, key::KICK, 108);
                if in_bar % 2 == 1 {
                    hit(rng, t, key::CLAP, 96);
                }
                hit(rng, t + PPQ / 2, key::OPEN_HAT, 80);
            }
            _ => {
                if in_bar == 0 {
                    hit(rng, t, key::KICK, 108);
                } else if in_bar == 2 {
                    hit(rng, t, key::SNARE, 100);
                }
            }
        }
        if style != 1 {
            let mut h = 0;
            while h < PPQ {
                hit(rng, t + h, cymbal, if h == 0 { 88 } else { 70 });
                h += hat_step;
            }
        }
        beat += 1;
    }
    notes.sort_by_key(|n| n.tick);
    Part {
        tag: DRUMS_TAG,
        channel: DRUM_CHANNEL,
        preset: DRUM_KIT,
        volume: rng.random_range(92..=112),
        pan: 64,
        reverb: rng.random_range(8..=40),
        notes,
    }
}
