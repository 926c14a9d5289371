#!/usr/bin/env python3
"""Cross-check the committed optimizer fixtures with an independent float64 re-implementation.

Reads only `optim/tests/fixtures/` (no `adamp` import): re-implements SGD, Adam, AdamW, SGDP and
AdamP from the paper's equations (arXiv 2006.08217, its SGDP and AdamP algorithms, as adamp 0.3.0
implements them) in float64, rounds the parameters to the fixture dtype after every step (as an
implementation that computes internally in f64 would), and reports how close it lands to the
reference under the parity rule of `optim/tests/parity.rs`:

* rule A, every element: |ours - ref| <= 1e-5 * max(1, |ref|);
* rule B, every element: |ours - ref| <= 1e-5 * D_k + 8 * (k + 1) * eps_dtype * M_k, where
  D_k = max |ref_k - ref_{k-1}| and M_k = max |ref_k| over the tensor.

It also recomputes every projection decision and compares it with the recorded view. Its purpose
is to show that the tolerances leave room for a correct implementation with a different summation
order and rounding, and that the fixtures say what the paper's equations say.

    .venv/bin/python tools/check_optim_fixtures.py
"""

from __future__ import annotations

import json
import math
import struct
import sys
from pathlib import Path

import torch

FIXTURES = Path(__file__).resolve().parent.parent / "optim" / "tests" / "fixtures"
RTOL = 1e-5
ULP_FACTOR = 8


def read_safetensors(path: Path) -> dict[str, torch.Tensor]:
    raw = path.read_bytes()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + n])
    base = 8 + n
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        dtype = {"F32": torch.float32, "F64": torch.float64}[info["dtype"]]
        a, b = info["data_offsets"]
        t = torch.frombuffer(bytearray(raw[base + a : base + b]), dtype=dtype)
        out[name] = t.reshape(info["shape"]).clone()
    return out


def decide(grad: torch.Tensor, w: torch.Tensor, delta: float, eps: float) -> str:
    for view, rows in (("channel", w.shape[0]), ("layer", 1)):
        g = grad.reshape(rows, -1)
        x = w.reshape(rows, -1)
        cos = ((g / g.norm(dim=1, keepdim=True).clamp_min(eps)) * (x / x.norm(dim=1, keepdim=True).clamp_min(eps))).sum(1)
        if cos.abs().max().item() < delta / math.sqrt(x.shape[1]):
            return view
    return "none"


def project(w: torch.Tensor, u: torch.Tensor, view: str, eps: float) -> torch.Tensor:
    rows = w.shape[0] if view == "channel" else 1
    x = w.reshape(rows, -1)
    wn = x / (x.norm(dim=1, keepdim=True) + eps)
    v = u.reshape(rows, -1)
    return (v - wn * (wn * v).sum(dim=1, keepdim=True)).reshape(w.shape)


