//! The SGDP/AdamP projection decision and the per-parameter step statistics, from row sums.
//!
//! Reference: `adamp` 0.3.0, `adamp/adamp.py::_projection` (identical in `sgdp.py`):
//!
//! ```python
//! for view_func in [self._channel_view, self._layer_view]:
//!     cosine_sim = F.cosine_similarity(view(grad), view(p), dim=1, eps=eps).abs_()
//!     if cosine_sim.max() < delta / math.sqrt(view_func(p.data).size(1)):
//!         p_n = p.data / view_func(p.data).norm(dim=1).view(expand_size).add_(eps)
//!         perturb -= p_n * view_func(p_n * perturb).sum(dim=1).view(expand_size)
//!         wd = wd_ratio
//!         return perturb, wd
//! ```
//!
//! torch 2.15.0's `F.cosine_similarity(x, y, eps)` clamps each norm separately:
//! `sum((x / max(||x||, eps)) * (y / max(||y||, eps)))` (checked against the library on zero,
//! tiny and ordinary rows), so a row whose gradient is exactly zero has cosine 0. Both the fused
//! kernels and the tensor-op path compute the cosine from the row sums `<g,w>`, `||g||^2`,
//! `||w||^2` with this formula.

use crate::algo::ProjectionParams;
use crate::optimizer::{ParamStepStats, ProjectionView};

/// Row sums over the channel view before the step: raw gradient `g` against the weight `w`.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct RowPre {
    /// `<g_row, w_row>`.
    pub gw: f64,
    /// `||g_row||^2`.
    pub gg: f64,
    /// `||w_row||^2`.
    pub ww: f64,
}

impl RowPre {
    /// Element-wise sum (for the layer view).
    pub(crate) fn add(self, o: RowPre) -> RowPre {
        RowPre {
            gw: self.gw + o.gw,
            gg: self.gg + o.gg,
            ww: self.ww + o.ww,
        }
    }
}

/// Row sums of the step `d = w' - w`, taken from the old and new rows in the step's pass.
///
/// `||w'||^2` follows as `||w||^2 + 2<w,d> + ||d||^2` (see [`stats`]), which also gives
/// `||w'|| - ||w||` without cancellation. The fused channel-view kernels accumulate both sums in
/// f32 lanes flushed to f64 every `POST_FLUSH` elements (`fused::sweep::row_post`); the other
/// paths sum f64 products.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct RowPost {
    /// `<w_row, w'_row - w_row>`.
    pub wd: f64,
    /// `||w'_row - w_row||^2`.
    pub dd: f64,
}

/// torch 2.15 `F.cosine_similarity` from row sums: each norm clamped to `eps` separately.
pub(crate) fn cosine(r: &RowPre, eps: f64) -> f64 {
    r.gw / (r.gg.sqrt().max(eps) * r.ww.sqrt().max(eps))
}

/// `max_row |cos(g_row, w_row)|` over rows (0 for no rows).
pub(crate) fn max_abs_cos(rows: &[RowPre], eps: f64) -> f64 {
    rows.iter()
        .map(|r| cosine(r, eps).abs())
        .fold(0.0, |a: f64, c| if c > a || c.is_nan() { c } else { a })
}

/// What the projection decided for one parameter.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Decision {
    /// Which view fired.
    pub view: ProjectionView,
    /// The weight-decay ratio (`wd_ratio` if a view fired, else 1).
    pub ratio: f64,
}

/// Run the reference's cosine test. `rows` are the channel-view row sums (`shape[0]` rows of
/// `row_len`); `rank` is the parameter's number of dimensions (only rank > 1 projects).
pub(crate) fn decide(
    rows: &[RowPre],
    row_len: usize,
    rank: usize,
    p: &ProjectionParams,
) -> Decision {
    let none = Decision {
        view: ProjectionView::None,
        ratio: 1.0,
    };
    if rank <= 1 || rows.is_empty() || row_len == 0 {
        return none;
    }
    // Channel view: rows = shape[0]. NaN compares false, as `tensor.max() < x` does in Python.
    let channel_max = max_abs_cos(rows, p.eps);
    if channel_max < p.delta / (row_len as f64).sqrt() {
        return Decision {
            view: ProjectionView::Channel,
            ratio: p.wd_ratio,
        };
    }
    // Layer view: one row, the whole tensor.
    let total = rows.iter().fold(RowPre::default(), |a, r| a.add(*r));
    let numel = rows.len() * row_len;
    if cosine(&total, p.eps).abs() < p.delta / (numel as f64).sqrt() {
        return Decision {
            view: ProjectionView::Layer,
            ratio: p.wd_ratio,
        };
    }
    none
}

/// The projection coefficient `c` with `u' = u - c * w` for a row with `||w||^2 = ww` and
/// `<w, u> = wu`: `p_n = w / (||w|| + eps)`, `u -= p_n * sum(p_n * u)` gives
/// `c = <w,u> / (||w|| + eps)^2`.
pub(crate) fn coefficient(ww: f64, wu: f64, eps: f64) -> f64 {
    let d = ww.sqrt() + eps;
    wu / (d * d)
}

