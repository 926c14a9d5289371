//! The paper's numbers as data: Heo, Chun, Oh, Han, Yun, Kim, Uh and Ha, "AdamP: Slowing Down the
//! Slowdown for Momentum Optimizers on Scale-invariant Weights", ICLR 2021, arXiv 2006.08217
//! (<https://arxiv.org/abs/2006.08217>; values as in the tables of the authors' project page,
//! <https://clovaai.github.io/AdamP/>). One entry per (benchmark, row, metric, baseline → P)
//! cell of:
//! - the problem analysis: the 2D scale-invariant toy (final ‖w‖), the 3D Rosenbrock-on-hemisphere
//!   toy (final r) and the ResNet18 ImageNet analysis (vanilla SGD, momentum SGD, SGDP: top-1,
//!   weight norm, effective step size);
//! - the experiment tables of the 13 benchmarks: ImageNet classification, MS-COCO detection,
//!   CIFAR-10 adversarial training, Biased-MNIST and 9-class ImageNet (ReBias), audio
//!   classification (MagnaTagATune, Speech Commands, DCASE 2017), image retrieval (CUB-200-2011,
//!   Cars-196, In-Shop, Stanford Online Products) and WikiText-103 language modelling.
//!
//! Titles and `citation` strings cite the paper itself (arXiv 2006.08217) by the part that reports
//! the number: its problem analysis (the two toys and the ResNet18 ImageNet analysis) or the
//! experiment table of a benchmark (ImageNet classification, MS-COCO object detection, adversarial
//! training, Biased-MNIST, 9-class ImageNet, audio classification, image retrieval, language
//! modelling). Training settings the paper does not state are the defaults of the codebases its
//! experiments build on.
//!
//! Label convention (how our optimizer labels map to the paper's columns; see
//! [`PaperNumber::baseline_label`] and [`PaperNumber::p_label`]):
//! - benchmarks: `sgd` → `sgdp`, `adam` → `adamp`, `adamw` → `adamp` (the paper's baseline
//!   and its P variant);
//! - ImageNet analysis (in the paper's problem analysis): `vanilla_sgd` (no momentum),
//!   `momentum_sgd`, `sgdp`;
//! - 2D toy: `gd` (plain GD), `momentum_<beta>` (heavy ball, e.g. `momentum_0.9`) and
//!   `sgdp_<beta>` (the same momentum with projection);
//! - 3D toy: `momentum`, `momentum_wd` (momentum plus weight decay), `sgdp` (with projection).
//!
//! Metric keys are the `[report].metric` column without its `eval_` (or `mean_`) prefix (e.g.
//! `eval_top1` → `top1`, `mean_weight_norm` → `weight_norm`). Where the paper's table does not
//! name the optimizer pair of a benchmark, the entry uses the default optimizer of the codebase
//! the experiment builds on and says so in `note`.

/// One cell of the paper's tables: a baseline value and (when the paper gives one) its P value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PaperNumber {
    /// Benchmark key, the `[report].benchmark` of a config (e.g. `imagenet`, `toy2d`).
    pub benchmark: &'static str,
    /// Row key within the benchmark (model/setting), the optional `[report].paper_row`.
    pub row: &'static str,
    /// The row as the paper names it.
    pub row_title: &'static str,
    /// Metric key (the `[report].metric` column without `eval_`).
    pub metric: &'static str,
    /// The metric as the paper names it, with its unit.
    pub metric_title: &'static str,
    /// The paper's baseline optimizer name.
    pub baseline: &'static str,
    /// Our optimizer label for the baseline.
    pub baseline_label: &'static str,
    /// The paper's baseline number.
    pub baseline_value: f64,
    /// The paper's P optimizer name (empty when the paper gives no P number for this row).
    pub p: &'static str,
    /// Our optimizer label for the P optimizer (empty when none).
    pub p_label: &'static str,
    /// The paper's P number, if any.
    pub p_value: Option<f64>,
    /// Extra context (peaks, assumptions about unnamed optimizers); may be empty.
    pub note: &'static str,
    /// Where in the paper (arXiv 2006.08217) the number is reported.
    pub citation: &'static str,
}

