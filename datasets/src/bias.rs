//! The label-correlated bias assignment of ReBias's Biased-MNIST (Bahng et al., "Learning
//! De-biased Representations with Biased Representations", ICML 2020; clovaai/rebias
//! `datasets/colour_mnist.py`, `BiasedMNIST._update_bias_indices`), for any number of classes:
//! within each class (its samples shuffled), the first `int(n * rho)` samples get the class's own
//! bias (its colour, its texture), the rest are cut into chunks of `ceil((n - int(n * rho)) /
//! n_confusing)` and chunk `j` gets the `j`-th of the `n_confusing` next classes' biases
//! (`(c + 1) % K, (c + 2) % K, ...`, in shuffled order). So the fraction of samples carrying
//! their own class's bias is `int(n * rho) / n` in every class, not a random draw. `rho = 0.1`
//! with 10 classes and 9 confusing labels is the reference's unbiased test set.
//!
//! Deviation: the reference shuffles with NumPy's global generator (unseeded in its scripts);
//! here both shuffles come from a ChaCha8 stream of `(seed, class)`, so an assignment is a
//! function of the seed and the labels.

use rand::seq::SliceRandom;

use crate::error::{DatasetError, Result};
use crate::loader::derived_rng;

/// The RNG stream of the bias assignment (distinct from the loaders' streams).
const STREAM_BIAS: u64 = 0xB1A5;

/// The bias class (`0..num_classes`) of every sample, as the module docs describe.
///
/// Errors when `rho` is outside `[0, 1]`, `n_confusing` outside `1..num_classes`, or a label is
/// not below `num_classes`.
pub fn assign_biases(
    labels: &[u32],
    num_classes: usize,
    rho: f64,
    n_confusing: usize,
    seed: u64,
) -> Result<Vec<u32>> {
    let bad = |name: &str, reason: String| DatasetError::Config {
        name: name.into(),
        reason,
    };
    if !(0.0..=1.0).contains(&rho) {
        return Err(bad("rho", format!("expected a value in [0, 1], got {rho}")));
    }
    if n_confusing == 0 || n_confusing >= num_classes {
        return Err(bad(
            "n_confusing",
            format!(
                "expected 1..{} other classes, got {n_confusing}",
                num_classes - 1
            ),
        ));
    }
    if let Some(l) = labels.iter().find(|&&l| l as usize >= num_classes) {
        return Err(bad(
            "labels",
            format!("label {l} is not below the class count {num_classes}"),
        ));
    }
    let mut bias = vec![0u32; labels.len()];
    for class in 0..num_classes {
        let mut rng = derived_rng(seed, 0, class as u64, STREAM_BIAS);
        let mut members: Vec<usize> = (0..labels.len())
            .filter(|&i| labels[i] as usize == class)
            .collect();
        members.shuffle(&mut rng);
        let n = members.len();
        // Python's `int(n_samples * rho)`: the float product, truncated.
        let n_correlated = ((n as f64 * rho) as usize).min(n);
        let per_chunk = (n - n_correlated).div_ceil(n_confusing);
        let mut others: Vec<u32> = (1..=n_confusing)
            .map(|k| ((class + k) % num_classes) as u32)
            .collect();
        others.shuffle(&mut rng);
        for (rank, &i) in members.iter().enumerate() {
            bias[i] = if rank < n_correlated {
                class as u32
            } else {
                others[(rank - n_correlated) / per_chunk]
            };
        }
    }
    Ok(bias)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 5,000 labels, 10 classes of 500.
    fn labels() -> Vec<u32> {
        (0..5000).map(|i| (i % 10) as u32).collect()
    }

    #[test]
    fn the_own_bias_fraction_is_rho_within_three_standard_errors_and_exact_per_class() {
        let labels = labels();
        for rho in [0.999, 0.997, 0.995, 0.99, 0.9, 0.1] {
            let bias = assign_biases(&labels, 10, rho, 9, 7).unwrap();
            let own = labels.iter().zip(&bias).filter(|(l, b)| l == b).count();
            let n = labels.len() as f64;
            let empirical = own as f64 / n;
            let se = (rho * (1.0 - rho) / n).sqrt().max(1.0 / n);
            assert!(
                (empirical - rho).abs() <= 3.0 * se,
                "rho {rho}: empirical {empirical}, 3 s.e. {}",
                3.0 * se
            );
            // Exactly int(500 * rho) per class, as the reference's split.
            assert_eq!(own, 10 * (500.0 * rho) as usize, "rho {rho}");
        }
    }

    #[test]
    fn off_biases_spread_over_the_other_classes_and_depend_on_the_seed() {
        let labels = labels();
        // rho = 0.1: 50 own, 450 others in chunks of 50, one per other class.
        let bias = assign_biases(&labels, 10, 0.1, 9, 1).unwrap();
        let mut cells = [[0usize; 10]; 10];
        for (l, b) in labels.iter().zip(&bias) {
            cells[*l as usize][*b as usize] += 1;
        }
        assert!(cells.iter().flatten().all(|&c| c == 50), "{cells:?}");
        let again = assign_biases(&labels, 10, 0.1, 9, 1).unwrap();
        assert_eq!(bias, again);
        let other = assign_biases(&labels, 10, 0.1, 9, 2).unwrap();
        assert_ne!(bias, other);
        // rho = 0: every sample carries another class's bias (9 classes, 8 others).
        let nine: Vec<u32> = (0..900).map(|i| (i % 9) as u32).collect();
        let b = assign_biases(&nine, 9, 0.0, 8, 3).unwrap();
        assert!(nine.iter().zip(&b).all(|(l, b)| l != b));
    }

    #[test]
    fn bad_arguments_name_the_setting() {
        let msg = assign_biases(&[0, 1], 10, 1.5, 9, 0)
            .unwrap_err()
            .to_string();
        assert!(msg.contains("rho") && msg.contains("1.5"), "{msg}");
        let msg = assign_biases(&[0, 1], 10, 0.5, 10, 0)
            .unwrap_err()
            .to_string();
        assert!(msg.contains("n_confusing"), "{msg}");
        let msg = assign_biases(&[0, 12], 10, 0.5, 9, 0)
            .unwrap_err()
            .to_string();
        assert!(msg.contains("label 12"), "{msg}");
    }
}
