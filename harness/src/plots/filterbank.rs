//! The learnt harmonic filterbank per optimizer (audio task, benchmarks 6-8; arXiv 2006.08217,
//! Harmonic CNN): `filterbank.png` / `.svg`, drawn for a config whose runs left
//! [`FILTERBANK_FILE`] in their folders (`tasks/audio/src/filterbank.rs` writes it at every
//! evaluation: `harmonic,band,centre_hz,bandwidth_hz`, one row per filter).
//!
//! Two panels, centre frequency (Hz) on a log axis:
//! - the bandwidth (Hz, log axis) of every filter, one line per harmonic and optimizer label
//!   (mean over the label's completed seeds, thin lines per seed), with the initial bandwidth
//!   dashed: the reference's (`HarmonicSTFT`, `learn_bw='only_Q'`) ERB rule
//!   `bw = (0.1079 · f + 24.7) / bw_Q` at the initial `bw_Q = 1`;
//! - the same bandwidths divided by that initial bandwidth (dashed at 1), where a change of a few
//!   per cent, invisible on the first panel, shows.
//!
//! Only completed runs are drawn (the file then holds the end of training). A malformed file is
//! reported when the run is loaded ([`read_filterbank`], error naming the file) and that run is
//! left out of the figure.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use plotters::coord::Shift;
use plotters::prelude::*;

use super::palette::label_color;
use super::render::{render, Figure, PlotResult};
use crate::report::load::{RunData, RunStatus};

/// The file the audio task leaves in each run folder.
pub use adamp_task_audio::filterbank::FILTERBANK_FILE;
/// File stem of the figure in the plots folder.
pub const STEM: &str = "filterbank";
/// Header of [`FILTERBANK_FILE`].
const HEADER: &str = "harmonic,band,centre_hz,bandwidth_hz";
/// The ERB rule's slope and intercept (`models/src/audio/harmonic_filterbank.rs`, `BW_ALPHA`,
/// `BW_BETA`).
const BW_ALPHA: f64 = adamp_models::audio::harmonic_filterbank::BW_ALPHA as f64;
const BW_BETA: f64 = adamp_models::audio::harmonic_filterbank::BW_BETA as f64;

/// One filter of the harmonic filterbank.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Filter {
    /// Harmonic (1-based).
    pub harmonic: u32,
    /// Band within the harmonic (0-based).
    pub band: u32,
    /// Centre frequency (Hz).
    pub centre_hz: f64,
    /// Bandwidth (Hz).
    pub bandwidth_hz: f64,
}

/// The initial bandwidth at centre `f` (Hz): the ERB rule at `bw_Q = 1`.
pub fn initial_bandwidth(f: f64) -> f64 {
    BW_ALPHA * f + BW_BETA
}

/// One row's four fields, if they parse.
fn parse_row(fields: &[&str]) -> Option<Filter> {
    let [h, b, c, w] = fields else { return None };
    Some(Filter {
        harmonic: h.parse().ok()?,
        band: b.parse().ok()?,
        centre_hz: c.parse().ok()?,
        bandwidth_hz: w.parse().ok()?,
    })
}

/// Reads [`FILTERBANK_FILE`]; errors name the file (and line).
pub fn read_filterbank(path: &Path) -> Result<Vec<Filter>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let mut lines = text.lines().enumerate();
    match lines.next() {
        Some((_, h)) if h.trim() == HEADER => {}
        other => bail!(
            "{}: header is {:?}, expected `{HEADER}`",
            path.display(),
            other.map(|(_, h)| h).unwrap_or("")
        ),
    }
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for (i, line) in lines.filter(|(_, l)| !l.trim().is_empty()) {
        let fields: Vec<&str> = line.split(',').map(str::trim).collect();
        let Some(f) = parse_row(&fields) else {
            bail!(
                "{}: line {} is {line:?}, expected four numbers `{HEADER}`",
                path.display(),
                i + 1
            );
        };
        if f.harmonic == 0 || !(f.centre_hz.is_finite() && f.centre_hz > 0.0) {
            bail!(
                "{}: line {}: harmonic must be ≥ 1 and centre_hz positive, got {line:?}",
                path.display(),
                i + 1
            );
        }
        if !seen.insert((f.harmonic, f.band)) {
            bail!(
                "{}: line {}: harmonic {} band {} appears twice",
                path.display(),
                i + 1,
                f.harmonic,
                f.band
            );
        }
        out.push(f);
    }
    if out.is_empty() {
        bail!("{}: no filters after the header", path.display());
    }
    Ok(out)
}

