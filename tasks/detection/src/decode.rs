//! CenterNet's decoding of one image's heads into boxes (Zhou et al. 2019, github
//! xingyizhou/CenterNet, `src/lib/models/decode.py`): `_nms` (peaks = cells equal to their
//! 3×3 max-pool), `_topk` and `ctdet_decode`, on plain row-major `f32` arrays (batch of one).

/// `_nms(heat)`: `heat * (heat == max_pool2d(heat, 3, stride 1, padding 1))`, the pool padded
/// with -inf. `heat` is `[C, H, W]` row-major; returns the same shape.
pub fn nms(heat: &[f32], c: usize, h: usize, w: usize) -> Vec<f32> {
    assert_eq!(heat.len(), c * h * w, "heat is not C × H × W");
    let mut out = vec![0.0; heat.len()];
    for k in 0..c {
        let plane = &heat[k * h * w..(k + 1) * h * w];
        for y in 0..h {
            for x in 0..w {
                let mut m = f32::NEG_INFINITY;
                for yy in y.saturating_sub(1)..(y + 2).min(h) {
                    for xx in x.saturating_sub(1)..(x + 2).min(w) {
                        m = m.max(plane[yy * w + xx]);
                    }
                }
                let v = plane[y * w + x];
                out[k * h * w + y * w + x] = if v == m { v } else { 0.0 };
            }
        }
    }
    out
}

/// One entry of [`topk`]: score, class, position index `y * W + x`, `y`, `x`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Peak {
    pub score: f32,
    pub class: usize,
    pub index: usize,
    pub y: usize,
    pub x: usize,
}

/// `_topk(scores, K)`: the K highest scores over all classes and positions of `[C, H, W]`,
/// best first. The reference takes the top K per class and then the top K of those; that is
/// the same set. Among equal scores the order here is by class, then position (torch.topk
/// leaves it undefined).
pub fn topk(scores: &[f32], c: usize, h: usize, w: usize, k: usize) -> Vec<Peak> {
    assert_eq!(scores.len(), c * h * w, "scores is not C × H × W");
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]).then(a.cmp(&b)));
    order
        .into_iter()
        .take(k)
        .map(|i| {
            let index = i % (h * w);
            Peak {
                score: scores[i],
                class: i / (h * w),
                index,
                y: index / w,
                x: index % w,
            }
        })
        .collect()
}

/// `ctdet_decode(heat, wh, reg, K)`: peaks of [`nms`], their [`topk`], centre `(x + reg_x,
/// y + reg_y)` and box `[cx - w/2, cy - h/2, cx + w/2, cy + h/2, score, class]` in output
/// coordinates. `heat` `[C, H, W]`, `wh` and `reg` `[2, H, W]` (channel 0 is x / w).
pub fn ctdet_decode(
    heat: &[f32],
    wh: &[f32],
    reg: &[f32],
    c: usize,
    h: usize,
    w: usize,
    k: usize,
) -> Vec<[f32; 6]> {
    assert_eq!(wh.len(), 2 * h * w, "wh is not 2 × H × W");
    assert_eq!(reg.len(), 2 * h * w, "reg is not 2 × H × W");
    let hw = h * w;
    let peaks = nms(heat, c, h, w);
    topk(&peaks, c, h, w, k)
        .into_iter()
        .map(|p| {
            let cx = p.x as f32 + reg[p.index];
            let cy = p.y as f32 + reg[hw + p.index];
            let (bw, bh) = (wh[p.index], wh[hw + p.index]);
            [
                cx - bw / 2.0,
                cy - bh / 2.0,
                cx + bw / 2.0,
                cy + bh / 2.0,
                p.score,
                p.class as f32,
            ]
        })
        .collect()
}
