//! The Proxy-Anchor loss (Kim, Kim, Cho, Kwak, "Proxy Anchor Loss for Deep Metric Learning",
//! CVPR 2020), as the reference code computes it (`tjddus9597/Proxy-Anchor-CVPR2020`,
//! `code/losses.py::Proxy_Anchor`), the codebase the AdamP paper's retrieval benchmarks use
//! (arXiv 2006.08217, Section 4, image retrieval):
//!
//! ```text
//! cos     = l2_norm(X) l2_norm(P)^T                              [B, C]
//! pos_exp = exp(-alpha (cos - delta)),  neg_exp = exp(alpha (cos + delta))
//! P+      = sum over the batch of pos_exp where the sample's label is the proxy's class
//! P-      = sum over the batch of neg_exp where it is not                     (per proxy)
//! loss    = sum_c log(1 + P+_c) / |classes present in the batch|
//!         + sum_c log(1 + P-_c) / C
//! ```
//!
//! with `l2_norm(x) = x / sqrt(sum x^2 + 1e-12)` per row (the reference's `l2_norm`). The
//! reference multiplies by a one-hot matrix from `sklearn.preprocessing.label_binarize`; this
//! is the same for every class count above 2 (for 2 classes `label_binarize` returns one
//! column, which the reference then broadcasts; we use the proper one-hot there too).
//!
//! Proxies are initialised as the reference does: `kaiming_normal_(proxies, mode='fan_out')`,
//! i.e. normal with std `sqrt(2 / n_classes)` ([`proxy_init`]).

use adamp_models::Init;
use candle_core::{Result, Tensor};

/// The reference's `l2_norm`: every row divided by `sqrt(sum x^2 + 1e-12)`.
pub fn l2_norm(x: &Tensor) -> Result<Tensor> {
    let norm = (x.sqr()?.sum_keepdim(1)? + 1e-12)?.sqrt()?;
    x.broadcast_div(&norm)
}

/// The proxies' initialisation: `kaiming_normal_(mode='fan_out')` on `[n_classes, dim]`.
pub fn proxy_init(n_classes: usize, dim: usize) -> Init {
    Init::kaiming_normal_fan_out(&[n_classes, dim])
}

/// The Proxy-Anchor loss with scale `alpha` (reference default 32) and margin `delta` (0.1).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ProxyAnchor {
    /// Scale of the similarities inside the soft-plus terms.
    pub alpha: f64,
    /// Margin.
    pub delta: f64,
}

impl ProxyAnchor {
    /// The loss of embeddings `x` `[B, D]` with `labels` (each below the proxies' row count)
    /// against `proxies` `[C, D]`, as a scalar tensor with gradients to `x` and `proxies`.
    pub fn loss(&self, x: &Tensor, labels: &[u32], proxies: &Tensor) -> Result<Tensor> {
        let (b, _) = x.dims2()?;
        let (c, _) = proxies.dims2()?;
        if labels.len() != b {
            candle_core::bail!("{} labels for {b} embeddings", labels.len());
        }
        if let Some(&bad) = labels.iter().find(|&&l| l as usize >= c) {
            candle_core::bail!("label {bad} has no proxy (there are {c})");
        }
        let cos = l2_norm(x)?.matmul(&l2_norm(proxies)?.t()?)?;
        let mut one_hot = vec![0f32; b * c];
        let mut present = vec![false; c];
        for (i, &l) in labels.iter().enumerate() {
            one_hot[i * c + l as usize] = 1.0;
            present[l as usize] = true;
        }
        let num_valid = present.iter().filter(|&&p| p).count().max(1);
        let pos_mask = Tensor::from_vec(one_hot, (b, c), x.device())?.to_dtype(x.dtype())?;
        let neg_mask = (1.0 - &pos_mask)?;
        let pos_exp = ((&cos - self.delta)? * (-self.alpha))?.exp()?;
        let neg_exp = ((&cos + self.delta)? * self.alpha)?.exp()?;
        let pos_sum = (pos_exp * pos_mask)?.sum(0)?;
        let neg_sum = (neg_exp * neg_mask)?.sum(0)?;
        let pos_term = ((pos_sum + 1.0)?.log()?.sum_all()? / num_valid as f64)?;
        let neg_term = ((neg_sum + 1.0)?.log()?.sum_all()? / c as f64)?;
        pos_term + neg_term
    }
}
