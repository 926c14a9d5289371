//! Tests of WikiText from the hub's parquet files: the same `WikiText` as the token folder with
//! the same lines, the hub download of only the config's splits, and the errors on bad input.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use parquet::data_type::{ByteArray, ByteArrayType, Int64Type};
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::parser::parse_message_type;

use super::hub_parquet::{is_config_split_file, row_line};
use super::*;
use crate::testdata_wikitext::{
    hub_rows, tiny_wikitext_lines, write_text_parquet, write_tiny_wikitext,
    write_tiny_wikitext_hub_cache, TINY_EVAL_TOKENS, TINY_TRAIN_TOKENS, TINY_WIKITEXT_COMMIT,
};

fn assert_same(a: &WikiText, b: &WikiText) {
    assert_eq!(a.vocab.itos, b.vocab.itos);
    assert_eq!(a.train, b.train);
    assert_eq!(a.valid, b.valid);
    assert_eq!(a.test, b.test);
}

/// The config folder of the tiny cache in `cache`.
fn config_dir(cache: &Path) -> PathBuf {
    cache
        .join("datasets--Salesforce--wikitext/snapshots")
        .join(TINY_WIKITEXT_COMMIT)
        .join(WIKITEXT_103_CONFIG)
}

fn open_cache(cache: &Path) -> crate::Result<WikiText> {
    open_wikitext_hub_cache(cache, WIKITEXT_REPO, WIKITEXT_103_CONFIG, "main")
}

/// Writes a one-column parquet file `message schema { <column> }` with `values` (None: null).
fn write_int_parquet(path: &Path, column: &str, values: &[i64]) {
    let schema = Arc::new(parse_message_type(&format!("message schema {{ {column} }}")).unwrap());
    let file = std::fs::File::create(path).unwrap();
    let mut w =
        SerializedFileWriter::new(file, schema, Arc::new(WriterProperties::default())).unwrap();
    let mut rg = w.next_row_group().unwrap();
    let mut col = rg.next_column().unwrap().unwrap();
    col.typed::<Int64Type>()
        .write_batch(values, Some(&vec![1; values.len()]), None)
        .unwrap();
    col.close().unwrap();
    rg.close().unwrap();
    w.close().unwrap();
}

/// Writes a `text` column with a null between two rows.
fn write_text_with_null(path: &Path) {
    let schema =
        Arc::new(parse_message_type("message schema { optional binary text (STRING); }").unwrap());
    let file = std::fs::File::create(path).unwrap();
    let mut w =
        SerializedFileWriter::new(file, schema, Arc::new(WriterProperties::default())).unwrap();
    let mut rg = w.next_row_group().unwrap();
    let mut col = rg.next_column().unwrap().unwrap();
    let values = [ByteArray::from(" the \n"), ByteArray::from(" a \n")];
    col.typed::<ByteArrayType>()
        .write_batch(&values, Some(&[1, 0, 1]), None)
        .unwrap();
    col.close().unwrap();
    rg.close().unwrap();
    w.close().unwrap();
}

#[test]
fn the_hub_cache_reads_as_the_token_folder_with_the_same_lines() {
    let t = tempfile::tempdir().unwrap();
    let folder = t.path().join("wikitext-103");
    let lines = write_tiny_wikitext(&folder, 3).unwrap();
    let (snap, same) = write_tiny_wikitext_hub_cache(&t.path().join("hub"), 3).unwrap();
    assert_eq!(lines, same);
    let from_folder = open_wikitext(&folder).unwrap();
    let from_cache = open_cache(&t.path().join("hub")).unwrap();
    assert_same(&from_folder, &from_cache);
    assert_eq!(from_cache.dir, snap.join(WIKITEXT_103_CONFIG));
    // By commit, and through WikiTextSource's folder kind, the same again.
    let by_commit = open_wikitext_hub_cache(
        &t.path().join("hub"),
        WIKITEXT_REPO,
        WIKITEXT_103_CONFIG,
        TINY_WIKITEXT_COMMIT,
    )
    .unwrap();
    assert_same(&from_folder, &by_commit);
    assert_same(
        &from_folder,
        &WikiTextSource::Folder(folder.clone()).open().unwrap(),
    );
    // The other config (wikitext-2-v1, 40 lines per split) reads to other streams.
    let other = open_wikitext_hub_cache(
        &t.path().join("hub"),
        WIKITEXT_REPO,
        "wikitext-2-v1",
        "main",
    )
    .unwrap();
    assert!(other.train.len() < from_folder.train.len() / 4);
    // Rows without their "\n", or ended by "\r\n", are the same lines.
    let cfg = config_dir(&t.path().join("hub"));
    let bare: Vec<String> = lines.valid.clone();
    write_text_parquet(&cfg.join("validation-00000-of-00001.parquet"), &bare, 7).unwrap();
    let crlf: Vec<String> = lines.test.iter().map(|l| format!("{l}\r\n")).collect();
    write_text_parquet(&cfg.join("test-00000-of-00001.parquet"), &crlf, 1000).unwrap();
    assert_same(&from_folder, &open_cache(&t.path().join("hub")).unwrap());
}

