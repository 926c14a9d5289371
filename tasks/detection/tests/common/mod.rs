//! What the fixture tests share: reading a committed fixture (written by a pinned script under
//! `tools/`) and its JSON values.
#![allow(dead_code)]

use std::path::Path;

use serde_json::Value;

/// `tests/fixtures/<name>` parsed.
pub fn fixture(name: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A number.
pub fn f(v: &Value) -> f64 {
    v.as_f64().unwrap()
}

/// A list of numbers as `f32`.
pub fn f32s(v: &Value) -> Vec<f32> {
    v.as_array().unwrap().iter().map(|x| f(x) as f32).collect()
}

/// A list of indices.
pub fn us(v: &Value) -> Vec<usize> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_u64().unwrap() as usize)
        .collect()
}

/// `|got - want| <= tol * max(|want|, 1e-12)`.
pub fn assert_rel(name: &str, got: f64, want: f64, tol: f64) {
    assert!(
        (got - want).abs() <= tol * want.abs().max(1e-12),
        "{name}: {got} vs {want}"
    );
}
