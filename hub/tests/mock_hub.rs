//! The download path of `adamp-hub` end to end, against the local stand-in hub
//! ([`adamp_hub::mock::MockHub`]): real HTTP through `hf-hub`, the real cache layout, offline mode,
//! missing files and an unreachable hub.

use std::collections::BTreeMap;
use std::path::Path;

use adamp_hub::mock::{MockHub, MockRepo};
use adamp_hub::{Hub, HubError, HubOptions, RepoKind};

fn model_repo() -> MockRepo {
    let mut files = BTreeMap::new();
    files.insert("model.safetensors".to_string(), b"weights-v1".repeat(100));
    files.insert(
        "config.json".to_string(),
        b"{\"arch\": \"resnet18\"}".to_vec(),
    );
    MockRepo::new(RepoKind::Model, "timm/resnet18.test", files)
}

fn dataset_repo() -> MockRepo {
    let mut files = BTreeMap::new();
    for f in [
        "data/train-00000-of-00002.parquet",
        "data/train-00001-of-00002.parquet",
        "data/test-00000-of-00001.parquet",
        "README.md",
    ] {
        files.insert(f.to_string(), format!("contents of {f}").into_bytes());
    }
    MockRepo::new(RepoKind::Dataset, "org/tiny-images", files)
}

fn hub(endpoint: String, cache: &Path, offline: bool) -> Hub {
    Hub::new(HubOptions {
        endpoint: Some(endpoint),
        cache_dir: Some(cache.to_path_buf()),
        offline,
        attempts: Some(1),
    })
    .expect("hub client")
}

/// A port nothing listens on.
fn dead_endpoint() -> String {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    drop(l);
    format!("http://127.0.0.1:{port}")
}

#[test]
fn downloads_into_the_hub_cache_layout_then_serves_from_it() {
    let repo = model_repo();
    let commit = repo.commit.clone();
    let server = MockHub::start(vec![repo]).unwrap();
    let cache = tempfile::tempdir().unwrap();
    let h = hub(server.endpoint(), cache.path(), false);

    let p = h
        .file(
            RepoKind::Model,
            "timm/resnet18.test",
            "main",
            "model.safetensors",
        )
        .unwrap();
    assert_eq!(std::fs::read(&p).unwrap(), b"weights-v1".repeat(100));
    let snap = cache
        .path()
        .join("models--timm--resnet18.test/snapshots")
        .join(&commit);
    assert_eq!(p, snap.join("model.safetensors"));
    let main_ref = cache.path().join("models--timm--resnet18.test/refs/main");
    assert_eq!(std::fs::read_to_string(main_ref).unwrap().trim(), commit);
    let after_download = server.requests();
    assert!(
        after_download >= 2,
        "HEAD and GET expected, saw {after_download}"
    );

    // A commit is immutable: its cached file needs no request.
    let again = h
        .file(
            RepoKind::Model,
            "timm/resnet18.test",
            &commit,
            "model.safetensors",
        )
        .unwrap();
    assert_eq!(again, p);
    assert_eq!(server.requests(), after_download);

    // Offline: the cached file by branch name, and no request.
    let off = hub(server.endpoint(), cache.path(), true);
    let cached = off
        .file(
            RepoKind::Model,
            "timm/resnet18.test",
            "main",
            "model.safetensors",
        )
        .unwrap();
    assert_eq!(cached, p);
    assert_eq!(server.requests(), after_download);
}

#[test]
fn offline_without_a_cached_copy_says_how_to_get_it() {
    let server = MockHub::start(vec![model_repo()]).unwrap();
    let cache = tempfile::tempdir().unwrap();
    let off = hub(server.endpoint(), cache.path(), true);
    let e = off
        .file(
            RepoKind::Model,
            "timm/resnet18.test",
            "main",
            "model.safetensors",
        )
        .unwrap_err();
    assert!(matches!(e, HubError::NotCachedOffline { .. }), "{e}");
    let msg = e.to_string();
    for needle in [
        "model.safetensors",
        "timm/resnet18.test",
        "HF_HUB_OFFLINE",
        "hf download timm/resnet18.test",
    ] {
        assert!(msg.contains(needle), "`{needle}` missing from: {msg}");
    }
    assert_eq!(server.requests(), 0, "offline mode made a request");

    let e = off
        .files(
            RepoKind::Dataset,
            "org/tiny-images",
            "main",
            "split train",
            &|_| true,
        )
        .unwrap_err();
    assert!(e.to_string().contains("--repo-type dataset"), "{e}");
    assert_eq!(server.requests(), 0);
}