def check(path: Path) -> tuple[bool, str]:
    side = json.loads(path.read_text())
    t = read_safetensors(path.with_suffix(".safetensors"))
    h = side["hyperparameters"]
    opt = side["optimizer"]
    dtype = torch.float64 if side["dtype"] == "f64" else torch.float32
    eps_dtype = torch.finfo(dtype).eps
    groups = side["groups"]
    state: dict[str, dict] = {}
    worst_a = worst_b = 0.0
    view_mismatch = []
    params = {p["name"]: t[f"init.{p['name']}"] for p in side["params"]}
    for k in range(side["steps"]):
        for p in side["params"]:
            name = p["name"]
            schedule = side.get("lr_schedule")
            lr = groups[p["group"]]["lr_scale"] * schedule[k] if schedule else groups[p["group"]]["lr"]
            wd = groups[p["group"]]["weight_decay"]
            w = params[name].double()
            g = t[f"grad.{k}.{name}"].double()
            st = state.setdefault(name, {"step": 0})
            st["step"] += 1
            view = "none"
            if opt == "sgd":
                mu, damp = h["momentum"], h["dampening"]
                if wd:
                    g = g + wd * w
                if mu:
                    if "buf" not in st:
                        st["buf"] = g.clone()
                    else:
                        st["buf"] = mu * st["buf"] + (1 - damp) * g
                    g = g + mu * st["buf"] if h["nesterov"] else st["buf"]
                w = w - lr * g
            elif opt in ("adam", "adamw"):
                b1, b2 = h["betas"]
                if wd and opt == "adam":
                    g = g + wd * w
                if wd and opt == "adamw":
                    w = w * (1 - lr * wd)
                st["m"] = b1 * st.get("m", 0 * g) + (1 - b1) * g
                st["v"] = b2 * st.get("v", 0 * g) + (1 - b2) * g * g
                bc1 = 1 - b1 ** st["step"]
                bc2 = 1 - b2 ** st["step"]
                w = w - lr / bc1 * st["m"] / (st["v"].sqrt() / math.sqrt(bc2) + h["eps"])
            elif opt == "sgdp":
                mu, damp = h["momentum"], h["dampening"]
                st["buf"] = mu * st.get("buf", 0 * g) + (1 - damp) * g
                d = g + mu * st["buf"] if h["nesterov"] else st["buf"]
                ratio = 1.0
                if w.dim() > 1:
                    view = decide(g, w, h["delta"], h["eps"])
                    if view != "none":
                        d = project(w, d, view, h["eps"])
                        ratio = h["wd_ratio"]
                        if not h["nesterov"]:
                            st["buf"] = d  # d_p aliases buf in the reference
                if wd > 0:
                    w = w * (1 - lr * wd * ratio / (1 - mu))
                w = w - lr * d
            elif opt == "adamp":
                b1, b2 = h["betas"]
                st["m"] = b1 * st.get("m", 0 * g) + (1 - b1) * g
                st["v"] = b2 * st.get("v", 0 * g) + (1 - b2) * g * g
                bc1 = 1 - b1 ** st["step"]
                bc2 = 1 - b2 ** st["step"]
                denom = st["v"].sqrt() / math.sqrt(bc2) + h["eps"]
                u = (b1 * st["m"] + (1 - b1) * g) / denom if h["nesterov"] else st["m"] / denom
                ratio = 1.0
                if w.dim() > 1:
                    view = decide(g, w, h["delta"], h["eps"])
                    if view != "none":
                        u = project(w, u, view, h["eps"])
                        ratio = h["wd_ratio"]
                if wd > 0:
                    w = w * (1 - lr * wd * ratio)
                w = w - lr / bc1 * u
            else:
                raise ValueError(opt)
            if "projection" in side and side["projection"]["views"][name][k] != view:
                view_mismatch.append((k, name, view, side["projection"]["views"][name][k]))
            new = w.to(dtype)
            ref = t[f"param.{k}.{name}"]
            prev = t[f"param.{k - 1}.{name}"] if k > 0 else t[f"init.{name}"]
            err = (new.double() - ref.double()).abs()
            tol_a = RTOL * ref.double().abs().clamp_min(1.0)
            delta_k = (ref.double() - prev.double()).abs().max().item()
            tol_b = RTOL * delta_k + ULP_FACTOR * (k + 1) * eps_dtype * ref.double().abs().max().item()
            worst_a = max(worst_a, (err / tol_a).max().item())
            worst_b = max(worst_b, err.max().item() / tol_b)
            params[name] = new
    ok = worst_a <= 1 and worst_b <= 1 and not view_mismatch
    msg = f"{side['case']}: worst err/tol rule A {worst_a:.3f}, rule B {worst_b:.3f}"
    if view_mismatch:
        msg += f", view mismatches {view_mismatch[:3]}"
    return ok, msg


def main() -> None:
    torch.set_num_threads(1)
    failed = False
    for path in sorted(FIXTURES.glob("*.json")):
        ok, msg = check(path)
        print(("ok   " if ok else "FAIL ") + msg)
        failed |= not ok
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
