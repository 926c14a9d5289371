//! The metrics against scikit-learn 1.9.1 on `tests/fixtures/metrics.json`, written by
//! `tools/gen_audio_metric_fixtures.py` (see its docstring for the cases).
//!
//! Every value is compared by case name within 1e-12 (absolute). The scores are float32, but
//! the ranking metrics depend on their order only and the F1/accuracy on counts, so the float64
//! results must agree to rounding: 1e-12 is used throughout, stricter than 1e-6.

use adamp_task_audio::metrics::{
    accuracy, average_precision, f1_samples, f1_samples_binary, macro_pr_auc, macro_roc_auc,
    roc_auc,
};
use serde_json::Value;

const TOL: f64 = 1e-12;

fn fixtures() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/metrics.json");
    let text = std::fs::read_to_string(path).expect("read metrics.json");
    serde_json::from_str(&text).expect("parse metrics.json")
}

fn cases<'a>(all: &'a Value, key: &str) -> &'a Vec<Value> {
    let list = all[key].as_array().expect("a list of cases");
    assert!(!list.is_empty(), "no {key} cases");
    list
}

fn name(case: &Value) -> &str {
    case["name"].as_str().expect("name")
}

fn f64_of(case: &Value, key: &str) -> f64 {
    case[key]
        .as_f64()
        .unwrap_or_else(|| panic!("{}: {key}", name(case)))
}

fn bools(v: &Value) -> Vec<bool> {
    v.as_array()
        .expect("list")
        .iter()
        .map(|b| b.as_bool().expect("bool"))
        .collect()
}

/// float32 values written as the float64 of the float32: the cast back is exact.
fn f32s(v: &Value) -> Vec<f32> {
    v.as_array()
        .expect("list")
        .iter()
        .map(|x| x.as_f64().expect("number") as f32)
        .collect()
}

fn bool_table(v: &Value) -> Vec<Vec<bool>> {
    v.as_array().expect("rows").iter().map(bools).collect()
}

fn f32_table(v: &Value) -> Vec<Vec<f32>> {
    v.as_array().expect("rows").iter().map(f32s).collect()
}

fn usizes(v: &Value) -> Vec<usize> {
    v.as_array()
        .expect("list")
        .iter()
        .map(|x| x.as_u64().expect("integer") as usize)
        .collect()
}

fn assert_close(case: &Value, what: &str, got: f64, want: f64) {
    assert!(
        (got - want).abs() <= TOL,
        "{} {what}: got {got:.17}, scikit-learn {want:.17} (diff {:e})",
        name(case),
        (got - want).abs()
    );
}

#[test]
fn binary_roc_auc_and_average_precision() {
    let all = fixtures();
    for case in cases(&all, "binary") {
        let y = bools(&case["y_true"]);
        let s = f32s(&case["scores"]);
        let roc = roc_auc(&y, &s).expect("valid input").expect("two classes");
        assert_close(case, "roc_auc", roc, f64_of(case, "roc_auc"));
        let ap = average_precision(&y, &s)
            .expect("valid input")
            .expect("positives");
        assert_close(
            case,
            "average_precision",
            ap,
            f64_of(case, "average_precision"),
        );
    }
}

#[test]
fn one_class_labels() {
    let all = fixtures();
    for case in cases(&all, "one_class") {
        let y = bools(&case["y_true"]);
        let s = f32s(&case["scores"]);
        assert_eq!(roc_auc(&y, &s), Ok(None), "{}", name(case));
        let ap = average_precision(&y, &s).expect("valid input");
        if y.iter().any(|&b| b) {
            // Positives only: defined, and scikit-learn's value.
            let ap = ap.expect("positives");
            assert_close(
                case,
                "average_precision",
                ap,
                f64_of(case, "sklearn_average_precision"),
            );
        } else {
            // No positive: scikit-learn returns 0.0 with a warning; we return None.
            assert_eq!(ap, None, "{}", name(case));
            assert_eq!(f64_of(case, "sklearn_average_precision"), 0.0);
        }
    }
}

#[test]
fn macro_roc_auc_and_pr_auc_skip_single_class_tags() {
    let all = fixtures();
    let mut saw_skips = false;
    for case in cases(&all, "macro") {
        let y = bool_table(&case["y_true"]);
        let s = f32_table(&case["scores"]);
        let skipped = usizes(&case["skipped"]);
        let used = case["tags_used"].as_u64().expect("tags_used") as usize;
        saw_skips |= !skipped.is_empty();
        let roc = macro_roc_auc(&y, &s).expect("valid input");
        assert_eq!(roc.tags_skipped, skipped, "{}", name(case));
        assert_eq!(roc.tags_used, used, "{}", name(case));
        assert_close(
            case,
            "macro_roc_auc",
            roc.mean,
            f64_of(case, "macro_roc_auc"),
        );
        let pr = macro_pr_auc(&y, &s).expect("valid input");
        assert_eq!(pr.tags_skipped, skipped, "{}", name(case));
        assert_eq!(pr.tags_used, used, "{}", name(case));
        assert_close(case, "macro_pr_auc", pr.mean, f64_of(case, "macro_pr_auc"));
    }
    assert!(saw_skips, "no case has a single-class tag");
}

#[test]
fn f1_over_samples_at_threshold() {
    let all = fixtures();
    for case in cases(&all, "f1_samples") {
        let y = bool_table(&case["y_true"]);
        let p = f32_table(&case["probs"]);
        let t = f64_of(case, "threshold") as f32;
        let ge = f1_samples(&y, &p, t).expect("valid input");
        assert_close(case, "f1 (>=)", ge, f64_of(case, "f1_ge"));
        let above: Vec<Vec<bool>> = p
            .iter()
            .map(|row| row.iter().map(|&x| x > t).collect())
            .collect();
        let gt = f1_samples_binary(&y, &above).expect("valid input");
        assert_close(case, "f1 (>)", gt, f64_of(case, "f1_gt"));
    }
}

#[test]
fn accuracy_matches() {
    let all = fixtures();
    for case in cases(&all, "accuracy") {
        let labels = usizes(&case["labels"]);
        let predicted = usizes(&case["predicted"]);
        let acc = accuracy(&labels, &predicted).expect("valid input");
        assert_close(case, "accuracy", acc, f64_of(case, "accuracy"));
    }
}