#[test]
fn missing_repository_revision_or_file_is_named() {
    let server = MockHub::start(vec![model_repo()]).unwrap();
    let cache = tempfile::tempdir().unwrap();
    let h = hub(server.endpoint(), cache.path(), false);
    for (repo, rev, file) in [
        ("timm/resnet18.test", "main", "missing.safetensors"),
        ("timm/no-such-model", "main", "model.safetensors"),
        ("timm/resnet18.test", "v9", "model.safetensors"),
    ] {
        let e = h.file(RepoKind::Model, repo, rev, file).unwrap_err();
        assert!(
            matches!(e, HubError::NotFound { .. }),
            "{repo}@{rev}/{file}: {e:?}"
        );
        let msg = e.to_string();
        for needle in [repo, rev, file, "HF_TOKEN"] {
            assert!(msg.contains(needle), "`{needle}` missing from: {msg}");
        }
    }
    let e = h
        .file(RepoKind::Model, "not-a-repo", "main", "x")
        .unwrap_err();
    assert!(e.to_string().contains("org/name"), "{e}");
}

#[test]
fn unreachable_hub_uses_the_cache_or_says_what_to_do() {
    let repo = model_repo();
    let server = MockHub::start(vec![repo]).unwrap();
    let cache = tempfile::tempdir().unwrap();
    let first = hub(server.endpoint(), cache.path(), false)
        .file(RepoKind::Model, "timm/resnet18.test", "main", "config.json")
        .unwrap();
    drop(server);

    let dead = dead_endpoint();
    let h = hub(dead.clone(), cache.path(), false);
    let p = h
        .file(RepoKind::Model, "timm/resnet18.test", "main", "config.json")
        .unwrap();
    assert_eq!(p, first, "the cached copy stands in");
    let e = h
        .file(
            RepoKind::Model,
            "timm/resnet18.test",
            "main",
            "model.safetensors",
        )
        .unwrap_err();
    assert!(matches!(e, HubError::Download { .. }), "{e:?}");
    let msg = e.to_string();
    for needle in [dead.as_str(), "model.safetensors", "HF_HUB_OFFLINE=1"] {
        assert!(msg.contains(needle), "`{needle}` missing from: {msg}");
    }
}

#[test]
fn a_selection_downloads_only_the_matching_files() {
    let server = MockHub::start(vec![dataset_repo()]).unwrap();
    let cache = tempfile::tempdir().unwrap();
    let h = hub(server.endpoint(), cache.path(), false);
    let train = |p: &str| p.starts_with("data/train-") && p.ends_with(".parquet");
    let got = h
        .files(
            RepoKind::Dataset,
            "org/tiny-images",
            "main",
            "split train",
            &train,
        )
        .unwrap();
    let names: Vec<String> = got
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        names,
        [
            "train-00000-of-00002.parquet",
            "train-00001-of-00002.parquet"
        ]
    );
    assert_eq!(
        std::fs::read(&got[1]).unwrap(),
        b"contents of data/train-00001-of-00002.parquet"
    );
    let snap = got[0].parent().unwrap().parent().unwrap();
    assert!(!snap.join("data/test-00000-of-00001.parquet").exists());
    assert!(!snap.join("README.md").exists());

    // Offline, the same selection comes from the cached snapshot.
    let off = hub(server.endpoint(), cache.path(), true);
    let before = server.requests();
    let cached = off
        .files(
            RepoKind::Dataset,
            "org/tiny-images",
            "main",
            "split train",
            &train,
        )
        .unwrap();
    assert_eq!(cached, got);
    assert_eq!(server.requests(), before);

    // A selection that matches nothing lists what the repository holds.
    let e = h
        .files(
            RepoKind::Dataset,
            "org/tiny-images",
            "main",
            "split validation",
            &|p| p.contains("validation"),
        )
        .unwrap_err();
    let msg = e.to_string();
    assert!(matches!(e, HubError::NoMatch { .. }), "{msg}");
    assert!(
        msg.contains("split validation") && msg.contains("data/test-00000-of-00001.parquet"),
        "{msg}"
    );
}
