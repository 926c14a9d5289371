//! Tiny audio datasets in the REAL layouts of Speech Commands v0.02, DCASE 2017 task 4 and
//! MagnaTagATune, for tests and smoke runs, read back through
//! [`crate::audio::list_speech_commands`], [`crate::audio::list_dcase`] and
//! [`crate::audio::list_mtat`]. Every clip is a 16-bit PCM mono WAV (written by [`write_wav`])
//! holding a sine whose frequency depends on its first label; MagnaTagATune clips are WAV data
//! under the real `.mp3` names (the decoder finds the format from the content; no MP3 encoder is
//! used). Deterministic: the same call writes the same bytes.

use std::path::Path;

use crate::audio::dcase::DCASE_LISTS;
use crate::audio::speech_commands::{BACKGROUND_NOISE_DIR, TESTING_LIST, VALIDATION_LIST};
use crate::error::{DatasetError, Result};

/// Writes `samples` (clamped to `[-1, 1]`) as a 16-bit PCM mono WAV at `rate` Hz.
pub fn write_wav(path: &Path, rate: u32, samples: &[f32]) -> Result<()> {
    let data_len = (samples.len() * 2) as u32;
    let mut bytes = Vec::with_capacity(44 + samples.len() * 2);
    bytes.extend_from_slice(b"RIFF");
    bytes.extend_from_slice(&(36 + data_len).to_le_bytes());
    bytes.extend_from_slice(b"WAVEfmt ");
    bytes.extend_from_slice(&16u32.to_le_bytes()); // fmt chunk size
    bytes.extend_from_slice(&1u16.to_le_bytes()); // PCM
    bytes.extend_from_slice(&1u16.to_le_bytes()); // mono
    bytes.extend_from_slice(&rate.to_le_bytes());
    bytes.extend_from_slice(&(rate * 2).to_le_bytes()); // byte rate
    bytes.extend_from_slice(&2u16.to_le_bytes()); // block align
    bytes.extend_from_slice(&16u16.to_le_bytes()); // bits per sample
    bytes.extend_from_slice(b"data");
    bytes.extend_from_slice(&data_len.to_le_bytes());
    for &s in samples {
        let v = (s.clamp(-1.0, 1.0) * 32767.0).round() as i16;
        bytes.extend_from_slice(&v.to_le_bytes());
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| DatasetError::io(dir, e))?;
    }
    std::fs::write(path, bytes).map_err(|e| DatasetError::io(path, e))
}

/// `frames` samples of `0.5 sin(2 pi freq n / rate)`.
pub fn tone(freq: f32, rate: u32, frames: usize) -> Vec<f32> {
    (0..frames)
        .map(|n| 0.5 * (2.0 * std::f32::consts::PI * freq * n as f32 / rate as f32).sin())
        .collect()
}

fn write_text(path: &Path, text: &str) -> Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| DatasetError::io(dir, e))?;
    }
    std::fs::write(path, text).map_err(|e| DatasetError::io(path, e))
}

/// The words of the tiny Speech Commands (4 of the 35).
pub const TINY_KEYWORD_WORDS: [&str; 4] = ["no", "up", "yes", "zero"];
/// The speakers of the tiny Speech Commands: each says each word once
/// (`<speaker>_nohash_0.wav`); speaker 3 is in `validation_list.txt`, speaker 4 in
/// `testing_list.txt`, speakers 0-2 are training (12 train, 4 valid, 4 test clips).
pub const TINY_KEYWORD_SPEAKERS: [&str; 5] =
    ["0a2b400e", "1b4c9b89", "2c5e4b4a", "3d0f4a7c", "4e8d1fd2"];
/// Clip length of the tiny Speech Commands at 16 kHz: 1 s, except speaker 2's clips, 0.75 s
/// (shorter than one keyword chunk, as many real clips are).
pub const TINY_KEYWORD_FRAMES: [usize; 2] = [16_000, 12_000];

