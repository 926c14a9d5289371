//! Shared helpers for the integration tests: reading the reference fixtures written by
//! `tools/gen_optim_fixtures.py`, turning them into a `ParamList`, an optimizer and per-step
//! `GradStore`s.
//!
//! Each test binary (`parity`, `properties`) uses a subset of these helpers.
#![allow(dead_code)]

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use adamp_optim::{
    Adam, AdamConfig, AdamP, AdamPConfig, AdamW, AdamWConfig, Optimizer, Param, ParamGroup,
    ParamKind, ParamList, ParamMeta, Sgd, SgdConfig, Sgdp, SgdpConfig, StepBackend,
};
use candle_core::backprop::GradStore;
use candle_core::{DType, Device, Tensor, Var};
use serde::Deserialize;

pub mod convbn;
pub mod cosine;
pub mod rng;

/// `optim/tests/fixtures/`.
pub fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("fixtures")
}

/// The device the fixture tests run on, from `ADAMP_TEST_DEVICE`: `cpu` (the default, what CI
/// runs), `cuda` / `cuda:N` (needs `--features cuda`) or `metal` (needs `--features metal`). On a
/// GPU the optimizers take their tensor-op path, which must give the reference's numbers too.
pub fn test_device() -> Device {
    let spec = std::env::var("ADAMP_TEST_DEVICE").unwrap_or_else(|_| "cpu".to_string());
    let device = match spec.as_str() {
        "" | "cpu" => Ok(Device::Cpu),
        "metal" => Device::new_metal(0),
        s => match s.strip_prefix("cuda") {
            Some("") => Device::new_cuda(0),
            Some(n) => match n.strip_prefix(':').and_then(|n| n.parse().ok()) {
                Some(n) => Device::new_cuda(n),
                None => panic!("ADAMP_TEST_DEVICE=`{s}`: expected cpu, cuda, cuda:N or metal"),
            },
            None => panic!("ADAMP_TEST_DEVICE=`{s}`: expected cpu, cuda, cuda:N or metal"),
        },
    };
    device.unwrap_or_else(|e| panic!("ADAMP_TEST_DEVICE=`{spec}`: {e}"))
}

/// Hyperparameters under the reference's names (`torch.optim` / `adamp` 0.3.0 keyword arguments).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Hyper {
    pub lr: f64,
    pub momentum: Option<f64>,
    pub dampening: Option<f64>,
    pub weight_decay: Option<f64>,
    pub nesterov: Option<bool>,
    pub betas: Option<[f64; 2]>,
    pub eps: Option<f64>,
    pub delta: Option<f64>,
    pub wd_ratio: Option<f64>,
}

/// One parameter group of the reference run.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupSpec {
    pub name: String,
    pub lr_scale: f64,
    pub lr: f64,
    pub weight_decay_override: Option<f64>,
    pub weight_decay: f64,
}

/// One parameter's metadata.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ParamSpec {
    pub name: String,
    pub shape: Vec<usize>,
    pub group: usize,
    pub one_d: bool,
    pub kind: String,
    pub followed_by_norm: bool,
}

/// One cosine test the reference evaluated.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CosineTest {
    pub view: String,
    pub max_abs_cos: f64,
    pub threshold: f64,
    pub relative_margin: f64,
}

/// What the reference's `_projection` decided, per parameter and step.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProjectionRecord {
    pub min_relative_margin: f64,
    pub views: BTreeMap<String, Vec<String>>,
    pub cosine_tests: BTreeMap<String, Vec<Vec<CosineTest>>>,
}

/// The JSON sidecar `<case>.json`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sidecar {
    pub case: String,
    pub description: String,
    pub optimizer: String,
    pub reference: String,
    pub generated_by: String,
    pub dtype: String,
    pub seed: u64,
    pub steps: usize,
    /// Base learning rate per step (`Optimizer::set_learning_rate` before each step), if any.
    pub lr_schedule: Option<Vec<f64>>,
    pub hyperparameters: Hyper,
    pub groups: Vec<GroupSpec>,
    pub params: Vec<ParamSpec>,
    pub projection: Option<ProjectionRecord>,
}

/// A loaded fixture: the sidecar and every tensor of `<case>.safetensors`.
pub struct Fixture {
    pub sidecar: Sidecar,
    pub tensors: HashMap<String, Tensor>,
}

