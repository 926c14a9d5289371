#!/usr/bin/env bash
# A CUDA 13.0 root for `--features cuda` builds made from PyPI wheels, for machines without a CUDA
# toolkit (README "GPU builds", steps 1-2): downloads the pinned wheels into CACHE/wheels (once;
# pip reuses what is there), unpacks them into CACHE/site, links CACHE/root/{bin,include,nvvm} to
# them and CACHE/root/lib64 to their libraries (with unversioned names for the linker), adds the
# stub libcuda.so and libcudnn.so (stub_libs.sh); the real ones come from the driver and PyTorch's wheels at run time. Writes
# CACHE/env.sh, to be sourced before building (PATH, CUDA_ROOT, CUDA_COMPUTE_CAP, LIBRARY_PATH).
#
#   tools/gpu_check/cuda_root.sh CACHE [COMPUTE_CAP]
#
# COMPUTE_CAP (e.g. 90 for H100/H200, 80 for A100) defaults to the first GPU's (nvidia-smi), else
# 90. Needs Python with pip (PYTHON, default python3), gcc, and cudarc's sources in the cargo
# registry (`cargo fetch`).
set -euo pipefail
cache=$(realpath -m "${1:?usage: cuda_root.sh CACHE [COMPUTE_CAP]}")
here=$(cd "$(dirname "$0")" && pwd)
py=${PYTHON:-python3}
cap=${2:-}
if [ -z "$cap" ]; then
    cap=$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader 2>/dev/null | head -1 | tr -d ' .' || true)
    cap=${cap:-90}
fi
# The versions of README "GPU builds" step 1: CUDA 13.0, whose PTX the project's GPU drivers load.
wheels=(nvidia-cuda-nvcc==13.0.88 nvidia-nvvm==13.0.88 nvidia-cuda-crt==13.0.88
    nvidia-cuda-runtime==13.0.96 nvidia-cuda-cccl==13.0.85 nvidia-cuda-nvrtc==13.0.88
    nvidia-curand==10.4.0.35 nvidia-cublas==13.0.2.14)

mkdir -p "$cache/wheels"
if [ ! -e "$cache/site/.complete" ]; then
    "$py" -m pip download --quiet --no-deps --only-binary=:all: -d "$cache/wheels" "${wheels[@]}"
    rm -rf "$cache/site"
    mkdir -p "$cache/site"
    for w in "$cache"/wheels/*.whl; do
        "$py" -m zipfile -e "$w" "$cache/site"
    done
    touch "$cache/site/.complete"
fi
cu=$cache/site/nvidia/cu13
# Python's zipfile drops the executable bits.
find "$cu/bin" "$cu/nvvm/bin" -maxdepth 1 -type f ! -name '*.profile' -exec chmod +x {} +
root=$cache/root
mkdir -p "$root/lib64"
for d in bin include nvvm; do
    ln -sfn "$cu/$d" "$root/$d"
done
for lib in "$cu"/lib/lib*.so.*; do
    name=$(basename "$lib")
    ln -sf "$lib" "$root/lib64/$name"
    ln -sf "$lib" "$root/lib64/${name%%.so.*}.so"
done
bash "$here/stub_libs.sh" "$root/lib64"
cat >"$cache/env.sh" <<EOF
# CUDA 13.0 from PyPI wheels + stub libcuda (tools/gpu_check/cuda_root.sh). Source me before a
# \`--features cuda\` build; never put $root/lib64 on LD_LIBRARY_PATH of a GPU run.
export CUDA_ROOT=$root
export PATH=$root/bin:\$PATH
export CUDA_COMPUTE_CAP=$cap
export LIBRARY_PATH=$root/lib64\${LIBRARY_PATH:+:\$LIBRARY_PATH}
EOF
"$root/bin/nvcc" --version | tail -2
echo "CUDA root $root (compute capability $cap); source $cache/env.sh to build"
