//! Files of Hugging Face hub repositories, through the `hf-hub` crate (1.x, blocking client):
//! pretrained weights for the models, parquet shards for the hub datasets.
//!
//! What a researcher expects from the Python `huggingface_hub` holds here too:
//!
//! * **the cache**: files land in, and are first looked up in, the standard hub cache
//!   (`$HF_HUB_CACHE`, else `$HF_HOME/hub`, else `~/.cache/huggingface/hub`; the layout of the
//!   "Manage the cache" guide: `<kind>s--<org>--<name>/{refs,blobs,snapshots}`), so a cache filled
//!   by `hf download` on another machine is used as is, and a second run downloads nothing;
//! * **offline mode**: with `HF_HUB_OFFLINE=1` (or `true`/`yes`/`on`) no request is made; a file
//!   missing from the cache is an error that says how to get it;
//! * **endpoint and token**: `HF_ENDPOINT` (mirrors, and this crate's tests' local server) and
//!   `HF_TOKEN` (gated repositories such as `ILSVRC/imagenet-1k`), read by `hf-hub` itself;
//! * **a network failure with a cached copy** uses the copy, with a warning.
//!
//! [`mock::MockHub`] is a small local HTTP server that speaks the part of the hub's API used
//! here (repository info, recursive tree listing, `resolve` downloads), so that this crate and its
//! users test the real download path without the internet.

pub mod error;
pub mod mock;

use std::path::{Path, PathBuf};

use hf_hub::repository::RepoTreeEntry;
use hf_hub::{HFClientBuilder, HFClientSync, HFError, HFRepositorySync, RepoType};

pub use error::{HubError, Result};

/// The kind of hub repository.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RepoKind {
    /// A model repository (`https://huggingface.co/<org>/<name>`).
    Model,
    /// A dataset repository (`https://huggingface.co/datasets/<org>/<name>`).
    Dataset,
}

impl RepoKind {
    /// `model` / `dataset`.
    pub fn as_str(self) -> &'static str {
        match self {
            RepoKind::Model => "model",
            RepoKind::Dataset => "dataset",
        }
    }

    /// The cache folder prefix: `models` / `datasets`.
    fn plural(self) -> &'static str {
        match self {
            RepoKind::Model => "models",
            RepoKind::Dataset => "datasets",
        }
    }

    /// The `hf download` flag for this kind.
    fn cli_flag(self) -> &'static str {
        match self {
            RepoKind::Model => "",
            RepoKind::Dataset => "--repo-type dataset ",
        }
    }
}

/// How to reach the hub; [`HubOptions::from_env`] reads the standard environment variables.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HubOptions {
    /// The hub's base URL; `None`: `HF_ENDPOINT`, else `https://huggingface.co`.
    pub endpoint: Option<String>,
    /// The cache folder; `None`: `HF_HUB_CACHE`, else `$HF_HOME/hub`, else
    /// `~/.cache/huggingface/hub`.
    pub cache_dir: Option<PathBuf>,
    /// Never touch the network (`HF_HUB_OFFLINE`).
    pub offline: bool,
    /// How often a failed request is tried; `None`: `hf-hub`'s default.
    pub attempts: Option<usize>,
}

impl HubOptions {
    /// The options the environment asks for: only `HF_HUB_OFFLINE` is read here; the endpoint,
    /// cache and token variables are read by `hf-hub`.
    pub fn from_env() -> Self {
        HubOptions {
            offline: offline_from_env(),
            ..HubOptions::default()
        }
    }
}

/// Whether `HF_HUB_OFFLINE` asks for offline mode (`1`, `true`, `yes`, `on`, any case), as
/// `huggingface_hub`'s `constants.HF_HUB_OFFLINE`.
pub fn offline_from_env() -> bool {
    std::env::var("HF_HUB_OFFLINE").is_ok_and(|v| is_true(&v))
}

/// The cache folder a client uses when given none: `hf-hub`'s own resolution (`HF_HUB_CACHE`,
/// else `HUGGINGFACE_HUB_CACHE`, else `$HF_HOME/hub`, else `$XDG_CACHE_HOME/huggingface/hub` or
/// `~/.cache/huggingface/hub`), so every part of the project agrees with the client.
pub fn default_cache_dir() -> PathBuf {
    hf_hub::resolve_cache_dir()
}

/// Whether an environment value means "on", as `huggingface_hub`'s boolean variables do.
pub fn is_true(value: &str) -> bool {
    matches!(
        value.trim().to_ascii_lowercase().as_str(),
        "1" | "true" | "yes" | "on"
    )
}

/// A hub client bound to a cache folder.
pub struct Hub {
    client: HFClientSync,
    cache_dir: PathBuf,
    endpoint: String,
    offline: bool,
}

impl std::fmt::Debug for Hub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hub")
            .field("endpoint", &self.endpoint)
            .field("cache_dir", &self.cache_dir)
            .field("offline", &self.offline)
            .finish()
    }
}

