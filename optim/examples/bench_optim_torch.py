"""Time one optimizer step of adamp 0.3.0 (AdamP, SGDP) and torch.optim (AdamW, SGD) on the
ResNet-18 parameter shapes, for `bench_optim.rs` (which runs this with the same thread count).

Usage: python bench_optim_torch.py THREADS WARMUP ITERS [DEVICE]
DEVICE is `cpu` (the default), `cuda` or `cuda:N`; on a GPU each timed step ends with a
synchronize, torch.optim's AdamW and SGD are also timed with `foreach=True` and `fused=True`
(labels `torch.optim.AdamW(foreach)`, `torch.optim.AdamW(fused)`, ...), and `copy_gb_per_s` is
the device's copy bandwidth measured as bench_optim.rs does (1 GiB device-to-device, bytes read +
written over the median time).
Prints one JSON object: {"torch_version", "adamp_version", "<impl>": ms_per_step, ...}.
Gradients: before every timed step (untimed), conv weights get a fixed random gradient minus its
projection on each output channel of the current weight (as a conv followed by BatchNorm has),
everything else the fixed random gradient -- the same recipe as the Rust benchmark.
"""
import json
import statistics
import sys
import time

import torch

try:
    import adamp
except ImportError:  # the adamp.* rows are left out; torch.optim is still timed
    adamp = None


def resnet18_shapes():
    shapes = [("conv1.weight", (64, 3, 7, 7)), ("bn1.weight", (64,)), ("bn1.bias", (64,))]
    inplanes = 64
    for li, planes in enumerate([64, 128, 256, 512], start=1):
        for b in range(2):
            stride_block = b == 0 and li > 1
            cin = inplanes if b == 0 else planes
            pre = f"layer{li}.{b}"
            shapes += [(f"{pre}.conv1.weight", (planes, cin, 3, 3)), (f"{pre}.bn1.weight", (planes,)),
                       (f"{pre}.bn1.bias", (planes,)), (f"{pre}.conv2.weight", (planes, planes, 3, 3)),
                       (f"{pre}.bn2.weight", (planes,)), (f"{pre}.bn2.bias", (planes,))]
            if stride_block:
                shapes += [(f"{pre}.downsample.0.weight", (planes, cin, 1, 1)),
                           (f"{pre}.downsample.1.weight", (planes,)), (f"{pre}.downsample.1.bias", (planes,))]
        inplanes = planes
    shapes += [("fc.weight", (1000, 512)), ("fc.bias", (1000,))]
    return shapes


def copy_bandwidth(device, warmup, iters):
    """GB/s of a 1 GiB float32 device-to-device copy: 2 GiB read + written over the median time."""
    n = 1 << 28
    src = torch.ones(n, device=device)
    dst = torch.empty_like(src)
    times = []
    for i in range(warmup + iters):
        torch.cuda.synchronize(device)
        t0 = time.perf_counter()
        dst.copy_(src)
        torch.cuda.synchronize(device)
        if i >= warmup:
            times.append(time.perf_counter() - t0)
    del src, dst
    torch.cuda.empty_cache()
    return 2 * 4 * n / statistics.median(times) / 1e9


def main():
    threads, warmup, iters = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    device = torch.device(sys.argv[4] if len(sys.argv) > 4 else "cpu")
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    shapes = resnet18_shapes()
    params, base, init = [], [], []
    for name, shape in shapes:
        w = ((torch.rand(shape) * 2 - 1) * 0.05).to(device)
        init.append(w.clone())
        params.append(torch.nn.Parameter(w))
        base.append(((torch.rand(shape) * 2 - 1) * 1e-3).to(device))

    def refresh_grads():
        with torch.no_grad():
            for p, g in zip(params, base):
                g = g.clone()
                if p.dim() == 4:
                    w2, g2 = p.view(p.shape[0], -1).double(), g.view(p.shape[0], -1)
                    c = (g2.double() * w2).sum(1, keepdim=True) / (w2 * w2).sum(1, keepdim=True)
                    g2 -= (c * w2).float()
                p.grad = g

    def reset():
        with torch.no_grad():
            for p, w in zip(params, init):
                p.copy_(w)
    assert sum(p.numel() for p in params) == 11_689_512
    makers = {
        "adamp.AdamP": lambda ps: adamp.AdamP(ps, lr=1e-3, weight_decay=1e-2),
        "torch.optim.AdamW": lambda ps: torch.optim.AdamW(ps, lr=1e-3, weight_decay=1e-2),
        "adamp.SGDP": lambda ps: adamp.SGDP(ps, lr=0.1, momentum=0.9, weight_decay=1e-4),
        "torch.optim.SGD": lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9, weight_decay=1e-4),
    }
    if adamp is None:
        print("adamp is not importable: timing torch.optim only", file=sys.stderr)
        makers = {k: v for k, v in makers.items() if not k.startswith("adamp.")}
    if device.type == "cuda":
        for kind in ("foreach", "fused"):
            makers[f"torch.optim.AdamW({kind})"] = \
                lambda ps, k=kind: torch.optim.AdamW(ps, lr=1e-3, weight_decay=1e-2, **{k: True})
            makers[f"torch.optim.SGD({kind})"] = \
                lambda ps, k=kind: torch.optim.SGD(ps, lr=0.1, momentum=0.9, weight_decay=1e-4, **{k: True})
    out = {"torch_version": torch.__version__, "adamp_version": getattr(adamp, "__version__", "0.3.0") if adamp else None,
           "threads": threads, "device": str(device)}
    if device.type == "cuda":
        out["device_name"] = torch.cuda.get_device_name(device)
        out["copy_gb_per_s"] = copy_bandwidth(device, warmup, iters)
    for label, make in makers.items():
        reset()
        opt = make(params)
        times = []
        for i in range(warmup + iters):
            refresh_grads()
            sync()
            t0 = time.perf_counter()
            opt.step()
            sync()
            dt = time.perf_counter() - t0
            if i >= warmup:
                times.append(dt * 1e3)
        out[label] = statistics.median(times)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
