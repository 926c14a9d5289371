//! Sinusoidal relative positional embedding: kimiyoung/transformer-xl
//! `pytorch/mem_transformer.py`, `PositionalEmbedding` and the `pos_seq` of
//! `MemTransformerLM._forward` (attn_type 0).

use candle_core::{Device, Tensor};

use crate::error::Result;

/// `pos_emb` for `klen` keys: row `j` is the embedding of distance `klen - 1 - j` (clamped to
/// `clamp_len` when `clamp_len > 0`): `[sin(pos * inv_freq), cos(pos * inv_freq)]`,
/// `inv_freq = 1 / 10000^(2i / d_model)`, computed in f32 like the reference. `[klen, d_model]`.
pub(crate) fn positional_embedding(
    klen: usize,
    d_model: usize,
    clamp_len: usize,
    device: &Device,
) -> Result<Tensor> {
    let half = d_model / 2;
    let inv_freq: Vec<f32> = (0..half)
        .map(|i| 1.0f32 / 10000f32.powf((2 * i) as f32 / d_model as f32))
        .collect();
    let mut out = vec![0f32; klen * d_model];
    for j in 0..klen {
        let mut pos = (klen - 1 - j) as f32;
        if clamp_len > 0 {
            pos = pos.min(clamp_len as f32);
        }
        let row = &mut out[j * d_model..(j + 1) * d_model];
        for (i, f) in inv_freq.iter().enumerate() {
            let a = pos * f;
            row[i] = a.sin();
            row[half + i] = a.cos();
        }
    }
    Ok(Tensor::from_vec(out, (klen, d_model), device)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_count_down_and_clamp() -> Result<()> {
        let p = positional_embedding(5, 4, 2, &Device::Cpu)?.to_vec2::<f32>()?;
        // last row is distance 0: sin 0 = 0, cos 0 = 1
        assert_eq!(p[4], vec![0.0, 0.0, 1.0, 1.0]);
        // distances 4, 3 clamp to 2, equal to row 2 (distance 2)
        assert_eq!(p[0], p[2]);
        assert_eq!(p[1], p[2]);
        assert!((p[3][0] - 1f32.sin()).abs() < 1e-7);
        assert!((p[3][1] - 0.01f32.sin()).abs() < 1e-7);
        Ok(())
    }
}
