//! The word vocabulary of Transformer-XL's `wt103` corpus (`pytorch/utils/vocabulary.py`
//! `Vocab` as `data_utils.get_lm_corpus` makes it: `special=['<eos>']`, `lower_case=False`,
//! `delimiter=None`, `min_freq=0`, `max_size=None`).
//!
//! - `Vocab.build_vocab`: `<eos>` (the one special) is id 0; then every symbol that
//!   `Vocab.count_file(train)` counted (`add_eos=False`: `<eos>` itself is not counted) in
//!   `Counter.most_common()` order: by count, descending, ties in order of first appearance
//!   (Python's sort is stable and `Counter` keeps insertion order).
//! - `Vocab.encode_file(path, ordered=True)` (`add_eos=True`): every line, blank ones included,
//!   is its symbols followed by `<eos>`, all lines concatenated into one stream.
//! - WikiText's `<unk>` is an ordinary symbol of the train file. `Vocab.get_idx` maps an unknown
//!   symbol to `unk_idx`, which only a special `<unk>` (or a vocab file's `<UNK>`) sets; `wt103`
//!   has neither, so there an unknown symbol is an `AssertionError`. [`Vocab::encode_file`] is
//!   as strict: a symbol not in the vocabulary is an error naming the file and line (WikiText's
//!   valid and test files have none by construction).

use std::collections::HashMap;
use std::path::Path;

use super::lines::{py_lines, read_text, require_line_end, symbols};
use crate::error::{DatasetError, Result};

/// The end-of-line symbol, id 0.
pub const EOS: &str = "<eos>";
/// WikiText's rare-word symbol (an ordinary symbol of the files).
pub const UNK: &str = "<unk>";

/// What to do about a token file that is missing (printed in the error).
const HINT: &str = "a WikiText folder holds wiki.train.tokens, wiki.valid.tokens and \
wiki.test.tokens; run `adamp data fetch` for the embedded Brown-corpus stand-in";

/// The reason given for a symbol of a valid or test line that the training split lacks.
pub fn unknown_symbol(symbol: &str) -> String {
    format!(
        "symbol `{symbol}` is not in the vocabulary of the training split (the reference asserts \
         here too: wt103 has no <unk> fallback)"
    )
}

/// Symbols and their ids: `itos[id]` is the symbol, `stoi[symbol]` its id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vocab {
    /// Symbols by id (`idx2sym`); `itos[0]` is `<eos>`.
    pub itos: Vec<String>,
    /// Ids by symbol (`sym2idx`).
    pub stoi: HashMap<String, u32>,
}

impl Vocab {
    /// The vocabulary of a symbol list in id order; `itos[0]` must be `<eos>` and no symbol may
    /// repeat (`source` names where the list came from, for the error).
    pub fn from_itos(itos: Vec<String>, source: &Path) -> Result<Self> {
        if itos.first().map(String::as_str) != Some(EOS) {
            return Err(DatasetError::format(source, format!("id 0 is not {EOS}")));
        }
        let mut stoi = HashMap::with_capacity(itos.len());
        for (id, s) in itos.iter().enumerate() {
            let id = u32::try_from(id)
                .map_err(|_| DatasetError::format(source, "more than 2^32 symbols"))?;
            if stoi.insert(s.clone(), id).is_some() {
                return Err(DatasetError::format(
                    source,
                    format!("symbol `{s}` appears twice"),
                ));
            }
        }
        Ok(Self { itos, stoi })
    }

    /// `Vocab.count_file(train)` + `Vocab.build_vocab()` (see the module docs). A missing file,
    /// a non-empty file without a line end ([`super::lines::require_line_end`]) or one without a
    /// single symbol is an error naming it.
    pub fn from_train_file(path: &Path) -> Result<Self> {
        let text = read_text(path, HINT)?;
        require_line_end(path, &text)?;
        Self::from_lines(&py_lines(&text), path)
    }