/// A benchmark key with its display title and the paper section that reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PaperBenchmark {
    /// Key used in `[report].benchmark`.
    pub key: &'static str,
    /// Display title.
    pub title: &'static str,
}

/// Every benchmark key the paper's numbers use, in the paper's order.
pub const BENCHMARKS: &[PaperBenchmark] = &[
    PaperBenchmark {
        key: "toy2d",
        title: "2D scale-invariant toy (arXiv 2006.08217, problem analysis)",
    },
    PaperBenchmark {
        key: "toy3d",
        title: "3D Rosenbrock-on-hemisphere toy (arXiv 2006.08217, problem analysis)",
    },
    PaperBenchmark {
        key: "imagenet",
        title: "ImageNet classification (arXiv 2006.08217, experiments)",
    },
    PaperBenchmark {
        key: "imagenet_analysis",
        title: "ResNet18 ImageNet analysis, 100 epochs (arXiv 2006.08217, problem analysis)",
    },
    PaperBenchmark {
        key: "coco",
        title: "MS-COCO object detection (arXiv 2006.08217, experiments)",
    },
    PaperBenchmark {
        key: "cifar10_adv",
        title: "CIFAR-10 adversarial training, PGD-10 (arXiv 2006.08217, experiments)",
    },
    PaperBenchmark {
        key: "biased_mnist",
        title: "Biased-MNIST with ReBias (arXiv 2006.08217, experiments)",
    },
    PaperBenchmark {
        key: "imagenet9",
        title: "9-class ImageNet with ReBias (arXiv 2006.08217, experiments)",
    },
    PaperBenchmark {
        key: "mtat",
        title: "MagnaTagATune auto-tagging (arXiv 2006.08217, experiments)",
    },
    PaperBenchmark {
        key: "speech_commands",
        title: "Speech Commands keyword spotting (arXiv 2006.08217, experiments)",
    },
    PaperBenchmark {
        key: "dcase2017",
        title: "DCASE 2017 task 4 (arXiv 2006.08217, experiments)",
    },
    PaperBenchmark {
        key: "retrieval_cub",
        title: "Image retrieval, CUB-200-2011 (arXiv 2006.08217, experiments)",
    },
    PaperBenchmark {
        key: "retrieval_cars",
        title: "Image retrieval, Cars-196 (arXiv 2006.08217, experiments)",
    },
    PaperBenchmark {
        key: "retrieval_inshop",
        title: "Image retrieval, In-Shop (arXiv 2006.08217, experiments)",
    },
    PaperBenchmark {
        key: "retrieval_sop",
        title: "Image retrieval, Stanford Online Products (arXiv 2006.08217, experiments)",
    },
    PaperBenchmark {
        key: "wikitext103",
        title: "WikiText-103 language modelling (arXiv 2006.08217, experiments)",
    },
];

/// The display title of a benchmark key, if it is one of the paper's.
pub fn benchmark_title(key: &str) -> Option<&'static str> {
    BENCHMARKS.iter().find(|b| b.key == key).map(|b| b.title)
}

/// All entries for `benchmark`, in table order.
pub fn entries_for(benchmark: &str) -> Vec<&'static PaperNumber> {
    PAPER_NUMBERS
        .iter()
        .filter(|e| e.benchmark == benchmark)
        .collect()
}

/// A pair cell: baseline → P with both values.
#[allow(clippy::too_many_arguments)]
const fn pair(
    benchmark: &'static str,
    row: &'static str,
    row_title: &'static str,
    metric: &'static str,
    metric_title: &'static str,
    (baseline, baseline_label, baseline_value): (&'static str, &'static str, f64),
    (p, p_label, p_value): (&'static str, &'static str, f64),
    note: &'static str,
    citation: &'static str,
) -> PaperNumber {
    PaperNumber {
        benchmark,
        row,
        row_title,
        metric,
        metric_title,
        baseline,
        baseline_label,
        baseline_value,
        p,
        p_label,
        p_value: Some(p_value),
        note,
        citation,
    }
}