#[test]
fn the_tiny_corpus_looks_like_wikitext_and_is_big_enough_for_a_run() {
    let t = tempfile::tempdir().unwrap();
    let lines = write_tiny_wikitext(t.path(), 0).unwrap();
    assert_eq!(lines, tiny_wikitext_lines(0));
    assert_ne!(lines, tiny_wikitext_lines(1));
    let text = std::fs::read_to_string(t.path().join("wiki.train.tokens")).unwrap();
    assert!(
        text.starts_with(" \n = Glossary = \n \n "),
        "{}",
        &text[..40]
    );
    for needle in [" = = ", " @-@ ", " @,@ ", " @.@ ", " <unk> ", " 1914 "] {
        assert!(text.contains(needle), "{needle}");
    }
    let wt = open_wikitext(t.path()).unwrap();
    assert!(wt.train.len() >= TINY_TRAIN_TOKENS, "{}", wt.train.len());
    assert!(wt.valid.len() >= TINY_EVAL_TOKENS && wt.test.len() >= TINY_EVAL_TOKENS);
    assert!(wt.valid.len() < 2 * TINY_EVAL_TOKENS + 200);
    // The most common symbols are the text's glue, as in the release ("the", ".").
    let head: Vec<&str> = wt.vocab.itos[1..4].iter().map(String::as_str).collect();
    assert!(head.contains(&"the") && head.contains(&"."), "{head:?}");
    for (split, ids) in [
        ("train", &wt.train),
        ("valid", &wt.valid),
        ("test", &wt.test),
    ] {
        let b = OrderedBatches::new(split, ids, 4, 8, 0).unwrap();
        assert!(b.n_batches() >= 2 * 8, "{split}: {}", b.n_batches());
    }
    // The hub rows are the script's: the line with "\n", "" for a blank line.
    let rows = hub_rows(&lines.train);
    assert_eq!(rows[0], "");
    assert_eq!(rows[1], " = Glossary = \n");
}

/// The hub path: only the parquet files of the config's three splits are downloaded; offline,
/// the cached copy is read without a request.
#[test]
fn the_hub_downloads_only_the_config_splits_and_reads_them_offline() {
    use adamp_hub::mock::{MockHub, MockRepo};
    use adamp_hub::{Hub, HubOptions, RepoKind};
    let t = tempfile::tempdir().unwrap();
    let (snap, _) = write_tiny_wikitext_hub_cache(&t.path().join("source"), 5).unwrap();
    let mut files = std::collections::BTreeMap::new();
    for config in [WIKITEXT_103_CONFIG, "wikitext-2-v1"] {
        for e in std::fs::read_dir(snap.join(config)).unwrap() {
            let p = e.unwrap().path();
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            files.insert(format!("{config}/{name}"), std::fs::read(&p).unwrap());
        }
    }
    files.insert("README.md".into(), b"# wikitext".to_vec());
    let server =
        MockHub::start(vec![MockRepo::new(RepoKind::Dataset, WIKITEXT_REPO, files)]).unwrap();
    let cache = t.path().join("cache");
    let hub = |offline| {
        Hub::new(HubOptions {
            endpoint: Some(server.endpoint()),
            cache_dir: Some(cache.clone()),
            offline,
            attempts: Some(1),
        })
        .unwrap()
    };
    let source = WikiTextSource::Hub(HubWikiText::wikitext_103());
    let online = source.open_with(&hub(false)).unwrap();
    let expect = open_wikitext_hub_cache(
        &t.path().join("source"),
        WIKITEXT_REPO,
        WIKITEXT_103_CONFIG,
        "main",
    )
    .unwrap();
    assert_same(&expect, &online);
    let got = hub(false)
        .snapshot_dir(RepoKind::Dataset, WIKITEXT_REPO, "main")
        .unwrap();
    let mut listed: Vec<String> = Vec::new();
    for e in std::fs::read_dir(&got).unwrap() {
        let p = e.unwrap().path();
        for f in std::fs::read_dir(&p).unwrap() {
            listed.push(format!(
                "{}/{}",
                p.file_name().unwrap().to_string_lossy(),
                f.unwrap().file_name().to_string_lossy()
            ));
        }
    }
    listed.sort();
    assert_eq!(
        listed,
        [
            "wikitext-103-v1/test-00000-of-00001.parquet",
            "wikitext-103-v1/train-00000-of-00002.parquet",
            "wikitext-103-v1/train-00001-of-00002.parquet",
            "wikitext-103-v1/validation-00000-of-00001.parquet",
        ]
    );
    let before = server.requests();
    let offline = source.open_with(&hub(true)).unwrap();
    assert_same(&expect, &offline);
    assert_eq!(server.requests(), before);
    // A config the repository does not have: the message names it and lists what is there.
    let absent = WikiTextSource::Hub(HubWikiText {
        config: "wikitext-9-v1".into(),
        ..HubWikiText::wikitext_103()
    });
    let msg = absent.open_with(&hub(false)).unwrap_err().to_string();
    assert!(
        msg.contains("Salesforce/wikitext")
            && msg.contains("config `wikitext-9-v1`")
            && msg.contains("wikitext-103-v1/test-00000-of-00001.parquet"),
        "{msg}"
    );
}