    /// [`Vocab::from_train_file`] on the training split's lines (newlines removed), wherever they
    /// were read from; `source` names them in the error for a split without a single symbol.
    pub fn from_lines<S: AsRef<str>>(lines: &[S], source: &Path) -> Result<Self> {
        let mut counts: HashMap<&str, (u64, usize)> = HashMap::new();
        let mut order: Vec<&str> = Vec::new();
        for line in lines {
            for s in symbols(line.as_ref()) {
                let entry = counts.entry(s).or_insert_with(|| {
                    order.push(s);
                    (0, order.len() - 1)
                });
                entry.0 += 1;
            }
        }
        if order.is_empty() {
            return Err(DatasetError::format(
                source,
                "the training split holds no words (empty or blank lines only)",
            ));
        }
        let mut ranked: Vec<(&str, u64, usize)> = order
            .iter()
            .map(|s| (*s, counts[s].0, counts[s].1))
            .collect();
        ranked.sort_by(|a, b| b.1.cmp(&a.1).then(a.2.cmp(&b.2)));
        let mut itos = vec![EOS.to_string()];
        itos.extend(
            ranked
                .into_iter()
                .filter(|(s, ..)| *s != EOS)
                .map(|(s, ..)| s.to_string()),
        );
        Self::from_itos(itos, source)
    }

    /// Number of symbols.
    pub fn len(&self) -> usize {
        self.itos.len()
    }

    /// Never true (`<eos>` is always there); for clippy's `len_without_is_empty`.
    pub fn is_empty(&self) -> bool {
        self.itos.is_empty()
    }

    /// The id of `symbol`, if it is in the vocabulary.
    pub fn id(&self, symbol: &str) -> Option<u32> {
        self.stoi.get(symbol).copied()
    }

    /// The id of `<eos>` (0).
    pub fn eos(&self) -> u32 {
        0
    }

    /// The symbol of `id`, if in range.
    pub fn symbol(&self, id: u32) -> Option<&str> {
        self.itos.get(id as usize).map(String::as_str)
    }

    /// The ids of one line's symbols followed by `<eos>` (`Vocab.tokenize(line, add_eos=True)`
    /// + `get_indices`); `Err(symbol)` for the first symbol not in the vocabulary.
    pub fn encode_line<'l>(
        &self,
        line: &'l str,
        out: &mut Vec<u32>,
    ) -> std::result::Result<(), &'l str> {
        for s in symbols(line) {
            out.push(self.id(s).ok_or(s)?);
        }
        out.push(self.eos());
        Ok(())
    }

    /// `Vocab.encode_file(path, ordered=True)`: the whole file as one id stream (see the module
    /// docs). Errors name the file, and the line where one is at fault: a missing file, an
    /// empty file (no line, so no `<eos>`), a non-empty file without a line end
    /// ([`super::lines::require_line_end`]), a symbol not in the vocabulary.
    pub fn encode_file(&self, path: &Path) -> Result<Vec<u32>> {
        let text = read_text(path, HINT)?;
        let lines = py_lines(&text);
        if lines.is_empty() {
            return Err(DatasetError::format(
                path,
                "the file is empty: no line, so no <eos>-ended sentence to read",
            ));
        }
        require_line_end(path, &text)?;
        self.encode_lines(&lines, |n, s| DatasetError::Line {
            path: path.to_path_buf(),
            line: n + 1,
            reason: unknown_symbol(s),
        })
    }

    /// [`Vocab::encode_file`] on a split's lines (newlines removed), wherever they were read
    /// from: each line's symbols and `<eos>`, concatenated. `unknown(n, symbol)` makes the error
    /// for the first symbol not in the vocabulary, on line `n` (0-based) of `lines`.
    pub fn encode_lines<S: AsRef<str>>(
        &self,
        lines: &[S],
        unknown: impl Fn(usize, &str) -> DatasetError,
    ) -> Result<Vec<u32>> {
        let bytes: usize = lines.iter().map(|l| l.as_ref().len()).sum();
        let mut out = Vec::with_capacity(bytes / 5 + lines.len());
        for (n, line) in lines.iter().enumerate() {
            self.encode_line(line.as_ref(), &mut out)
                .map_err(|s| unknown(n, s))?;
        }
        Ok(out)
    }

    /// Writes `vocab.txt`: one symbol per line, in id order (the layout Transformer-XL's
    /// `Vocab._build_from_file` reads, first field of each line).
    pub fn write_vocab_txt(&self, path: &Path) -> Result<()> {
        let mut text = String::new();
        for s in &self.itos {
            text.push_str(s);
            text.push('\n');
        }
        std::fs::write(path, text).map_err(|e| DatasetError::io(path, e))
    }
}
