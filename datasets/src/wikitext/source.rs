//! Where a WikiText comes from: a folder of token files, or a config of a hub parquet dataset.
//! Both open to the same [`WikiText`] for the same lines.
//!
//! As text (a config value, a command-line argument) a hub source is written as
//! `huggingface_hub`'s `HfFileSystem` writes a folder of a dataset repository,
//! `hf://datasets/<org>/<name>[@<revision>]/<config>` (revision `main` when not given), e.g.
//! `hf://datasets/Salesforce/wikitext/wikitext-103-v1`; anything else is a folder path.

use std::path::{Path, PathBuf};

use super::hub_parquet::{open_wikitext_hub, WIKITEXT_103_CONFIG, WIKITEXT_REPO};
use super::{open_wikitext, WikiText};
use crate::error::{DatasetError, Result};

/// A config of a hub parquet dataset at a revision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HubWikiText {
    /// `org/name`.
    pub repo: String,
    /// The config folder (`wikitext-103-v1`).
    pub config: String,
    /// Branch, tag or commit.
    pub revision: String,
}

impl HubWikiText {
    /// WikiText-103 as Transformer-XL reads it: `Salesforce/wikitext`, `wikitext-103-v1`, `main`.
    pub fn wikitext_103() -> Self {
        Self {
            repo: WIKITEXT_REPO.into(),
            config: WIKITEXT_103_CONFIG.into(),
            revision: "main".into(),
        }
    }
}

/// A folder of `wiki.{train,valid,test}.tokens`, or a hub parquet config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WikiTextSource {
    /// [`open_wikitext`]'s folder.
    Folder(PathBuf),
    /// [`open_wikitext_hub`]'s dataset config.
    Hub(HubWikiText),
}

/// The prefix of a hub source written as text.
const HF_PREFIX: &str = "hf://datasets/";

impl WikiTextSource {
    /// Parses `text` (see the module docs); a malformed `hf://datasets/` address is an error
    /// naming it.
    pub fn parse(text: &str) -> Result<Self> {
        let Some(rest) = text.strip_prefix(HF_PREFIX) else {
            return Ok(Self::Folder(PathBuf::from(text)));
        };
        let bad = || DatasetError::Config {
            name: text.to_string(),
            reason: format!(
                "a hub WikiText is written {HF_PREFIX}<org>/<name>[@<revision>]/<config>, e.g. \
                 {HF_PREFIX}{WIKITEXT_REPO}/{WIKITEXT_103_CONFIG} or \
                 {HF_PREFIX}{WIKITEXT_REPO}@main/{WIKITEXT_103_CONFIG}"
            ),
        };
        let parts: Vec<&str> = rest.trim_end_matches('/').split('/').collect();
        let [org, name_rev, config] = parts.as_slice() else {
            return Err(bad());
        };
        let (name, revision) = name_rev.split_once('@').unwrap_or((name_rev, "main"));
        if [*org, name, revision, *config].iter().any(|s| s.is_empty()) {
            return Err(bad());
        }
        Ok(Self::Hub(HubWikiText {
            repo: format!("{org}/{name}"),
            config: config.to_string(),
            revision: revision.to_string(),
        }))
    }

    /// Opens the source; a hub source goes through a client configured by the environment
    /// ([`adamp_hub::Hub::from_env`]: `HF_HUB_OFFLINE`, `HF_ENDPOINT`, `HF_HUB_CACHE` /
    /// `HF_HOME`, `HF_TOKEN`).
    pub fn open(&self) -> Result<WikiText> {
        match self {
            Self::Folder(dir) => open_wikitext(dir),
            Self::Hub(h) => {
                let hub = adamp_hub::Hub::from_env().map_err(|e| DatasetError::Hub {
                    repo: h.repo.clone(),
                    source: e,
                })?;
                self.open_with(&hub)
            }
        }
    }

    /// Opens the source, a hub source through `hub`.
    pub fn open_with(&self, hub: &adamp_hub::Hub) -> Result<WikiText> {
        match self {
            Self::Folder(dir) => open_wikitext(dir),
            Self::Hub(h) => open_wikitext_hub(hub, &h.repo, &h.config, &h.revision),
        }
    }

    /// The folder, for a folder source.
    pub fn folder(&self) -> Option<&Path> {
        match self {
            Self::Folder(dir) => Some(dir),
            Self::Hub(_) => None,
        }
    }
}

impl std::fmt::Display for WikiTextSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Folder(dir) => write!(f, "{}", dir.display()),
            Self::Hub(h) => write!(f, "{HF_PREFIX}{}@{}/{}", h.repo, h.revision, h.config),
        }
    }
}
