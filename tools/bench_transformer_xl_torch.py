#!/usr/bin/env python3
"""PyTorch CPU reference for models/examples/bench_transformer_xl.rs: tokens/s of a training
step (forward, backward of the mean NLL with the memory carried, one torch.optim.AdamW step with its
defaults) of the same small Transformer-XL, using the reference port in
gen_transformer_xl_fixtures.py. Prints `tokens_per_s=<value>` on the last line.

usage: bench_transformer_xl_torch.py [--threads 1] [--steps 10] [--weight-norm]
"""
import argparse
import time

import torch

from gen_transformer_xl_fixtures import build


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--weight-norm", action="store_true")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    # keep in sync with models/examples/bench_transformer_xl.rs
    c = dict(n_token=10000, n_layer=4, n_head=4, d_model=128, d_head=32, d_inner=512, d_embed=128,
             dropout=0.1, dropatt=0.0, cutoffs=[2000, 4000], div_val=1, tie_weight=True, tie_projs=True,
             pre_lnorm=False, same_length=False, clamp_len=0, weight_norm=args.weight_norm, tgt_len=64,
             mem_len=64, ext_len=0, init_std=0.02, proj_init_std=0.01)
    model = build(c)
    model.train()
    opt = torch.optim.AdamW(model.parameters())
    tgt_len, batch, warmup = 64, 16, 2
    mems = tuple()
    start = time.perf_counter()
    for step in range(warmup + args.steps):
        if step == warmup:
            start = time.perf_counter()
        data = torch.randint(0, c["n_token"], (tgt_len, batch))
        target = torch.randint(0, c["n_token"], (tgt_len, batch))
        out = model(data, target, *mems)
        opt.zero_grad(set_to_none=True)
        out[0].mean().backward()
        opt.step()
        mems = tuple(out[1:])
    secs = time.perf_counter() - start
    print(f"params={sum(p.numel() for p in model.parameters())} tokens_per_s={args.steps * tgt_len * batch / secs:.0f}")


if __name__ == "__main__":
    main()
