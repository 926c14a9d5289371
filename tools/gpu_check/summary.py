#!/usr/bin/env python3
"""The GPU check's final table (tools/gpu_check/run.sh): ours against PyTorch on the same GPU,
one line per figure, with the speed ratio and the issue's target where it sets one, then the
checks (tests, the error for a missing device, the quick runs).

usage: summary.py DIR    (DIR holds run.sh's status.tsv, optim.json and train_cuda.csv)

Prints the table and writes it to DIR/summary.md. Exit status 1 when a check failed or was
skipped, or a figure is missing; a target that is not met is reported, not an error.
Standard library only (it runs with any Python 3).
"""
import csv
import json
import os
import sys

# The targets (issue 13, "GPU at paper scale").
ADAMP_MS_MAX = 1.0  # AdamP step on ResNet-18 shapes, statistics included
ADAMP_OVER_ADAMW_MAX = 1.3  # ours, statistics included
TRAIN_RATIO_MIN = 0.7  # ResNet-18 training img/s, batch 128, fp32, ours / PyTorch


def read_status(path):
    status = {}
    if os.path.exists(path):
        with open(path) as f:
            for line in f:
                key, _, value = line.rstrip("\n").partition("\t")
                status[key] = value
    return status


def read_json(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return {}


def read_train(path):
    """{(model, implementation): images_per_s} from bench_train_gpu's (or bench_train's) CSV, and
    `("tf32", None)`: its tf32 column ("true" / "false") when it has one."""
    rows = {}
    try:
        with open(path) as f:
            for r in csv.DictReader(f):
                try:
                    rows[(r["model"], r["implementation"])] = float(r["images_per_s"])
                except (KeyError, ValueError):
                    pass
                if r.get("tf32"):
                    rows[("tf32", None)] = r["tf32"]
    except OSError:
        pass
    return rows


def fmt(x, unit=""):
    if x is None:
        return "-"
    return f"{x:.3g}{unit}" if abs(x) < 100 else f"{x:.0f}{unit}"


def verdict(ok):
    return "-" if ok is None else ("met" if ok else "NOT met")


def table(status, optim, train):
    """Rows of (line, ours, pytorch, speed ratio, target, met); and the missing figures."""
    rows, missing = [], []

    def get(d, key, what):
        v = d.get(key)
        if v is None:
            missing.append(what)
        return v

    def ratio(slow, fast):
        return None if slow is None or fast is None or fast == 0 else slow / fast

    adamp = get(optim, "adamp_ms", "our AdamP step")
    adamw = get(optim, "adamw_ms", "our AdamW step")
    ref = optim.get("adamp_AdamP_ms")
    rows.append(("AdamP step, ResNet-18 shapes, statistics on (ms)", fmt(adamp),
                 f"adamp.AdamP {fmt(ref)}", fmt(ratio(ref, adamp)), f"<= {ADAMP_MS_MAX:g} ms",
                 verdict(None if adamp is None else adamp <= ADAMP_MS_MAX)))
    paired = optim.get("adamp_over_adamw_paired")
    over = paired if paired is not None else ratio(adamp, adamw)
    rows.append(("AdamP / AdamW step time, ours (paired median)", fmt(over), "-", "-",
                 f"<= {ADAMP_OVER_ADAMW_MAX:g}",
                 verdict(None if over is None else over <= ADAMP_OVER_ADAMW_MAX)))
    off = optim.get("adamp_no_stats_ms")
    rows.append(("AdamP step, statistics off (ms)", fmt(off) if off is not None else "not timed",
                 "-", "-", "-", "-"))
    floor = optim.get("floor_ms_adam")
    rows.append(("AdamP step / its bandwidth floor", fmt(ratio(adamp, floor)),
                 f"floor {fmt(floor)} ms", "-", "-", "-"))
    fused = optim.get("torch_adamw_fused_ms")
    rows.append(("AdamW step (ms)", fmt(adamw), f"AdamW(fused) {fmt(fused)}",
                 fmt(ratio(fused, adamw)), "-", "-"))
    sgd, sgd_fused = optim.get("sgd_ms"), optim.get("torch_sgd_fused_ms")
    rows.append(("SGD step, momentum (ms)", fmt(sgd), f"SGD(fused) {fmt(sgd_fused)}",
                 fmt(ratio(sgd_fused, sgd)), "-", "-"))
    sgdp, sgdp_ref = optim.get("sgdp_ms"), optim.get("adamp_SGDP_ms")
    rows.append(("SGDP step (ms)", fmt(sgdp), f"adamp.SGDP {fmt(sgdp_ref)}",
                 fmt(ratio(sgdp_ref, sgdp)), "-", "-"))
    bw, tbw = optim.get("bandwidth_gb_per_s"), optim.get("torch_copy_gb_per_s")
    rows.append(("device copy bandwidth, 1 GiB (GB/s)", fmt(bw), fmt(tbw), fmt(ratio(bw, tbw)),
                 "-", "-"))
    tf32 = {"true": ", TF32 convolutions (PyTorch's default)", "false": ", no TF32"}.get(
        train.get(("tf32", None)), "")
    for model, label, target in (("resnet18", f"ResNet-18 224 px training, batch 128, fp32{tf32} (img/s)",
                                   TRAIN_RATIO_MIN),
                                  ("resnet20", f"ResNet-20 32 px training, batch 128, fp32{tf32} (img/s)",
                                   None)):
        # bench_train_gpu calls our layers `fast`, bench_train `ours`.
        ours = train.get((model, "fast"), train.get((model, "ours")))
        torch = train.get((model, "pytorch"))
        if ours is None:
            missing.append(f"{model} training img/s (ours)")
        if torch is None:
            missing.append(f"{model} training img/s (PyTorch)")
        r = ratio(ours, torch)
        rows.append((label, fmt(ours), fmt(torch), fmt(r),
                     "-" if target is None else f">= {target:g}x PyTorch",
                     "-" if target is None else verdict(None if r is None else r >= target)))
    return rows, missing


def main():
    d = sys.argv[1]
    status = read_status(os.path.join(d, "status.tsv"))
    optim = read_json(os.path.join(d, "optim.json"))
    train = read_train(os.path.join(d, "train_cuda.csv"))
    rows, missing = table(status, optim, train)
    head = ("figure", "ours", "PyTorch", "speed ratio (ours faster if > 1)", "target", "met")
    lines = [f"GPU check: {status.get('gpu', '?')}; torch {status.get('torch', '?')}; "
             f"binaries of commit {status.get('commit', '?')}", ""]
    lines.append("| " + " | ".join(head) + " |")
    lines.append("|" + "---|" * len(head))
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    lines.append("")
    failed = []
    for key, value in status.items():
        if key in ("gpu", "torch", "commit"):
            continue
        lines.append(f"- {key}: {value}")
        if value.startswith(("FAILED", "skipped")) or (value.startswith("exit ") and value != "exit 0"):
            failed.append(key)
    if missing:
        lines.append(f"- missing figures: {', '.join(missing)}")
    lines.append(f"- result: {'FAILED: ' + ', '.join(failed) if failed else 'every check passed'}"
                 + ("; some figures missing" if missing else ""))
    text = "\n".join(lines) + "\n"
    print(text, end="")
    with open(os.path.join(d, "summary.md"), "w") as f:
        f.write(text)
    return 1 if failed or missing else 0


if __name__ == "__main__":
    sys.exit(main())
