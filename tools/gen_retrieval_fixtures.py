#!/usr/bin/env python3
"""Golden fixtures for the retrieval losses of adamp-task-retrieval
(`tasks/retrieval/tests/loss_fixtures.rs`).

References (pinned in tools/requirements-fixtures.txt; the script refuses other versions):
* Proxy-Anchor: the ProxyAnchor codebase's own loss (tjddus9597/Proxy-Anchor-CVPR2020,
  code/losses.py::Proxy_Anchor, copied below without its `.cuda()` calls; `label_binarize`
  replaced by `F.one_hot`, identical for more than two classes), torch 2.15.0.
* Triplet with semi-hard mining: that codebase's `TripletLoss` = pytorch-metric-learning 2.9.0
  `miners.TripletMarginMiner(margin, type_of_triplets='semihard')` +
  `losses.TripletMarginLoss(margin=margin)`, margin 0.1.

For every case it records the loss and its gradients with respect to the embeddings (and the
proxies), in float32, CPU, one thread. Cases cover classes missing from the batch, a single
class, other alpha/delta, a batch above torch.cdist's 25-row switch to its matmul path,
coinciding embeddings, and two batches where no triplet is mined (no positive pair; every
negative beyond the margin).

Usage (CPU only; see tools/README.md):

    .venv/bin/python tools/gen_retrieval_fixtures.py   # writes tasks/retrieval/tests/fixtures/

Output: `losses.safetensors` with `<case>.x`, `<case>.labels` (int64), `<case>.loss` (0-d),
`<case>.grad_x` and, for Proxy-Anchor cases, `<case>.proxies` and `<case>.grad_proxies`; and
`losses.json` with each case's kind, hyperparameters and (triplet) the number of mined triplets.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import torch
import torch.nn as nn
import torch.nn.functional as F

from safetensors_writer import write_safetensors

TORCH_VERSION = "2.15.0"
PML_VERSION = "2.9.0"
REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = REPO_ROOT / "tasks" / "retrieval" / "tests" / "fixtures"
COMMAND = "python tools/gen_retrieval_fixtures.py"


def l2_norm(input):
    input_size = input.size()
    buffer = torch.pow(input, 2)
    normp = torch.sum(buffer, 1).add_(1e-12)
    norm = torch.sqrt(normp)
    _output = torch.div(input, norm.view(-1, 1).expand_as(input))
    output = _output.view(input_size)
    return output


class ProxyAnchor(torch.nn.Module):
    """code/losses.py::Proxy_Anchor of the ProxyAnchor codebase, on the CPU."""

    def __init__(self, nb_classes, sz_embed, mrg=0.1, alpha=32, gen=None):
        torch.nn.Module.__init__(self)
        self.proxies = torch.nn.Parameter(torch.randn(nb_classes, sz_embed, generator=gen))
        nn.init.kaiming_normal_(self.proxies, mode="fan_out", generator=gen)
        self.nb_classes = nb_classes
        self.sz_embed = sz_embed
        self.mrg = mrg
        self.alpha = alpha

    def forward(self, X, T):
        P = self.proxies
        cos = F.linear(l2_norm(X), l2_norm(P))
        P_one_hot = F.one_hot(T, self.nb_classes).float()
        N_one_hot = 1 - P_one_hot
        pos_exp = torch.exp(-self.alpha * (cos - self.mrg))
        neg_exp = torch.exp(self.alpha * (cos + self.mrg))
        with_pos_proxies = torch.nonzero(P_one_hot.sum(dim=0) != 0).squeeze(dim=1)
        num_valid_proxies = len(with_pos_proxies)
        P_sim_sum = torch.where(P_one_hot == 1, pos_exp, torch.zeros_like(pos_exp)).sum(dim=0)
        N_sim_sum = torch.where(N_one_hot == 1, neg_exp, torch.zeros_like(neg_exp)).sum(dim=0)
        pos_term = torch.log(1 + P_sim_sum).sum() / num_valid_proxies
        neg_term = torch.log(1 + N_sim_sum).sum() / self.nb_classes
        return pos_term + neg_term


def proxy_anchor_case(name, gen, b, d, c, labels, alpha=32.0, delta=0.1, x_scale=1.0):
    x = (torch.randn(b, d, generator=gen) * x_scale).requires_grad_(True)
    loss_fn = ProxyAnchor(c, d, mrg=delta, alpha=alpha, gen=gen)
    t = torch.tensor(labels, dtype=torch.int64)
    proxies0 = loss_fn.proxies.detach().clone()
    loss = loss_fn(x, t)
    loss.backward()
    tensors = {
        f"{name}.x": x.detach(),
        f"{name}.labels": t,
        f"{name}.proxies": proxies0,
        f"{name}.loss": loss.detach().reshape(()),
        f"{name}.grad_x": x.grad.detach(),
        f"{name}.grad_proxies": loss_fn.proxies.grad.detach(),
    }
    meta = {"kind": "proxy_anchor", "alpha": alpha, "delta": delta, "classes": c}
    return tensors, meta


def triplet_case(name, x, labels, margin=0.1):
    from pytorch_metric_learning import losses, miners

    x = x.clone().requires_grad_(True)
    t = torch.tensor(labels, dtype=torch.int64)
    miner = miners.TripletMarginMiner(margin, type_of_triplets="semihard")
    loss_func = losses.TripletMarginLoss(margin=margin)
    mined = miner(x, t)
    loss = loss_func(x, t, mined)
    loss.backward()
    grad = x.grad if x.grad is not None else torch.zeros_like(x)
    tensors = {
        f"{name}.x": x.detach(),
        f"{name}.labels": t,
        f"{name}.loss": loss.detach().reshape(()),
        f"{name}.grad_x": grad.detach(),
    }
    meta = {"kind": "triplet", "margin": margin, "mined": int(mined[0].numel())}
    return tensors, meta


def unit_rows(x):
    return x / x.norm(dim=1, keepdim=True)


def generate():
    gen = torch.Generator().manual_seed(20261204)
    tensors, cases = {}, {}

    def add(name, out):
        t, meta = out
        tensors.update(t)
        cases[name] = meta

    # Proxy-Anchor: classes 0..5 of 6, class 4 absent from the batch.
    add("pa_basic", proxy_anchor_case("pa_basic", gen, 12, 8, 6,
                                      [0, 0, 1, 1, 2, 2, 3, 3, 5, 5, 0, 1]))
    # Every class present, unnormalised embeddings of a larger scale.
    add("pa_all_classes", proxy_anchor_case("pa_all_classes", gen, 10, 16, 4,
                                            [0, 1, 2, 3, 0, 1, 2, 3, 0, 1], x_scale=5.0))
    # One class only (the positive term averages over one proxy).
    add("pa_one_class", proxy_anchor_case("pa_one_class", gen, 6, 8, 5, [2] * 6))
    # Another scale and margin.
    add("pa_alpha16_delta02", proxy_anchor_case("pa_alpha16_delta02", gen, 9, 8, 3,
                                                [0, 1, 2, 0, 1, 2, 0, 0, 1],
                                                alpha=16.0, delta=0.2))

    # Triplet, semi-hard: 4 classes x 3, random unit embeddings (the model's output is unit).
    add("tri_basic", triplet_case("tri_basic", unit_rows(torch.randn(12, 8, generator=gen)),
                                  [0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3]))
    # 32 rows: torch.cdist switches to its matmul path above 25.
    labels = [i // 4 for i in range(32)]
    add("tri_batch32", triplet_case("tri_batch32", unit_rows(torch.randn(32, 16, generator=gen)),
                                    labels))
    # Unnormalised inputs (the loss normalises) in low dimension: many semi-hard triplets.
    add("tri_unnormalised", triplet_case("tri_unnormalised", torch.randn(10, 3, generator=gen) * 3,
                                         [0, 1, 0, 1, 2, 2, 0, 1, 2, 0]))
    # Two coinciding embeddings of one class (d(a, p) = 0).
    x = unit_rows(torch.randn(8, 4, generator=gen))
    x[1] = x[0]
    add("tri_coinciding", triplet_case("tri_coinciding", x, [0, 0, 1, 1, 2, 2, 0, 1]))
    # No positive pair at all: nothing is mined, the loss is 0 with zero gradients.
    add("tri_no_positive", triplet_case("tri_no_positive",
                                        unit_rows(torch.randn(6, 8, generator=gen)),
                                        [0, 1, 2, 3, 4, 5]))
    # Positives coincide and negatives are orthogonal: every d(a, n) - d(a, p) > margin.
    x = torch.tensor([[1.0, 0, 0, 0], [1.0, 0, 0, 0], [0, 1.0, 0, 0], [0, 1.0, 0, 0],
                      [0, 0, 1.0, 0], [0, 0, 0, 1.0]])
    add("tri_all_easy", triplet_case("tri_all_easy", x, [0, 0, 1, 1, 2, 3]))
    return tensors, cases


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    import pytorch_metric_learning

    if torch.__version__.split("+")[0] != TORCH_VERSION:
        sys.exit(f"torch {TORCH_VERSION} is pinned, found {torch.__version__}")
    if pytorch_metric_learning.__version__ != PML_VERSION:
        sys.exit(f"pytorch-metric-learning {PML_VERSION} is pinned, "
                 f"found {pytorch_metric_learning.__version__}")
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    tensors, cases = generate()
    args.out.mkdir(parents=True, exist_ok=True)
    stamp = {"generator": COMMAND, "torch": TORCH_VERSION,
             "pytorch_metric_learning": PML_VERSION}
    write_safetensors(args.out / "losses.safetensors", tensors, stamp)
    info = {**stamp, "cases": cases}
    (args.out / "losses.json").write_text(json.dumps(info, indent=2, sort_keys=True) + "\n")
    for name, meta in cases.items():
        print(name, meta, float(tensors[f"{name}.loss"]))


if __name__ == "__main__":
    main()
