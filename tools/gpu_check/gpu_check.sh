#!/usr/bin/env bash
# The GPU check in one command (`make gpu-check`), for a machine with an NVIDIA GPU, its driver
# and PyTorch's CUDA wheels; no CUDA toolkit needed. From the repository's root:
#
#   tools/gpu_check/gpu_check.sh               with cargo: build here, then run
#   tools/gpu_check/gpu_check.sh ARCHIVE       without: run what pack.sh built elsewhere
#
# Build (with cargo, excluded from the run's 5 minutes): CUDA 13.0's nvcc and libraries from PyPI
# wheels in a cache folder (cuda_root.sh: ADAMP_CUDA_CACHE, default ~/.cache/adamp-rs/cuda13.0),
# the compute capability of this GPU, then pack.sh into GPU_CHECK_TARGET_DIR (default
# target/cuda, so that CPU builds in target/ stay valid). Run: run.sh, which prints ours against
# PyTorch on this GPU and the issue's targets, in under 5 minutes.
#
# Without a GPU it says so and stops (exit 3) before building; GPU_CHECK_BUILD_ONLY=1 builds
# and packs anyway (to copy the archive to a GPU machine without Rust; CUDA_COMPUTE_CAP=80, 90, ...
# names that machine's GPU, default this one's or 90). PyTorch comes from
# ADAMP_TORCH_PYTHON (default python3).
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
py=${ADAMP_TORCH_PYTHON:-python3}
build_only=${GPU_CHECK_BUILD_ONLY:-0}

if [ "$build_only" != 1 ] && ! nvidia-smi -L 2>/dev/null | grep -q '^GPU '; then
    echo "no GPU: \`nvidia-smi -L\` lists none on this machine (NVIDIA driver missing or no device)."
    echo "The GPU check needs one; GPU_CHECK_BUILD_ONLY=1 $0 builds the archive for another machine."
    exit 3
fi

if [ $# -ge 1 ]; then
    archive=$(realpath "$1")
elif command -v cargo >/dev/null 2>&1; then
    cache=${ADAMP_CUDA_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/adamp-rs/cuda13.0}
    echo "== build: CUDA 13.0 from PyPI wheels in $cache"
    # The compute capability: CUDA_COMPUTE_CAP when set (a build for another machine), else this GPU's.
    PYTHON=$py bash tools/gpu_check/cuda_root.sh "$cache" "${CUDA_COMPUTE_CAP:-}"
    # shellcheck source=/dev/null
    source "$cache/env.sh"
    export CARGO_TARGET_DIR=${GPU_CHECK_TARGET_DIR:-$root/target/cuda}
    archive=$CARGO_TARGET_DIR/gpu-check.tar
    echo "== build: --features cuda into $CARGO_TARGET_DIR (the first build takes 20+ minutes on 2 cores)"
    bash tools/gpu_check/pack.sh "$archive"
else
    echo "no cargo here: build the binaries on a machine with Rust (\`GPU_CHECK_BUILD_ONLY=1 $0\`, or"
    echo "tools/gpu_check/pack.sh gpu.tar.xz with README \"GPU builds\"), copy the archive here and run"
    echo "$0 gpu.tar.xz"
    exit 2
fi

if [ "$build_only" = 1 ]; then
    echo "built $archive; on the GPU machine: tools/gpu_check/gpu_check.sh ARCHIVE"
    exit 0
fi
exec bash tools/gpu_check/run.sh "$archive"
