//! ReBias's unbiased accuracy on 9-class ImageNet (Bahng et al., ICML 2020, Section 4.3;
//! clovaai/rebias `evaluator.py`, `ImageNetEvaluator`): for each clustering of the evaluation
//! images into texture clusters, the mean of the per-cell accuracies over the (class, cluster)
//! cells holding at least [`MIN_CELL`] images (each qualifying cell weighs the same, however many
//! images it has); then the mean over the clusterings (the reference has three).
//!
//! Deviation: a clustering with no qualifying cell (possible only on tiny data; the reference
//! divides by zero there) is left out of the mean; [`CellMean::clusterings_used`] says how many
//! counted.

/// Cells with fewer images are left out (the reference's `if __num_instance >= 10`).
pub const MIN_CELL: usize = 10;

/// The unbiased accuracy and how it was formed.
#[derive(Debug, Clone, PartialEq)]
pub struct CellMean {
    /// Mean over the used clusterings of the mean qualifying-cell accuracy, in [0, 1].
    pub accuracy: f64,
    /// Clusterings that had at least one qualifying cell.
    pub clusterings_used: usize,
    /// Qualifying cells, summed over the used clusterings.
    pub cells: usize,
}

/// The unbiased accuracy of predictions whose correctness is `correct[i]` for images of class
/// `labels[i]` in cluster `clusters[c][i]` of clustering `c`; `None` when no clustering has a
/// cell of [`MIN_CELL`] images.
pub fn cell_mean_accuracy(
    labels: &[u32],
    correct: &[bool],
    clusters: &[Vec<u32>],
) -> Option<CellMean> {
    let mut sum = 0.0;
    let (mut used, mut cells) = (0, 0);
    for assignment in clusters {
        let mut counts: std::collections::BTreeMap<(u32, u32), (usize, usize)> =
            std::collections::BTreeMap::new();
        for ((&y, &ok), &c) in labels.iter().zip(correct).zip(assignment) {
            let cell = counts.entry((y, c)).or_default();
            cell.0 += usize::from(ok);
            cell.1 += 1;
        }
        let accs: Vec<f64> = counts
            .values()
            .filter(|(_, n)| *n >= MIN_CELL)
            .map(|&(k, n)| k as f64 / n as f64)
            .collect();
        if accs.is_empty() {
            continue;
        }
        sum += accs.iter().sum::<f64>() / accs.len() as f64;
        used += 1;
        cells += accs.len();
    }
    (used > 0).then(|| CellMean {
        accuracy: sum / used as f64,
        clusterings_used: used,
        cells,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two classes, two clusters; class 0 / cluster 0 has 20 images (all right), class 0 /
    /// cluster 1 has 10 (half right), class 1 / cluster 1 has 12 (a quarter right), class 1 /
    /// cluster 0 has 9 (all wrong, but below 10 images: left out).
    fn example() -> (Vec<u32>, Vec<bool>, Vec<u32>) {
        let mut labels = Vec::new();
        let mut correct = Vec::new();
        let mut cluster = Vec::new();
        let mut push = |y: u32, c: u32, n: usize, right: usize| {
            for i in 0..n {
                labels.push(y);
                cluster.push(c);
                correct.push(i < right);
            }
        };
        push(0, 0, 20, 20);
        push(0, 1, 10, 5);
        push(1, 1, 12, 3);
        push(1, 0, 9, 0);
        (labels, correct, cluster)
    }

    #[test]
    fn small_cells_are_left_out_and_cells_weigh_the_same() {
        let (labels, correct, cluster) = example();
        let got = cell_mean_accuracy(&labels, &correct, std::slice::from_ref(&cluster)).unwrap();
        // (1.0 + 0.5 + 0.25) / 3, not the image-weighted (20 + 5 + 3) / 51.
        assert!((got.accuracy - 1.75 / 3.0).abs() < 1e-12, "{got:?}");
        assert_eq!((got.clusterings_used, got.cells), (1, 3));
        // A second clustering putting everything in one cluster: plain per-class accuracy
        // (25/30 and 3/21), averaged with the first.
        let one = vec![0u32; labels.len()];
        let both = cell_mean_accuracy(&labels, &correct, &[cluster, one]).unwrap();
        let second = (25.0 / 30.0 + 3.0 / 21.0) / 2.0;
        assert!((both.accuracy - (1.75 / 3.0 + second) / 2.0).abs() < 1e-12);
        assert_eq!(both.cells, 5);
    }

    #[test]
    fn no_qualifying_cell_is_none() {
        let labels = vec![0u32; 9];
        let correct = vec![true; 9];
        assert!(cell_mean_accuracy(&labels, &correct, &[vec![0; 9]]).is_none());
    }
}
