//! Which of the paper's numbers stand beside one config's results.
//!
//! A config names its benchmark (`[report].benchmark`), optionally a row
//! (`[report].paper_row`), and its headline column (`[report].metric`). Our optimizer labels
//! map to the paper's columns by the label convention documented in
//! [`super::paper_numbers`]: first by exact label, then by optimizer family (`sgd`, `sgdp`,
//! `adam`, `adamw`, `adamp`, `gd`). A cell stays empty when the match is ambiguous.

use super::paper_numbers::{entries_for, PaperNumber};

/// The paper entries relevant to one config.
#[derive(Debug, Clone)]
pub struct PaperSelection {
    /// Entries of the benchmark, narrowed by row and metric where possible.
    pub entries: Vec<&'static PaperNumber>,
}

/// The optimizer family of a label: `sgdp_0.9` → `sgdp`, `momentum_0.9` → `sgd`, `adamw` → `adamw`.
pub fn optimizer_family(label: &str) -> String {
    let l = label.to_ascii_lowercase();
    for (prefix, family) in [
        ("sgdp", "sgdp"),
        ("adamp", "adamp"),
        ("adamw", "adamw"),
        ("adam", "adam"),
        ("sgd", "sgd"),
        ("momentum", "sgd"),
        ("vanilla", "gd"),
        ("gd", "gd"),
    ] {
        if l.starts_with(prefix) {
            return family.to_string();
        }
    }
    l
}

impl PaperSelection {
    /// Selects the entries for `benchmark`, narrowed to `paper_row` (when given) and to the
    /// metric whose key equals `metric_column` without its `eval_` / `mean_` prefix (none when
    /// the paper reports no such metric).
    pub fn new(benchmark: &str, paper_row: Option<&str>, metric_column: &str) -> Self {
        let mut entries = entries_for(benchmark);
        if let Some(row) = paper_row {
            entries.retain(|e| e.row == row);
        }
        // `eval_top1` -> `top1`; summary.csv's `mean_weight_norm` -> `weight_norm`.
        let key = metric_column.strip_prefix("eval_").unwrap_or(metric_column);
        let key = key.strip_prefix("mean_").unwrap_or(key);
        // A column the paper does not report gets no paper numbers (another metric's value
        // beside it would mislead, e.g. unbiased accuracies beside a biased-accuracy column).
        entries.retain(|e| e.metric == key);
        Self { entries }
    }

    /// True when every entry left reports one metric (so its numbers can sit in our table).
    fn single_metric(&self) -> bool {
        self.entries.windows(2).all(|w| w[0].metric == w[1].metric)
    }

    /// The paper's number for one of our labels, when it is unambiguous.
    pub fn value_for_label(&self, label: &str) -> Option<(f64, &'static PaperNumber)> {
        if !self.single_metric() {
            return None;
        }
        let by = |same: &dyn Fn(&str) -> bool| -> Vec<(f64, &'static PaperNumber)> {
            let mut out = Vec::new();
            for e in &self.entries {
                if same(e.baseline_label) {
                    out.push((e.baseline_value, *e));
                }
                if let Some(p) = e.p_value {
                    if same(e.p_label) {
                        out.push((p, *e));
                    }
                }
            }
            out
        };
        let exact = by(&|l: &str| l.eq_ignore_ascii_case(label));
        let found = if exact.is_empty() {
            let family = optimizer_family(label);
            by(&|l: &str| !l.is_empty() && optimizer_family(l) == family)
        } else {
            exact
        };
        let first = *found.first()?;
        found
            .iter()
            .all(|(v, _)| (v - first.0).abs() < 1e-12)
            .then_some(first)
    }