#[test]
fn config_split_files_follow_the_repository_layout() {
    for (path, config, split, yes) in [
        (
            "wikitext-103-v1/train-00000-of-00002.parquet",
            "wikitext-103-v1",
            "train",
            true,
        ),
        (
            "wikitext-103-v1/validation-00000-of-00001.parquet",
            "wikitext-103-v1",
            "validation",
            true,
        ),
        (
            "wikitext-103-v1/test/0000.parquet",
            "wikitext-103-v1",
            "test",
            true,
        ),
        (
            "wikitext-103-raw-v1/train-00000-of-00002.parquet",
            "wikitext-103-v1",
            "train",
            false,
        ),
        (
            "wikitext-103-v1/validation-00000-of-00001.parquet",
            "wikitext-103-v1",
            "train",
            false,
        ),
        (
            "train-00000-of-00002.parquet",
            "wikitext-103-v1",
            "train",
            false,
        ),
        (
            "wikitext-103-v1x/train-00000-of-00002.parquet",
            "wikitext-103-v1",
            "train",
            false,
        ),
    ] {
        assert_eq!(is_config_split_file(path, config, split), yes, "{path}");
    }
    assert_eq!(row_line(" a b \n"), Some(" a b "));
    assert_eq!(row_line(" a b \r\n"), Some(" a b "));
    assert_eq!(row_line(" a b "), Some(" a b "));
    assert_eq!(row_line(""), Some(""));
    assert_eq!(row_line("\n"), Some(""));
    assert_eq!(row_line(" a \n b \n"), None);
    assert_eq!(row_line(" a \r b"), None);
}

#[test]
fn sources_parse_from_text() {
    let s = WikiTextSource::parse("hf://datasets/Salesforce/wikitext/wikitext-103-v1").unwrap();
    assert_eq!(s, WikiTextSource::Hub(HubWikiText::wikitext_103()));
    assert_eq!(
        s.to_string(),
        "hf://datasets/Salesforce/wikitext@main/wikitext-103-v1"
    );
    assert_eq!(WikiTextSource::parse(&s.to_string()).unwrap(), s);
    let pinned =
        WikiTextSource::parse(&format!("hf://datasets/org/wt@{TINY_WIKITEXT_COMMIT}/cfg/"))
            .unwrap();
    assert_eq!(
        pinned,
        WikiTextSource::Hub(HubWikiText {
            repo: "org/wt".into(),
            config: "cfg".into(),
            revision: TINY_WIKITEXT_COMMIT.into(),
        })
    );
    let folder = WikiTextSource::parse("data/wikitext-103").unwrap();
    assert_eq!(folder.folder(), Some(Path::new("data/wikitext-103")));
    for bad in [
        "hf://datasets/Salesforce/wikitext",
        "hf://datasets/Salesforce/wikitext@/wikitext-103-v1",
        "hf://datasets//wikitext/wikitext-103-v1",
        "hf://datasets/a/b/c/d",
    ] {
        let msg = WikiTextSource::parse(bad).unwrap_err().to_string();
        assert!(
            msg.contains(bad) && msg.contains("hf://datasets/<org>/<name>"),
            "{msg}"
        );
    }
}