impl Fixture {
    /// Load `<case>.json` and `<case>.safetensors` from the fixture directory, onto
    /// [`test_device`].
    pub fn load(case: &str) -> Fixture {
        let dir = fixtures_dir();
        let json_path = dir.join(format!("{case}.json"));
        let text = std::fs::read_to_string(&json_path)
            .unwrap_or_else(|e| panic!("{}: {e}", json_path.display()));
        let sidecar: Sidecar =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", json_path.display()));
        assert_eq!(sidecar.case, case, "{}: `case` field", json_path.display());
        let st_path = dir.join(format!("{case}.safetensors"));
        let tensors = candle_core::safetensors::load(&st_path, &test_device())
            .unwrap_or_else(|e| panic!("{}: {e}", st_path.display()));
        Fixture { sidecar, tensors }
    }

    /// The tensor stored under `key`; panics naming the case and key if it is missing.
    pub fn tensor(&self, key: &str) -> &Tensor {
        self.tensors
            .get(key)
            .unwrap_or_else(|| panic!("fixture {}: no tensor `{key}`", self.sidecar.case))
    }

    /// The fixture's dtype.
    pub fn dtype(&self) -> DType {
        match self.sidecar.dtype.as_str() {
            "f32" => DType::F32,
            "f64" => DType::F64,
            other => panic!("fixture {}: unknown dtype `{other}`", self.sidecar.case),
        }
    }

    /// The recorded view (`channel|layer|none`) of `name` at `step`; `none` for optimizers that
    /// never project.
    pub fn reference_view(&self, name: &str, step: usize) -> &str {
        match &self.sidecar.projection {
            None => "none",
            Some(p) => p
                .views
                .get(name)
                .map(|v| v[step].as_str())
                .unwrap_or_else(|| {
                    panic!(
                        "fixture {}: no recorded views for `{name}`",
                        self.sidecar.case
                    )
                }),
        }
    }

    /// Fresh `Param`s from `init.*` with the sidecar's metadata and groups, converted to `dtype`.
    pub fn param_list(&self, dtype: DType) -> ParamList {
        let params = self
            .sidecar
            .params
            .iter()
            .map(|spec| {
                let init = self
                    .tensor(&format!("init.{}", spec.name))
                    .to_dtype(dtype)
                    .expect("dtype conversion");
                assert_eq!(
                    init.dims(),
                    spec.shape.as_slice(),
                    "shape of init.{}",
                    spec.name
                );
                Param {
                    name: spec.name.clone(),
                    var: Var::from_tensor(&init).expect("Var::from_tensor"),
                    meta: ParamMeta {
                        kind: parse_kind(&spec.kind),
                        followed_by_norm: spec.followed_by_norm,
                    },
                    group: spec.group,
                }
            })
            .collect();
        let groups = self
            .sidecar
            .groups
            .iter()
            .map(|g| ParamGroup {
                name: g.name.clone(),
                lr_scale: g.lr_scale,
                weight_decay: g.weight_decay_override,
            })
            .collect();
        ParamList::with_groups(params, groups).expect("fixture parameter list")
    }

    /// The gradients recorded for `step`, keyed to the variables of `list`, converted to `dtype`.
    pub fn grads(&self, list: &ParamList, step: usize, dtype: DType) -> GradStore {
        let mut store = GradStore::default();
        for p in list.params() {
            let g = self
                .tensor(&format!("grad.{step}.{}", p.name))
                .to_dtype(dtype)
                .expect("dtype conversion");
            store.insert(p.var.as_tensor(), g);
        }
        store
    }

    /// The base learning rate of `step`: the schedule's, or the constant `lr`.
    pub fn base_lr(&self, step: usize) -> f64 {
        match &self.sidecar.lr_schedule {
            Some(schedule) => schedule[step],
            None => self.sidecar.hyperparameters.lr,
        }
    }

    /// The optimizer the sidecar names, with its hyperparameters, over `list`, stepping with
    /// `backend`.
    pub fn optimizer(&self, list: ParamList, backend: StepBackend) -> Box<dyn Optimizer> {
        build_optimizer(
            &self.sidecar.optimizer,
            &self.sidecar.hyperparameters,
            list,
            backend,
        )
    }
}