/// What one request is about, for the error messages.
struct Target<'a> {
    kind: RepoKind,
    repo: &'a str,
    revision: &'a str,
    what: &'a str,
}

impl Target<'_> {
    /// "`what` of model repository `org/name` (revision `main`)".
    fn subject(&self) -> String {
        format!(
            "{} of {} repository `{}` (revision `{}`)",
            self.what,
            self.kind.as_str(),
            self.repo,
            self.revision
        )
    }
}

impl Hub {
    /// A client configured by the environment ([`HubOptions::from_env`]).
    pub fn from_env() -> Result<Self> {
        Self::new(HubOptions::from_env())
    }

    /// A client with explicit options.
    pub fn new(options: HubOptions) -> Result<Self> {
        let mut builder = HFClientBuilder::new();
        if let Some(e) = &options.endpoint {
            builder = builder.endpoint(e.clone());
        }
        if let Some(c) = &options.cache_dir {
            builder = builder.cache_dir(c.clone());
        }
        if let Some(n) = options.attempts {
            builder = builder.retry_max_attempts(n.max(1));
        }
        let inner = builder
            .build()
            .map_err(|e| HubError::Client(e.to_string()))?;
        let cache_dir = inner.cache_dir().to_path_buf();
        let endpoint = inner.endpoint().to_string();
        let client =
            HFClientSync::from_inner(inner).map_err(|e| HubError::Client(e.to_string()))?;
        Ok(Hub {
            client,
            cache_dir,
            endpoint,
            offline: options.offline,
        })
    }

    /// The cache folder files are looked up in and downloaded to.
    pub fn cache_dir(&self) -> &Path {
        &self.cache_dir
    }

    /// The hub's base URL.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// Whether no request is ever made.
    pub fn is_offline(&self) -> bool {
        self.offline
    }

    /// The local path of `filename` in `repo` (`org/name`) at `revision` (branch, tag or commit):
    /// from the cache, else downloaded into it (unless offline).
    pub fn file(
        &self,
        kind: RepoKind,
        repo: &str,
        revision: &str,
        filename: &str,
    ) -> Result<PathBuf> {
        check_repo(repo)?;
        let target = Target {
            kind,
            repo,
            revision,
            what: filename,
        };
        let cached = self.cached(kind, repo, revision, filename);
        if self.offline {
            return cached.ok_or_else(|| self.not_cached(&target));
        }
        // A commit is immutable: its cached copy needs no request.
        if is_commit(revision) {
            if let Some(p) = cached.clone() {
                return Ok(p);
            }
        }
        let (owner, name) = repo.split_once('/').expect("checked");
        let result = match kind {
            RepoKind::Model => download(self.client.model(owner, name), filename, revision),
            RepoKind::Dataset => download(self.client.dataset(owner, name), filename, revision),
        };
        match result {
            Ok(p) => Ok(p),
            Err(e) => self.fail(&target, e, cached),
        }
    }

    /// The local paths of every file of `repo` at `revision` whose repository path `select`
    /// accepts (sorted by repository path): the repository is listed on the hub and the chosen
    /// files are fetched as [`Hub::file`] does. Offline, or when the hub cannot be reached, the
    /// cached snapshot of `revision` is searched instead. `what` describes the selection in
    /// error messages (e.g. `parquet files of split train`).
    pub fn files(
        &self,
        kind: RepoKind,
        repo: &str,
        revision: &str,
        what: &str,
        select: &dyn Fn(&str) -> bool,
    ) -> Result<Vec<PathBuf>> {
        check_repo(repo)?;
        let target = Target {
            kind,
            repo,
            revision,
            what,
        };
        let cached = || {
            self.snapshot_dir(kind, repo, revision).map(|snap| {
                let mut found = Vec::new();
                walk(&snap, &snap, &mut found);
                found.retain(|(rel, _)| select(rel));
                found.sort();
                found.into_iter().map(|(_, p)| p).collect::<Vec<_>>()
            })
        };
        if self.offline {
            return match cached() {
                Some(v) if !v.is_empty() => Ok(v),
                _ => Err(self.not_cached(&target)),
            };
        }
        let (owner, name) = repo.split_once('/').expect("checked");
        let listing = match kind {
            RepoKind::Model => list(self.client.model(owner, name), revision),
            RepoKind::Dataset => list(self.client.dataset(owner, name), revision),
        };
        let entries = match listing {
            Ok(v) => v,
            Err(e) => {
                let copy = cached().filter(|v| !v.is_empty());
                return self.fail(&target, e, copy);
            }
        };
        let mut paths: Vec<String> = entries
            .into_iter()
            .filter_map(|e| match e {
                RepoTreeEntry::File { path, .. } => Some(path),
                _ => None,
            })
            .collect();
        paths.sort();
        let chosen: Vec<&String> = paths.iter().filter(|p| select(p)).collect();
        if chosen.is_empty() {
            let mut listing: Vec<&str> = paths.iter().take(12).map(String::as_str).collect();
            if paths.len() > 12 {
                listing.push("...");
            }
            return Err(HubError::NoMatch {
                subject: target.subject(),
                listing: if listing.is_empty() {
                    "no files".into()
                } else {
                    listing.join(", ")
                },
            });
        }
        chosen
            .into_iter()
            .map(|p| self.file(kind, repo, revision, p))
            .collect()
    }

