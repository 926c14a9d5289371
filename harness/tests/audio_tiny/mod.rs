//! Tiny audio datasets for the audio runner tests: the real datasets' tiny copies
//! (`adamp_datasets::testdata_audio`), and tiny datasets in a real layout with an embedded
//! stand-in's own label set (`AudioStandIn::classes`), so the embedded configs run on them.
#![allow(dead_code)]

use std::path::Path;

use adamp_datasets::audio::dcase::DCASE_LISTS;
use adamp_datasets::audio::AudioStandIn;
use adamp_datasets::testdata_audio::{
    tone, write_tiny_dcase, write_tiny_mtat, write_tiny_speech_commands, write_wav, TINY_RATE,
};
use adamp_task_audio::AudioDataset;

/// Training clips of the tiny copies: Speech Commands 12, DCASE 27, MagnaTagATune 24.
pub fn tiny_train_clips(dataset: AudioDataset) -> usize {
    match dataset {
        AudioDataset::SpeechCommands => 12,
        AudioDataset::Dcase2017 => 27,
        AudioDataset::Mtat => 24,
    }
}

/// Writes the tiny copy of `dataset` into `dir`.
pub fn write_tiny(dataset: AudioDataset, dir: &Path) {
    match dataset {
        AudioDataset::SpeechCommands => write_tiny_speech_commands(dir),
        AudioDataset::Dcase2017 => write_tiny_dcase(dir),
        AudioDataset::Mtat => write_tiny_mtat(dir),
    }
    .unwrap();
}

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// Writes a tiny dataset in `stand_in`'s layout with its label set into `dir`; returns its
/// training clips. Speech Commands: 5 speakers per word (3 train, 1 valid, 1 test), 1 s.
/// DCASE: 10 training-list clips per class (one drawn for validation), 2 evaluation clips per
/// class. MagnaTagATune: 32 clips, clip `j` in folder `hex(j / 2)` tagged `j % K`, 5.5 s.
pub fn write_stand_in_layout(stand_in: AudioStandIn, dir: &Path) -> usize {
    let classes = stand_in.classes();
    let k = classes.len();
    match stand_in {
        AudioStandIn::EspeakKeywords => {
            let (mut valid, mut test) = (String::new(), String::new());
            for (w, word) in classes.iter().enumerate() {
                for s in 0..5 {
                    let rel = format!("{word}/spk{s}_nohash_0.wav");
                    let f = 300.0 + 120.0 * w as f32 + 10.0 * s as f32;
                    write_wav(&dir.join(&rel), 16_000, &tone(f, 16_000, 16_000)).unwrap();
                    match s {
                        3 => valid.push_str(&format!("{rel}\n")),
                        4 => test.push_str(&format!("{rel}\n")),
                        _ => {}
                    }
                }
            }
            write(&dir.join("validation_list.txt"), &valid);
            write(&dir.join("testing_list.txt"), &test);
            3 * k
        }
        AudioStandIn::SonicPiEvents => {
            for (list_index, per_class) in [(0usize, 10usize), (1, 0), (2, 2)] {
                let (list, folder) = DCASE_LISTS[list_index];
                let mut text = String::new();
                for (c, class) in classes.iter().enumerate() {
                    for j in 0..per_class {
                        let file = format!("s{list_index}c{c}n{j}_0.000_10.000.wav");
                        text.push_str(&format!("{file}\t0.000\t10.000\t{class}\n"));
                        let f = 200.0 + 150.0 * c as f32 + 5.0 * j as f32;
                        let audio = dir.join("raw").join(folder).join(format!("Y{file}"));
                        write_wav(&audio, TINY_RATE, &tone(f, TINY_RATE, 28_000)).unwrap();
                    }
                }
                write(&dir.join(list), &text);
            }
            9 * k
        }
        AudioStandIn::Timgm6mbTags => {
            let mut text = String::from("\"clip_id\"");
            for c in &classes {
                text.push_str(&format!("\t\"{c}\""));
            }
            text.push_str("\t\"mp3_path\"\n");
            for j in 0..32usize {
                let path = format!("{:x}/clip_{j:02}.mp3", j / 2);
                text.push_str(&format!("\"{j}\""));
                for c in 0..k {
                    text.push_str(if c == j % k { "\t\"1\"" } else { "\t\"0\"" });
                }
                text.push_str(&format!("\t\"{path}\"\n"));
                let f = 220.0 + 90.0 * (j % k) as f32;
                let audio = dir.join("mp3").join(&path);
                write_wav(&audio, TINY_RATE, &tone(f, TINY_RATE, 44_000)).unwrap();
            }
            write(&dir.join("annotations_final.csv"), &text);
            24
        }
    }
}