/// A cell with a baseline value only (the paper gives no P number for it).
#[allow(clippy::too_many_arguments)]
const fn single(
    benchmark: &'static str,
    row: &'static str,
    row_title: &'static str,
    metric: &'static str,
    metric_title: &'static str,
    (baseline, baseline_label, baseline_value): (&'static str, &'static str, f64),
    note: &'static str,
    citation: &'static str,
) -> PaperNumber {
    PaperNumber {
        benchmark,
        row,
        row_title,
        metric,
        metric_title,
        baseline,
        baseline_label,
        baseline_value,
        p: "",
        p_label: "",
        p_value: None,
        note,
        citation,
    }
}

const SGD: (&str, &str) = ("SGD", "sgd");
const SGDP: (&str, &str) = ("SGDP", "sgdp");
const ADAM: (&str, &str) = ("Adam", "adam");
const ADAMW: (&str, &str) = ("AdamW", "adamw");
const ADAMP: (&str, &str) = ("AdamP", "adamp");

const fn v(o: (&'static str, &'static str), value: f64) -> (&'static str, &'static str, f64) {
    (o.0, o.1, value)
}

const IMNET_TOP1: &str = "top-1 accuracy (%)";
const ADAM_ASSUMED: &str =
    "Adam → AdamP assumed for this row (the codebase's default optimizer, not read off the paper)";
const REBIAS_ADAM: &str = "Adam → AdamP assumed (ReBias codebase default, lr 1e-3)";
const AUDIO_ADAM: &str = "Adam → AdamP (Harmonic CNN codebase default, Adam lr 1e-4)";
const RETRIEVAL_ADAMW: &str = "AdamW → AdamP (ProxyAnchor codebase default, AdamW lr 1e-4)";