/// One polyline: the filters of one harmonic, by band.
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    /// Legend text (`None`: no legend entry).
    pub legend: Option<String>,
    /// Colour.
    pub color: RGBColor,
    /// Width in pixels.
    pub width: u32,
    /// (centre Hz, bandwidth Hz), by band.
    pub points: Vec<(f64, f64)>,
}

/// The figure: every label's lines and the initial bandwidth.
#[derive(Debug, Clone)]
pub struct FilterbankFigure {
    /// Caption.
    pub title: String,
    /// Per-seed lines (drawn first, thin) and per-label means.
    pub lines: Vec<Line>,
    /// Centre frequencies of all filters, ascending (the dashed initial bandwidth's x).
    pub centres: Vec<f64>,
}

/// `c` halfway to white (per-seed lines under the label's mean).
fn lighter(c: RGBColor) -> RGBColor {
    let half = |v: u8| v + (255 - v) / 2;
    RGBColor(half(c.0), half(c.1), half(c.2))
}

/// Per harmonic, the filters' (centre, bandwidth) by band.
fn by_harmonic(filters: &[Filter]) -> BTreeMap<u32, BTreeMap<u32, (f64, f64)>> {
    let mut m: BTreeMap<u32, BTreeMap<u32, (f64, f64)>> = BTreeMap::new();
    for f in filters {
        m.entry(f.harmonic)
            .or_default()
            .insert(f.band, (f.centre_hz, f.bandwidth_hz));
    }
    m
}

/// The figure of one config's runs (`None` when no completed run has a filterbank).
pub fn filterbank_figure(runs: &[RunData], title: &str) -> Option<FilterbankFigure> {
    let mut groups: BTreeMap<&str, Vec<&[Filter]>> = BTreeMap::new();
    for r in runs.iter().filter(|r| r.status == RunStatus::Completed) {
        if let Some(fb) = &r.filterbank {
            groups.entry(r.label.as_str()).or_default().push(fb);
        }
    }
    let mut seed_lines = Vec::new();
    let mut mean_lines = Vec::new();
    let mut centres = Vec::new();
    for (label, seeds) in groups {
        let color = label_color(label);
        let n = seeds.len();
        // (harmonic, band) -> sums of centre and bandwidth, count.
        let mut sums: BTreeMap<u32, BTreeMap<u32, (f64, f64, usize)>> = BTreeMap::new();
        for fb in &seeds {
            for (h, bands) in by_harmonic(fb) {
                let points: Vec<(f64, f64)> = bands.values().copied().collect();
                for (b, (c, w)) in bands {
                    let s = sums.entry(h).or_default().entry(b).or_default();
                    *s = (s.0 + c, s.1 + w, s.2 + 1);
                }
                if n > 1 {
                    seed_lines.push(Line {
                        legend: None,
                        color: lighter(color),
                        width: 1,
                        points,
                    });
                }
            }
        }
        for (i, (_, bands)) in sums.into_iter().enumerate() {
            let points: Vec<(f64, f64)> = bands
                .into_values()
                .map(|(c, w, k)| (c / k as f64, w / k as f64))
                .collect();
            centres.extend(points.iter().map(|p| p.0));
            mean_lines.push(Line {
                legend: (i == 0).then(|| {
                    if n > 1 {
                        format!("{label} (mean of {n} seeds)")
                    } else {
                        format!("{label} (1 seed)")
                    }
                }),
                color,
                width: 2,
                points,
            });
        }
    }
    if mean_lines.is_empty() {
        return None;
    }
    centres.sort_by(f64::total_cmp);
    centres.dedup();
    seed_lines.extend(mean_lines);
    Some(FilterbankFigure {
        title: title.to_string(),
        lines: seed_lines,
        centres,
    })
}

