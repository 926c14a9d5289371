//! Builds the keyword-spotting stand-in (`apt-get download` of asterisk-core-sounds-en-wav and
//! the system's espeak-ng 1.51) under a data root, as `adamp data fetch` does:
//! `cargo run -p adamp-datasets --release --example keywords_espeak -- [data_root]`
//! (default: `$ADAMP_DATA_DIR`, else `data`). Prints what it did, the clips per split, the
//! folder's size and the wall time.

use std::path::PathBuf;
use std::time::Instant;

use adamp_datasets::audio::keywords_espeak::{install, manifest::read_manifest, FOLDER};
use adamp_datasets::fetch::data_root;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let arg = std::env::args().nth(1).map(PathBuf::from);
    let root = data_root(arg.as_deref());
    let t0 = Instant::now();
    let outcome = install(&root)?;
    let secs = t0.elapsed().as_secs_f64();
    let dir = root.join(FOLDER);
    let manifest = read_manifest(&dir)?;
    let mut bytes = 0u64;
    for f in manifest.files.keys() {
        bytes += std::fs::metadata(dir.join(f))?.len();
    }
    println!(
        "{outcome:?}: {:?}, {} files, {bytes} bytes, {secs:.1} s",
        manifest.counts,
        manifest.files.len()
    );
    Ok(())
}
