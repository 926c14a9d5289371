//! The reference's cosine test (`adamp` 0.3.0, `_projection`, with torch 2.15.0's
//! `F.cosine_similarity`) in f64 on plain slices, and gradients constructed so that a chosen
//! view fires. Used to drive SGDP/AdamP through every branch in the property tests.

use super::rng::SplitMix64;

/// Which outcome of the cosine test a constructed gradient should produce.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// `max_row |cos| < delta / sqrt(row_len)` on the channel view.
    Channel,
    /// The channel test fails, the layer test (`delta / sqrt(numel)`) fires.
    Layer,
    /// Neither fires: the update is not projected.
    Neither,
}

/// `max_row |cos(g_row, w_row)|` with `rows` rows, as torch's `cosine_similarity`: each vector
/// divided by `max(||v||, eps)`.
pub fn max_abs_cos(g: &[f64], w: &[f64], rows: usize, eps: f64) -> f64 {
    let len = w.len() / rows;
    (0..rows)
        .map(|r| {
            let (gr, wr) = (&g[r * len..(r + 1) * len], &w[r * len..(r + 1) * len]);
            let gn = norm(gr).max(eps);
            let wn = norm(wr).max(eps);
            gr.iter()
                .zip(wr)
                .map(|(a, b)| (a / gn) * (b / wn))
                .sum::<f64>()
                .abs()
        })
        .fold(0.0, f64::max)
}

/// The reference's decision and the smallest relative margin `|cos - thr| / thr` it evaluated.
pub fn decide(g: &[f64], w: &[f64], rows: usize, delta: f64, eps: f64) -> (Target, f64) {
    let mut margin = f64::INFINITY;
    for (target, r) in [(Target::Channel, rows), (Target::Layer, 1)] {
        let cos = max_abs_cos(g, w, r, eps);
        let thr = delta / ((w.len() / r) as f64).sqrt();
        margin = margin.min((cos - thr).abs() / thr);
        if cos < thr {
            return (target, margin);
        }
    }
    (Target::Neither, margin)
}

/// Euclidean norm.
pub fn norm(v: &[f64]) -> f64 {
    v.iter().map(|x| x * x).sum::<f64>().sqrt()
}

/// Dot product.
pub fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// A gradient for `w` (`rows` output channels) whose cosine test gives `target` with a relative
/// margin of at least 0.05. Row `i` is `r_i (o_i + s_i w_i/||w_i||)` with `o_i` a unit vector
/// orthogonal to `w_i`, so its cosine with `w_i` is `s_i / sqrt(1 + s_i^2)`; rows in `zero_rows`
/// are exactly zero. Same construction as `tools/gen_optim_fixtures.py`.
pub fn construct_grad(
    w: &[f64],
    rows: usize,
    target: Target,
    zero_rows: &[usize],
    delta: f64,
    rng: &mut SplitMix64,
) -> Vec<f64> {
    let len = w.len() / rows;
    let thr_ch = delta / (len as f64).sqrt();
    let thr_layer = delta / (w.len() as f64).sqrt();
    for _attempt in 0..100 {
        let sign = if rng.uniform() < 0.5 { -1.0 } else { 1.0 };
        let mut g = vec![0.0; w.len()];
        for r in 0..rows {
            if zero_rows.contains(&r) {
                continue;
            }
            let wr = &w[r * len..(r + 1) * len];
            let w_norm = norm(wr);
            let mut o = rng.normals(len, 1.0);
            let proj = dot(&o, wr) / (w_norm * w_norm);
            o.iter_mut().zip(wr).for_each(|(x, y)| *x -= proj * y);
            let o_norm = norm(&o);
            let u = rng.uniform();
            let c: f64 = match target {
                Target::Channel => {
                    let s = if rng.uniform() < 0.5 { -1.0 } else { 1.0 };
                    s * thr_ch * (0.05 + 0.45 * u)
                }
                Target::Layer => {
                    let alternating = if r % 2 == 0 { 1.0 } else { -1.0 };
                    alternating * thr_ch * (1.5 + 1.5 * u)
                }
                Target::Neither => {
                    let lo = (3.0 * thr_ch).max(0.1);
                    sign * (lo + (0.6 - lo) * u)
                }
            };
            let c = c.clamp(-0.95, 0.95);
            let s = c / (1.0 - c * c).sqrt();
            let scale = 0.2 + 0.8 * rng.uniform();
            for ((gj, oj), wj) in g[r * len..(r + 1) * len].iter_mut().zip(&o).zip(wr) {
                *gj = scale * (oj / o_norm + s * wj / w_norm);
            }
        }
        if target == Target::Layer {
            // Pull the whole-tensor cosine to a small target with a multiple of w on live rows.
            let goal = sign * thr_layer * (0.1 + 0.4 * rng.uniform());
            let live: Vec<f64> = (0..w.len())
                .map(|i| {
                    if zero_rows.contains(&(i / len)) {
                        0.0
                    } else {
                        w[i]
                    }
                })
                .collect();
            for _ in 0..4 {
                let want = goal * norm(&g) * norm(w);
                let step = (want - dot(&g, w)) / dot(&live, w);
                g.iter_mut().zip(&live).for_each(|(x, l)| *x += step * l);
            }
        }
        let (fired, margin) = decide(&g, w, rows, delta, 1e-8);
        if fired == target && margin > 0.05 {
            return g;
        }
    }
    panic!("could not construct a {target:?} gradient")
}
