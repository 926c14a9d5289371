//! The vocabulary's fingerprint, kept as a task buffer: a checkpoint made with another
//! vocabulary (another corpus, another `tokenizer.json`) is refused when it is loaded, since its
//! embedding rows would mean other words.
//!
//! The fingerprint is the SHA-256 of the symbols in id order, each followed by `\n` (the content
//! of `vocab.txt`), as 8 big-endian `u32` words, plus the vocabulary size.

use adamp_datasets::wikitext::Vocab;
use adamp_task_api::{Result, TaskError};
use candle_core::{Device, Tensor};
use sha2::{Digest, Sha256};

/// Buffer name of the SHA-256 words.
pub const FINGERPRINT_BUFFER: &str = "vocab.sha256";
/// Buffer name of the vocabulary size.
pub const SIZE_BUFFER: &str = "vocab.size";

/// A vocabulary's fingerprint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VocabFingerprint {
    /// SHA-256 of the symbols, as 8 words.
    pub words: [u32; 8],
    /// Number of symbols.
    pub size: u32,
}

impl VocabFingerprint {
    /// The fingerprint of `vocab`.
    pub fn of(vocab: &Vocab) -> Self {
        let mut h = Sha256::new();
        for s in &vocab.itos {
            h.update(s.as_bytes());
            h.update(b"\n");
        }
        let digest = h.finalize();
        let mut words = [0u32; 8];
        for (w, chunk) in words.iter_mut().zip(digest.chunks(4)) {
            *w = u32::from_be_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]);
        }
        Self {
            words,
            size: vocab.len() as u32,
        }
    }

    /// The hash as lower-case hex.
    pub fn hex(&self) -> String {
        self.words.iter().map(|w| format!("{w:08x}")).collect()
    }

    /// The two buffers.
    pub fn buffers(&self, device: &Device) -> Result<Vec<(String, Tensor)>> {
        Ok(vec![
            (
                FINGERPRINT_BUFFER.to_string(),
                Tensor::from_slice(&self.words, 8, device)?,
            ),
            (
                SIZE_BUFFER.to_string(),
                Tensor::from_slice(&[self.size], 1, device)?,
            ),
        ])
    }

    /// Checks the saved buffers against this fingerprint; a missing buffer or another vocabulary
    /// is an error saying which.
    pub fn check_saved(&self, buffers: &[(String, Tensor)], source: &str) -> Result<()> {
        let read = |name: &str, len: usize| -> Result<Vec<u32>> {
            let t = buffers
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, t)| t)
                .ok_or_else(|| {
                    TaskError::State(format!(
                        "buffer `{name}` (the vocabulary's fingerprint) is missing: the checkpoint \
                         is not a language-model run's"
                    ))
                })?;
            let v: Vec<u32> = t
                .flatten_all()?
                .to_dtype(candle_core::DType::U32)?
                .to_vec1()?;
            if v.len() != len {
                return Err(TaskError::State(format!(
                    "buffer `{name}` holds {} values, expected {len}",
                    v.len()
                )));
            }
            Ok(v)
        };
        let words = read(FINGERPRINT_BUFFER, 8)?;
        let size = read(SIZE_BUFFER, 1)?[0];
        let saved = VocabFingerprint {
            words: words.try_into().expect("8 words"),
            size,
        };
        if saved != *self {
            return Err(TaskError::State(format!(
                "vocabulary mismatch: the checkpoint was trained with a vocabulary of {} symbols \
                 (fingerprint {}), this run's vocabulary from {source} has {} symbols (fingerprint \
                 {}); resume with the data the run started with",
                saved.size,
                saved.hex(),
                self.size,
                self.hex()
            )));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn vocab(words: &[&str]) -> Vocab {
        let mut itos = vec!["<eos>".to_string()];
        itos.extend(words.iter().map(|w| w.to_string()));
        Vocab::from_itos(itos, Path::new("test")).unwrap()
    }

    #[test]
    fn the_same_vocabulary_passes_and_another_is_named() {
        let a = VocabFingerprint::of(&vocab(&["the", "cat"]));
        let saved = a.buffers(&Device::Cpu).unwrap();
        a.check_saved(&saved, "here").unwrap();
        // Same size, another order: other ids, refused.
        let b = VocabFingerprint::of(&vocab(&["cat", "the"]));
        assert_eq!(a.size, b.size);
        let e = b.check_saved(&saved, "data/x").unwrap_err().to_string();
        assert!(
            e.contains("vocabulary mismatch") && e.contains("data/x"),
            "{e}"
        );
        assert!(e.contains(&a.hex()) && e.contains(&b.hex()), "{e}");
        let e = a.check_saved(&saved[..1], "here").unwrap_err().to_string();
        assert!(e.contains(SIZE_BUFFER), "{e}");
    }
}
