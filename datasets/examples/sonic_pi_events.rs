//! Builds the sonic-pi sound-event stand-in (`audio::events_sonic_pi`) under a data root and
//! prints what the DCASE loader reads from it:
//! `cargo run --release -p adamp-datasets --example sonic_pi_events -- [data_root]`
//! (default: `$ADAMP_DATA_DIR`, else `data`).

use std::path::PathBuf;
use std::time::Instant;

use adamp_datasets::audio::{events_sonic_pi, list_dcase, AudioSplit, DcaseOptions};
use adamp_datasets::fetch::data_root;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = data_root(std::env::args().nth(1).map(PathBuf::from).as_deref());
    let start = Instant::now();
    let outcome = events_sonic_pi::install(&root)?;
    println!("{outcome:?} in {:.1} s", start.elapsed().as_secs_f64());
    let options = DcaseOptions {
        classes: events_sonic_pi::CLASSES.map(String::from).to_vec(),
        ..DcaseOptions::default()
    };
    let listing = list_dcase(&events_sonic_pi::dir(&root), &options)?;
    for split in [AudioSplit::Train, AudioSplit::Valid, AudioSplit::Test] {
        let clips: Vec<_> = listing.clips.iter().filter(|c| c.split == split).collect();
        let mut per_class = vec![0usize; options.classes.len()];
        for c in &clips {
            for (k, &v) in c.label.tags().unwrap_or(&[]).iter().enumerate() {
                per_class[k] += usize::from(v > 0.5);
            }
        }
        println!("{split:?}: {} clips, per class {per_class:?}", clips.len());
    }
    println!("skipped: {}", listing.skipped.len());
    Ok(())
}
