#!/usr/bin/env bash
# Build the CUDA-featured binaries here and pack them for a GPU machine that has the NVIDIA driver
# and PyTorch's CUDA wheels but no Rust: the `adamp` CLI, the optimizer parity and property test
# binaries, the models' `cuda_parity` test binary, `bench_optim` and the GPU training benchmark `bench_train_gpu`. Needs the CUDA build setup of the README's "GPU
# builds" section (PATH with nvcc, CUDA_ROOT, CUDA_COMPUTE_CAP, and the stub libcuda.so on
# LIBRARY_PATH; tools/gpu_check/cuda_root.sh makes it).
#
#   tools/gpu_check/pack.sh OUT.tar.xz    (xz -9e: for copying to another machine)
#   tools/gpu_check/pack.sh OUT.tar       (uncompressed: for this machine, as gpu_check.sh does)
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
# The GPU training benchmark (ResNet-18 224 px / ResNet-20 32 px on CUDA, against PyTorch on the
# same GPU).
cargo build --release -p adamp-models --features cuda --example bench_train_gpu
cargo test --release -p adamp-optim --features cuda,candle-nn --no-run --message-format=json \
    --test parity --test properties >"$stage/build.json"
# The models' GPU parity test (cuDNN convolution, BatchNorm/add kernels against the CPU layers).
cargo test --release -p adamp-models --features cuda --no-run --message-format=json \
    --test cuda_parity >>"$stage/build.json"
tests=(parity properties cuda_parity)
python3 - "$stage/build.json" "$stage" "${tests[@]}" <<'PY'
import json, shutil, sys
for line in open(sys.argv[1]):
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m.get("executable") and m["target"]["name"] in sys.argv[3:]:
        shutil.copy(m["executable"], f"{sys.argv[2]}/{m['target']['name']}")
PY
bins=(adamp bench_optim bench_train_gpu "${tests[@]}")
cp "$target/release/adamp" "$target/release/examples/bench_optim" "$target/release/examples/bench_train_gpu" "$stage/"
for b in "${bins[@]}"; do
    [ -x "$stage/$b" ] || { echo "pack.sh: $b was not built" >&2; exit 1; }
    strip "$stage/$b"
done
echo "$root" >"$stage/source_root"
git describe --always --dirty --abbrev=7 >"$stage/commit"
echo "${CUDA_COMPUTE_CAP:-?}" >"$stage/compute_cap"
case "$out" in
*.tar) tar -C "$stage" -cf "$out" "${bins[@]}" source_root commit compute_cap ;;
*) tar -C "$stage" -cf - "${bins[@]}" source_root commit compute_cap | xz -9e -T2 >"$out" ;;
esac
ls -l "$out"
