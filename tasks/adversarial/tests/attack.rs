//! What an attack must and must not do, on a Wide-ResNet over generated Fashion-MNIST-layout
//! data: it stays inside the ε-ball and the [0, 1] box (both norms), it leaves the parameters
//! and the BatchNorm running statistics bit-for-bit untouched (the network runs in evaluation
//! mode and no optimizer steps), and it lowers the accuracy of a trained network.

mod common;

use adamp_datasets::loader::derived_rng;
use adamp_task_adversarial::{Norm, Pgd};
use adamp_task_api::Task;
use candle_core::Tensor;
use common::{metric, settings, sgd, snapshot, step, task, test_images};

/// Per-sample ℓ∞ or ℓ2 norms of `d` (`[B, ...]`).
fn per_sample(norm: Norm, d: &Tensor) -> Vec<f32> {
    let flat = d.flatten_from(1).unwrap();
    let v = match norm {
        Norm::Linf => flat.abs().unwrap().max(1).unwrap(),
        Norm::L2 => flat.sqr().unwrap().sum(1).unwrap().sqrt().unwrap(),
    };
    v.to_vec1::<f32>().unwrap()
}

fn all_values(t: &Tensor) -> Vec<f32> {
    t.flatten_all().unwrap().to_vec1().unwrap()
}

#[test]
fn attacks_stay_inside_the_ball_and_the_box() {
    for (norm, eps) in [(Norm::Linf, 4.0 / 255.0), (Norm::L2, 80.0 / 255.0)] {
        let dir = tempfile::tempdir().unwrap();
        let t = task(dir.path(), &settings(norm, eps), 32, 16, 16);
        let (x, y) = test_images(dir.path(), 16);
        for random_start in [true, false] {
            let mut rng = derived_rng(1, 2, 3, 4);
            let pgd = t.pgd(7);
            let adv = if random_start {
                t.attack(&pgd, &x, &y, &mut rng).unwrap()
            } else {
                pgd.attack(&x, None, |a| {
                    Ok(adamp_task_classification::metrics::cross_entropy(
                        &t.logits(a, false)?,
                        &y,
                    )?)
                })
                .unwrap()
            };
            let values = all_values(&adv);
            assert!(
                values.iter().all(|v| (0.0..=1.0).contains(v)),
                "{norm}: left [0, 1]"
            );
            // Background pixels near 0 are pushed onto the box's face and stop there.
            let at_zero = values.iter().filter(|&&v| v == 0.0).count();
            assert!(at_zero > 0, "{norm}: the [0, 1] clamp never acted");
            let sizes = per_sample(norm, &(&adv - &x).unwrap());
            for (i, s) in sizes.iter().enumerate() {
                // f32 rounding of x ± eps may overshoot by an ulp of 1.
                assert!(
                    f64::from(*s) <= eps * (1.0 + 1e-5) + 1e-6,
                    "{norm} sample {i}: |delta| = {s} > eps {eps}"
                );
                assert!(
                    f64::from(*s) > 0.5 * eps,
                    "{norm} sample {i}: |delta| = {s}, the attack barely moved (eps {eps})"
                );
            }
            if norm == Norm::Linf {
                // Steps of 2.5 eps / 7 reach the faces of the cube.
                let reached = sizes
                    .iter()
                    .filter(|&&s| f64::from(s) > eps * 0.999)
                    .count();
                assert!(
                    reached > 12,
                    "{norm}: only {reached} of 16 samples reach eps"
                );
            }
        }
    }
}

#[test]
fn attack_steps_leave_parameters_and_batchnorm_statistics_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let mut t = task(dir.path(), &settings(Norm::Linf, 8.0 / 255.0), 32, 16, 16);
    let mut opts = sgd(&t, 0.05);
    step(&mut t, &mut opts, 0); // running statistics away from their initial 0 / 1
    let (x, y) = test_images(dir.path(), 16);
    let before = snapshot(&t);
    let mut rng = derived_rng(0, 0, 0, 0);
    for norm_steps in [1, 5] {
        t.attack(&t.pgd(norm_steps), &x, &y, &mut rng).unwrap();
    }
    t.evaluate().unwrap();
    assert_eq!(
        snapshot(&t),
        before,
        "an attack or evaluation changed a parameter or buffer"
    );
    // The comparison can fail: one training-mode forward pass moves the running statistics.
    t.logits(&x, true).unwrap();
    let after = snapshot(&t);
    let moved: Vec<&str> = before
        .iter()
        .zip(&after)
        .filter(|(a, b)| a.1 != b.1)
        .map(|(a, _)| a.0.as_str())
        .collect();
    assert!(
        !moved.is_empty() && moved.iter().all(|n| n.contains("running_")),
        "a training-mode forward pass moves exactly the running statistics, moved: {moved:?}"
    );
}

#[test]
fn a_trained_network_loses_accuracy_under_attack() {
    let dir = tempfile::tempdir().unwrap();
    let mut t = task(dir.path(), &settings(Norm::Linf, 4.0 / 255.0), 160, 40, 16);
    let mut opts = sgd(&t, 0.05);
    let losses: Vec<f64> = (0..40).map(|s| step(&mut t, &mut opts, s)).collect();
    let (first, last) = (
        losses[..5].iter().sum::<f64>(),
        losses[35..].iter().sum::<f64>(),
    );
    assert!(
        last < first,
        "adversarial training did not lower the loss: {losses:?}"
    );
    let eval = t.evaluate().unwrap();
    let (std, pgd3, pgd6) = (
        metric(&eval, "std_acc"),
        metric(&eval, "attacked_acc"),
        metric(&eval, "attacked_acc_6"),
    );
    assert!(
        std >= 50.0,
        "the network did not learn the stripes: {eval:?}"
    );
    assert!(
        pgd3 <= std && pgd6 <= std,
        "attacked above standard: {eval:?}"
    );
    // A larger ball breaks it: strictly below the clean accuracy.
    let (x, y) = test_images(dir.path(), 40);
    let strong = Pgd {
        norm: Norm::Linf,
        eps: 0.3,
        steps: 10,
        step_size: 0.075,
    };
    let adv = t
        .attack(&strong, &x, &y, &mut derived_rng(0, 0, 0, 0))
        .unwrap();
    let pred = t.logits(&adv, false).unwrap().argmax(1).unwrap();
    let labels = y.to_vec1::<u32>().unwrap();
    let correct = pred
        .to_vec1::<u32>()
        .unwrap()
        .iter()
        .zip(&labels)
        .filter(|(p, l)| p == l)
        .count();
    let strong_acc = 100.0 * correct as f64 / 40.0;
    assert!(
        strong_acc < std - 20.0,
        "PGD at eps 0.3: {strong_acc} vs clean {std}"
    );
}
