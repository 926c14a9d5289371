//! CenterNet's training loss and decoding on a batch (xingyizhou/CenterNet
//! `src/lib/trains/ctdet.py::CtdetLoss`, `src/lib/detectors/ctdet.py::process` and
//! `post_process`): the targets of [`crate::targets`], the focal and L1 losses of
//! [`crate::focal`], the peak decoding of [`crate::decode`].

use adamp_datasets::coco::augment::DetectionSample;
use adamp_models::detection::CenterNetOutput;
use adamp_task_api::Result;
use candle_core::{DType, Device, Tensor};

use crate::decode::ctdet_decode;
use crate::focal::{clamped_sigmoid, neg_loss, reg_l1_loss, sigmoid};
use crate::targets::{ctdet_targets, CtdetObject, DOWN_RATIO, MAX_OBJS};

/// `--hm_weight`, `--wh_weight`, `--off_weight`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LossWeights {
    /// Heatmap focal loss.
    pub hm: f64,
    /// Size L1 loss.
    pub wh: f64,
    /// Offset L1 loss.
    pub off: f64,
}

/// The batch's targets as tensors: `hm [B, C, H/4, W/4]`, `wh`, `reg [B, 128, 2]`, `ind [B, 128]`
/// (u32), `mask [B, 128]` (f32).
pub struct BatchTargets {
    hm: Tensor,
    wh: Tensor,
    reg: Tensor,
    ind: Tensor,
    mask: Tensor,
}

impl BatchTargets {
    /// `ctdet_targets` of every sample (boxes in input pixels, converted to COCO `[x, y, w, h]`).
    pub fn new(
        samples: &[DetectionSample],
        num_classes: usize,
        input: usize,
        device: &Device,
    ) -> Result<Self> {
        let (mut hm, mut wh, mut reg, mut ind, mut mask) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for s in samples {
            let objects: Vec<CtdetObject> = s
                .boxes
                .iter()
                .zip(&s.labels)
                .map(|(b, &l)| CtdetObject {
                    bbox: [b[0], b[1], b[2] - b[0], b[3] - b[1]],
                    class: l as usize,
                })
                .collect();
            let t = ctdet_targets(input, input, num_classes, &objects);
            hm.extend(t.hm);
            wh.extend(t.wh);
            reg.extend(t.reg);
            ind.extend(t.ind);
            mask.extend(t.mask.iter().map(|&m| m as f32));
        }
        let (b, out) = (samples.len(), input / DOWN_RATIO);
        Ok(Self {
            hm: Tensor::from_vec(hm, (b, num_classes, out, out), device)?,
            wh: Tensor::from_vec(wh, (b, MAX_OBJS, 2), device)?,
            reg: Tensor::from_vec(reg, (b, MAX_OBJS, 2), device)?,
            ind: Tensor::from_vec(ind, (b, MAX_OBJS), device)?,
            mask: Tensor::from_vec(mask, (b, MAX_OBJS), device)?,
        })
    }
}

/// The three losses and their weighted sum (`CtdetLoss.forward` with one stack).
pub struct CenterNetLoss {
    /// `hm_weight * hm + wh_weight * wh + off_weight * off`.
    pub total: Tensor,
    /// Heatmap focal loss.
    pub hm: f64,
    /// Size loss.
    pub wh: f64,
    /// Offset loss.
    pub off: f64,
}

/// `CtdetLoss.forward`: focal loss on `clamp(sigmoid(hm))`, masked L1 on `wh` and `reg`.
pub fn loss(out: &CenterNetOutput, t: &BatchTargets, w: LossWeights) -> Result<CenterNetLoss> {
    let hm = neg_loss(&clamped_sigmoid(&out.hm)?, &t.hm)?;
    let wh = reg_l1_loss(&out.wh, &t.mask, &t.ind, &t.wh)?;
    let off = reg_l1_loss(&out.reg, &t.mask, &t.ind, &t.reg)?;
    let total = ((hm.affine(w.hm, 0.0)? + wh.affine(w.wh, 0.0)?)? + off.affine(w.off, 0.0)?)?;
    let value = |x: &Tensor| -> Result<f64> { Ok(x.to_dtype(DType::F64)?.to_scalar::<f64>()?) };
    Ok(CenterNetLoss {
        hm: value(&hm)?,
        wh: value(&wh)?,
        off: value(&off)?,
        total,
    })
}

/// `ctdet_decode` of every image: `[x1, y1, x2, y2, score, class]` in input pixels (the output
/// coordinates times the down ratio, as `ctdet_post_process` before its inverse affine).
pub fn decode(out: &CenterNetOutput, k: usize) -> Result<Vec<Vec<[f32; 6]>>> {
    // `output['hm'].sigmoid_()`: the decoder's heat, unclamped.
    let heat = sigmoid(&out.hm)?;
    let (b, c, h, w) = heat.dims4()?;
    let heat: Vec<f32> = heat.to_dtype(DType::F32)?.flatten_all()?.to_vec1()?;
    let wh: Vec<f32> = out.wh.to_dtype(DType::F32)?.flatten_all()?.to_vec1()?;
    let reg: Vec<f32> = out.reg.to_dtype(DType::F32)?.flatten_all()?.to_vec1()?;
    let (plane, two) = (c * h * w, 2 * h * w);
    let r = DOWN_RATIO as f32;
    Ok((0..b)
        .map(|i| {
            ctdet_decode(
                &heat[i * plane..(i + 1) * plane],
                &wh[i * two..(i + 1) * two],
                &reg[i * two..(i + 1) * two],
                c,
                h,
                w,
                k,
            )
            .into_iter()
            .map(|d| [d[0] * r, d[1] * r, d[2] * r, d[3] * r, d[4], d[5]])
            .collect()
        })
        .collect())
}