/// Map the sidecar's `kind` to [`ParamKind`].
pub fn parse_kind(kind: &str) -> ParamKind {
    match kind {
        "conv" => ParamKind::Conv,
        "linear" => ParamKind::Linear,
        "embedding" => ParamKind::Embedding,
        "norm_gain" => ParamKind::NormGain,
        "bias" => ParamKind::Bias,
        "other" => ParamKind::Other,
        other => panic!("unknown parameter kind `{other}`"),
    }
}

fn need<T: Copy>(value: Option<T>, optimizer: &str, key: &str) -> T {
    value.unwrap_or_else(|| panic!("{optimizer} fixture without hyperparameter `{key}`"))
}

/// Build one of the crate's optimizers from reference-named hyperparameters, stepping with
/// `backend`.
pub fn build_optimizer(
    optimizer: &str,
    h: &Hyper,
    list: ParamList,
    backend: StepBackend,
) -> Box<dyn Optimizer> {
    let o = optimizer;
    match optimizer {
        "sgd" => {
            let config = SgdConfig {
                momentum: need(h.momentum, o, "momentum"),
                dampening: need(h.dampening, o, "dampening"),
                weight_decay: need(h.weight_decay, o, "weight_decay"),
                nesterov: need(h.nesterov, o, "nesterov"),
                ..SgdConfig::new(h.lr)
            };
            let mut opt = Sgd::new(list, config).expect("Sgd::new");
            opt.set_backend(backend);
            Box::new(opt)
        }
        "sgdp" => {
            let config = SgdpConfig {
                momentum: need(h.momentum, o, "momentum"),
                dampening: need(h.dampening, o, "dampening"),
                weight_decay: need(h.weight_decay, o, "weight_decay"),
                nesterov: need(h.nesterov, o, "nesterov"),
                eps: need(h.eps, o, "eps"),
                delta: need(h.delta, o, "delta"),
                wd_ratio: need(h.wd_ratio, o, "wd_ratio"),
                ..SgdpConfig::new(h.lr)
            };
            let mut opt = Sgdp::new(list, config).expect("Sgdp::new");
            opt.set_backend(backend);
            Box::new(opt)
        }
        "adam" => {
            let [beta1, beta2] = need(h.betas, o, "betas");
            let config = AdamConfig {
                lr: h.lr,
                beta1,
                beta2,
                eps: need(h.eps, o, "eps"),
                weight_decay: need(h.weight_decay, o, "weight_decay"),
            };
            let mut opt = Adam::new(list, config).expect("Adam::new");
            opt.set_backend(backend);
            Box::new(opt)
        }
        "adamw" => {
            let [beta1, beta2] = need(h.betas, o, "betas");
            let config = AdamWConfig {
                lr: h.lr,
                beta1,
                beta2,
                eps: need(h.eps, o, "eps"),
                weight_decay: need(h.weight_decay, o, "weight_decay"),
            };
            let mut opt = AdamW::new(list, config).expect("AdamW::new");
            opt.set_backend(backend);
            Box::new(opt)
        }
        "adamp" => {
            let [beta1, beta2] = need(h.betas, o, "betas");
            let config = AdamPConfig {
                lr: h.lr,
                beta1,
                beta2,
                eps: need(h.eps, o, "eps"),
                weight_decay: need(h.weight_decay, o, "weight_decay"),
                delta: need(h.delta, o, "delta"),
                wd_ratio: need(h.wd_ratio, o, "wd_ratio"),
                nesterov: need(h.nesterov, o, "nesterov"),
            };
            let mut opt = AdamP::new(list, config).expect("AdamP::new");
            opt.set_backend(backend);
            Box::new(opt)
        }
        other => panic!("unknown optimizer `{other}`"),
    }
}

/// A tensor's values as `f64`, flattened.
pub fn values(t: &Tensor) -> Vec<f64> {
    t.to_dtype(DType::F64)
        .and_then(|t| t.flatten_all())
        .and_then(|t| t.to_vec1::<f64>())
        .expect("tensor to f64 vector")
}

/// The multi-index of flat element `flat` in a row-major tensor of `shape`.
pub fn unravel(mut flat: usize, shape: &[usize]) -> Vec<usize> {
    let mut idx = vec![0; shape.len()];
    for (d, &n) in shape.iter().enumerate().rev() {
        idx[d] = flat % n.max(1);
        flat /= n.max(1);
    }
    idx
}
