#!/usr/bin/env bash
# Build the CUDA-featured binaries here and pack them for a GPU machine that has the NVIDIA driver
# and PyTorch's CUDA wheels but no Rust: the `adamp` CLI, the optimizer parity and property test
# binaries, and `bench_optim`. Needs the CUDA build setup of the README's "GPU builds" section
# (PATH with nvcc, CUDA_ROOT, CUDA_COMPUTE_CAP, and the stub libcuda.so on LIBRARY_PATH).
#
#   tools/gpu_check/pack.sh OUT.tar.xz
#
# The test binaries and bench_optim find their fixtures and scripts through the source folder
# compiled into them; the archive records it (`source_root`) so that run.sh can point it at the
# copy of this repository on the GPU machine.
set -euo pipefail
out=$(realpath -m "${1:?usage: pack.sh OUT.tar.xz}")
cd "$(dirname "$0")/../.."
root=$PWD
target=${CARGO_TARGET_DIR:-$root/target}
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT

cargo build --release -p adamp-harness --features cuda
cargo build --release -p adamp-optim --features cuda,candle-nn --example bench_optim
cargo test --release -p adamp-optim --features cuda,candle-nn --no-run --message-format=json \
    --test parity --test properties >"$stage/build.json"
python3 - "$stage/build.json" "$stage" <<'PY'
import json, shutil, sys
for line in open(sys.argv[1]):
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m.get("executable") and m["target"]["name"] in ("parity", "properties"):
        shutil.copy(m["executable"], f"{sys.argv[2]}/{m['target']['name']}")
PY
cp "$target/release/adamp" "$target/release/examples/bench_optim" "$stage/"
strip "$stage/adamp" "$stage/bench_optim" "$stage/parity" "$stage/properties"
echo "$root" >"$stage/source_root"
git describe --always --dirty --abbrev=7 >"$stage/commit"
tar -C "$stage" -cf - adamp bench_optim parity properties source_root commit | xz -9e -T2 >"$out"
ls -l "$out"
