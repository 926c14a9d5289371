//! # adamp-task-adversarial
//!
//! Benchmark 3 of the AdamP paper (Heo et al., ICLR 2021, arXiv 2006.08217, adversarial training
//! table): PGD adversarial training (Madry et al. 2018, "Towards Deep Learning Models Resistant
//! to Adversarial Attacks") of a Wide-ResNet on CIFAR-10, baseline optimizer vs its projected
//! variant, reporting standard and PGD-10 attacked test accuracy for an ℓ∞ ball of ε = 4/255 and
//! an ℓ2 ball of ε = 80/255. The embedded default runs the same code on Fashion-MNIST.
//!
//! `[task] kind = "adversarial"` ([`settings`]) with the classification task's `[model]` and
//! `[data]` tables (CIFAR-10, Fashion-MNIST or MNIST). Each training step draws a random start in
//! the ball ([`start`]), runs PGD on the *input* ([`pgd`], [`norm`]) with the network in
//! evaluation mode (the choice and its references: [`task`]), then steps the optimizer once on
//! the adversarial batch. Pixels are attacked in `[0, 1]`; the dataset's normalisation is the
//! network's first op ([`input_norm`]). Per step it records `train_adv_acc`; per evaluation
//! `std_acc`, `attacked_acc` (the first `eval_steps` attack, PGD-10 by default) and
//! `attacked_acc_<k>` for the others (PGD-20 by default).

pub mod factory;
pub mod input_norm;
pub mod norm;
pub mod pgd;
pub mod settings;
pub mod start;
pub mod task;

pub use norm::Norm;
pub use pgd::Pgd;
pub use settings::AdversarialSettings;
pub use task::AdversarialTask;
