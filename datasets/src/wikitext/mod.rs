//! WikiText-103 for language modelling with Transformer-XL (benchmark 13, issue 17): the token
//! files, the vocabulary and the ordered batches as kimiyoung/transformer-xl's `pytorch/`
//! code reads `wt103`, and the embedded stand-in built from the Brown corpus.
//!
//! - [`open_wikitext`]`(dir)` reads `wiki.{train,valid,test}.tokens` (the WikiText-103 release,
//!   or [`brown::install_brown_wikitext`]'s stand-in) into a [`WikiText`]: the [`Vocab`] of the
//!   training file ([`Vocab::from_train_file`], `Vocab.count_file` + `build_vocab`) and each
//!   split's id stream ([`Vocab::encode_file`], `Vocab.encode_file(ordered=True)`, `<eos>` after
//!   every line).
//! - [`Vocab::save_tokenizer`] / [`Vocab::from_tokenizer_file`]: the vocabulary as a Hugging Face
//!   `tokenizers` WordLevel `tokenizer.json` ([`tokenizer`]); [`Vocab::write_vocab_txt`] as a
//!   plain list.
//! - [`open_wikitext_parquet`] / [`open_wikitext_hub_cache`] / [`open_wikitext_hub`]: the same
//!   [`WikiText`] from the hub's parquet files (`Salesforce/wikitext`, config `wikitext-103-v1`,
//!   one `text` row per line; [`hub_parquet`]); [`WikiTextSource`] names either kind of source
//!   (`hf://datasets/Salesforce/wikitext/wikitext-103-v1` or a folder path; [`source`]).
//! - [`OrderedBatches::new`]`(split, &ids, batch, tgt_len, ext_len)`: `LMOrderedIterator`'s
//!   `[tgt_len x batch]` segments with next-token targets ([`batches`]).

pub mod batches;
pub mod brown;
pub mod brown_format;
pub mod hub_parquet;
pub mod lines;
pub mod source;
pub mod tokenizer;
pub mod vocab;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_parquet;

use std::path::{Path, PathBuf};

pub use batches::{OrderedBatches, Segment};
pub use brown::{
    brown_wikitext_dir, build_brown_wikitext_from, install_brown_wikitext,
    install_brown_wikitext_from_tarball, BrownSpec, BROWN_WIKITEXT,
};
pub use hub_parquet::{
    open_wikitext_hub, open_wikitext_hub_cache, open_wikitext_parquet, HUB_SPLITS,
    WIKITEXT_103_CONFIG, WIKITEXT_REPO,
};
pub use source::{HubWikiText, WikiTextSource};
pub use vocab::{Vocab, EOS, UNK};

use crate::error::Result;

/// The three token files of a WikiText folder: train, valid, test.
pub const SPLIT_FILES: [&str; 3] = ["wiki.train.tokens", "wiki.valid.tokens", "wiki.test.tokens"];

/// A WikiText folder read as Transformer-XL's `Corpus(path, 'wt103')` reads it.
#[derive(Debug, Clone)]
pub struct WikiText {
    /// The folder of the token files (for parquet: of the first training file).
    pub dir: PathBuf,
    /// The training file's vocabulary.
    pub vocab: Vocab,
    /// Id streams of train, valid, test.
    pub train: Vec<u32>,
    /// Validation ids.
    pub valid: Vec<u32>,
    /// Test ids.
    pub test: Vec<u32>,
}

/// Reads the folder `dir` (see the module docs); errors name the file and line at fault.
pub fn open_wikitext(dir: &Path) -> Result<WikiText> {
    let [train, valid, test] = SPLIT_FILES.map(|f| dir.join(f));
    let vocab = Vocab::from_train_file(&train)?;
    Ok(WikiText {
        dir: dir.to_path_buf(),
        train: vocab.encode_file(&train)?,
        valid: vocab.encode_file(&valid)?,
        test: vocab.encode_file(&test)?,
        vocab,
    })
}
