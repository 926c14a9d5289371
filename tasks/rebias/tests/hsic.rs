//! The RBF-kernel HSIC estimators against direct formulas on random data: the unbiased estimator
//! (the reference's, Song et al. 2012) against an O(n^2) loop over its terms and, on a tiny
//! sample, against its definition as a U-statistic over all ordered 4-tuples of distinct
//! indices; the biased estimator against `tr(KHLH) / (n-1)^2` by loops; gradients against
//! finite differences.

use adamp_task_rebias::hsic::{hsic, median_sigma, Estimator};
use candle_core::{DType, Device, Tensor, Var};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn random(n: usize, d: usize, seed: u64) -> Vec<Vec<f64>> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..n)
        .map(|_| (0..d).map(|_| rng.random_range(-1.5..1.5)).collect())
        .collect()
}

fn tensor(rows: &[Vec<f64>]) -> Tensor {
    let (n, d) = (rows.len(), rows[0].len());
    Tensor::from_vec(rows.concat(), (n, d), &Device::Cpu).unwrap()
}

fn kernel(rows: &[Vec<f64>], sigma: f64) -> Vec<Vec<f64>> {
    rows.iter()
        .map(|a| {
            rows.iter()
                .map(|b| {
                    let d2: f64 = a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum();
                    (-d2 / (2.0 * sigma * sigma)).exp()
                })
                .collect()
        })
        .collect()
}

/// Song et al.'s unbiased estimator, each term by explicit loops over the zero-diagonal kernels.
fn unbiased_loops(k: &[Vec<f64>], l: &[Vec<f64>]) -> f64 {
    let n = k.len();
    let off = |m: &[Vec<f64>], i: usize, j: usize| if i == j { 0.0 } else { m[i][j] };
    let (mut trace, mut sum_k, mut sum_l, mut cross) = (0.0, 0.0, 0.0, 0.0);
    for i in 0..n {
        for j in 0..n {
            trace += off(k, i, j) * off(l, j, i);
            sum_k += off(k, i, j);
            sum_l += off(l, i, j);
        }
    }
    for i in 0..n {
        for j in 0..n {
            for q in 0..n {
                cross += off(k, i, j) * off(l, j, q);
            }
        }
    }
    let nf = n as f64;
    (trace + sum_k * sum_l / ((nf - 1.0) * (nf - 2.0)) - 2.0 / (nf - 2.0) * cross)
        / (nf * (nf - 3.0))
}

/// The U-statistic `(n)_4^{-1} sum over distinct (i, j, q, r) of
/// k_ij l_ij + k_ij l_qr - 2 k_ij l_iq` (Song et al. 2012, Theorem 2).
fn unbiased_u_statistic(k: &[Vec<f64>], l: &[Vec<f64>]) -> f64 {
    let n = k.len();
    let (mut sum, mut count) = (0.0, 0usize);
    for i in 0..n {
        for j in 0..n {
            for q in 0..n {
                for r in 0..n {
                    let distinct = [i, j, q, r];
                    if (0..4).any(|a| (a + 1..4).any(|b| distinct[a] == distinct[b])) {
                        continue;
                    }
                    sum += k[i][j] * l[i][j] + k[i][j] * l[q][r] - 2.0 * k[i][j] * l[i][q];
                    count += 1;
                }
            }
        }
    }
    sum / count as f64
}

/// Gretton et al.'s biased estimator `tr(K H L H) / (n-1)^2` with `H = I - 11'/n`, by loops.
fn biased_loops(k: &[Vec<f64>], l: &[Vec<f64>]) -> f64 {
    let n = k.len();
    let h = |i: usize, j: usize| f64::from(u8::from(i == j)) - 1.0 / n as f64;
    let prod = |a: &dyn Fn(usize, usize) -> f64, b: &dyn Fn(usize, usize) -> f64| {
        (0..n)
            .map(|i| {
                (0..n)
                    .map(|j| (0..n).map(|m| a(i, m) * b(m, j)).sum())
                    .collect()
            })
            .collect::<Vec<Vec<f64>>>()
    };
    let kh = prod(&|i, j| k[i][j], &h);
    let lh = prod(&|i, j| l[i][j], &h);
    let trace: f64 = (0..n)
        .map(|i| (0..n).map(|m| kh[i][m] * lh[m][i]).sum::<f64>())
        .sum();
    trace / ((n as f64 - 1.0).powi(2))
}

fn ours(x: &[Vec<f64>], y: &[Vec<f64>], sx: f64, sy: f64, e: Estimator) -> f64 {
    hsic(&tensor(x), &tensor(y), sx, sy, e)
        .unwrap()
        .to_scalar::<f64>()
        .unwrap()
}