/// Assemble a parameter's statistics from its channel-view row sums.
///
/// The effective step `|| w'/||w'|| - w/||w|| ||` is computed as
/// `sqrt((||w'-w||^2 - (||w'|| - ||w||)^2) / (||w|| ||w'||))`, which is the same quantity without
/// the cancellation of `2 - 2 cos` for small steps, with `||w'||^2 = ||w||^2 + 2<w,d> + ||d||^2`
/// and `||w'|| - ||w|| = (2<w,d> + ||d||^2) / (||w|| + ||w'||)` from the [`RowPost`] sums. It is NaN when either norm is 0 (the
/// direction of a zero vector is undefined; the literal formula gives NaN too), e.g. for a bias
/// initialised to zero on its first step.
pub(crate) fn stats(
    pre: &[RowPre],
    post: &[RowPost],
    eps: f64,
    view: ProjectionView,
    decay_factor: f64,
) -> ParamStepStats {
    let ww: f64 = pre.iter().map(|r| r.ww).sum();
    let wd: f64 = post.iter().map(|r| r.wd).sum();
    let dd: f64 = post.iter().map(|r| r.dd).sum();
    // `||w'||^2 - ||w||^2 = 2<w,d> + ||d||^2`.
    let grow = 2.0 * wd + dd;
    let (n0, n1) = (ww.sqrt(), (ww + grow).max(0.0).sqrt());
    let effective_step = if n0 > 0.0 && n1 > 0.0 {
        // `||w'|| - ||w||`, without subtracting the two nearly equal norms.
        let dn = grow / (n0 + n1);
        ((dd - dn * dn).max(0.0) / (n0 * n1)).sqrt()
    } else {
        f64::NAN
    };
    ParamStepStats {
        projection: view,
        decay_factor,
        norm_before: n0,
        norm_after: n1,
        effective_step,
        max_abs_cos: max_abs_cos(pre, eps),
    }
}

/// The channel view of a shape: `(rows, row_len)`; 1-D and 0-D tensors are one row.
pub(crate) fn channel_view(dims: &[usize]) -> (usize, usize) {
    let numel: usize = dims.iter().product();
    if dims.len() <= 1 {
        (1, numel)
    } else {
        let rows = dims[0];
        (rows, numel.checked_div(rows).unwrap_or(0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(g: &[f64], w: &[f64]) -> RowPre {
        RowPre {
            gw: g.iter().zip(w).map(|(a, b)| a * b).sum(),
            gg: g.iter().map(|a| a * a).sum(),
            ww: w.iter().map(|a| a * a).sum(),
        }
    }

    /// Values printed by torch 2.15.0 `F.cosine_similarity(x, y, dim=1, eps=1e-8)` for
    /// `x = 1e-9 * [1, 2, 0]`, `y = [1, 0, 0]`: 1e-9 / max(sqrt(5)*1e-9, 1e-8) = 0.1.
    #[test]
    fn cosine_clamps_each_norm_separately_like_torch_2_15() {
        let r = row(&[1e-9, 2e-9, 0.0], &[1.0, 0.0, 0.0]);
        assert!((cosine(&r, 1e-8) - 0.1).abs() < 1e-12);
        // A zero-gradient row has cosine exactly 0.
        assert_eq!(cosine(&row(&[0.0, 0.0], &[1.0, 2.0]), 1e-8), 0.0);
    }

    #[test]
    fn zero_grad_channel_does_not_block_the_channel_view() {
        let p = ProjectionParams {
            delta: 0.1,
            eps: 1e-8,
            wd_ratio: 0.1,
        };
        let rows = [
            row(&[0.0; 4], &[1.0, 1.0, 0.0, 0.0]),
            row(&[1.0, -1.0, 0.0, 0.0], &[1.0, 1.0, 0.0, 0.0]),
        ];
        let d = decide(&rows, 4, 2, &p);
        assert_eq!(d.view, ProjectionView::Channel);
        assert_eq!(d.ratio, 0.1);
        // Rank 1 never projects.
        assert_eq!(decide(&rows[..1], 4, 1, &p).view, ProjectionView::None);
        // A gradient parallel to w fails both views.
        let par = [row(&[1.0, 1.0], &[1.0, 1.0])];
        assert_eq!(decide(&par, 2, 2, &p).view, ProjectionView::None);
    }

    #[test]
    fn effective_step_matches_the_definition() {
        let w = [3.0, 4.0];
        let w1 = [3.5, 3.0];
        let pre = [row(&[0.0, 0.0], &w)];
        let post = [RowPost {
            wd: w.iter().zip(&w1).map(|(a, b)| a * (b - a)).sum(),
            dd: w.iter().zip(&w1).map(|(a, b)| (a - b) * (a - b)).sum(),
        }];
        let s = stats(&pre, &post, 1e-8, ProjectionView::None, 1.0);
        let n0 = 5.0;
        let n1 = (3.5f64 * 3.5 + 9.0).sqrt();
        let direct = ((3.0 / n0 - 3.5 / n1).powi(2) + (4.0 / n0 - 3.0 / n1).powi(2)).sqrt();
        assert!((s.effective_step - direct).abs() < 1e-12);
        assert!((s.norm_after - n1).abs() < 1e-12);
    }
}