/// Writes `filterbank.png` / `.svg` for one config's runs, if they have filterbanks.
pub fn filterbank_plot(runs: &[RunData], dir: &Path) -> Result<Vec<PathBuf>> {
    let Some(first) = runs.first() else {
        return Ok(Vec::new());
    };
    let title = format!(
        "{}: learnt harmonic filterbank at the end of training",
        first.config
    );
    match filterbank_figure(runs, &title) {
        Some(fig) => render(&fig, dir, STEM),
        None => Ok(Vec::new()),
    }
}

/// Axis range of positive values, padded by `pad` (a factor) on a log axis.
fn log_range(values: impl Iterator<Item = f64>, pad: f64) -> (f64, f64) {
    let (lo, hi) = values
        .filter(|v| v.is_finite() && *v > 0.0)
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        });
    if lo.is_finite() {
        (lo / pad, hi * pad)
    } else {
        (1.0, 10.0)
    }
}

/// Ticks at 1, 2, 3 and 5 times the powers of ten within `(lo, hi)` (plotters' own log ticks
/// leave the lowest decade unlabelled).
fn log_ticks((lo, hi): (f64, f64)) -> Vec<f64> {
    let mut out = Vec::new();
    let mut decade = 10f64.powf(lo.log10().floor());
    while decade <= hi {
        out.extend(
            [1.0, 2.0, 3.0, 5.0]
                .iter()
                .map(|m| m * decade)
                .filter(|v| (lo..=hi).contains(v)),
        );
        decade *= 10.0;
    }
    out
}

/// Tick label of a frequency or bandwidth in Hz.
fn hz(v: f64) -> String {
    if v >= 10.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.2}")
    }
}

impl FilterbankFigure {
    /// Left panel: bandwidth against centre, log-log, with the initial bandwidth dashed.
    fn draw_bandwidth<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        x: (f64, f64),
    ) -> Result<()> {
        let what = "filterbank bandwidth panel";
        let reference: Vec<(f64, f64)> = self
            .centres
            .iter()
            .map(|&f| (f, initial_bandwidth(f)))
            .collect();
        let y = log_range(
            self.lines
                .iter()
                .flat_map(|l| l.points.iter().map(|p| p.1))
                .chain(reference.iter().map(|p| p.1)),
            1.15,
        );
        let mut chart = ChartBuilder::on(area)
            .caption("Bandwidth of each filter", ("sans-serif", 22))
            .margin(14)
            .x_label_area_size(52)
            .y_label_area_size(84)
            .build_cartesian_2d(
                (x.0..x.1).log_scale().with_key_points(log_ticks(x)),
                (y.0..y.1).log_scale().with_key_points(log_ticks(y)),
            )
            .plot(what)?;
        chart
            .configure_mesh()
            .x_desc("centre frequency (Hz, log scale)")
            .y_desc("bandwidth (Hz, log scale)")
            .x_label_formatter(&|v| hz(*v))
            .y_label_formatter(&|v| hz(*v))
            .axis_desc_style(("sans-serif", 20))
            .label_style(("sans-serif", 16))
            .draw()
            .plot(what)?;
        for l in &self.lines {
            let points = l
                .points
                .iter()
                .copied()
                .filter(|p| p.1.is_finite() && p.1 > 0.0);
            let color = l.color;
            let series = chart
                .draw_series(LineSeries::new(points, color.stroke_width(l.width)))
                .plot(what)?;
            if let Some(legend) = &l.legend {
                series.label(legend.as_str()).legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 24, y)], color.stroke_width(3))
                });
            }
        }
        // The initial bandwidth on top: the learnt lines lie within a few per cent of it.
        chart
            .draw_series(DashedLineSeries::new(
                reference,
                10,
                6,
                BLACK.stroke_width(2),
            ))
            .plot(what)?
            .label("initial: (0.1079·f + 24.7) / bw_Q, bw_Q = 1")
            .legend(|at| {
                let style = BLACK.stroke_width(2);
                EmptyElement::at(at)
                    + PathElement::new(vec![(0, 0), (10, 0)], style)
                    + PathElement::new(vec![(16, 0), (24, 0)], style)
            });
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK.mix(0.5))
            .label_font(("sans-serif", 16))
            .position(SeriesLabelPosition::UpperLeft)
            .draw()
            .plot(what)
    }

    /// Right panel: bandwidth / initial bandwidth against centre, dashed at 1.
    fn draw_ratio<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        x: (f64, f64),
    ) -> Result<()> {
        let what = "filterbank ratio panel";
        let ratio = |(f, w): (f64, f64)| (f, w / initial_bandwidth(f));
        let (lo, hi) = self
            .lines
            .iter()
            .flat_map(|l| l.points.iter().map(|&p| ratio(p).1))
            .filter(|v| v.is_finite())
            .fold((1.0f64, 1.0f64), |(lo, hi), v| (lo.min(v), hi.max(v)));
        let pad = ((hi - lo) * 0.1).max(0.002);
        let mut chart = ChartBuilder::on(area)
            .caption("Bandwidth relative to the initial", ("sans-serif", 22))
            .margin(14)
            .x_label_area_size(52)
            .y_label_area_size(84)
            .build_cartesian_2d(
                (x.0..x.1).log_scale().with_key_points(log_ticks(x)),
                (lo - pad)..(hi + pad),
            )
            .plot(what)?;
        chart
            .configure_mesh()
            .x_desc("centre frequency (Hz, log scale)")
            .y_desc("bandwidth / initial bandwidth")
            .x_label_formatter(&|v| hz(*v))
            .y_label_formatter(&|v| format!("{v:.3}"))
            .axis_desc_style(("sans-serif", 20))
            .label_style(("sans-serif", 16))
            .draw()
            .plot(what)?;
        chart
            .draw_series(DashedLineSeries::new(
                [(x.0, 1.0), (x.1, 1.0)],
                10,
                6,
                BLACK.stroke_width(2),
            ))
            .plot(what)?;
        for l in &self.lines {
            let points = l
                .points
                .iter()
                .map(|&p| ratio(p))
                .filter(|p| p.1.is_finite());
            chart
                .draw_series(LineSeries::new(points, l.color.stroke_width(l.width)))
                .plot(what)?;
        }
        Ok(())
    }
}

