//! End-to-end test of `build_report` on a small results tree written in the harness
//! contract's formats: 2 configs x 2 optimizer labels x 3 seeds, one diverged run and one
//! run folder missing its summary.csv. Expected numbers are computed by hand in comments.

use std::fmt::Write as _;
use std::path::Path;

use adamp_harness::report::build_report;

/// One fake run: final headline value per epoch row, and how it ended.
struct FakeRun<'a> {
    config: &'a str,
    label: &'a str,
    seed: u64,
    /// `[report]` table body.
    report: &'a str,
    /// Headline column name.
    metric: &'a str,
    /// Headline value at epoch 1 and epoch 2.
    evals: [f64; 2],
    diverged: bool,
    /// The run stopped early: its last summary row still says `running`.
    incomplete: bool,
    /// Extra run-level metrics written each step (toys: `w_norm`; `psi`, `phi`, `r`).
    toy_metrics: &'a [&'a str],
}

fn write_run(root: &Path, r: &FakeRun) {
    let dir = root
        .join(r.config)
        .join(r.label)
        .join(format!("seed-{}", r.seed));
    std::fs::create_dir_all(dir.join("checkpoint")).unwrap();
    let run = format!("{}/{}/seed-{}", r.config, r.label, r.seed);
    std::fs::write(
        dir.join("config.resolved.toml"),
        format!(
            "name = \"{c}\"\nseed = {s}\n\n[optimizer]\nkind = \"sgd\"\nlabel = \"{l}\"\nlr = 0.1\n\n[meta]\ngit_revision = \"abc1234\"\nseed = {s}\ndevice = \"cpu\"\nadamp_version = \"0.3.0\"\ncandle_version = \"0.11.1\"\nstarted_at = \"2026-11-28T19:00:00Z\"\n\n[report]\n{rep}\n",
            c = r.config,
            s = r.seed,
            l = r.label,
            rep = r.report
        ),
    )
    .unwrap();

    let mut metrics = String::from("run,step,epoch,param,metric,value\n");
    let mut summary = format!(
        "run,epoch,step,train_loss,lr,time_s,mean_weight_norm,mean_effective_step,status,{}\n",
        r.metric
    );
    let sign = if r.label.contains('p') { -1.0 } else { 1.0 };
    for epoch in 1..=2u64 {
        for k in 0..10u64 {
            let step = (epoch - 1) * 10 + k + 1;
            let diverging = r.diverged && epoch == 2;
            let loss = if diverging && k >= 5 {
                f64::NAN
            } else {
                2.0 / step as f64 + 0.01 * r.seed as f64
            };
            let norm = 1.0 + 0.05 * step as f64 * (1.0 + 0.5 * sign) + 0.01 * r.seed as f64;
            let eff = 0.01 / (step as f64 * norm * norm);
            let _ = writeln!(metrics, "{run},{step},{epoch},-,loss,{loss}");
            let _ = writeln!(metrics, "{run},{step},{epoch},-,lr,0.1");
            let _ = writeln!(
                metrics,
                "{run},{step},{epoch},-,time_s,{}",
                0.01 * step as f64
            );
            let _ = writeln!(metrics, "{run},{step},{epoch},__all__,weight_norm,{norm}");
            let _ = writeln!(metrics, "{run},{step},{epoch},__all__,effective_step,{eff}");
            let _ = writeln!(metrics, "{run},{step},{epoch},__all__,projected,0.5");
            let _ = writeln!(
                metrics,
                "{run},{step},{epoch},conv1.weight,weight_norm,{}",
                norm * 1.1
            );
            for (j, m) in r.toy_metrics.iter().enumerate() {
                let _ = writeln!(
                    metrics,
                    "{run},{step},{epoch},-,{m},{}",
                    norm * (1.0 - j as f64 * 0.3)
                );
            }
            if diverging && k >= 5 {
                break;
            }
        }
        let last_step = epoch * 10;
        let (status, eval) = match (epoch, r.diverged, r.incomplete) {
            (2, true, _) => ("diverged", String::new()),
            (2, false, false) => ("completed", r.evals[1].to_string()),
            (2, false, true) => ("running", r.evals[1].to_string()),
            _ => ("running", r.evals[0].to_string()),
        };
        if !eval.is_empty() {
            let _ = writeln!(metrics, "{run},{last_step},{epoch},-,{},{eval}", r.metric);
        }
        let loss = if status == "diverged" {
            "NaN".to_string()
        } else {
            format!("{}", 1.0 / epoch as f64)
        };
        let _ = writeln!(
            summary,
            "{run},{epoch},{last_step},{loss},0.1,{},{},{},{status},{eval}",
            0.1 * epoch as f64,
            1.0 + 0.1 * epoch as f64,
            0.001 / epoch as f64
        );
    }
    std::fs::write(dir.join("metrics.csv"), metrics).unwrap();
    std::fs::write(dir.join("summary.csv"), summary).unwrap();
}

