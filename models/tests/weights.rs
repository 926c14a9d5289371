//! A network that is not an image classifier — token ids `[N, T]` in, one score per sequence out —
//! built with the same `ParamBuilder` and kept as `Weights`: parameters with metadata, a buffer,
//! checkpoints by name, and no 4-D input anywhere.

use adamp_models::layers::linear::Linear;
use adamp_models::{Init, LayerImpl, ParamBuilder, Weights};
use adamp_optim::{ParamKind, ParamMeta};
use candle_core::{DType, Device, Tensor, Var};

/// Embedding `[vocab, dim]` -> linear `dim -> dim` (followed by a normalisation, so
/// scale-invariant) -> mean over the sequence; a running mean of the projected features as a
/// buffer.
struct TinySequenceNet {
    embed: Tensor,
    proj: Linear,
    running_mean: Var,
    weights: Weights,
}

impl TinySequenceNet {
    fn new(seed: u64, vocab: usize, dim: usize) -> TinySequenceNet {
        let b = ParamBuilder::new(seed, &Device::Cpu, LayerImpl::Fast);
        let embed = b
            .pp("embed")
            .param(
                "weight",
                &[vocab, dim],
                Init::Normal { std: 1.0 },
                ParamMeta::new(ParamKind::Embedding),
            )
            .unwrap();
        let proj = Linear::new(
            &b.pp("proj"),
            dim,
            dim,
            Init::Uniform { bound: 0.5 },
            Some(Init::Const(0.0)),
            true,
        )
        .unwrap();
        let running_mean = b.pp("norm").buffer("running_mean", &[dim], 0.0).unwrap();
        TinySequenceNet {
            embed: embed.as_tensor().clone(),
            proj,
            running_mean,
            weights: b.weights().unwrap(),
        }
    }

    /// Token ids `[N, T]` -> one score per sequence `[N]`.
    fn forward(&self, ids: &Tensor) -> Tensor {
        let (n, t) = ids.dims2().unwrap();
        let x = self
            .embed
            .index_select(&ids.flatten_all().unwrap(), 0)
            .unwrap();
        let h = self.proj.forward(&x).unwrap();
        let mean = h.mean(0).unwrap();
        self.running_mean.set(&mean.detach()).unwrap();
        let normed = h.broadcast_sub(&mean).unwrap();
        normed
            .sqr()
            .unwrap()
            .reshape((n, t, ()))
            .unwrap()
            .mean_keepdim(1)
            .unwrap()
            .sum(2)
            .unwrap()
            .squeeze(1)
            .unwrap()
    }
}

fn ids() -> Tensor {
    Tensor::new(&[[0u32, 3, 2, 7, 1], [4, 4, 5, 6, 0]], &Device::Cpu).unwrap()
}

#[test]
fn a_sequence_network_records_its_parameters_like_the_image_models() {
    let net = TinySequenceNet::new(0, 8, 4);
    let params = net.weights.params();
    let names: Vec<&str> = params.params().iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["embed.weight", "proj.bias", "proj.weight"]);
    let meta = |name: &str| {
        params
            .params()
            .iter()
            .find(|p| p.name == name)
            .unwrap()
            .meta
    };
    assert_eq!(meta("embed.weight").kind, ParamKind::Embedding);
    assert!(!meta("embed.weight").followed_by_norm);
    assert_eq!(meta("proj.weight").kind, ParamKind::Linear);
    assert!(meta("proj.weight").followed_by_norm);
    assert_eq!(meta("proj.bias").kind, ParamKind::Bias);
    let buffers: Vec<&str> = net
        .weights
        .buffers()
        .iter()
        .map(|(n, _)| n.as_str())
        .collect();
    assert_eq!(buffers, ["norm.running_mean"]);
    assert_eq!(net.weights.num_params(), 8 * 4 + 4 * 4 + 4);

    // A 2-D integer input, and gradients for every parameter.
    let score = net.forward(&ids());
    assert_eq!(score.dims(), [2]);
    let grads = score.sum_all().unwrap().backward().unwrap();
    for p in params.params() {
        assert!(
            grads.get(p.var.as_tensor()).is_some(),
            "{} has no gradient",
            p.name
        );
    }
}

#[test]
fn a_sequence_network_checkpoints_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("seq.safetensors");
    let a = TinySequenceNet::new(1, 8, 4);
    a.forward(&ids());
    a.weights.save_safetensors(&path).unwrap();

    let b = TinySequenceNet::new(2, 8, 4);
    assert_ne!(
        b.forward(&ids()).to_vec1::<f32>().unwrap(),
        a.forward(&ids()).to_vec1::<f32>().unwrap()
    );
    assert_eq!(b.weights.load_safetensors_except(&path, &[]).unwrap(), 4);
    assert_eq!(
        b.forward(&ids()).to_vec1::<f32>().unwrap(),
        a.forward(&ids()).to_vec1::<f32>().unwrap()
    );

    // The buffers alone, as a task checkpoints them.
    let saved = a.weights.buffer_tensors();
    let c = TinySequenceNet::new(3, 8, 4);
    c.weights.load_buffer_tensors(&saved).unwrap();
    assert_eq!(
        c.running_mean.as_tensor().to_vec1::<f32>().unwrap(),
        a.running_mean.as_tensor().to_vec1::<f32>().unwrap()
    );

    // Another architecture's checkpoint is refused, naming the tensor and both shapes, and
    // changes nothing.
    let wide = TinySequenceNet::new(4, 8, 6);
    let before = wide
        .embed
        .to_dtype(DType::F32)
        .unwrap()
        .flatten_all()
        .unwrap();
    let err = wide
        .weights
        .load_safetensors_except(&path, &[])
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("embed.weight") && err.contains("[8, 4]") && err.contains("[8, 6]"),
        "{err}"
    );
    let after = wide.embed.flatten_all().unwrap();
    assert_eq!(
        before.to_vec1::<f32>().unwrap(),
        after.to_vec1::<f32>().unwrap()
    );
    let err = wide
        .weights
        .load_buffer_tensors(&saved)
        .unwrap_err()
        .to_string();
    assert!(err.contains("norm.running_mean"), "{err}");
}
