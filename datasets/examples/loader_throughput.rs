//! Measures the batch loader on an IDX folder (Fashion-MNIST by default):
//! `cargo run -p adamp-datasets --release --example loader_throughput -- [dir] [workers] [batch]`.
//! Prints samples per second for one training epoch (pad-crop-flip) with the given workers.

use std::path::PathBuf;
use std::time::Instant;

use adamp_datasets::catalog::{open_classification, DatasetKind};
use adamp_datasets::{BatchLoader, LoaderConfig};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let dir = PathBuf::from(args.next().unwrap_or_else(|| "data/fashion-mnist".into()));
    let workers: usize = args.next().map_or(Ok(2), |a| a.parse())?;
    let batch: usize = args.next().map_or(Ok(256), |a| a.parse())?;
    let t0 = Instant::now();
    let data = open_classification(DatasetKind::FashionMnist, &dir)?;
    let load_s = t0.elapsed().as_secs_f64();
    let loader = BatchLoader::new(
        data.train.clone(),
        data.train_transform.clone(),
        None,
        LoaderConfig {
            batch_size: batch,
            shuffle: true,
            drop_last: false,
            seed: 0,
            workers,
            prefetch: 4,
        },
    )?;
    let t1 = Instant::now();
    let mut n = 0;
    for b in loader.epoch(0) {
        n += b?.indices.len();
    }
    let s = t1.elapsed().as_secs_f64();
    println!(
        "read {} train / {} test in {load_s:.2}s; one epoch of {n} samples, batch {batch}, {workers} workers: {s:.2}s ({:.0} samples/s)",
        data.train.len(),
        data.test.len(),
        n as f64 / s
    );
    Ok(())
}