const CLS_REPORT: &str = "benchmark = \"imagenet\"\ntitle = \"ResNet-20 on Fashion-MNIST\"\nscale = \"embedded\"\ndataset = \"Fashion-MNIST (embedded subset)\"\nmetric = \"eval_top1\"\nhigher_is_better = true\npairs = [[\"sgd\", \"sgdp\"]]\npaper_row = \"resnet18\"";
const TOY_REPORT: &str = "benchmark = \"toy2d\"\ntitle = \"2D scale-invariant toy\"\nscale = \"embedded\"\ndataset = \"synthetic 2D, 20 steps\"\nmetric = \"eval_final_norm\"\nhigher_is_better = false\npairs = [[\"momentum_0.9\", \"sgdp_0.9\"]]";

fn write_tree(root: &Path) {
    // Classification: sgd finals 60, 62, 61; sgdp finals 61.5, 62.5 and seed 2 diverged.
    let cls = [
        ("sgd", [[55.0, 60.0], [56.0, 62.0], [57.0, 61.0]]),
        ("sgdp", [[58.0, 61.5], [58.5, 62.5], [50.0, 0.0]]),
    ];
    for (label, evals) in cls {
        for (seed, e) in evals.iter().enumerate() {
            write_run(
                root,
                &FakeRun {
                    config: "fmnist_resnet20",
                    label,
                    seed: seed as u64,
                    report: CLS_REPORT,
                    metric: "eval_top1",
                    evals: *e,
                    diverged: label == "sgdp" && seed == 2,
                    incomplete: false,
                    toy_metrics: &[],
                },
            );
        }
    }
    // Toy: momentum finals 2.9, 3.0, 3.1; sgdp finals 1.10, 1.14 (seed 2 loses its summary.csv).
    let toy = [
        ("momentum_0.9", [2.9, 3.0, 3.1]),
        ("sgdp_0.9", [1.10, 1.14, 1.2]),
    ];
    for (label, finals) in toy {
        for (seed, f) in finals.iter().enumerate() {
            write_run(
                root,
                &FakeRun {
                    config: "toy2d",
                    label,
                    seed: seed as u64,
                    report: TOY_REPORT,
                    metric: "eval_final_norm",
                    evals: [f + 0.5, *f],
                    diverged: false,
                    incomplete: false,
                    toy_metrics: &["w_norm"],
                },
            );
        }
    }
    std::fs::remove_file(root.join("toy2d/sgdp_0.9/seed-2/summary.csv")).unwrap();
}

fn assert_png(path: &Path, size: (u32, u32)) {
    let img = image::open(path)
        .unwrap_or_else(|e| panic!("{} does not decode: {e}", path.display()))
        .to_rgb8();
    assert_eq!(img.dimensions(), size, "{}", path.display());
    let first = *img.get_pixel(0, 0);
    let distinct = img.pixels().filter(|p| **p != first).count();
    assert!(
        distinct > 1000,
        "{} is (almost) a single colour",
        path.display()
    );
}