/// Writes the tiny Speech Commands v0.02 into `root`: the word folders, both list files and a
/// `_background_noise_` folder with one 1 s noise-like WAV and its README.
pub fn write_tiny_speech_commands(root: &Path) -> Result<()> {
    let mut valid = String::new();
    let mut test = String::new();
    for (w, word) in TINY_KEYWORD_WORDS.iter().enumerate() {
        for (s, speaker) in TINY_KEYWORD_SPEAKERS.iter().enumerate() {
            let frames = if s == 2 {
                TINY_KEYWORD_FRAMES[1]
            } else {
                TINY_KEYWORD_FRAMES[0]
            };
            let rel = format!("{word}/{speaker}_nohash_0.wav");
            let freq = 300.0 + 150.0 * w as f32 + 10.0 * s as f32;
            write_wav(&root.join(&rel), 16_000, &tone(freq, 16_000, frames))?;
            match s {
                3 => valid.push_str(&format!("{rel}\n")),
                4 => test.push_str(&format!("{rel}\n")),
                _ => {}
            }
        }
    }
    write_text(&root.join(VALIDATION_LIST), &valid)?;
    write_text(&root.join(TESTING_LIST), &test)?;
    let noise: Vec<f32> = (0..16_000u32)
        .map(|n| ((n.wrapping_mul(2_654_435_761) >> 16) as f32 / 65_536.0 - 0.5) * 0.2)
        .collect();
    write_wav(
        &root.join(BACKGROUND_NOISE_DIR).join("white_noise.wav"),
        16_000,
        &noise,
    )?;
    write_text(
        &root.join(BACKGROUND_NOISE_DIR).join("README.md"),
        "Background noise recordings (tiny generated stand-in).\n",
    )
}

/// Sample rate of the tiny DCASE and MagnaTagATune clips (resampled to 16 kHz on load).
pub const TINY_RATE: u32 = 8_000;
/// Length of a tiny DCASE clip: 3.5 s at [`TINY_RATE`] (longer than one 3 s chunk).
pub const TINY_DCASE_FRAMES: usize = 28_000;

/// The labels (class indices into [`crate::audio::DCASE_CLASSES`]) of the tiny DCASE clips, per
/// list file (training, testing, evaluation), one entry per clip:
/// - training: 20 clips, clip `j` labelled class `j % 2` (10 lines each, so the validation
///   draw takes `round(1.0)` = 1 clip of each), then 5 clips labelled classes 11 and 13 (5 lines
///   each: `round(0.5)` = 0, none drawn);
/// - testing: 4 clips, class `4 + j % 2`;
/// - evaluation: 4 clips, class 16, and also class 0 for odd `j`.
///
/// So: 29 clips in the training pool, 2 validation, 27 training, 4 test.
pub fn tiny_dcase_labels() -> [Vec<Vec<usize>>; 3] {
    let training = (0..20)
        .map(|j| vec![j % 2])
        .chain((0..5).map(|_| vec![11, 13]))
        .collect();
    let testing = (0..4).map(|j| vec![4 + j % 2]).collect();
    let evaluation = (0..4)
        .map(|j| if j % 2 == 1 { vec![0, 16] } else { vec![16] })
        .collect();
    [training, testing, evaluation]
}

/// The `<file>` name of clip `j` of list `k` (0 training, 1 testing, 2 evaluation):
/// `<youtube-like id>_<start>_<end>.wav`.
pub fn tiny_dcase_file(k: usize, j: usize) -> String {
    let start = 10 * j;
    format!("t{k}id{j:05}_{start}.000_{}.000.wav", start + 10)
}

