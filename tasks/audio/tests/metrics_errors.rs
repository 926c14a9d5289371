//! Bad inputs are errors, not panics; undefined values are `None`.

use adamp_task_audio::metrics::{
    accuracy, average_precision, f1_samples, macro_roc_auc, roc_auc, MetricError,
};

#[test]
fn nan_and_infinite_scores_are_errors() {
    let y = [true, false, true];
    assert!(matches!(
        roc_auc(&y, &[0.1, f32::NAN, 0.3]),
        Err(MetricError::NonFiniteScore { index: 1, .. })
    ));
    assert!(matches!(
        average_precision(&y, &[0.1, 0.2, f32::INFINITY]),
        Err(MetricError::NonFiniteScore { index: 2, .. })
    ));
    let table = vec![vec![true, false], vec![false, true]];
    let scores = vec![vec![0.1, 0.2], vec![f32::NAN, 0.4]];
    assert!(matches!(
        macro_roc_auc(&table, &scores),
        Err(MetricError::NonFiniteScore { index: 2, .. })
    ));
    assert!(matches!(
        f1_samples(&table, &scores, 0.1),
        Err(MetricError::NonFiniteScore { index: 2, .. })
    ));
    let finite = vec![vec![0.1, 0.2], vec![0.3, 0.4]];
    assert!(matches!(
        f1_samples(&table, &finite, f32::NAN),
        Err(MetricError::NonFiniteThreshold(_))
    ));
}

#[test]
fn length_mismatches_and_empty_inputs_are_errors() {
    assert!(matches!(
        roc_auc(&[true, false], &[0.5]),
        Err(MetricError::LengthMismatch { .. })
    ));
    assert_eq!(roc_auc(&[], &[]), Err(MetricError::Empty));
    assert!(matches!(
        accuracy(&[1, 2, 3], &[1, 2]),
        Err(MetricError::LengthMismatch { .. })
    ));
    assert_eq!(accuracy(&[], &[]), Err(MetricError::Empty));
    let ragged = vec![vec![true, false], vec![true]];
    let scores = vec![vec![0.1, 0.2], vec![0.3, 0.4]];
    assert!(matches!(
        macro_roc_auc(&ragged, &scores),
        Err(MetricError::RaggedRow { row: 1, .. })
    ));
    let short = vec![vec![0.1f32, 0.2]];
    assert!(matches!(
        f1_samples(
            &scores
                .iter()
                .map(|r| r.iter().map(|&x| x > 0.15).collect())
                .collect::<Vec<_>>(),
            &short,
            0.1
        ),
        Err(MetricError::LengthMismatch { .. })
    ));
}

#[test]
fn hand_cases() {
    // One positive-negative tie: half credit.
    assert_eq!(roc_auc(&[true, false], &[0.5, 0.5]), Ok(Some(0.5)));
    // Positive above negative, and the reverse.
    assert_eq!(roc_auc(&[true, false], &[0.9, 0.1]), Ok(Some(1.0)));
    assert_eq!(roc_auc(&[true, false], &[0.1, 0.9]), Ok(Some(0.0)));
    // AP: ranking [+, -, +]: 1/2 * 1 + 1/2 * 2/3.
    let ap = average_precision(&[true, false, true], &[0.9, 0.5, 0.1])
        .unwrap()
        .unwrap();
    assert!((ap - (0.5 + 1.0 / 3.0)).abs() < 1e-15);
    // A tie between the second positive and the negative: one threshold, precision 2/3 there.
    let ap = average_precision(&[true, false, true], &[0.9, 0.5, 0.5])
        .unwrap()
        .unwrap();
    assert!((ap - (0.5 + 1.0 / 3.0)).abs() < 1e-15);
    let ap = average_precision(&[true, true, false], &[0.9, 0.5, 0.5])
        .unwrap()
        .unwrap();
    assert!((ap - (0.5 + 1.0 / 3.0)).abs() < 1e-15);
    // All tags single-class: nothing used, NaN mean.
    let m = macro_roc_auc(&[vec![true, false]], &[vec![0.2, 0.3]]).unwrap();
    assert_eq!((m.tags_used, m.tags_skipped.clone()), (0, vec![0, 1]));
    assert!(m.mean.is_nan());
}
