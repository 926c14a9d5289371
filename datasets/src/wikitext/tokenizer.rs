//! The vocabulary as a Hugging Face `tokenizers` WordLevel tokenizer, saved as `tokenizer.json`
//! beside a run's results so the run's ids can be read back exactly.
//!
//! The tokenizer is: a `WhitespaceSplit` pre-tokenizer (Rust's Unicode whitespace, which is
//! Python's `str.split()` less U+001C..U+001F), a `WordLevel` model over [`Vocab::itos`] (ids as
//! in the vocabulary) with unknown token `<unk>`, and a `TemplateProcessing` post-processor
//! `$A <eos>` that appends `<eos>` (id 0) as `Vocab.tokenize(line, add_eos=True)` does. So
//! `tokenizer.encode(line, true)` is [`Vocab::encode_line`] for any line of the corpus. One
//! difference: where `<unk>` is in the vocabulary (WikiText), the tokenizer maps an unknown
//! symbol to it, while [`Vocab::encode_file`] (like the reference's `wt103`) refuses it; where
//! `<unk>` is not, the tokenizer refuses it too.

use std::path::Path;

use tokenizers::models::wordlevel::WordLevel;
use tokenizers::pre_tokenizers::whitespace::WhitespaceSplit;
use tokenizers::processors::template::TemplateProcessing;
use tokenizers::Tokenizer;

use super::vocab::{Vocab, EOS, UNK};
use crate::error::{DatasetError, Result};

fn tok_err(path: &Path, what: &str, e: impl std::fmt::Display) -> DatasetError {
    DatasetError::format(path, format!("{what}: {e}"))
}

impl Vocab {
    /// The WordLevel tokenizer of this vocabulary (see the module docs).
    pub fn to_tokenizer(&self) -> Result<Tokenizer> {
        let here = Path::new("<in-memory tokenizer>");
        let vocab: serde_json::Map<String, serde_json::Value> = self
            .itos
            .iter()
            .enumerate()
            .map(|(id, s)| (s.clone(), serde_json::Value::from(id)))
            .collect();
        let model: WordLevel = serde_json::from_value(serde_json::json!({
            "vocab": vocab,
            "unk_token": UNK,
        }))
        .map_err(|e| tok_err(here, "building the WordLevel model", e))?;
        let post = TemplateProcessing::builder()
            .try_single(format!("$A {EOS}"))
            .map_err(|e| tok_err(here, "the <eos> template", e))?
            .special_tokens(vec![(EOS, self.eos())])
            .build()
            .map_err(|e| tok_err(here, "the <eos> template", e))?;
        let mut tokenizer = Tokenizer::new(model);
        tokenizer
            .with_pre_tokenizer(Some(WhitespaceSplit))
            .with_post_processor(Some(post));
        Ok(tokenizer)
    }

    /// Saves [`Vocab::to_tokenizer`] as `path` (pretty JSON, the vocabulary in id order).
    pub fn save_tokenizer(&self, path: &Path) -> Result<()> {
        self.to_tokenizer()?
            .save(path, true)
            .map_err(|e| tok_err(path, "writing tokenizer.json", e))
    }

    /// The vocabulary of a `tokenizer.json` written by [`Vocab::save_tokenizer`]: its model's
    /// symbols in id order. Ids must run 0..n without a gap and id 0 must be `<eos>`.
    pub fn from_tokenizer_file(path: &Path) -> Result<Self> {
        if !path.is_file() {
            return Err(DatasetError::Missing {
                path: path.to_path_buf(),
                what: "a tokenizer.json".into(),
                hint: "it is written beside a language-model run's results".into(),
            });
        }
        let tokenizer =
            Tokenizer::from_file(path).map_err(|e| tok_err(path, "reading tokenizer.json", e))?;
        let mut pairs: Vec<(u32, String)> = tokenizer
            .get_vocab(false)
            .into_iter()
            .map(|(s, id)| (id, s))
            .collect();
        pairs.sort_unstable();
        if let Some(gap) = pairs
            .iter()
            .enumerate()
            .find(|(i, (id, _))| *id as usize != *i)
        {
            return Err(DatasetError::format(
                path,
                format!(
                    "the model's ids have a gap: id {} at position {}",
                    gap.1 .0, gap.0
                ),
            ));
        }
        Self::from_itos(pairs.into_iter().map(|(_, s)| s).collect(), path)
    }
}
