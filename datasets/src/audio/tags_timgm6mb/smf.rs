//! A clip's music as a Standard MIDI File (format 0, one track, [`PPQ`] ticks per quarter note):
//! the bytes `rustysynth::MidiFile` reads and plays.
//!
//! The track holds, at tick 0, the tempo (meta event `FF 51 03`) and each part's channel set-up
//! (program change, controllers 7 volume, 10 pan, 91 reverb send), then the notes as note-on /
//! note-off pairs and the end-of-track meta event one beat after the last note ends. Events at
//! one tick are ordered set-up, note-offs, note-ons; no running status.

use super::music::{ClipMusic, PPQ};

/// The MIDI file bytes of `music`.
pub fn write_smf(music: &ClipMusic) -> Vec<u8> {
    // (tick, order at that tick, message bytes)
    let mut events: Vec<(u32, u8, Vec<u8>)> = Vec::new();
    let micros_per_beat = 60_000_000 / music.bpm;
    let t = micros_per_beat.to_be_bytes();
    events.push((0, 0, vec![0xFF, 0x51, 0x03, t[1], t[2], t[3]]));
    let mut last = 0;
    for part in &music.parts {
        let ch = part.channel & 0x0F;
        events.push((0, 0, vec![0xC0 | ch, part.preset.1 & 0x7F]));
        for (cc, v) in [(7u8, part.volume), (10, part.pan), (91, part.reverb)] {
            events.push((0, 0, vec![0xB0 | ch, cc, v & 0x7F]));
        }
        for n in &part.notes {
            let key = n.key & 0x7F;
            events.push((n.tick, 2, vec![0x90 | ch, key, n.velocity.clamp(1, 127)]));
            events.push((n.tick + n.length, 1, vec![0x80 | ch, key, 0]));
            last = last.max(n.tick + n.length);
        }
    }
    events.push((last + PPQ, 3, vec![0xFF, 0x2F, 0x00]));
    events.sort_by_key(|(tick, order, _)| (*tick, *order));

    let mut track = Vec::new();
    let mut now = 0;
    for (tick, _, bytes) in events {
        write_vlq(&mut track, tick - now);
        track.extend_from_slice(&bytes);
        now = tick;
    }
    let mut out = Vec::with_capacity(22 + track.len());
    out.extend_from_slice(b"MThd");
    out.extend_from_slice(&6u32.to_be_bytes());
    out.extend_from_slice(&0u16.to_be_bytes()); // format 0
    out.extend_from_slice(&1u16.to_be_bytes()); // one track
    out.extend_from_slice(&(PPQ as u16).to_be_bytes());
    out.extend_from_slice(b"MTrk");
    out.extend_from_slice(&(track.len() as u32).to_be_bytes());
    out.extend_from_slice(&track);
    out
}

/// A MIDI variable-length quantity: 7 bits per byte, most significant first, the high bit set on
/// every byte but the last.
fn write_vlq(out: &mut Vec<u8>, mut v: u32) {
    let mut bytes = [0u8; 5];
    let mut n = 0;
    loop {
        bytes[n] = (v & 0x7F) as u8;
        n += 1;
        v >>= 7;
        if v == 0 {
            break;
        }
    }
    for i in (0..n).rev() {
        out.push(bytes[i] | if i > 0 { 0x80 } else { 0 });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audio::tags_timgm6mb::music::{Note, Part};

    #[test]
    fn variable_length_quantities_match_the_smf_specification() {
        // The examples of the Standard MIDI File 1.0 specification.
        for (v, want) in [
            (0x00u32, &[0x00u8][..]),
            (0x40, &[0x40]),
            (0x7F, &[0x7F]),
            (0x80, &[0x81, 0x00]),
            (0x2000, &[0xC0, 0x00]),
            (0x3FFF, &[0xFF, 0x7F]),
            (0x4000, &[0x81, 0x80, 0x00]),
            (0x0FFF_FFFF, &[0xFF, 0xFF, 0xFF, 0x7F]),
        ] {
            let mut out = Vec::new();
            write_vlq(&mut out, v);
            assert_eq!(out, want, "{v:#x}");
        }
    }

    #[test]
    fn rustysynth_reads_the_tempo_and_note_times() {
        let music = ClipMusic {
            bpm: 150,
            end_tick: 4 * PPQ,
            parts: vec![Part {
                tag: 0,
                channel: 2,
                preset: (0, 5),
                volume: 100,
                pan: 64,
                reverb: 40,
                notes: vec![
                    Note {
                        tick: 0,
                        length: PPQ,
                        key: 60,
                        velocity: 90,
                    },
                    Note {
                        tick: 3 * PPQ,
                        length: 200_000,
                        key: 64,
                        velocity: 90,
                    },
                ],
            }],
            tags: vec![0],
        };
        let bytes = write_smf(&music);
        assert_eq!(&bytes[..4], b"MThd");
        let midi = rustysynth::MidiFile::new(&mut bytes.as_slice()).unwrap();
        // The last note ends at 3 beats + 200000 ticks, then one more beat, at 0.4 s per beat.
        let want = (3.0 + 200_000.0 / PPQ as f64 + 1.0) * 0.4;
        assert!(
            (midi.get_length() - want).abs() < 1e-9,
            "{}",
            midi.get_length()
        );
    }
}
