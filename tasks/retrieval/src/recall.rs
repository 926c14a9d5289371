//! Recall@K by cosine nearest neighbours, computed blockwise (AdamP, arXiv 2006.08217, image
//! retrieval; the protocol of the ProxyAnchor codebase, `tjddus9597/Proxy-Anchor-CVPR2020`,
//! `code/utils.py`: `evaluate_cos` for CUB / Cars, `evaluate_cos_SOP` for Stanford Online
//! Products, `evaluate_cos_Inshop` for In-Shop).
//!
//! A query *hits at K* when one of its K most similar gallery images has its label. Within one
//! set (CUB, Cars, SOP) every image is a query against all the others, itself excluded (by
//! index); In-Shop ranks each query image against the separate gallery. Recall@K is the
//! percentage of queries that hit. Similarity is the dot product of the embeddings, which the
//! model l2-normalises, so it is the cosine.
//!
//! **Tie rule**: a gallery image of another class as similar as the query's best same-class
//! image does not push it down: the query hits at K when fewer than K other-class images are
//! *strictly* more similar than its most similar same-class image (exactly the reference's
//! In-Shop rule, `torch.sum(neg_sim > thresh) < k`). The reference's `topk` for the other
//! datasets leaves the order of ties to the kernel; without ties the two agree. A query with no
//! other image of its class never hits.
//!
//! Computing the rank of the best positive needs no sorting: one pass over each row. The
//! similarities are computed `block` queries at a time (`[block, gallery]` on the embeddings'
//! device, then on the host), so SOP's 60k x 60k matrix never exists at once.

use candle_core::{DType, Result, Tensor};

/// Queries per similarity block (a 256 x 60,502 f32 block of SOP is 62 MB).
pub const DEFAULT_BLOCK: usize = 256;

/// What the queries are ranked against.
#[derive(Debug, Clone, Copy)]
pub enum Gallery<'a> {
    /// The query set itself, each query excluded from its own ranking.
    Within,
    /// A separate gallery (In-Shop): embeddings `[G, D]` and labels.
    Separate(&'a Tensor, &'a [u32]),
}

/// How many other-class images are strictly more similar than the best same-class image of
/// query `q` in `sims` (one row; `exclude`: the query's own column), or `None` when it has no
/// same-class image (or a NaN similarity, which makes the whole recall NaN).
fn best_positive_rank(
    sims: &[f32],
    labels: &[u32],
    label: u32,
    exclude: Option<usize>,
) -> std::result::Result<Option<usize>, ()> {
    let mut best = f32::NEG_INFINITY;
    let mut found = false;
    for (j, (&s, &l)) in sims.iter().zip(labels).enumerate() {
        if s.is_nan() {
            return Err(());
        }
        if l == label && Some(j) != exclude {
            found = true;
            best = best.max(s);
        }
    }
    if !found {
        return Ok(None);
    }
    let above = sims
        .iter()
        .zip(labels)
        .enumerate()
        .filter(|&(j, (&s, &l))| l != label && Some(j) != exclude && s > best)
        .count();
    Ok(Some(above))
}

/// Recall@K in percent for every `k` of `ks`, of `query` `[Q, D]` with `query_labels` against
/// `gallery`, `block` queries at a time. NaN for every K when a similarity is NaN (an embedding
/// went non-finite), so the training loop reports the run as diverged.
pub fn recall_at_k(
    query: &Tensor,
    query_labels: &[u32],
    gallery: Gallery<'_>,
    ks: &[usize],
    block: usize,
) -> Result<Vec<f64>> {
    let (q, _) = query.dims2()?;
    if query_labels.len() != q {
        candle_core::bail!("{} labels for {q} query embeddings", query_labels.len());
    }
    let (g_emb, g_labels, within) = match gallery {
        Gallery::Within => (query, query_labels, true),
        Gallery::Separate(g, l) => (g, l, false),
    };
    if g_labels.len() != g_emb.dims2()?.0 {
        candle_core::bail!(
            "{} labels for {} gallery embeddings",
            g_labels.len(),
            g_emb.dims2()?.0
        );
    }
    if q == 0 {
        candle_core::bail!("Recall@K of an empty query set");
    }
    let g_t = g_emb.to_dtype(DType::F32)?.t()?.contiguous()?;
    let mut hits = vec![0usize; ks.len()];
    let block = block.max(1);
    for start in (0..q).step_by(block) {
        let len = block.min(q - start);
        let rows: Vec<Vec<f32>> = query
            .narrow(0, start, len)?
            .to_dtype(DType::F32)?
            .matmul(&g_t)?
            .to_vec2()?;
        for (r, sims) in rows.iter().enumerate() {
            let i = start + r;
            let exclude = within.then_some(i);
            match best_positive_rank(sims, g_labels, query_labels[i], exclude) {
                Err(()) => return Ok(vec![f64::NAN; ks.len()]),
                Ok(None) => {}
                Ok(Some(rank)) => {
                    for (h, &k) in hits.iter_mut().zip(ks) {
                        if rank < k {
                            *h += 1;
                        }
                    }
                }
            }
        }
    }
    Ok(hits
        .into_iter()
        .map(|h| 100.0 * h as f64 / q as f64)
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;

    fn t(rows: &[[f32; 2]]) -> Tensor {
        Tensor::from_vec(rows.concat(), (rows.len(), 2), &Device::Cpu).unwrap()
    }

    #[test]
    fn the_query_itself_never_counts_and_ties_favour_the_positive() {
        // Query 0 and 2 coincide but differ in class; 1 is query 0's class, less similar.
        let x = t(&[[1.0, 0.0], [0.6, 0.8], [1.0, 0.0], [0.0, 1.0]]);
        let labels = [0, 0, 1, 2];
        let r = recall_at_k(&x, &labels, Gallery::Within, &[1, 2, 3], 2).unwrap();
        // Query 0: best positive 1 (0.6) behind 2 (1.0): rank 1 -> hits at 2, 3.
        // Query 1: best positive 0 (0.6); 3 (0.8) is above it, 2 (0.6) ties and is not:
        // rank 1 -> hits at 2, 3. Queries 2 and 3 have no positive.
        assert_eq!(r, vec![0.0, 50.0, 50.0]);
    }

    #[test]
    fn a_nan_similarity_makes_every_recall_nan() {
        let x = t(&[[f32::NAN, 0.0], [1.0, 0.0]]);
        let r = recall_at_k(&x, &[0, 0], Gallery::Within, &[1], 8).unwrap();
        assert!(r[0].is_nan());
    }
}