#[test]
fn unbiased_hsic_matches_the_direct_formula_on_random_data() {
    for (n, seed) in [(32, 1u64), (16, 2), (5, 3)] {
        let x = random(n, 6, seed);
        // y depends on x (first coordinate squared plus noise), so HSIC is clearly non-zero.
        let noise = random(n, 3, seed + 100);
        let y: Vec<Vec<f64>> = x
            .iter()
            .zip(&noise)
            .map(|(a, e)| vec![a[0] * a[0] + 0.1 * e[0], e[1], e[2]])
            .collect();
        let (sx, sy) = (1.3, 0.7);
        let want = unbiased_loops(&kernel(&x, sx), &kernel(&y, sy));
        let got = ours(&x, &y, sx, sy, Estimator::Unbiased);
        assert!(
            (got - want).abs() < 1e-12 * want.abs().max(1.0),
            "n {n}: {got} vs {want}"
        );
        if n >= 16 {
            assert!(want > 0.0, "dependent data: positive HSIC, got {want}");
        }
    }
}

#[test]
fn the_formula_is_the_u_statistic_and_independent_data_scores_near_zero() {
    let x = random(7, 3, 11);
    let y = random(7, 2, 12);
    let (k, l) = (kernel(&x, 1.0), kernel(&y, 0.8));
    let u = unbiased_u_statistic(&k, &l);
    assert!((unbiased_loops(&k, &l) - u).abs() < 1e-12, "{u}");
    assert!((ours(&x, &y, 1.0, 0.8, Estimator::Unbiased) - u).abs() < 1e-12);
    // The reference's `K - diag(K)` (K - 1 off the diagonal) gives the same value.
    let shifted = |m: &[Vec<f64>]| -> Vec<Vec<f64>> {
        m.iter()
            .map(|r| r.iter().map(|v| v - 1.0).collect())
            .collect()
    };
    assert!((unbiased_loops(&shifted(&k), &shifted(&l)) - u).abs() < 1e-12);
    // Independent draws of a larger sample: close to zero next to a dependent pair's value.
    let a = random(64, 4, 21);
    let b = random(64, 4, 22);
    let indep = ours(&a, &b, 1.0, 1.0, Estimator::Unbiased);
    let dep = ours(&a, &a, 1.0, 1.0, Estimator::Unbiased);
    assert!(indep.abs() < 0.1 * dep, "independent {indep} vs self {dep}");
}

#[test]
fn biased_hsic_matches_trace_khlh() {
    let x = random(12, 5, 31);
    let y: Vec<Vec<f64>> = x.iter().map(|r| vec![r[1] + r[2], r[0]]).collect();
    let want = biased_loops(&kernel(&x, 0.9), &kernel(&y, 1.1));
    let got = ours(&x, &y, 0.9, 1.1, Estimator::Biased);
    assert!((got - want).abs() < 1e-12, "{got} vs {want}");
}

#[test]
fn gradients_match_finite_differences_and_small_batches_are_refused() {
    let x = random(8, 3, 41);
    let y = random(8, 2, 42);
    let var = Var::from_tensor(&tensor(&x)).unwrap();
    let loss = hsic(var.as_tensor(), &tensor(&y), 1.0, 1.0, Estimator::Unbiased).unwrap();
    let grads = loss.backward().unwrap();
    let g = grads.get(&var).unwrap().to_vec2::<f64>().unwrap();
    for (i, j) in [(0, 0), (3, 2), (7, 1)] {
        let h = 1e-6;
        let mut plus = x.clone();
        plus[i][j] += h;
        let mut minus = x.clone();
        minus[i][j] -= h;
        let fd = (ours(&plus, &y, 1.0, 1.0, Estimator::Unbiased)
            - ours(&minus, &y, 1.0, 1.0, Estimator::Unbiased))
            / (2.0 * h);
        assert!(
            (g[i][j] - fd).abs() < 1e-7,
            "({i}, {j}): {} vs {fd}",
            g[i][j]
        );
    }
    let three = tensor(&random(3, 2, 5));
    let err = hsic(&three, &three, 1.0, 1.0, Estimator::Unbiased).unwrap_err();
    assert!(err.to_string().contains("at least 4"), "{err}");
}

#[test]
fn median_sigma_pools_every_entry_as_numpy_median() {
    // One batch, rows 0, 1, 3 on a line: squared distances {0 x3, 1 x2, 4 x2, 9 x2}: median 1.
    let a = Tensor::new(&[[0f32], [1.0], [3.0]], &Device::Cpu).unwrap();
    assert_eq!(median_sigma(std::slice::from_ref(&a)).unwrap(), Some(1.0));
    // An even count averages the two middle values: {0, 0, 4, 4} -> 2, sigma sqrt(2).
    let b = Tensor::new(&[[0f32], [2.0]], &Device::Cpu).unwrap();
    let s = median_sigma(&[b.to_dtype(DType::F32).unwrap()])
        .unwrap()
        .unwrap();
    assert!((s - 2f64.sqrt()).abs() < 1e-12, "{s}");
    // Batches are pooled, not averaged: a's nine entries and b's four are {0 x5, 1 x2, 4 x4,
    // 9 x2}, whose 7th of 13 is 1 (a per-batch mean of medians would give (1 + sqrt 2) / 2).
    let pooled = median_sigma(&[a, b]).unwrap().unwrap();
    assert!((pooled - 1.0).abs() < 1e-12, "{pooled}");
    assert_eq!(median_sigma(&[]).unwrap(), None);
}
