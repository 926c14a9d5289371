//! `data.kind = "hf_parquet"` end to end through the `hf-hub` crate: the task downloads the two
//! splits from a hub (the local stand-in [`adamp_hub::mock::MockHub`], reached through
//! `HF_ENDPOINT` as a mirror would be) into the cache folder `data.root`, trains and evaluates;
//! then, with `HF_HUB_OFFLINE=1` and the hub gone, runs from the cache alone; and offline with an
//! empty cache fails saying how to get the data.
//!
//! One test in its own binary: it sets process environment variables.

mod common;

use std::collections::BTreeMap;

use adamp_hub::mock::{MockHub, MockRepo};
use adamp_hub::RepoKind;
use adamp_task_api::Task;
use adamp_task_classification::{ClassificationSettings, ClassificationTask};
use common::{ctx, data, model, sgdp, step};

/// The repository files `write_hf_cache_dataset` wrote under `cache`, by repository path.
fn repo_files(cache: &std::path::Path, repo: &str) -> BTreeMap<String, Vec<u8>> {
    let snaps = cache
        .join(format!("datasets--{}", repo.replace('/', "--")))
        .join("snapshots");
    let snap = std::fs::read_dir(&snaps)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let mut out = BTreeMap::new();
    for e in std::fs::read_dir(snap.join("data")).unwrap() {
        let p = e.unwrap().path();
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        out.insert(format!("data/{name}"), std::fs::read(&p).unwrap());
    }
    out.insert(
        "README.md".into(),
        b"# tiny imagenet-style dataset".to_vec(),
    );
    out
}

#[test]
fn hub_parquet_is_downloaded_cached_and_used_offline() {
    let t = tempfile::tempdir().unwrap();
    let source = t.path().join("source");
    adamp_datasets::testdata::write_hf_cache_dataset(&source, "org/tiny-imagenet", 3, 4, 32, 2)
        .unwrap();
    let server = MockHub::start(vec![MockRepo::new(
        RepoKind::Dataset,
        "org/tiny-imagenet",
        repo_files(&source, "org/tiny-imagenet"),
    )])
    .unwrap();
    std::env::set_var("HF_ENDPOINT", server.endpoint());
    std::env::remove_var("HF_HUB_OFFLINE");

    let cache = t.path().join("cache");
    let mut d = data(&cache, "hf_parquet");
    d.hf_repo = Some("org/tiny-imagenet".into());
    let build = |d: &adamp_task_classification::DataSettings| {
        ClassificationTask::new(
            &ClassificationSettings::default(),
            &model("resnet18"),
            d,
            &ctx(4),
        )
    };
    let mut task = build(&d).unwrap();
    assert!(
        task.describe()
            .contains("12 train / 12 test images, 3 classes, input 3x224x224"),
        "{}",
        task.describe()
    );
    let mut opts = sgdp(&task, 0.01);
    assert!(step(&mut task, &mut opts, 0).is_finite());
    assert_eq!(task.evaluate().unwrap().metrics.len(), 4);
    let snap = std::fs::read_dir(cache.join("datasets--org--tiny-imagenet/snapshots"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    assert!(snap.join("data/train-00000-of-00001.parquet").is_file());
    assert!(snap
        .join("data/validation-00000-of-00001.parquet")
        .is_file());
    assert!(
        !snap.join("README.md").exists(),
        "only the splits' files are fetched"
    );
    let requests = server.requests();
    drop(server);

    // Offline, with the hub gone: the cache alone.
    std::env::set_var("HF_HUB_OFFLINE", "1");
    let task = build(&d).unwrap();
    assert!(task.describe().contains("12 train / 12 test images"));
    assert!(requests > 0);

    // Offline with an empty cache: the error says what to do.
    let mut empty = data(&t.path().join("empty-cache"), "hf_parquet");
    empty.hf_repo = Some("org/tiny-imagenet".into());
    let err = build(&empty).err().unwrap().to_string();
    for needle in [
        "org/tiny-imagenet",
        "HF_HUB_OFFLINE",
        "hf download --repo-type dataset",
    ] {
        assert!(err.contains(needle), "`{needle}` missing from: {err}");
    }

    // Without `hf_repo` the error names the key.
    d.hf_repo = None;
    let err = build(&d).err().unwrap().to_string();
    assert!(err.contains("data.hf_repo"), "{err}");
}