/// Every number of the paper (arXiv 2006.08217) the report compares against.
#[rustfmt::skip]
pub const PAPER_NUMBERS: &[PaperNumber] = &[
    // Problem analysis, 2D toy: final ||w|| after 500 steps.
    single("toy2d", "gd", "plain GD", "final_norm", "final ‖w‖ after 500 steps", ("GD", "gd", 1.02), "", "arXiv 2006.08217, 2D toy example (plain GD)"),
    pair("toy2d", "momentum_0.9", "momentum 0.9", "final_norm", "final ‖w‖ after 500 steps", ("momentum 0.9", "momentum_0.9", 2.93), ("momentum 0.9 + projection", "sgdp_0.9", 1.12), "", "arXiv 2006.08217, 2D toy example (momentum 0.9)"),
    pair("toy2d", "momentum_0.95", "momentum 0.95", "final_norm", "final ‖w‖ after 500 steps", ("momentum 0.95", "momentum_0.95", 5.67), ("momentum 0.95 + projection", "sgdp_0.95", 1.14), "", "arXiv 2006.08217, 2D toy example (momentum 0.95)"),
    pair("toy2d", "momentum_0.99", "momentum 0.99", "final_norm", "final ‖w‖ after 500 steps", ("momentum 0.99", "momentum_0.99", 27.87), ("momentum 0.99 + projection", "sgdp_0.99", 1.15), "", "arXiv 2006.08217, 2D toy example (momentum 0.99)"),
    // Problem analysis, 3D toy: final radius r after 200 steps.
    pair("toy3d", "momentum", "momentum GD", "final_r", "final r after 200 steps", ("momentum GD", "momentum", 3.16), ("momentum GD + projection", "sgdp", 1.12), "", "arXiv 2006.08217, 3D toy example (momentum GD vs projection)"),
    single("toy3d", "momentum_wd", "momentum GD + weight decay", "final_r", "final r after 200 steps", ("momentum GD + weight decay", "momentum_wd", 0.84), "r peaks at 2.53 before decaying to 0.84", "arXiv 2006.08217, 3D toy example (with weight decay)"),
    // ImageNet classification, top-1.
    pair("imagenet", "mobilenetv2", "MobileNetV2", "top1", IMNET_TOP1, v(SGD, 71.61), v(SGDP, 72.18), "", "arXiv 2006.08217, ImageNet classification table (ImageNet, MobileNetV2, SGD)"),
    pair("imagenet", "mobilenetv2", "MobileNetV2", "top1", IMNET_TOP1, v(ADAM, 72.12), v(ADAMP, 72.57), "", "arXiv 2006.08217, ImageNet classification table (ImageNet, MobileNetV2, Adam)"),
    pair("imagenet", "resnet18", "ResNet18", "top1", IMNET_TOP1, v(SGD, 70.28), v(SGDP, 70.73), "", "arXiv 2006.08217, ImageNet classification table (ImageNet, ResNet18, SGD)"),
    pair("imagenet", "resnet18", "ResNet18", "top1", IMNET_TOP1, v(ADAM, 70.41), v(ADAMP, 70.81), "", "arXiv 2006.08217, ImageNet classification table (ImageNet, ResNet18, Adam)"),
    pair("imagenet", "resnet50", "ResNet50", "top1", IMNET_TOP1, v(SGD, 76.64), v(SGDP, 76.71), "", "arXiv 2006.08217, ImageNet classification table (ImageNet, ResNet50, SGD)"),
    pair("imagenet", "resnet50", "ResNet50", "top1", IMNET_TOP1, v(ADAM, 76.65), v(ADAMP, 76.94), "", "arXiv 2006.08217, ImageNet classification table (ImageNet, ResNet50, Adam)"),
    pair("imagenet", "resnet50_cutmix", "ResNet50 + CutMix", "top1", IMNET_TOP1, v(SGD, 77.61), v(SGDP, 77.72), "", "arXiv 2006.08217, ImageNet classification table (ImageNet, ResNet50+CutMix, SGD)"),
    pair("imagenet", "resnet50_cutmix", "ResNet50 + CutMix", "top1", IMNET_TOP1, v(ADAM, 78.00), v(ADAMP, 78.31), "", "arXiv 2006.08217, ImageNet classification table (ImageNet, ResNet50+CutMix, Adam)"),
    pair("imagenet", "resnet18_nowd", "ResNet18 without weight decay", "top1", IMNET_TOP1, v(SGD, 67.94), v(SGDP, 70.21), "", "arXiv 2006.08217, ImageNet classification table (ImageNet, ResNet18 without wd, SGD)"),
    pair("imagenet", "resnet18_nowd", "ResNet18 without weight decay", "top1", IMNET_TOP1, v(ADAM, 68.52), v(ADAMP, 70.50), "", "arXiv 2006.08217, ImageNet classification table (ImageNet, ResNet18 without wd, Adam)"),
    // Problem analysis, ResNet18 on ImageNet, 100 epochs, lr x0.1 every 30.
    pair("imagenet_analysis", "resnet18_100ep", "ResNet18, 100 epochs", "top1", IMNET_TOP1, ("momentum SGD", "momentum_sgd", 66.6), ("SGDP", "sgdp", 69.0), "", "arXiv 2006.08217, ResNet18 ImageNet analysis (top-1, momentum SGD vs SGDP)"),
    pair("imagenet_analysis", "resnet18_100ep", "ResNet18, 100 epochs", "top1", IMNET_TOP1, ("vanilla SGD", "vanilla_sgd", 62.05), ("SGDP", "sgdp", 69.0), "", "arXiv 2006.08217, ResNet18 ImageNet analysis (top-1, vanilla SGD vs SGDP)"),
    pair("imagenet_analysis", "resnet18_100ep", "ResNet18, 100 epochs", "weight_norm", "final mean weight norm", ("momentum SGD", "momentum_sgd", 3.95), ("SGDP", "sgdp", 1.94), "", "arXiv 2006.08217, ResNet18 ImageNet analysis (weight norm, momentum SGD vs SGDP)"),
    pair("imagenet_analysis", "resnet18_100ep", "ResNet18, 100 epochs", "weight_norm", "final mean weight norm", ("vanilla SGD", "vanilla_sgd", 1.71), ("SGDP", "sgdp", 1.94), "", "arXiv 2006.08217, ResNet18 ImageNet analysis (weight norm, vanilla SGD vs SGDP)"),
    single("imagenet_analysis", "resnet18_100ep", "ResNet18, 100 epochs", "effective_step", "mean effective step size at epoch 30", ("momentum SGD", "momentum_sgd", 0.0008), "falls from about 0.0029 at the start to about 0.0008 by epoch 30", "arXiv 2006.08217, ResNet18 ImageNet analysis (effective step size)"),
    // MS-COCO object detection, AP@[.5:.95].
    pair("coco", "centernet_scratch", "CenterNet, from scratch", "ap", "AP@[.5:.95]", v(ADAM, 26.57), v(ADAMP, 27.11), "Adam → AdamP (CenterNet codebase default: Adam)", "arXiv 2006.08217, MS-COCO object detection table (CenterNet scratch)"),
    pair("coco", "centernet_imagenet", "CenterNet, ImageNet init", "ap", "AP@[.5:.95]", v(ADAM, 28.29), v(ADAMP, 29.05), "Adam → AdamP (CenterNet codebase default: Adam)", "arXiv 2006.08217, MS-COCO object detection table (CenterNet ImageNet init)"),
    pair("coco", "ssd_scratch", "SSD, from scratch", "ap", "AP@[.5:.95]", v(ADAM, 27.10), v(ADAMP, 27.97), ADAM_ASSUMED, "arXiv 2006.08217, MS-COCO object detection table (SSD scratch)"),
    pair("coco", "ssd_imagenet", "SSD, ImageNet init", "ap", "AP@[.5:.95]", v(ADAM, 28.39), v(ADAMP, 28.67), ADAM_ASSUMED, "arXiv 2006.08217, MS-COCO object detection table (SSD ImageNet init)"),
    // CIFAR-10 adversarial training.
    pair("cifar10_adv", "linf_4", "Wide-ResNet, ℓ∞ ε = 4/255", "std_acc", "standard accuracy (%)", v(ADAM, 80.12), v(ADAMP, 89.85), ADAM_ASSUMED, "arXiv 2006.08217, adversarial training table (ℓ∞ 4/255, standard)"),
    pair("cifar10_adv", "linf_4", "Wide-ResNet, ℓ∞ ε = 4/255", "attacked_acc", "PGD-10 attacked accuracy (%)", v(ADAM, 56.58), v(ADAMP, 66.28), ADAM_ASSUMED, "arXiv 2006.08217, adversarial training table (ℓ∞ 4/255, attacked)"),
    pair("cifar10_adv", "l2_80", "Wide-ResNet, ℓ2 ε = 80/255", "std_acc", "standard accuracy (%)", v(ADAM, 84.14), v(ADAMP, 93.46), ADAM_ASSUMED, "arXiv 2006.08217, adversarial training table (ℓ2 80/255, standard)"),
    pair("cifar10_adv", "l2_80", "Wide-ResNet, ℓ2 ε = 80/255", "attacked_acc", "PGD-10 attacked accuracy (%)", v(ADAM, 70.33), v(ADAMP, 83.59), ADAM_ASSUMED, "arXiv 2006.08217, adversarial training table (ℓ2 80/255, attacked)"),
    // Biased-MNIST (ReBias), unbiased accuracy.
    pair("biased_mnist", "rho_0.999", "ρ = 0.999", "unbiased_acc", "unbiased accuracy (%)", v(ADAM, 22.9), v(ADAMP, 30.5), REBIAS_ADAM, "arXiv 2006.08217, Biased-MNIST table (ρ .999)"),
    pair("biased_mnist", "rho_0.997", "ρ = 0.997", "unbiased_acc", "unbiased accuracy (%)", v(ADAM, 63.0), v(ADAMP, 70.9), REBIAS_ADAM, "arXiv 2006.08217, Biased-MNIST table (ρ .997)"),
    pair("biased_mnist", "rho_0.995", "ρ = 0.995", "unbiased_acc", "unbiased accuracy (%)", v(ADAM, 74.9), v(ADAMP, 80.9), REBIAS_ADAM, "arXiv 2006.08217, Biased-MNIST table (ρ .995)"),
    pair("biased_mnist", "rho_0.990", "ρ = 0.990", "unbiased_acc", "unbiased accuracy (%)", v(ADAM, 87.0), v(ADAMP, 89.6), REBIAS_ADAM, "arXiv 2006.08217, Biased-MNIST table (ρ .990)"),
    // 9-class ImageNet (ReBias).
    pair("imagenet9", "resnet18_bagnet18", "ResNet18 vs BagNet18", "biased_acc", "biased accuracy (%)", v(ADAM, 93.8), v(ADAMP, 95.2), REBIAS_ADAM, "arXiv 2006.08217, 9-class ImageNet table (biased)"),
    pair("imagenet9", "resnet18_bagnet18", "ResNet18 vs BagNet18", "unbiased_acc", "unbiased accuracy (%)", v(ADAM, 92.6), v(ADAMP, 94.5), REBIAS_ADAM, "arXiv 2006.08217, 9-class ImageNet table (unbiased)"),
    pair("imagenet9", "resnet18_bagnet18", "ResNet18 vs BagNet18", "imagenet_a_acc", "ImageNet-A accuracy (%)", v(ADAM, 31.2), v(ADAMP, 32.9), REBIAS_ADAM, "arXiv 2006.08217, 9-class ImageNet table (ImageNet-A)"),
    // Audio classification.
    pair("mtat", "harmonic_cnn", "Harmonic CNN", "test_roc_auc", "test ROC-AUC (%)", v(ADAM, 91.12), v(ADAMP, 91.35), AUDIO_ADAM, "arXiv 2006.08217, audio classification table, MagnaTagATune (ROC-AUC)"),
    pair("mtat", "harmonic_cnn", "Harmonic CNN", "test_pr_auc", "test PR-AUC (%)", v(ADAM, 45.61), v(ADAMP, 45.79), AUDIO_ADAM, "arXiv 2006.08217, audio classification table, MagnaTagATune (PR-AUC)"),
    pair("speech_commands", "harmonic_cnn", "Harmonic CNN", "test_acc", "test accuracy (%)", v(ADAM, 96.47), v(ADAMP, 96.89), AUDIO_ADAM, "arXiv 2006.08217, audio classification table, Speech Commands"),
    pair("dcase2017", "harmonic_cnn", "Harmonic CNN", "test_f1", "test F1, averaged over samples at threshold 0.1 (%)", v(ADAM, 55.24), v(ADAMP, 56.04), AUDIO_ADAM, "arXiv 2006.08217, audio classification table, DCASE 2017"),
    // Image retrieval, Recall@1.
    pair("retrieval_cub", "triplet", "ResNet50, triplet loss", "recall_at_1", "Recall@1 (%)", v(ADAMW, 57.9), v(ADAMP, 58.2), RETRIEVAL_ADAMW, "arXiv 2006.08217, image retrieval table (CUB, triplet)"),
    pair("retrieval_cub", "proxy_anchor", "ResNet50, ProxyAnchor loss", "recall_at_1", "Recall@1 (%)", v(ADAMW, 69.28), v(ADAMP, 69.5), RETRIEVAL_ADAMW, "arXiv 2006.08217, image retrieval table (CUB, ProxyAnchor)"),
    pair("retrieval_cars", "triplet", "ResNet50, triplet loss", "recall_at_1", "Recall@1 (%)", v(ADAMW, 59.8), v(ADAMP, 59.9), RETRIEVAL_ADAMW, "arXiv 2006.08217, image retrieval table (Cars-196, triplet)"),
    pair("retrieval_cars", "proxy_anchor", "ResNet50, ProxyAnchor loss", "recall_at_1", "Recall@1 (%)", v(ADAMW, 86.7), v(ADAMP, 86.9), RETRIEVAL_ADAMW, "arXiv 2006.08217, image retrieval table (Cars-196, ProxyAnchor)"),
    pair("retrieval_inshop", "triplet", "ResNet50, triplet loss", "recall_at_1", "Recall@1 (%)", v(ADAMW, 62.7), v(ADAMP, 62.8), RETRIEVAL_ADAMW, "arXiv 2006.08217, image retrieval table (In-Shop, triplet)"),
    pair("retrieval_inshop", "proxy_anchor", "ResNet50, ProxyAnchor loss", "recall_at_1", "Recall@1 (%)", v(ADAMW, 85.2), v(ADAMP, 87.4), RETRIEVAL_ADAMW, "arXiv 2006.08217, image retrieval table (In-Shop, ProxyAnchor)"),
    pair("retrieval_sop", "triplet", "ResNet50, triplet loss", "recall_at_1", "Recall@1 (%)", v(ADAMW, 62.0), v(ADAMP, 62.6), RETRIEVAL_ADAMW, "arXiv 2006.08217, image retrieval table (SOP, triplet)"),
    pair("retrieval_sop", "proxy_anchor", "ResNet50, ProxyAnchor loss", "recall_at_1", "Recall@1 (%)", v(ADAMW, 76.5), v(ADAMP, 78.0), RETRIEVAL_ADAMW, "arXiv 2006.08217, image retrieval table (SOP, ProxyAnchor)"),
    // WikiText-103 language modelling, test perplexity (lower is better).
    pair("wikitext103", "transformer_xl", "Transformer-XL base", "test_ppl", "test perplexity (lower is better)", v(ADAMW, 23.38), v(ADAMP, 23.26), "", "arXiv 2006.08217, language modelling table (Transformer-XL)"),
    pair("wikitext103", "transformer_xl_wn", "Transformer-XL + weight norm", "test_ppl", "test perplexity (lower is better)", v(ADAMW, 23.96), v(ADAMP, 22.77), "", "arXiv 2006.08217, language modelling table (Transformer-XL + weight norm)"),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_entry_uses_a_known_benchmark_and_every_benchmark_has_entries() {
        for e in PAPER_NUMBERS {
            assert!(
                benchmark_title(e.benchmark).is_some(),
                "unknown benchmark {}",
                e.benchmark
            );
            assert!(
                e.citation.starts_with("arXiv 2006.08217, "),
                "{}",
                e.citation
            );
            assert_eq!(e.p.is_empty(), e.p_value.is_none());
        }
        for b in BENCHMARKS {
            assert!(!entries_for(b.key).is_empty(), "no numbers for {}", b.key);
        }
    }

    #[test]
    fn spot_check_values_against_paper_md() {
        let r18: Vec<_> = entries_for("imagenet")
            .into_iter()
            .filter(|e| e.row == "resnet18")
            .collect();
        assert_eq!(r18.len(), 2);
        assert_eq!(
            (r18[0].baseline_value, r18[0].p_value),
            (70.28, Some(70.73))
        );
        assert_eq!(
            (r18[1].baseline_value, r18[1].p_value),
            (70.41, Some(70.81))
        );
        let toy: Vec<_> = entries_for("toy2d")
            .iter()
            .map(|e| (e.baseline_value, e.p_value))
            .collect();
        assert_eq!(
            toy,
            vec![
                (1.02, None),
                (2.93, Some(1.12)),
                (5.67, Some(1.14)),
                (27.87, Some(1.15))
            ]
        );
        let wt = entries_for("wikitext103");
        assert_eq!((wt[1].baseline_value, wt[1].p_value), (23.96, Some(22.77)));
    }
}