    /// The cached copy of `filename`, if the cache holds `revision`'s snapshot with it.
    pub fn cached(
        &self,
        kind: RepoKind,
        repo: &str,
        revision: &str,
        filename: &str,
    ) -> Option<PathBuf> {
        let p = self.snapshot_dir(kind, repo, revision)?.join(filename);
        p.is_file().then_some(p)
    }

    /// The cache's snapshot folder of `repo` at `revision` (a commit, or a name under `refs/`).
    pub fn snapshot_dir(&self, kind: RepoKind, repo: &str, revision: &str) -> Option<PathBuf> {
        let folder = self
            .cache_dir
            .join(format!("{}--{}", kind.plural(), repo.replace('/', "--")));
        let commit = if is_commit(revision) {
            revision.to_string()
        } else {
            std::fs::read_to_string(folder.join("refs").join(revision))
                .ok()?
                .trim()
                .to_string()
        };
        let snap = folder.join("snapshots").join(commit);
        snap.is_dir().then_some(snap)
    }

    fn not_cached(&self, t: &Target<'_>) -> HubError {
        HubError::NotCachedOffline {
            subject: t.subject(),
            cache: self.cache_dir.clone(),
            command: format!(
                "hf download {}{} --revision {}",
                t.kind.cli_flag(),
                t.repo,
                t.revision
            ),
        }
    }

    /// Map a client error to ours; a cached copy stands in when the hub could not be reached.
    fn fail<T>(&self, t: &Target<'_>, e: HFError, cached: Option<T>) -> Result<T> {
        let detail = e.to_string();
        let missing = matches!(
            e,
            HFError::RepoNotFound { .. }
                | HFError::RevisionNotFound { .. }
                | HFError::EntryNotFound { .. }
                | HFError::AuthRequired { .. }
                | HFError::Forbidden { .. }
        );
        if missing {
            return Err(HubError::NotFound {
                subject: t.subject(),
                endpoint: self.endpoint.clone(),
                detail,
            });
        }
        if let Some(c) = cached {
            tracing::warn!(
                repo = t.repo,
                what = t.what,
                "the hub could not be reached ({detail}); using the cached copy"
            );
            return Ok(c);
        }
        Err(HubError::Download {
            subject: t.subject(),
            endpoint: self.endpoint.clone(),
            detail,
        })
    }
}

/// `filename` of `repo` at `revision`, into the cache (`hf-hub`'s `download_file`).
fn download<T: RepoType>(
    repo: HFRepositorySync<T>,
    filename: &str,
    revision: &str,
) -> std::result::Result<PathBuf, HFError> {
    repo.download_file()
        .filename(filename)
        .revision(revision)
        .send()
}

/// Every entry of `repo` at `revision`, recursively (`hf-hub`'s `list_tree`).
fn list<T: RepoType>(
    repo: HFRepositorySync<T>,
    revision: &str,
) -> std::result::Result<Vec<RepoTreeEntry>, HFError> {
    repo.list_tree().revision(revision).recursive(true).send()
}

/// `org/name` with two non-empty parts.
fn check_repo(repo: &str) -> Result<()> {
    match repo.split_once('/') {
        Some((o, n)) if !o.is_empty() && !n.is_empty() && !n.contains('/') => Ok(()),
        _ => Err(HubError::BadRepo(repo.to_string())),
    }
}

/// A 40-hex-digit commit hash.
pub fn is_commit(revision: &str) -> bool {
    revision.len() == 40 && revision.chars().all(|c| c.is_ascii_hexdigit())
}

/// Every file under `dir`, as (path relative to `root` with `/` separators, path).
fn walk(root: &Path, dir: &Path, out: &mut Vec<(String, PathBuf)>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            walk(root, &p, out);
        } else if p.is_file() {
            if let Ok(rel) = p.strip_prefix(root) {
                let rel = rel
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect::<Vec<_>>()
                    .join("/");
                out.push((rel, p));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offline_values_follow_huggingface_hub() {
        for v in ["1", "true", "TRUE", " yes ", "On"] {
            assert!(is_true(v), "{v}");
        }
        for v in ["", "0", "false", "no", "off", "2"] {
            assert!(!is_true(v), "{v}");
        }
    }

    #[test]
    fn repository_names_are_checked() {
        assert!(check_repo("timm/resnet18.a1_in1k").is_ok());
        for bad in ["resnet18", "/x", "x/", "a/b/c", ""] {
            let e = check_repo(bad).unwrap_err().to_string();
            assert!(e.contains("org/name"), "{bad}: {e}");
        }
        assert!(is_commit(&"a".repeat(40)));
        assert!(!is_commit("main"));
    }
}