/// Writes the tiny DCASE 2017 task 4 into `root`: the three weak-label lists (one
/// `file\tstart\tend\tlabel` line per clip and label, as the challenge files) and the audio
/// under `root/raw/<folder>/Y<file>` (the reference's `audio_dir`).
pub fn write_tiny_dcase(root: &Path) -> Result<()> {
    use crate::audio::dcase::DCASE_CLASSES;
    for (k, labels) in tiny_dcase_labels().iter().enumerate() {
        let (list, folder) = DCASE_LISTS[k];
        let mut text = String::new();
        for (j, classes) in labels.iter().enumerate() {
            let file = tiny_dcase_file(k, j);
            let start = 10 * j;
            for &c in classes {
                text.push_str(&format!(
                    "{file}\t{start}.000\t{}.000\t{}\n",
                    start + 10,
                    DCASE_CLASSES[c]
                ));
            }
            let freq = 200.0 + 100.0 * classes[0] as f32;
            write_wav(
                &root.join("raw").join(folder).join(format!("Y{file}")),
                TINY_RATE,
                &tone(freq, TINY_RATE, TINY_DCASE_FRAMES),
            )?;
        }
        write_text(&root.join(list), &text)?;
    }
    Ok(())
}

/// Tag columns of the tiny MagnaTagATune (`tag00` ... `tag54`; the real file has 188).
pub const TINY_MTAT_TAGS: usize = 55;
/// Length of a tiny MagnaTagATune clip: 5.5 s at [`TINY_RATE`] (longer than one 5 s chunk).
pub const TINY_MTAT_FRAMES: usize = 44_000;

/// The rows of the tiny MagnaTagATune: `(clip_id, mp3_path, tag columns set to 1)`.
/// Clip `j` in `0..32` lies in folder `hex(j / 2)` and has tag `t < 50` iff `(j + t) % 4 == 0`
/// (every one of tags 0-49 on 8 clips: all tied, so the top 50 are `tag49, tag48, ..., tag00`);
/// tags 50-54 are never set. A 33rd clip, in folder `0`, has no tag (left out of every split).
/// Splits: folders `0`-`b` → 24 training clips, `c` → 2 validation, `d`-`f` → 6 test.
pub fn tiny_mtat_rows() -> Vec<(usize, String, Vec<usize>)> {
    let mut rows: Vec<(usize, String, Vec<usize>)> = (0..32)
        .map(|j| {
            let tags = (0..50).filter(|t| (j + t) % 4 == 0).collect();
            let path = format!("{:x}/artist_{j:02}-album-track-{j:02}-0-29.mp3", j / 2);
            (2 + 3 * j, path, tags)
        })
        .collect();
    rows.push((
        200,
        "0/untagged_artist-album-track-99-0-29.mp3".into(),
        vec![],
    ));
    rows
}

/// Writes the tiny MagnaTagATune into `root`: `annotations_final.csv` (tab-separated, fields in
/// double quotes, as the real file) and the clips under `root/mp3/<hex>/`.
pub fn write_tiny_mtat(root: &Path) -> Result<()> {
    let quote = |s: &str| format!("\"{s}\"");
    let mut text = quote("clip_id");
    for t in 0..TINY_MTAT_TAGS {
        text.push('\t');
        text.push_str(&quote(&format!("tag{t:02}")));
    }
    text.push('\t');
    text.push_str(&quote("mp3_path"));
    text.push('\n');
    for (id, path, tags) in tiny_mtat_rows() {
        text.push_str(&quote(&id.to_string()));
        for t in 0..TINY_MTAT_TAGS {
            text.push('\t');
            text.push_str(&quote(if tags.contains(&t) { "1" } else { "0" }));
        }
        text.push('\t');
        text.push_str(&quote(&path));
        text.push('\n');
        let freq = 220.0 + 20.0 * tags.first().copied().unwrap_or(0) as f32;
        write_wav(
            &root.join("mp3").join(&path),
            TINY_RATE,
            &tone(freq, TINY_RATE, TINY_MTAT_FRAMES),
        )?;
    }
    write_text(&root.join("annotations_final.csv"), &text)
}
