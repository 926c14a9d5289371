//! Lines and symbols as Transformer-XL's `Vocab.tokenize` (`pytorch/utils/vocabulary.py`) sees
//! them: the file is read as UTF-8 text with Python's universal newlines (`\n`, `\r\n` and `\r`
//! end a line; a last line without a newline still counts), and a line's symbols are
//! `line.strip().split()`: runs of Python whitespace (Unicode White_Space plus the separators
//! U+001C..U+001F, which Python's `str.split` also splits on).
//!
//! One rule is stricter than the reference: a non-empty token file must hold at least one line
//! end ([`require_line_end`]). Transformer-XL appends `<eos>` to every line, and a WikiText file
//! ends each of its lines (blank ones too) with `\n`; a file without a single `\n` or `\r` is
//! one unterminated run of text (a file in another format, or a stream with its newlines
//! stripped), which the reference would read as ONE sentence with a single `<eos>` at its end.
//! Such a file is refused, naming it. A file whose lines end in `\n` except the last is still read
//! as the reference reads it (the last line counts and gets its `<eos>`).

use std::path::Path;

use crate::error::{DatasetError, Result};

/// Whether Python's `str.split()` (no argument) splits on `c`.
pub fn is_py_whitespace(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

/// The symbols of one line, `line.strip().split()`.
pub fn symbols(line: &str) -> impl Iterator<Item = &str> {
    line.split(is_py_whitespace).filter(|s| !s.is_empty())
}

/// The lines of `text` as Python's text-mode file iteration yields them (newline removed).
pub fn py_lines(text: &str) -> Vec<&str> {
    let mut lines = Vec::new();
    let bytes = text.as_bytes();
    let (mut start, mut i) = (0, 0);
    while i < bytes.len() {
        match bytes[i] {
            b'\n' => {
                lines.push(&text[start..i]);
                i += 1;
                start = i;
            }
            b'\r' => {
                lines.push(&text[start..i]);
                i += if bytes.get(i + 1) == Some(&b'\n') {
                    2
                } else {
                    1
                };
                start = i;
            }
            _ => i += 1,
        }
    }
    if start < bytes.len() {
        lines.push(&text[start..]);
    }
    lines
}

/// The whole of a token file as text; a missing file is [`DatasetError::Missing`] with `hint`,
/// bytes that are not UTF-8 a [`DatasetError::Line`] naming the line.
pub fn read_text(path: &Path, hint: &str) -> Result<String> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(DatasetError::Missing {
                path: path.to_path_buf(),
                what: "a WikiText token file".into(),
                hint: hint.to_string(),
            })
        }
        Err(e) => return Err(DatasetError::io(path, e)),
    };
    String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        let line = 1 + e.as_bytes()[..at].iter().filter(|&&b| b == b'\n').count();
        DatasetError::Line {
            path: path.to_path_buf(),
            line,
            reason: format!("not UTF-8 text (byte {at})"),
        }
    })
}

/// Refuses a non-empty `text` of the token file `path` that holds no line end at all (see the
/// module docs); an empty text passes (the callers refuse it with their own message).
pub fn require_line_end(path: &Path, text: &str) -> Result<()> {
    if !text.is_empty() && !text.bytes().any(|b| b == b'\n' || b == b'\r') {
        return Err(DatasetError::Line {
            path: path.to_path_buf(),
            line: 1,
            reason: format!(
                "{} bytes without a single line end: not a line-structured WikiText token file \
                 (every line, blank ones too, ends with a newline and gets an <eos>; this text \
                 would be one sentence with a single <eos>)",
                text.len()
            ),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_follow_python_universal_newlines() {
        assert_eq!(py_lines("a\nb\r\nc\rd"), vec!["a", "b", "c", "d"]);
        assert_eq!(py_lines(" \n\n"), vec![" ", ""]);
        assert!(py_lines("").is_empty());
    }

    #[test]
    fn symbols_are_python_strip_split() {
        let s: Vec<&str> = symbols(" = Valkyria\tChronicles\u{a0}III = \u{1f}x ").collect();
        assert_eq!(s, vec!["=", "Valkyria", "Chronicles", "III", "=", "x"]);
        assert_eq!(symbols("   ").count(), 0);
    }
}