/// Two 800 x 600 panels side by side under the title.
impl Figure for FilterbankFigure {
    fn size(&self) -> (u32, u32) {
        (1600, 640)
    }
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()> {
        let inner = root
            .titled(&self.title, ("sans-serif", 26))
            .plot(&self.title)?;
        let (left, right) = inner.split_horizontally(800);
        let x = log_range(self.centres.iter().copied(), 1.1);
        self.draw_bandwidth(&left, x)?;
        self.draw_ratio(&right, x)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::load::{ReportSpec, SummaryTable};

    fn filters(q: f64) -> Vec<Filter> {
        let mut out = Vec::new();
        for harmonic in 1..=2 {
            for band in 0..3 {
                let centre_hz = 100.0 * harmonic as f64 * (1.0 + band as f64);
                out.push(Filter {
                    harmonic,
                    band,
                    centre_hz,
                    bandwidth_hz: initial_bandwidth(centre_hz) / q,
                });
            }
        }
        out
    }

    fn run(label: &str, seed: u64, status: RunStatus, fb: Option<Vec<Filter>>) -> RunData {
        RunData {
            dir: PathBuf::new(),
            config: "audio".into(),
            label: label.into(),
            seed,
            spec: ReportSpec {
                benchmark: "audio".into(),
                title: "t".into(),
                scale: "embedded".into(),
                dataset: String::new(),
                metric: None,
                higher_is_better: None,
                pairs: Vec::new(),
                paper_row: None,
                also: Vec::new(),
                sweep: None,
            },
            git_revision: None,
            status,
            summary: SummaryTable::default(),
            metrics: Default::default(),
            filterbank: fb,
        }
    }

    #[test]
    fn reads_the_audio_tasks_file_and_names_it_on_errors() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(FILTERBANK_FILE);
        std::fs::write(&path, format!("{HEADER}\n1,0,32.7,28.3\n2,5,65.4,NaN\n")).unwrap();
        let f = read_filterbank(&path).unwrap();
        assert_eq!(f.len(), 2);
        assert_eq!((f[0].harmonic, f[0].band, f[0].centre_hz), (1, 0, 32.7));
        assert_eq!(f[0].bandwidth_hz, 28.3);
        assert!(f[1].bandwidth_hz.is_nan(), "a diverged run's NaN is read");

        let bad = |text: &str, wants: &str| {
            std::fs::write(&path, text).unwrap();
            let e = format!("{:#}", read_filterbank(&path).unwrap_err());
            assert!(e.contains(&path.display().to_string()), "{e}");
            assert!(e.contains(wants), "{e}");
        };
        bad("harmonic,band,centre\n1,0,32.7\n", "header");
        bad(&format!("{HEADER}\n1,0,32.7,28.3\n1,x,33,28\n"), "line 3");
        bad(&format!("{HEADER}\n1,0,32.7\n"), "line 2");
        bad(&format!("{HEADER}\n0,0,32.7,28.3\n"), "harmonic must be");
        bad(&format!("{HEADER}\n1,0,-2,28.3\n"), "centre_hz positive");
        bad(
            &format!("{HEADER}\n1,0,32.7,28\n1,0,32.7,28\n"),
            "appears twice",
        );
        bad(&format!("{HEADER}\n"), "no filters");
    }

