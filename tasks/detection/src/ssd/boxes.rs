//! ssd.pytorch's box utilities (`layers/box_utils.py`), one box at a time, in f32 like the
//! reference's tensors. Boxes are normalised; `xyxy` is `[x1, y1, x2, y2]`, `cxcywh` is
//! `[cx, cy, w, h]`.

/// `point_form(boxes)`: `cxcywh` → `xyxy`, `(c - wh / 2, c + wh / 2)`.
pub fn point_form(p: &[f32; 4]) -> [f32; 4] {
    [
        p[0] - p[2] / 2.0,
        p[1] - p[3] / 2.0,
        p[0] + p[2] / 2.0,
        p[1] + p[3] / 2.0,
    ]
}

/// `center_size(boxes)`: `xyxy` → `cxcywh`, `((max + min) / 2, max - min)`.
pub fn center_size(b: &[f32; 4]) -> [f32; 4] {
    [
        (b[2] + b[0]) / 2.0,
        (b[3] + b[1]) / 2.0,
        b[2] - b[0],
        b[3] - b[1],
    ]
}

/// `intersect(box_a, box_b)`: the area of the intersection of two `xyxy` boxes, each side
/// clamped at 0.
pub fn intersect(a: &[f32; 4], b: &[f32; 4]) -> f32 {
    let w = (a[2].min(b[2]) - a[0].max(b[0])).max(0.0);
    let h = (a[3].min(b[3]) - a[1].max(b[1])).max(0.0);
    w * h
}

/// `jaccard(box_a, box_b)`: intersection over union of two `xyxy` boxes,
/// `inter / (area_a + area_b - inter)` (areas without the `+ 1` of pixel conventions). Two
/// empty boxes give NaN, as in the reference.
pub fn jaccard(a: &[f32; 4], b: &[f32; 4]) -> f32 {
    let inter = intersect(a, b);
    let area_a = (a[2] - a[0]) * (a[3] - a[1]);
    let area_b = (b[2] - b[0]) * (b[3] - b[1]);
    inter / (area_a + area_b - inter)
}

/// `encode(matched, priors, variances)`: the regression target of an `xyxy` box against a
/// `cxcywh` prior, `((c - c_p) / (v0 w_p), log(wh / wh_p) / v1)`. A box of zero width or
/// height gives `-inf`, as in the reference.
pub fn encode(matched_xyxy: &[f32; 4], prior_cxcywh: &[f32; 4], variance: [f64; 2]) -> [f32; 4] {
    let (v0, v1) = (variance[0] as f32, variance[1] as f32);
    let m = matched_xyxy;
    let p = prior_cxcywh;
    [
        ((m[0] + m[2]) / 2.0 - p[0]) / (v0 * p[2]),
        ((m[1] + m[3]) / 2.0 - p[1]) / (v0 * p[3]),
        ((m[2] - m[0]) / p[2]).ln() / v1,
        ((m[3] - m[1]) / p[3]).ln() / v1,
    ]
}

/// `decode(loc, priors, variances)`: the inverse of [`encode`], an `xyxy` box:
/// `c = c_p + l_xy v0 wh_p`, `wh = wh_p exp(l_wh v1)`, then `(c - wh / 2, c - wh / 2 + wh)`.
pub fn decode(loc: &[f32; 4], prior: &[f32; 4], variance: [f64; 2]) -> [f32; 4] {
    let (v0, v1) = (variance[0] as f32, variance[1] as f32);
    let cx = prior[0] + loc[0] * v0 * prior[2];
    let cy = prior[1] + loc[1] * v0 * prior[3];
    let w = prior[2] * (loc[2] * v1).exp();
    let h = prior[3] * (loc[3] * v1).exp();
    let x1 = cx - w / 2.0;
    let y1 = cy - h / 2.0;
    [x1, y1, w + x1, h + y1]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn by_hand() {
        let b = [0.1, 0.2, 0.5, 0.4];
        assert_eq!(center_size(&b), [0.3, 0.3, 0.4, 0.2]);
        let p = point_form(&[0.5, 0.5, 0.2, 0.4]);
        assert!(p
            .iter()
            .zip([0.4, 0.3, 0.6, 0.7])
            .all(|(a, b)| (a - b).abs() < 1e-7));
        // Two unit squares overlapping by half: 0.5 / 1.5.
        let iou = jaccard(&[0.0, 0.0, 1.0, 1.0], &[0.5, 0.0, 1.5, 1.0]);
        assert!((iou - 1.0 / 3.0).abs() < 1e-7);
        assert_eq!(jaccard(&[0.0, 0.0, 0.1, 0.1], &[0.2, 0.2, 0.3, 0.3]), 0.0);
        // A box equal to its prior encodes to zero.
        let prior = [0.3, 0.3, 0.4, 0.2];
        assert_eq!(encode(&b, &prior, [0.1, 0.2]), [0.0; 4]);
        let d = decode(&[1.0, -1.0, 0.0, 0.0], &prior, [0.1, 0.2]);
        // Centre moves by 0.1 * w_p = 0.04 and -0.1 * h_p = -0.02.
        let want = [0.14, 0.18, 0.54, 0.38];
        assert!(
            d.iter().zip(want).all(|(a, b)| (a - b).abs() < 1e-6),
            "{d:?}"
        );
    }
}
