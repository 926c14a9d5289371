//! CenterNet's training targets (Zhou et al. 2019, "Objects as Points", github
//! xingyizhou/CenterNet): the class heatmap of splatted gaussians, the size and offset
//! regression targets at the integer centres, their indices and mask.
//!
//! Ports of `src/lib/utils/image.py` (`gaussian_radius`, `gaussian2D`, `draw_umich_gaussian`)
//! and of `src/lib/datasets/sample/ctdet.py::CTDetDataset.__getitem__` without augmentation,
//! on plain `f32` arrays. Checked against `tools/gen_centernet_fixtures.py`.

/// CenterNet's output stride (`opt.down_ratio`).
pub const DOWN_RATIO: usize = 4;
/// Objects per image kept in the targets (`max_objs` of the COCO `ctdet` dataset); the rest
/// are dropped, as `num_objs = min(len(anns), max_objs)` does.
pub const MAX_OBJS: usize = 128;

/// `gaussian_radius((height, width), min_overlap)` of `src/lib/utils/image.py`, kept exactly
/// as the reference computes it (inherited from CornerNet), quirks included: the three
/// "roots" are `(b + sqrt(b² - 4ac)) / 2` instead of `/ (2a)`, and the first and third
/// quadratics are not the ones their geometric derivation gives, so the result is not the
/// radius that guarantees an IoU of `min_overlap`. Trained CenterNet models depend on it as is.
pub fn gaussian_radius(height: f64, width: f64, min_overlap: f64) -> f64 {
    let (a1, b1) = (1.0, height + width);
    let c1 = width * height * (1.0 - min_overlap) / (1.0 + min_overlap);
    let r1 = (b1 + (b1 * b1 - 4.0 * a1 * c1).sqrt()) / 2.0;

    let (a2, b2) = (4.0, 2.0 * (height + width));
    let c2 = (1.0 - min_overlap) * width * height;
    let r2 = (b2 + (b2 * b2 - 4.0 * a2 * c2).sqrt()) / 2.0;

    let (a3, b3) = (4.0 * min_overlap, -2.0 * min_overlap * (height + width));
    let c3 = (min_overlap - 1.0) * width * height;
    let r3 = (b3 + (b3 * b3 - 4.0 * a3 * c3).sqrt()) / 2.0;
    r1.min(r2).min(r3)
}

/// `gaussian2D((d, d), sigma)` of `src/lib/utils/image.py` for `d = 2 * radius + 1` and
/// `sigma = d / 6`, row-major `d × d`, in `f64` as numpy computes it; values below
/// `f64::EPSILON * max` are set to zero as the reference does.
pub fn gaussian2d(radius: usize) -> Vec<f64> {
    let d = 2 * radius + 1;
    let sigma = d as f64 / 6.0;
    let m = (d as f64 - 1.0) / 2.0;
    let mut g = Vec::with_capacity(d * d);
    for i in 0..d {
        let y = i as f64 - m;
        for j in 0..d {
            let x = j as f64 - m;
            g.push((-(x * x + y * y) / (2.0 * sigma * sigma)).exp());
        }
    }
    let max = g.iter().cloned().fold(f64::MIN, f64::max);
    for v in &mut g {
        if *v < f64::EPSILON * max {
            *v = 0.0;
        }
    }
    g
}

/// `draw_umich_gaussian(heatmap, center, radius)` of `src/lib/utils/image.py`: max-merges the
/// gaussian of [`gaussian2d`]`(radius)` centred on the integer `center = (x, y)` into the
/// row-major `height × width` `heatmap`, cut at the borders. A centre outside the map draws
/// nothing.
pub fn draw_umich_gaussian(
    heatmap: &mut [f32],
    height: usize,
    width: usize,
    center: (usize, usize),
    radius: usize,
) {
    assert_eq!(
        heatmap.len(),
        height * width,
        "heatmap is not height × width"
    );
    let (x, y) = center;
    if x >= width || y >= height {
        return;
    }
    let d = 2 * radius + 1;
    let g = gaussian2d(radius);
    let (left, right) = (x.min(radius), (width - x).min(radius + 1));
    let (top, bottom) = (y.min(radius), (height - y).min(radius + 1));
    for dy in 0..top + bottom {
        let (hy, gy) = (y - top + dy, radius - top + dy);
        for dx in 0..left + right {
            let (hx, gx) = (x - left + dx, radius - left + dx);
            let cell = &mut heatmap[hy * width + hx];
            // np.maximum(float32 view, float64 gaussian, out=float32): the max in f64, cast.
            *cell = (*cell as f64).max(g[gy * d + gx]) as f32;
        }
    }
}

