//! Recall@K against the reference definition, case by case, exactly.
//!
//! Fixture: `tasks/retrieval/tests/fixtures/recall.json`, written by
//! `python tools/gen_recall_fixtures.py` (numpy 2.4.6; see tools/README.md): a plain ranking by
//! sorting (similarity descending, same-label images first among ties, the query itself left
//! out within one set) on clustered unit vectors, on small-integer vectors full of exact ties
//! and duplicates (with the opposite tie order those cases' recalls fall by up to 83 points),
//! on query-vs-gallery sets and on singleton classes. Our counting rule needs no sort, so the
//! two are independent implementations of the same definition; each case runs with several
//! block sizes (one query per block, a ragged last block, everything in one block).

use std::path::Path;

use adamp_task_retrieval::recall::{recall_at_k, Gallery};
use candle_core::{Device, Tensor};
use serde_json::Value;

fn matrix(v: &Value) -> Tensor {
    let rows: Vec<Vec<f32>> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            r.as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_f64().unwrap() as f32)
                .collect()
        })
        .collect();
    let (n, d) = (rows.len(), rows[0].len());
    Tensor::from_vec(rows.concat(), (n, d), &Device::Cpu).unwrap()
}

fn labels(v: &Value) -> Vec<u32> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_u64().unwrap() as u32)
        .collect()
}

#[test]
fn recall_at_k_equals_the_numpy_reference_for_every_case_and_block_size() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/recall.json");
    let json: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let cases = json["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 5);
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let query = matrix(&case["query"]);
        let q_labels = labels(&case["query_labels"]);
        let ks: Vec<usize> = case["ks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k.as_u64().unwrap() as usize)
            .collect();
        let expected: Vec<f64> = case["recall"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r.as_f64().unwrap())
            .collect();
        let gallery = (!case["within"].as_bool().unwrap())
            .then(|| (matrix(&case["gallery"]), labels(&case["gallery_labels"])));
        for block in [1, 7, 10_000] {
            let g = match &gallery {
                Some((g, l)) => Gallery::Separate(g, l),
                None => Gallery::Within,
            };
            let got = recall_at_k(&query, &q_labels, g, &ks, block).unwrap();
            for ((k, a), b) in ks.iter().zip(&got).zip(&expected) {
                assert!(
                    (a - b).abs() < 1e-9,
                    "{name}, block {block}: Recall@{k} = {a}, reference {b}"
                );
            }
        }
    }
}