#[test]
fn bad_parquet_input_is_named() {
    let t = tempfile::tempdir().unwrap();
    let cache = t.path();
    let (_, lines) = write_tiny_wikitext_hub_cache(cache, 2).unwrap();
    let cfg = config_dir(cache);
    let valid = cfg.join("validation-00000-of-00001.parquet");
    let err_of = || open_cache(cache).unwrap_err().to_string();

    // No `text` column: the file and its columns are named.
    write_int_parquet(&valid, "optional int64 label;", &[1, 2]);
    let msg = err_of();
    assert!(
        msg.contains("validation-00000-of-00001.parquet")
            && msg.contains("no `text` column (columns: label)"),
        "{msg}"
    );
    // A `text` column that is not a string.
    write_int_parquet(&valid, "optional int64 text;", &[1, 2]);
    let msg = err_of();
    assert!(
        msg.contains("validation-00000-of-00001.parquet")
            && msg.contains("`text` is not a string column"),
        "{msg}"
    );
    // A null row, and a row of two lines: file and row named.
    write_text_with_null(&valid);
    let msg = err_of();
    assert!(
        msg.contains("validation-00000-of-00001.parquet") && msg.contains("row 1: `text` is null"),
        "{msg}"
    );
    write_text_parquet(&valid, &[" the \n".into(), " a \n a \n".into()], 10).unwrap();
    let msg = err_of();
    assert!(
        msg.contains("validation-00000-of-00001.parquet")
            && msg.contains("row 1: `text` holds a line end"),
        "{msg}"
    );
    // Not a parquet file at all.
    std::fs::write(&valid, " the \n").unwrap();
    let msg = err_of();
    assert!(
        msg.contains("validation-00000-of-00001.parquet") && msg.contains("not a readable parquet"),
        "{msg}"
    );
    // An empty split: files without a row.
    write_text_parquet(&valid, &[], 1).unwrap();
    let msg = err_of();
    assert!(
        msg.contains(WIKITEXT_103_CONFIG) && msg.contains("split `validation` is empty"),
        "{msg}"
    );
    // A split with no parquet files.
    std::fs::remove_file(&valid).unwrap();
    let msg = err_of();
    assert!(
        msg.contains(WIKITEXT_103_CONFIG) && msg.contains("parquet files of split `validation`"),
        "{msg}"
    );
    // A missing shard of the training split.
    write_text_parquet(&valid, &hub_rows(&lines.valid), 100).unwrap();
    assert!(open_cache(cache).is_ok());
    let shard = cfg.join("train-00001-of-00002.parquet");
    let kept = std::fs::read(&shard).unwrap();
    std::fs::remove_file(&shard).unwrap();
    let msg = err_of();
    assert!(msg.contains("shard 1 of 2"), "{msg}");
    std::fs::write(&shard, kept).unwrap();
    // A test symbol the training split lacks: file and row named.
    let mut test = hub_rows(&lines.test);
    test[3] = " the zebra \n".into();
    let test_file = cfg.join("test-00000-of-00001.parquet");
    write_text_parquet(&test_file, &test, 2).unwrap();
    let msg = err_of();
    assert!(
        msg.contains("test-00000-of-00001.parquet") && msg.contains("row 3: symbol `zebra`"),
        "{msg}"
    );
    // A training split of blank rows has no words.
    write_text_parquet(&test_file, &hub_rows(&lines.test), 2).unwrap();
    for f in [
        "train-00000-of-00002.parquet",
        "train-00001-of-00002.parquet",
    ] {
        write_text_parquet(&cfg.join(f), &["".into(), " \n".into()], 1).unwrap();
    }
    let msg = err_of();
    assert!(
        msg.contains(WIKITEXT_103_CONFIG) && msg.contains("no words"),
        "{msg}"
    );
    // A config that is not in the snapshot.
    let msg = open_wikitext_hub_cache(cache, WIKITEXT_REPO, "wikitext-103-raw-v1", "main")
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("wikitext-103-raw-v1") && msg.contains("config"),
        "{msg}"
    );
}

/// Where both are at hand: the release's token folder (`WIKITEXT_TOKENS_DIR`) and the hub's
/// parquet files of `Salesforce/wikitext` / `wikitext-103-v1` in a hub cache
/// (`WIKITEXT_HUB_CACHE`, else the default cache) read to the same vocabulary and streams.
#[test]
#[ignore = "needs WIKITEXT_TOKENS_DIR (a wikitext-103 token folder) and the hub's parquet files in a hub cache"]
fn the_hub_files_read_as_a_token_folder_at_hand() {
    let dir = std::env::var_os("WIKITEXT_TOKENS_DIR").expect("set WIKITEXT_TOKENS_DIR");
    let cache = std::env::var_os("WIKITEXT_HUB_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(crate::hf_parquet::hub_cache_dir);
    let folder = open_wikitext(Path::new(&dir)).unwrap();
    let hub = open_cache(&cache).unwrap();
    assert_same(&folder, &hub);
    eprintln!(
        "vocab {} symbols; train {} / valid {} / test {} ids: equal",
        folder.vocab.len(),
        folder.train.len(),
        folder.valid.len(),
        folder.test.len()
    );
}
