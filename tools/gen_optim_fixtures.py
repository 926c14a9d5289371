#!/usr/bin/env python3
"""Golden fixtures for adamp-optim's parity tests (`optim/tests/parity.rs`).

The reference implementations write the numbers; the Rust optimizers must reproduce them by name,
step by step (the llm.c `test_gpt2.c` model). References, pinned in tools/requirements-fixtures.txt:

* `torch.optim.SGD`, `torch.optim.Adam`, `torch.optim.AdamW` from torch 2.15.0, with
  `foreach=False` (the single-tensor code path);
* `adamp.SGDP` and `adamp.AdamP` from the `adamp` 0.3.0 package (files `adamp/sgdp.py`,
  `adamp/adamp.py`), unmodified. Their `_projection` method is wrapped *from this script* (a
  monkeypatch that calls the original) to record which view fired for every parameter at every step
  and how far each cosine test was from its threshold.

Usage (CPU only; see tools/README.md):

    python3 -m venv .venv && .venv/bin/pip install -r tools/requirements-fixtures.txt
    .venv/bin/python tools/gen_optim_fixtures.py            # writes optim/tests/fixtures/

Output, per case `<case>`:

* `<case>.safetensors`: `init.<name>` (initial parameter), `grad.<k>.<name>` (gradient fed at step
  k, k = 0..steps-1, *before* any weight decay the optimizer adds) and `param.<k>.<name>` (the
  parameter after step k). f32 unless the case is about f64.
* `<case>.json`: optimizer (`sgd|sgdp|adam|adamw|adamp`), hyperparameters under the reference's
  names, steps, the base learning rate per step for schedule cases (`lr_schedule`), dtype,
  parameter groups, per-parameter metadata (shape, group, one_d, kind,
  followed_by_norm) and, for sgdp/adamp, the view that fired per step per parameter
  (`channel|layer|none`) with every cosine test's value, threshold and relative margin.

The script fails if any evaluated cosine test lies within a relative margin of MIN_REL_MARGIN of
its threshold (`|max_cos - thr| / thr`), so that float reordering on the Rust side cannot flip a
projection decision. Synthetic gradients are constructed per row (an orthogonal component plus a
radial component of chosen size) so that the channel test fires, the layer test fires but not the
channel test, or neither; a case whose gradients come from real autograd of a small
conv -> BatchNorm -> ReLU -> pool -> linear network is regenerated with the next seed until clean.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path

import torch
import torch.nn as nn
import torch.nn.functional as F

import adamp

from safetensors_writer import write_safetensors

TORCH_VERSION = "2.15.0"
ADAMP_VERSION = "0.3.0"
# A cosine test whose value is within this relative distance of its threshold makes a case invalid.
MIN_REL_MARGIN = 1e-3
# Committed fixtures must stay small.
MAX_TOTAL_BYTES = 2_000_000
STEPS = 10
REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = REPO_ROOT / "optim" / "tests" / "fixtures"
COMMAND = "python tools/gen_optim_fixtures.py"


def check_versions() -> None:
    torch_version = torch.__version__.split("+")[0]
    adamp_version = version("adamp")
    if torch_version != TORCH_VERSION or adamp_version != ADAMP_VERSION:
        sys.exit(
            f"gen_optim_fixtures.py needs torch=={TORCH_VERSION} and adamp=={ADAMP_VERSION}, found "
            f"torch {torch.__version__} and adamp {adamp_version}; "
            "install tools/requirements-fixtures.txt (see tools/README.md)"
        )


def make_deterministic() -> None:
    # One thread: torch's CPU reductions may split work differently with more threads.
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    torch.manual_seed(0)


# ---------------------------------------------------------------------------------------------
# Recording the reference's projection decisions.


@dataclass
class ProjectionRecorder:
    """Collects, for every `_projection` call, the parameter and the cosine tests evaluated."""

    calls: list[tuple[int, str, list[dict]]] = field(default_factory=list)


@contextmanager
def record_projection(recorder: ProjectionRecorder):
    """Wrap `SGDP._projection` and `AdamP._projection` without changing what they compute."""
    originals = {cls: cls._projection for cls in (adamp.SGDP, adamp.AdamP)}

    def make_wrapper(original):
        def wrapped(self, p, grad, perturb, delta, wd_ratio, eps):
            # Re-evaluate the reference's own tests, in its own order, on the same inputs.
            tests = []
            fired = "none"
            for view_name, view_func in (("channel", self._channel_view), ("layer", self._layer_view)):
                cos = self._cosine_similarity(grad, p.data, eps, view_func)
                max_cos = cos.max().item()
                threshold = delta / math.sqrt(view_func(p.data).size(1))
                tests.append(
                    {
                        "view": view_name,
                        "max_abs_cos": max_cos,
                        "threshold": threshold,
                        "relative_margin": abs(max_cos - threshold) / threshold,
                    }
                )
                if max_cos < threshold:
                    fired = view_name
                    break
            result, wd = original(self, p, grad, perturb, delta, wd_ratio, eps)
            projected = wd != 1
            if wd_ratio != 1 and projected != (fired != "none"):
                raise AssertionError("recorded projection decision disagrees with the reference")
            recorder.calls.append((id(p), fired, tests))
            return result, wd

        return wrapped

    try:
        for cls, original in originals.items():
            cls._projection = make_wrapper(original)
        yield recorder
    finally:
        for cls, original in originals.items():
            cls._projection = original


# ---------------------------------------------------------------------------------------------
# Parameters and synthetic gradients.


@dataclass
class ParamSpec:
    name: str
    shape: tuple[int, ...]
    kind: str  # conv | linear | embedding | norm_gain | bias
    followed_by_norm: bool = False
    group: int = 0
    # Rows whose gradient is exactly zero at every step.
    zero_rows: tuple[int, ...] = ()
    # Fraction of the remaining rows that get a zero gradient at a step (embedding lookups).
    sparse_rows: float = 0.0


def full_params() -> list[ParamSpec]:
    """Every shape the issue lists: conv before BN, 1x1 conv, linear, embedding, gain, bias."""
    return [
        ParamSpec("conv.weight", (8, 4, 3, 3), "conv", True, zero_rows=(5,)),
        ParamSpec("conv1x1.weight", (16, 8, 1, 1), "conv", True),
        ParamSpec("fc.weight", (10, 32), "linear"),
        ParamSpec("embed.weight", (50, 16), "embedding", sparse_rows=0.4),
        ParamSpec("norm.weight", (8,), "norm_gain"),
        ParamSpec("fc.bias", (10,), "bias"),
    ]


def small_params() -> list[ParamSpec]:
    """A smaller set for the baselines, groups and f64 cases (fixtures are committed)."""
    return [
        ParamSpec("conv.weight", (8, 4, 3, 3), "conv", True, zero_rows=(5,)),
        ParamSpec("fc.weight", (10, 32), "linear"),
        ParamSpec("norm.weight", (8,), "norm_gain"),
        ParamSpec("fc.bias", (10,), "bias"),
    ]


def tiny_params() -> list[ParamSpec]:
    """A conv weight (with its zero-gradient channel) and a bias, for the schedule cases."""
    return [
        ParamSpec("conv.weight", (8, 4, 3, 3), "conv", True, zero_rows=(5,)),
        ParamSpec("fc.bias", (10,), "bias"),
    ]


def init_param(spec: ParamSpec, gen: torch.Generator, dtype: torch.dtype) -> torch.Tensor:
    if spec.kind == "norm_gain":
        t = 1.0 + 0.1 * torch.randn(spec.shape, generator=gen, dtype=torch.float64)
    elif spec.kind == "bias":
        t = 0.1 * torch.randn(spec.shape, generator=gen, dtype=torch.float64)
    else:
        fan_in = math.prod(spec.shape[1:])
        t = torch.randn(spec.shape, generator=gen, dtype=torch.float64) * math.sqrt(2.0 / fan_in)
    return t.to(dtype)


MODES = ("channel", "layer", "none")


def mode_schedule(index: int, step: int) -> str:
    """Which cosine test the synthetic gradient of the index-th multi-dim parameter should make fire."""
    return MODES[(step + index) % len(MODES)]


def reference_views(grad: torch.Tensor, w: torch.Tensor, delta: float, eps: float) -> tuple[str, float]:
    """The reference's decision (`_projection`'s loop) and the smallest relative margin evaluated."""
    margins = []
    for view_name, rows in (("channel", w.shape[0]), ("layer", 1)):
        cos = F.cosine_similarity(grad.reshape(rows, -1), w.reshape(rows, -1), dim=1, eps=eps).abs()
        threshold = delta / math.sqrt(w.numel() // rows)
        margins.append(abs(cos.max().item() - threshold) / threshold)
        if cos.max().item() < threshold:
            return view_name, min(margins)
    return "none", min(margins)


def synthetic_grad(
    w: torch.Tensor, spec: ParamSpec, mode: str, gen: torch.Generator, delta: float, eps: float
) -> torch.Tensor:
    """A gradient for `w` (multi-dim) that makes the reference's `mode` test fire, with margin.

    Each row is `r_i * (o_i + s_i * w_i/||w_i||)` with `o_i` a unit vector orthogonal to `w_i`, so
    its cosine with `w_i` is `c_i = s_i / sqrt(1 + s_i^2)`; `c_i` is drawn well below the channel
    threshold (`channel`), alternating in sign well above it with the whole-tensor cosine then
    pulled well below the layer threshold (`layer`), or of one sign well above both (`none`).
    """
    for _attempt in range(100):
        rows = w.reshape(w.shape[0], -1).to(torch.float64)
        n, length = rows.shape
        thr_ch = delta / math.sqrt(length)
        thr_layer = delta / math.sqrt(n * length)
        w_hat = rows / rows.norm(dim=1, keepdim=True)
        o = torch.randn(n, length, generator=gen, dtype=torch.float64)
        o = o - w_hat * (o * w_hat).sum(dim=1, keepdim=True)
        o = o / o.norm(dim=1, keepdim=True)
        u = torch.rand(n, generator=gen, dtype=torch.float64)
        signs = torch.where(torch.rand(n, generator=gen) < 0.5, -1.0, 1.0).to(torch.float64)
        if mode == "channel":
            c = signs * thr_ch * (0.05 + 0.45 * u)
        elif mode == "layer":
            alternating = torch.tensor([1.0 if i % 2 == 0 else -1.0 for i in range(n)], dtype=torch.float64)
            c = alternating * thr_ch * (1.5 + 1.5 * u)
        else:
            lo = max(3.0 * thr_ch, 0.1)
            c = signs[0] * (lo + (0.6 - lo) * u)
        c = c.clamp(-0.95, 0.95)
        s = c / torch.sqrt(1.0 - c * c)
        scale = 0.2 + 0.8 * torch.rand(n, 1, generator=gen, dtype=torch.float64)
        g = scale * (o + s[:, None] * w_hat)
        live = torch.ones(n, 1, dtype=torch.float64)
        for r in spec.zero_rows:
            live[r] = 0.0
        if spec.sparse_rows > 0:
            live = live * (torch.rand(n, 1, generator=gen, dtype=torch.float64) >= spec.sparse_rows)
            live[0] = 1.0 if 0 not in spec.zero_rows else 0.0  # never an all-zero gradient
        g = g * live
        if mode == "layer":
            # Pull the whole-tensor cosine to a small target by adding a multiple of w on live rows.
            target = float(signs[0]) * thr_layer * (0.1 + 0.4 * float(u[0]))
            w_live = rows * live
            for _ in range(4):
                dot = (g * rows).sum()
                want = target * g.norm() * rows.norm()
                g = g + (want - dot) / (w_live * rows).sum() * w_live
        grad = g.reshape(w.shape).to(w.dtype)
        fired, margin = reference_views(grad, w, delta, eps)
        if fired == mode and margin > 20 * MIN_REL_MARGIN:
            return grad
    raise RuntimeError(f"could not construct a `{mode}` gradient for {spec.name}")


def synthetic_grads(
    params: dict[str, torch.Tensor], specs: list[ParamSpec], step: int, gen: torch.Generator, delta: float, eps: float
) -> dict[str, torch.Tensor]:
    grads = {}
    multi = 0
    for spec in specs:
        w = params[spec.name].detach()
        if len(spec.shape) > 1:
            grads[spec.name] = synthetic_grad(w, spec, mode_schedule(multi, step), gen, delta, eps)
            multi += 1
        else:
            grads[spec.name] = (0.5 * torch.randn(spec.shape, generator=gen, dtype=torch.float64)).to(w.dtype)
    return grads


# ---------------------------------------------------------------------------------------------
# Cases.


@dataclass
class Group:
    name: str
    lr_scale: float = 1.0
    weight_decay: float | None = None  # None: the optimizer's own


@dataclass
class Case:
    name: str
    description: str
    optimizer: str  # sgd | sgdp | adam | adamw | adamp
    hyper: dict
    params: list[ParamSpec] | None = None  # None: the conv->BN network
    groups: list[Group] = field(default_factory=lambda: [Group("default")])
    dtype: torch.dtype = torch.float32
    seed: int = 0
    steps: int = STEPS
    # Base learning rate per step (set on every group as lr_scale * base before the step), for
    # schedules; None keeps hyper["lr"].
    lr_schedule: list[float] | None = None


REFERENCES = {
    "sgd": f"torch {TORCH_VERSION} torch.optim.SGD(foreach=False)",
    "adam": f"torch {TORCH_VERSION} torch.optim.Adam(foreach=False)",
    "adamw": f"torch {TORCH_VERSION} torch.optim.AdamW(foreach=False)",
    "sgdp": f"adamp {ADAMP_VERSION} adamp.SGDP (adamp/sgdp.py)",
    "adamp": f"adamp {ADAMP_VERSION} adamp.AdamP (adamp/adamp.py)",
}


def build_optimizer(case: Case, torch_groups: list[dict]) -> torch.optim.Optimizer:
    h = case.hyper
    if case.optimizer == "sgd":
        return torch.optim.SGD(torch_groups, foreach=False, **h)
    if case.optimizer == "adam":
        return torch.optim.Adam(torch_groups, foreach=False, **h)
    if case.optimizer == "adamw":
        return torch.optim.AdamW(torch_groups, foreach=False, **h)
    if case.optimizer == "sgdp":
        return adamp.SGDP(torch_groups, **h)
    if case.optimizer == "adamp":
        return adamp.AdamP(torch_groups, **h)
    raise ValueError(case.optimizer)


class ConvBnNet(nn.Module):
    """conv(3x3) -> BN -> ReLU -> conv(1x1) -> BN -> ReLU -> global average pool -> linear.

    Both convolutions feed a BatchNorm in train mode, so their weights are scale-invariant per
    output channel (paper, Section 2.1) and the channel test fires on them naturally.
    """

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(4, 8, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(8)
        self.conv2 = nn.Conv2d(8, 16, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(16)
        self.fc = nn.Linear(16, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.relu(self.bn1(self.conv1(x)))
        x = F.relu(self.bn2(self.conv2(x)))
        return self.fc(F.adaptive_avg_pool2d(x, 1).flatten(1))


NET_META = {
    "conv1.weight": ("conv", True),
    "bn1.weight": ("norm_gain", False),
    "bn1.bias": ("bias", False),
    "conv2.weight": ("conv", True),
    "bn2.weight": ("norm_gain", False),
    "bn2.bias": ("bias", False),
    "fc.weight": ("linear", False),
    "fc.bias": ("bias", False),
}


class MarginTooSmall(Exception):
    pass


def run_case(case: Case, seed: int) -> tuple[dict[str, torch.Tensor], dict]:
    """Run the reference for `case.steps` steps; returns the tensors and the sidecar."""
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    if case.params is None:
        net = ConvBnNet().to(case.dtype)
        net.train()
        named = dict(net.named_parameters())
        specs = [ParamSpec(n, tuple(p.shape), *NET_META[n]) for n, p in named.items()]
    else:
        net = None
        specs = case.params
        named = {
            s.name: nn.Parameter(init_param(s, gen, case.dtype)) for s in specs
        }

    base_lr = case.hyper["lr"]
    base_wd = case.hyper.get("weight_decay", 0.0)
    torch_groups = []
    for gi, group in enumerate(case.groups):
        entry: dict = {"params": [named[s.name] for s in specs if s.group == gi]}
        if gi > 0 or group.lr_scale != 1.0:
            entry["lr"] = group.lr_scale * base_lr
        if group.weight_decay is not None:
            entry["weight_decay"] = group.weight_decay
        torch_groups.append(entry)
    optimizer = build_optimizer(case, torch_groups)

    tensors = {f"init.{n}": p.detach().clone() for n, p in named.items()}
    name_of = {id(p): n for n, p in named.items()}
    projects = case.optimizer in ("sgdp", "adamp")
    views = {s.name: [] for s in specs}
    tests = {s.name: [] for s in specs if len(s.shape) > 1}
    delta = case.hyper.get("delta", 0.1)
    eps = case.hyper.get("eps", 1e-8)

    for step in range(case.steps):
        optimizer.zero_grad(set_to_none=True)
        if case.lr_schedule is not None:
            for group, torch_group in zip(case.groups, optimizer.param_groups):
                torch_group["lr"] = group.lr_scale * case.lr_schedule[step]
        if net is None:
            grads = synthetic_grads(named, specs, step, gen, delta, eps)
            for n, g in grads.items():
                named[n].grad = g.clone()
        else:
            x = torch.randn(16, 4, 8, 8, generator=gen, dtype=torch.float64).to(case.dtype)
            y = torch.randint(0, 10, (16,), generator=gen)
            F.cross_entropy(net(x), y).backward()
        for n, p in named.items():
            tensors[f"grad.{step}.{n}"] = p.grad.detach().clone()

        recorder = ProjectionRecorder()
        with record_projection(recorder):
            optimizer.step()
        seen = {}
        for pid, fired, evaluated in recorder.calls:
            seen[name_of[pid]] = (fired, evaluated)
        for s in specs:
            if projects and len(s.shape) > 1:
                fired, evaluated = seen[s.name]
                for t in evaluated:
                    if t["relative_margin"] < MIN_REL_MARGIN:
                        raise MarginTooSmall(
                            f"{case.name} seed {seed}: step {step} {s.name} {t['view']} test "
                            f"{t['max_abs_cos']:.6g} vs threshold {t['threshold']:.6g}"
                        )
                views[s.name].append(fired)
                tests[s.name].append(evaluated)
            else:
                if s.name in seen:
                    raise AssertionError(f"the reference projected 1-D parameter {s.name}")
                views[s.name].append("none")
        for n, p in named.items():
            tensors[f"param.{step}.{n}"] = p.detach().clone()

    sidecar = {
        "case": case.name,
        "description": case.description,
        "optimizer": case.optimizer,
        "reference": REFERENCES[case.optimizer],
        "generated_by": f"{COMMAND} (torch=={TORCH_VERSION}, adamp=={ADAMP_VERSION})",
        "dtype": "f64" if case.dtype == torch.float64 else "f32",
        "seed": seed,
        "steps": case.steps,
        "lr_schedule": case.lr_schedule,
        "hyperparameters": case.hyper,
        "groups": [
            {
                "name": g.name,
                "lr_scale": g.lr_scale,
                "lr": g.lr_scale * base_lr,
                "weight_decay_override": g.weight_decay,
                "weight_decay": base_wd if g.weight_decay is None else g.weight_decay,
            }
            for g in case.groups
        ],
        "params": [
            {
                "name": s.name,
                "shape": list(s.shape),
                "group": s.group,
                "one_d": len(s.shape) <= 1,
                "kind": s.kind,
                "followed_by_norm": s.followed_by_norm,
            }
            for s in specs
        ],
    }
    if projects:
        sidecar["projection"] = {
            "min_relative_margin": MIN_REL_MARGIN,
            "views": views,
            "cosine_tests": tests,
        }
    return tensors, sidecar


def with_groups(specs: list[ParamSpec], head: set[str]) -> list[ParamSpec]:
    return [
        ParamSpec(s.name, s.shape, s.kind, s.followed_by_norm, 1 if s.name in head else 0, s.zero_rows, s.sparse_rows)
        for s in specs
    ]


def cases() -> list[Case]:
    sgdp_defaults = dict(eps=1e-8, delta=0.1, wd_ratio=0.1)
    adamp_defaults = dict(betas=(0.9, 0.999), eps=1e-8, delta=0.1, wd_ratio=0.1)
    head = {"fc.weight", "fc.bias"}
    return [
        # torch.optim baselines.
        Case("sgd_momentum", "torch SGD, heavy-ball momentum, no weight decay", "sgd",
             dict(lr=0.05, momentum=0.9, dampening=0.0, weight_decay=0.0, nesterov=False), small_params(), seed=11),
        Case("sgd_nesterov_wd", "torch SGD, Nesterov momentum, coupled (L2) weight decay", "sgd",
             dict(lr=0.05, momentum=0.9, dampening=0.0, weight_decay=5e-3, nesterov=True), small_params(), seed=12),
        Case("sgd_dampening_wd", "torch SGD, momentum with dampening, coupled weight decay", "sgd",
             dict(lr=0.05, momentum=0.9, dampening=0.5, weight_decay=1e-3, nesterov=False), small_params(), seed=13),
        Case("sgd_plain", "torch SGD without momentum, coupled weight decay", "sgd",
             dict(lr=0.1, momentum=0.0, dampening=0.0, weight_decay=1e-2, nesterov=False), small_params(), seed=16),
        Case("adam_wd", "torch Adam with coupled (L2) weight decay", "adam",
             dict(lr=1e-2, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2), small_params(), seed=14),
        Case("adamw", "torch AdamW, decoupled weight decay, non-default betas", "adamw",
             dict(lr=1e-2, betas=(0.85, 0.995), eps=1e-8, weight_decay=0.1), small_params(), seed=15),
        # SGDP: synthetic gradients cycling channel / layer / neither per parameter.
        Case("sgdp_momentum", "SGDP, momentum, no Nesterov (buf projected in place), no weight decay", "sgdp",
             dict(lr=0.05, momentum=0.9, dampening=0.0, weight_decay=0.0, nesterov=False, **sgdp_defaults),
             full_params(), seed=21),
        Case("sgdp_nesterov_wd", "SGDP, Nesterov momentum, weight decay", "sgdp",
             dict(lr=0.05, momentum=0.9, dampening=0.0, weight_decay=1e-2, nesterov=True, **sgdp_defaults),
             full_params(), seed=22),
        Case("sgdp_dampening_wd", "SGDP, dampening, weight decay, non-default wd_ratio and delta", "sgdp",
             dict(lr=0.05, momentum=0.9, dampening=0.3, weight_decay=1e-2, nesterov=False,
                  eps=1e-8, delta=0.12, wd_ratio=0.2),
             full_params(), seed=23),
        Case("sgdp_no_momentum", "SGDP without momentum (decay divided by 1 - 0), weight decay", "sgdp",
             dict(lr=0.1, momentum=0.0, dampening=0.0, weight_decay=1e-2, nesterov=False, **sgdp_defaults),
             small_params(), seed=24),
        # AdamP.
        Case("adamp_basic", "AdamP, no Nesterov, no weight decay", "adamp",
             dict(lr=1e-2, weight_decay=0.0, nesterov=False, **adamp_defaults), full_params(), seed=31),
        Case("adamp_nesterov_wd", "AdamP, Nesterov, decoupled weight decay", "adamp",
             dict(lr=1e-2, weight_decay=0.1, nesterov=True, **adamp_defaults), full_params(), seed=32),
        # Parameter groups: the head at half the learning rate with its own weight decay.
        Case("sgdp_groups", "SGDP with two groups (head: lr x0.5, weight decay 5e-2)", "sgdp",
             dict(lr=0.05, momentum=0.9, dampening=0.0, weight_decay=1e-2, nesterov=False, **sgdp_defaults),
             with_groups(small_params(), head), [Group("default"), Group("head", 0.5, 5e-2)], seed=41),
        Case("adamp_groups", "AdamP with two groups (head: lr x0.5, weight decay 5e-2)", "adamp",
             dict(lr=1e-2, weight_decay=1e-2, nesterov=False, **adamp_defaults),
             with_groups(small_params(), head), [Group("default"), Group("head", 0.5, 5e-2)], seed=42),
        # Learning-rate schedules: the base lr changes between steps (set_learning_rate).
        Case("sgdp_lr_schedule", "SGDP, Nesterov, weight decay, step-decayed learning rate", "sgdp",
             dict(lr=0.1, momentum=0.9, dampening=0.0, weight_decay=1e-2, nesterov=True, **sgdp_defaults),
             tiny_params(), seed=43, lr_schedule=[0.1] * 4 + [0.01] * 3 + [0.001] * 3),
        Case("adamp_lr_schedule", "AdamP, weight decay, cosine learning rate", "adamp",
             dict(lr=1e-2, weight_decay=1e-2, nesterov=False, **adamp_defaults),
             tiny_params(), seed=44, lr_schedule=[1e-2 * 0.5 * (1 + math.cos(math.pi * k / 10)) for k in range(10)]),
        # Real autograd of conv -> BN -> ReLU -> pool -> linear, 10 training steps.
        Case("sgd_convbn_net", "torch SGD (Nesterov, L2) training a conv-BN network", "sgd",
             dict(lr=0.1, momentum=0.9, dampening=0.0, weight_decay=5e-3, nesterov=True), None, seed=51),
        Case("adamw_convbn_net", "torch AdamW training a conv-BN network", "adamw",
             dict(lr=1e-2, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.1), None, seed=52),
        Case("sgdp_convbn_net", "SGDP (Nesterov, weight decay) training a conv-BN network", "sgdp",
             dict(lr=0.1, momentum=0.9, dampening=0.0, weight_decay=5e-3, nesterov=True, **sgdp_defaults),
             None, seed=53),
        Case("adamp_convbn_net", "AdamP (weight decay) training a conv-BN network", "adamp",
             dict(lr=1e-2, weight_decay=1e-2, nesterov=False, **adamp_defaults), None, seed=54),
        # Double precision.
        Case("adamp_f64", "AdamP in float64, Nesterov, weight decay", "adamp",
             dict(lr=1e-2, weight_decay=0.1, nesterov=True, **adamp_defaults), small_params(),
             dtype=torch.float64, seed=61),
        Case("sgdp_f64", "SGDP in float64, momentum, weight decay", "sgdp",
             dict(lr=0.05, momentum=0.9, dampening=0.0, weight_decay=1e-2, nesterov=False, **sgdp_defaults),
             small_params(), dtype=torch.float64, seed=62),
    ]


def compact_json(value: dict) -> str:
    """Indented JSON with innermost lists and objects on one line (the sidecars stay readable
    and small)."""
    text = json.dumps(value, indent=1)

    def one_line(m: re.Match) -> str:
        return m.group(1) + ", ".join(x.strip() for x in m.group(2).split(",\n")) + m.group(3)

    text = re.sub(r"(\[)\s+([^\[\]{}]*?)\s+(\])", one_line, text)
    text = re.sub(r"(\{)\s+([^\[\]{}]*?)\s+(\})", one_line, text)
    return text + "\n"


def jsonable(hyper: dict) -> dict:
    return {k: list(v) if isinstance(v, tuple) else v for k, v in hyper.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="fixture directory")
    parser.add_argument("--only", nargs="*", help="generate only these cases")
    args = parser.parse_args()
    check_versions()
    make_deterministic()
    args.out.mkdir(parents=True, exist_ok=True)

    total = 0
    for case in cases():
        if args.only and case.name not in args.only:
            continue
        # A case whose cosine tests come too close to a threshold is rerun with another seed.
        for attempt in range(10):
            seed = case.seed + 100 * attempt
            try:
                tensors, sidecar = run_case(case, seed)
                break
            except MarginTooSmall as e:
                print(f"  regenerating: {e}", file=sys.stderr)
        else:
            sys.exit(f"{case.name}: no seed gave cosine tests clear of their thresholds")
        sidecar["hyperparameters"] = jsonable(sidecar["hyperparameters"])
        st_path = args.out / f"{case.name}.safetensors"
        write_safetensors(
            st_path,
            tensors,
            {"case": case.name, "generated_by": sidecar["generated_by"]},
        )
        (args.out / f"{case.name}.json").write_text(compact_json(sidecar))
        size = st_path.stat().st_size + (args.out / f"{case.name}.json").stat().st_size
        total += size
        summary = ""
        if "projection" in sidecar:
            counts: dict[str, int] = {}
            for per_step in sidecar["projection"]["views"].values():
                for v in per_step:
                    counts[v] = counts.get(v, 0) + 1
            summary = " views " + ", ".join(f"{k}={counts[k]}" for k in sorted(counts))
        print(f"{case.name}: seed {sidecar['seed']}, {size / 1024:.0f} KiB{summary}")
    print(f"total {total / 1024:.0f} KiB in {args.out}")
    if total > MAX_TOTAL_BYTES:
        sys.exit(f"fixtures total {total} bytes, over the {MAX_TOTAL_BYTES}-byte budget")


if __name__ == "__main__":
    main()