    /// The paper's cell for our pair (baseline label, P label), when it is unambiguous.
    pub fn entry_for_pair(&self, baseline: &str, p: &str) -> Option<&'static PaperNumber> {
        if !self.single_metric() {
            return None;
        }
        let with_p: Vec<_> = self
            .entries
            .iter()
            .copied()
            .filter(|e| e.p_value.is_some())
            .collect();
        let unique = |v: Vec<&'static PaperNumber>| (v.len() == 1).then(|| v[0]);
        let exact = with_p
            .iter()
            .copied()
            .filter(|e| {
                e.baseline_label.eq_ignore_ascii_case(baseline) && e.p_label.eq_ignore_ascii_case(p)
            })
            .collect::<Vec<_>>();
        if !exact.is_empty() {
            return unique(exact);
        }
        let (fb, fp) = (optimizer_family(baseline), optimizer_family(p));
        let family = with_p
            .iter()
            .copied()
            .filter(|e| {
                optimizer_family(e.baseline_label) == fb && optimizer_family(e.p_label) == fp
            })
            .collect::<Vec<_>>();
        if !family.is_empty() {
            return unique(family);
        }
        unique(
            with_p
                .into_iter()
                .filter(|e| optimizer_family(e.p_label) == fp)
                .collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn imagenet_row_maps_sgd_and_adam_pairs() {
        let s = PaperSelection::new("imagenet", Some("resnet18"), "eval_top1");
        assert_eq!(s.value_for_label("sgd").unwrap().0, 70.28);
        assert_eq!(s.value_for_label("adamp").unwrap().0, 70.81);
        let e = s.entry_for_pair("sgd", "sgdp").unwrap();
        assert_eq!((e.baseline_value, e.p_value), (70.28, Some(70.73)));
        let e = s.entry_for_pair("adam", "adamp").unwrap();
        assert_eq!(e.baseline_value, 70.41);
    }

    #[test]
    fn imagenet_without_row_is_ambiguous() {
        let s = PaperSelection::new("imagenet", None, "eval_top1");
        assert!(s.value_for_label("sgd").is_none());
        assert!(s.entry_for_pair("sgd", "sgdp").is_none());
    }

    #[test]
    fn toy_labels_map_by_momentum() {
        let s = PaperSelection::new("toy2d", None, "eval_final_norm");
        assert_eq!(s.value_for_label("gd").unwrap().0, 1.02);
        assert_eq!(s.value_for_label("momentum_0.99").unwrap().0, 27.87);
        assert_eq!(s.value_for_label("sgdp_0.95").unwrap().0, 1.14);
        assert_eq!(
            s.entry_for_pair("momentum_0.9", "sgdp_0.9")
                .unwrap()
                .p_value,
            Some(1.12)
        );
        let s3 = PaperSelection::new("toy3d", None, "eval_final_r");
        assert_eq!(s3.value_for_label("momentum_wd").unwrap().0, 0.84);
        assert_eq!(
            s3.entry_for_pair("momentum", "sgdp")
                .unwrap()
                .baseline_value,
            3.16
        );
    }

    #[test]
    fn analysis_weight_norm_matches_the_summary_column() {
        let s = PaperSelection::new("imagenet_analysis", None, "mean_weight_norm");
        assert_eq!(s.value_for_label("momentum_sgd").unwrap().0, 3.95);
        assert_eq!(s.value_for_label("sgdp").unwrap().0, 1.94);
        let e = s.entry_for_pair("vanilla_sgd", "sgdp").unwrap();
        assert_eq!((e.baseline_value, e.p_value), (1.71, Some(1.94)));
        let top1 = PaperSelection::new("imagenet_analysis", None, "eval_top1");
        assert_eq!(top1.value_for_label("vanilla_sgd").unwrap().0, 62.05);
    }

    #[test]
    fn a_column_the_paper_does_not_report_gets_no_numbers() {
        let s = PaperSelection::new("biased_mnist", Some("rho_0.999"), "eval_biased_acc");
        assert!(s.entries.is_empty());
        assert!(s.value_for_label("adam").is_none());
        let s = PaperSelection::new("biased_mnist", Some("rho_0.999"), "eval_unbiased_acc");
        assert_eq!(s.value_for_label("adamp").unwrap().0, 30.5);
        let s = PaperSelection::new(
            "imagenet9",
            Some("resnet18_bagnet18"),
            "eval_imagenet_a_acc",
        );
        assert_eq!(
            s.entry_for_pair("adam", "adamp").unwrap().baseline_value,
            31.2
        );
    }

    #[test]
    fn unnamed_baseline_falls_back_to_p_family() {
        // Retrieval's paper baseline is AdamW; a run labelled `adam` still meets the AdamP cell.
        let s = PaperSelection::new("retrieval_cub", Some("triplet"), "eval_recall_at_1");
        assert_eq!(
            s.entry_for_pair("adam", "adamp").unwrap().p_value,
            Some(58.2)
        );
    }
}