#[test]
fn report_has_our_numbers_paired_differences_and_the_papers() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write_tree(root);
    let summary = build_report(root).unwrap();

    // 12 run folders, one without summary.csv.
    assert_eq!(summary.runs_loaded, 11);
    assert_eq!(summary.skipped.len(), 1);
    assert!(summary.skipped[0].dir.ends_with("toy2d/sgdp_0.9/seed-2"));
    assert!(summary
        .warnings
        .iter()
        .any(|w| w.contains("seed-2") && w.contains("summary.csv")));
    assert_eq!(
        summary.configs,
        vec!["fmnist_resnet20".to_string(), "toy2d".to_string()]
    );

    let report = std::fs::read_to_string(root.join("report.md")).unwrap();
    // sgd: 60, 62, 61 -> mean 61, sample std sqrt((1 + 1 + 0) / 2) = 1.
    assert!(
        report.contains("| sgd | 61.0000 ± 1.0000 | 3 / 0 / 0 |"),
        "{report}"
    );
    // sgdp: seed 2 diverged -> 61.5, 62.5: mean 62, std sqrt(0.5) = 0.7071; counted as diverged.
    assert!(
        report.contains("| sgdp | 62.0000 ± 0.7071 | 2 / 1 / 0 |"),
        "{report}"
    );
    assert!(report.contains("s2: diverged"));
    // Paired by seed over seeds 0, 1: diffs 1.5, 0.5 -> mean 1.0, std 0.7071.
    assert!(
        report.contains("| sgd → sgdp | +1.0000 ± 0.7071 | 2 (0, 1) | P better |"),
        "{report}"
    );
    // The paper's ResNet18 row beside ours.
    assert!(
        report.contains("SGD 70.28 → SGDP 70.73 (Δ +0.45; ResNet18)"),
        "{report}"
    );
    assert!(report.contains("70.28 (SGD; ResNet18)"), "{report}");
    assert!(report.contains("**embedded** scale"));
    assert!(report.contains("Fashion-MNIST (embedded subset)"));

    // Toy: momentum 2.9, 3.0, 3.1 -> 3.0 ± 0.1; sgdp 1.10, 1.14 -> 1.12 ± 0.0283.
    assert!(
        report.contains("| momentum_0.9 | 3.0000 ± 0.1000 | 3 / 0 / 0 |"),
        "{report}"
    );
    assert!(
        report.contains("| sgdp_0.9 | 1.1200 ± 0.0283 | 2 / 0 / 0 |"),
        "{report}"
    );
    // Diffs -1.80, -1.86 -> mean -1.83, std 0.0424; lower is better, so P is better.
    assert!(
        report.contains("| momentum_0.9 → sgdp_0.9 | -1.8300 ± 0.0424 | 2 (0, 1) | P better |"),
        "{report}"
    );
    assert!(
        report.contains("momentum 0.9 2.93 → momentum 0.9 + projection 1.12"),
        "{report}"
    );
    assert!(report.contains("## Skipped run folders"));
    assert!(report.contains("toy2d/sgdp_0.9/seed-2"));
    // Plot links are relative.
    assert!(
        report.contains("](fmnist_resnet20/plots/figure2.png)"),
        "{report}"
    );

    // Plots: PNG decodes to the expected size and is not blank; SVG has axis text.
    let plots = root.join("fmnist_resnet20/plots");
    assert_png(&plots.join("figure2.png"), (1600, 1200));
    assert_png(&plots.join("effective_step.png"), (800, 600));
    assert_png(&plots.join("final_metric.png"), (800, 600));
    assert_png(&root.join("toy2d/plots/toy2d_w_norm.png"), (800, 600));
    let svg = std::fs::read_to_string(plots.join("figure2.svg")).unwrap();
    assert!(svg.contains("training loss") && svg.contains("effective step size (log scale)"));
    assert!(svg.contains("sgdp (mean of 3 seeds, 1 diverged)"));
    let bars = std::fs::read_to_string(plots.join("final_metric.svg")).unwrap();
    assert!(bars.contains("sgdp (n=2, 1 diverged)"));
    // No temporary files left behind.
    for entry in std::fs::read_dir(&plots).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        assert!(!name.starts_with('.'), "leftover temp file {name}");
    }
}

#[test]
fn toy3d_incomplete_run_is_labelled_and_trajectories_are_plotted() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let report = "benchmark = \"toy3d\"\ntitle = \"3D toy\"\nscale = \"embedded\"\ndataset = \"synthetic 3D, 20 steps\"\nmetric = \"eval_final_r\"\nhigher_is_better = false\npairs = [[\"momentum\", \"sgdp\"]]";
    // momentum: 3.0, 3.2 (both complete); sgdp: 1.1 complete, seed 1 still running.
    for (label, finals) in [("momentum", [3.0, 3.2]), ("sgdp", [1.1, 1.3])] {
        for (seed, f) in finals.iter().enumerate() {
            write_run(
                root,
                &FakeRun {
                    config: "toy3d",
                    label,
                    seed: seed as u64,
                    report,
                    metric: "eval_final_r",
                    evals: [f + 1.0, *f],
                    diverged: false,
                    incomplete: label == "sgdp" && seed == 1,
                    toy_metrics: &["psi", "phi", "r"],
                },
            );
        }
    }
    build_report(root).unwrap();
    let md = std::fs::read_to_string(root.join("report.md")).unwrap();
    // momentum 3.0, 3.2: mean 3.1, std sqrt(0.02) = 0.1414; paper 3.16.
    assert!(
        md.contains("| momentum | 3.1000 ± 0.1414 | 2 / 0 / 0 |"),
        "{md}"
    );
    assert!(md.contains("3.16 (momentum GD)"), "{md}");
    // sgdp: one completed (1.1, no std), one incomplete shown with its current value.
    assert!(
        md.contains("| sgdp | 1.1000 ± — (1 seed) | 1 / 0 / 1 |"),
        "{md}"
    );
    assert!(md.contains("s1: 1.3000 (incomplete)"), "{md}");
    // Paired over seed 0 only: 1.1 - 3.0 = -1.9.
    assert!(
        md.contains("| momentum → sgdp | -1.9000 ± — (1 seed) | 1 (0) |"),
        "{md}"
    );
    assert!(
        md.contains("momentum GD 3.16 → momentum GD + projection 1.12 (Δ -2.04)"),
        "{md}"
    );
    let plots = root.join("toy3d/plots");
    assert_png(&plots.join("toy3d_trajectory.png"), (800, 600));
    assert_png(&plots.join("toy3d_r.png"), (800, 600));
    let svg = std::fs::read_to_string(plots.join("toy3d_trajectory.svg")).unwrap();
    assert!(svg.contains("psi") && svg.contains("phi") && svg.contains("optimum (1, 1)"));
}

