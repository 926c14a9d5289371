//! Opening the corpus a `[data]` table names: a WikiText folder (the real WikiText-103 or the
//! Brown stand-in, built first when `fetch` asks), or the Hugging Face hub parquet; then the
//! optional `train_tokens` limit. Everything here runs before anything is written.

use adamp_datasets::wikitext::{open_wikitext, HubWikiText, WikiText, WikiTextSource};
use adamp_task_api::factory::invalid;
use adamp_task_api::{Result, TaskError};

use crate::data_settings::{HubSettings, LmDataSettings, Source, StandIn};

pub(crate) fn data_err(e: adamp_datasets::DatasetError) -> TaskError {
    TaskError::Other(e.to_string())
}

/// The corpus of a run and where it came from.
#[derive(Debug, Clone)]
pub struct Corpus {
    /// Vocabulary and the three id streams (the training stream cut to `train_tokens`).
    pub text: WikiText,
    /// Where it was read from, for the run's description and errors.
    pub source: String,
    /// Ids of the whole training stream before the `train_tokens` cut.
    pub train_total: usize,
}

fn install(s: StandIn) -> Result<()> {
    let root = adamp_datasets::fetch::data_root(None);
    match s {
        StandIn::Brown => adamp_datasets::wikitext::install_brown_wikitext(&root)
            .map(|_| ())
            .map_err(data_err),
    }
}

/// The hub parquet through a client configured by the environment (`HF_HUB_OFFLINE`,
/// `HF_ENDPOINT`, `HF_HUB_CACHE` / `HF_HOME`, `HF_TOKEN`): only the config's three splits are
/// downloaded, or read from the cache.
fn open_hub(h: &HubSettings) -> Result<WikiText> {
    WikiTextSource::Hub(HubWikiText {
        repo: h.repo.clone(),
        config: h.config.clone(),
        revision: h.revision.clone(),
    })
    .open()
    .map_err(data_err)
}

/// Reads the corpus of `data` (see the module docs); errors name the file or key at fault.
pub fn open(data: &LmDataSettings) -> Result<Corpus> {
    data.validate()?;
    let (mut text, source) = match data.source() {
        Source::Folder { dir, fetch } => {
            if let Some(s) = fetch {
                install(s)?;
            }
            let text = open_wikitext(&dir).map_err(|e| match (data.stand_in, data.fetch) {
                (Some(_), false) => TaskError::Other(format!(
                    "{e} (the stand-in is built by `adamp data fetch`, or set data.fetch = true)"
                )),
                _ => data_err(e),
            })?;
            (text, dir.display().to_string())
        }
        Source::Hub(h) => {
            let text = open_hub(&h)?;
            (
                text,
                format!(
                    "hub dataset {} ({}, revision {})",
                    h.repo, h.config, h.revision
                ),
            )
        }
    };
    let train_total = text.train.len();
    if let Some(n) = data.train_tokens {
        if n > train_total {
            return Err(invalid(
                "data.train_tokens",
                format!(
                    "at most the {train_total} ids of the training stream of {source}, got {n}"
                ),
            ));
        }
        text.train.truncate(n);
    }
    Ok(Corpus {
        text,
        source,
        train_total,
    })
}