/// One annotated object: the COCO box `[x, y, w, h]` in input pixels and its class in
/// `0..num_classes` (the contiguous label, `cat_ids[category_id]` in the reference).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CtdetObject {
    pub bbox: [f32; 4],
    pub class: usize,
}

/// The targets of one image, as `CTDetDataset.__getitem__` returns them.
#[derive(Debug, Clone, PartialEq)]
pub struct CtdetTargets {
    pub num_classes: usize,
    /// Output height `in_h / 4`.
    pub out_h: usize,
    /// Output width `in_w / 4`.
    pub out_w: usize,
    /// `hm`: `[num_classes, out_h, out_w]`, row-major.
    pub hm: Vec<f32>,
    /// `wh`: `[MAX_OBJS, 2]`, (w, h) of the box in output pixels.
    pub wh: Vec<f32>,
    /// `reg`: `[MAX_OBJS, 2]`, centre minus integer centre.
    pub reg: Vec<f32>,
    /// `ind`: `[MAX_OBJS]`, `y_int * out_w + x_int`.
    pub ind: Vec<u32>,
    /// `reg_mask`: `[MAX_OBJS]`, 1 where slot k holds an object.
    pub mask: Vec<u8>,
}

/// `CTDetDataset.__getitem__` (`src/lib/datasets/sample/ctdet.py`) without augmentation, for
/// an image already at the input resolution `in_h × in_w`: `trans_output` is taken to be the
/// division by [`DOWN_RATIO`] (what `get_affine_transform` gives for a square image, up to
/// cv2's rounding). Per object `k < MAX_OBJS`: box to `[x1, y1, x2, y2]`, divided by 4, clipped
/// to `[0, out - 1]`; if `h > 0 && w > 0`: radius `max(0, int(gaussian_radius(ceil h, ceil w)))`,
/// gaussian at the truncated centre, `wh[k] = (w, h)`, `ind[k]`, `reg[k] = ct - ct_int`,
/// `mask[k] = 1`. Skipped objects keep their zero slot.
pub fn ctdet_targets(
    in_h: usize,
    in_w: usize,
    num_classes: usize,
    objects: &[CtdetObject],
) -> CtdetTargets {
    let (out_h, out_w) = (in_h / DOWN_RATIO, in_w / DOWN_RATIO);
    let mut t = CtdetTargets {
        num_classes,
        out_h,
        out_w,
        hm: vec![0.0; num_classes * out_h * out_w],
        wh: vec![0.0; MAX_OBJS * 2],
        reg: vec![0.0; MAX_OBJS * 2],
        ind: vec![0; MAX_OBJS],
        mask: vec![0; MAX_OBJS],
    };
    for (k, obj) in objects.iter().take(MAX_OBJS).enumerate() {
        assert!(obj.class < num_classes, "class {} out of range", obj.class);
        let [x, y, w, h] = obj.bbox;
        let r = DOWN_RATIO as f32;
        let clip = |v: f32, hi: usize| v.clamp(0.0, (hi - 1) as f32);
        let x1 = clip(x / r, out_w);
        let y1 = clip(y / r, out_h);
        let x2 = clip((x + w) / r, out_w);
        let y2 = clip((y + h) / r, out_h);
        let (bh, bw) = (y2 - y1, x2 - x1);
        if bh > 0.0 && bw > 0.0 {
            let radius = gaussian_radius(bh.ceil() as f64, bw.ceil() as f64, 0.7);
            let radius = radius.max(0.0) as usize; // max(0, int(radius)); int truncates
            let ct = [(x1 + x2) / 2.0, (y1 + y2) / 2.0];
            let ct_int = [ct[0] as usize, ct[1] as usize];
            let plane = obj.class * out_h * out_w;
            draw_umich_gaussian(
                &mut t.hm[plane..plane + out_h * out_w],
                out_h,
                out_w,
                (ct_int[0], ct_int[1]),
                radius,
            );
            t.wh[2 * k] = bw;
            t.wh[2 * k + 1] = bh;
            t.ind[k] = (ct_int[1] * out_w + ct_int[0]) as u32;
            t.reg[2 * k] = ct[0] - ct_int[0] as f32;
            t.reg[2 * k + 1] = ct[1] - ct_int[1] as f32;
            t.mask[k] = 1;
        }
    }
    t
}