#[test]
fn missing_results_folder_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let err = build_report(&dir.path().join("nope"))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("nope") && err.contains("does not exist"),
        "{err}"
    );
}

#[test]
fn empty_results_folder_writes_a_report_saying_so() {
    let dir = tempfile::tempdir().unwrap();
    let summary = build_report(dir.path()).unwrap();
    assert_eq!(summary.runs_loaded, 0);
    let report = std::fs::read_to_string(dir.path().join("report.md")).unwrap();
    assert!(report.contains("No runs found."));
}

#[test]
fn also_metrics_get_their_own_tables_with_the_papers_values() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let report = "benchmark = \"imagenet_analysis\"\ntitle = \"Analysis\"\nscale = \"embedded\"\ndataset = \"Fashion-MNIST\"\nmetric = \"eval_top1\"\nhigher_is_better = true\npairs = [[\"momentum_sgd\", \"sgdp\"]]\nalso = [\"mean_weight_norm\"]";
    for label in ["momentum_sgd", "sgdp"] {
        for seed in 0..2u64 {
            write_run(
                root,
                &FakeRun {
                    config: "analysis",
                    label,
                    seed,
                    report,
                    metric: "eval_top1",
                    evals: [50.0, 60.0 + seed as f64],
                    diverged: false,
                    incomplete: false,
                    toy_metrics: &[],
                },
            );
        }
    }
    build_report(root).unwrap();
    let md = std::fs::read_to_string(root.join("report.md")).unwrap();
    assert!(md.contains("Also reported: `mean_weight_norm`"), "{md}");
    // summary.csv's final mean_weight_norm is 1.2 for every run (see write_run).
    assert!(
        md.contains("| optimizer | ours: `mean_weight_norm` mean ± std"),
        "{md}"
    );
    assert!(md.contains("| momentum_sgd | 1.2000 ± 0.0000 |"), "{md}");
    // The paper's final mean weight norms in the same rows as ours: momentum SGD 3.95, SGDP 1.94
    // (the benchmark's paper table further down holds them too, so check the row itself).
    assert!(md.contains("s1: 1.2000 | 3.95 (momentum SGD"), "{md}");
    assert!(md.contains("s1: 1.2000 | 1.94 (SGDP"), "{md}");
    // The headline table is still there, with the paper's top-1.
    assert!(md.contains("| momentum_sgd | 60.5000 ± 0.7071 |"), "{md}");
    assert!(md.contains("66.6"), "{md}");
}

const DET_REPORT: &str = "benchmark = \"coco\"\ntitle = \"CenterNet on tiny COCO\"\nscale = \"embedded\"\ndataset = \"tiny COCO\"\nmetric = \"eval_map\"\nhigher_is_better = true\npairs = [[\"adam\", \"adamp\"]]";

#[test]
fn detection_runs_get_the_detections_figure_inline() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let data = tempfile::tempdir().unwrap();
    let coco = data.path();
    adamp_datasets::testdata_coco::write_tiny(coco, 3, 5).unwrap();
    for (label, seed) in [("adam", 0), ("adamp", 0), ("adamp", 1)] {
        write_run(
            root,
            &FakeRun {
                config: "det",
                label,
                seed,
                report: DET_REPORT,
                metric: "eval_map",
                evals: [0.1, 0.2],
                diverged: false,
                incomplete: false,
                toy_metrics: &[],
            },
        );
    }
    // adamp's seed 0 has no detection files: its row is seed 1.
    for run in ["det/adam/seed-0", "det/adamp/seed-1"] {
        let run = root.join(run);
        let dets = serde_json::json!([
            {"image_id": 5000, "category_id": 3, "bbox": [30.0, 20.0, 20.0, 16.0], "score": 0.9}
        ]);
        std::fs::write(run.join("detections.json"), dets.to_string()).unwrap();
        let source = serde_json::json!({
            "annotation_file": coco.join("annotations/instances_val2017.json"),
            "image_dir": coco.join("val2017"),
        });
        std::fs::write(run.join("detections_source.json"), source.to_string()).unwrap();
    }
    let summary = build_report(root).unwrap();
    let png = root.join("det/plots/detections.png");
    assert!(summary.plots.contains(&png), "{:?}", summary.plots);
    assert!(!root.join("det/plots/detections.svg").exists());
    assert_png(&png, (828, 522));
    let report = std::fs::read_to_string(root.join("report.md")).unwrap();
    assert!(
        report.contains("![det: validation images with predicted boxes](det/plots/detections.png)"),
        "{report}"
    );
    assert!(
        report.contains("score ≥ 0.3") && report.contains("rows: adam seed 0, adamp seed 1."),
        "{report}"
    );
}