    #[test]
    fn one_mean_line_per_harmonic_and_label_from_completed_seeds() {
        let runs = [
            run("adam", 0, RunStatus::Completed, Some(filters(1.0))),
            run("adam", 1, RunStatus::Completed, Some(filters(0.5))),
            run("adam", 2, RunStatus::Incomplete, Some(filters(0.1))),
            run("adamp", 0, RunStatus::Completed, Some(filters(2.0))),
            run("adamp", 1, RunStatus::Completed, None),
        ];
        let fig = filterbank_figure(&runs, "audio").unwrap();
        assert_eq!(fig.centres, vec![100.0, 200.0, 300.0, 400.0, 600.0]);
        // adam: 2 seeds x 2 harmonics thin lines, then 2 mean lines; adamp: 2 mean lines.
        assert_eq!(fig.lines.len(), 4 + 2 + 2);
        assert!(fig.lines[..4]
            .iter()
            .all(|l| l.width == 1 && l.legend.is_none()));
        let means = &fig.lines[4..];
        assert_eq!(means[0].legend.as_deref(), Some("adam (mean of 2 seeds)"));
        assert_eq!(means[1].legend, None, "one legend entry per label");
        assert_eq!(means[2].legend.as_deref(), Some("adamp (1 seed)"));
        assert_eq!(means[0].color, label_color("adam"));
        // adam's mean bandwidth is the mean of bw/1 and bw/0.5: 1.5 x the initial; harmonic 2
        // of adamp (bw_Q = 2) is half the initial.
        let f = 100.0;
        assert_eq!(means[0].points[0], (f, 1.5 * initial_bandwidth(f)));
        assert_eq!(means[0].points.len(), 3);
        assert_eq!(means[3].points[1], (400.0, initial_bandwidth(400.0) / 2.0));
        assert_eq!(
            initial_bandwidth(1000.0),
            0.1079f32 as f64 * 1000.0 + 24.7f32 as f64
        );

        let none = [run("adam", 0, RunStatus::Completed, None)];
        assert!(filterbank_figure(&none, "x").is_none());
        assert!(
            filterbank_figure(&runs[2..3], "x").is_none(),
            "incomplete only"
        );
    }

    #[test]
    fn log_ticks_are_one_two_three_five_per_decade_within_the_range() {
        assert_eq!(
            log_ticks((25.0, 700.0)),
            vec![30.0, 50.0, 100.0, 200.0, 300.0, 500.0]
        );
    }

    #[test]
    fn writes_png_and_svg() {
        let dir = tempfile::tempdir().unwrap();
        let runs = [
            run("adam", 0, RunStatus::Completed, Some(filters(1.02))),
            run("adamp", 0, RunStatus::Completed, Some(filters(0.98))),
        ];
        let written = filterbank_plot(&runs, dir.path()).unwrap();
        assert_eq!(
            written,
            vec![
                dir.path().join("filterbank.png"),
                dir.path().join("filterbank.svg")
            ]
        );
        let svg = std::fs::read_to_string(&written[1]).unwrap();
        assert!(svg.contains("audio: learnt harmonic filterbank"), "title");
        assert!(filterbank_plot(&runs[..0], dir.path()).unwrap().is_empty());
    }
}