const AUDIO_REPORT: &str = "benchmark = \"speech_commands\"\ntitle = \"Harmonic CNN on a keyword stand-in\"\nscale = \"embedded\"\nmetric = \"eval_accuracy\"\nhigher_is_better = true\npairs = [[\"adam\", \"adamp\"]]";

/// A `filterbank.csv` as the audio task writes it: 2 harmonics x 3 bands, `bw_Q = q`.
fn filterbank_csv(q: f64) -> String {
    let mut out = String::from("harmonic,band,centre_hz,bandwidth_hz\n");
    for k in 0..6 {
        let f0 = 32.703197 * 2f64.powf((k % 3) as f64 / 2.0) * (k / 3 + 1) as f64;
        let _ = writeln!(
            out,
            "{},{},{f0},{}",
            k / 3 + 1,
            k % 3,
            (0.1079 * f0 + 24.7) / q
        );
    }
    out
}

#[test]
fn audio_runs_get_the_filterbank_figure_and_others_do_not() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    for (config, label, seed, report) in [
        ("audio", "adam", 0, AUDIO_REPORT),
        ("audio", "adamp", 0, AUDIO_REPORT),
        ("audio", "adamp", 1, AUDIO_REPORT),
        ("cls", "sgd", 0, CLS_REPORT),
    ] {
        write_run(
            root,
            &FakeRun {
                config,
                label,
                seed,
                report,
                metric: if config == "audio" {
                    "eval_accuracy"
                } else {
                    "eval_top1"
                },
                evals: [0.5, 0.6],
                diverged: false,
                incomplete: false,
                toy_metrics: &[],
            },
        );
    }
    std::fs::write(
        root.join("audio/adam/seed-0/filterbank.csv"),
        filterbank_csv(1.01),
    )
    .unwrap();
    std::fs::write(
        root.join("audio/adamp/seed-0/filterbank.csv"),
        filterbank_csv(0.99),
    )
    .unwrap();
    // A malformed file: reported, and only that run leaves the figure.
    let bad = root.join("audio/adamp/seed-1/filterbank.csv");
    std::fs::write(&bad, "harmonic,band,centre_hz,bandwidth_hz\n1,0,32.7\n").unwrap();

    let summary = build_report(root).unwrap();
    assert_eq!(summary.runs_loaded, 4);
    assert!(summary.skipped.is_empty());
    assert!(
        summary
            .warnings
            .iter()
            .any(|w| w.contains(&bad.display().to_string()) && w.contains("line 2")),
        "{:?}",
        summary.warnings
    );
    let png = root.join("audio/plots/filterbank.png");
    let svg = root.join("audio/plots/filterbank.svg");
    assert!(summary.plots.contains(&png) && summary.plots.contains(&svg));
    assert_png(&png, (1600, 640));
    assert!(std::fs::read_to_string(&svg)
        .unwrap()
        .contains("adamp (1 seed)"));
    assert!(!root.join("cls/plots/filterbank.png").exists());
    assert!(!root.join("cls/plots/filterbank.svg").exists());
    assert!(root.join("cls/plots/figure2.png").exists());

    let report = std::fs::read_to_string(root.join("report.md")).unwrap();
    assert!(
        report.contains(
            "[filterbank](audio/plots/filterbank.png) ([svg](audio/plots/filterbank.svg))"
        ),
        "{report}"
    );
    assert!(
        report.contains(
            "![audio: learnt harmonic filterbank per optimizer](audio/plots/filterbank.png)"
        ),
        "{report}"
    );
    assert!(report.contains("The learnt harmonic filterbank at the end of training"));
    assert_eq!(report.matches("filterbank.png").count(), 2, "{report}");
}
