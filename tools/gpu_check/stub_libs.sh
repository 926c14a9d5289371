#!/usr/bin/env bash
# Link-only stubs for `--features cuda` builds on a machine without the NVIDIA driver or cuDNN
# (README "GPU builds"): every entry point that cudarc (the crate Candle's CUDA backend uses)
# declares, each an empty function, so the link succeeds.
# - libcuda.so (soname libcuda.so.1): the driver API (`fn cu...(` in src/driver/sys/mod.rs); the
#   real driver replaces it at run time.
# - libcudnn.so (soname libcudnn.so.9, as PyTorch's `nvidia-cudnn-cu13` wheel ships it): cuDNN
#   (`fn cudnn...(` in src/cudnn/sys/mod.rs), which the models crate's `cuda` feature links through
#   `candle-core/cudnn`; at run time the real one comes from that wheel
#   (`site-packages/nvidia/cudnn/lib` on LD_LIBRARY_PATH, as tools/gpu_check/run.sh sets it).
# Never put the stubs' folder on LD_LIBRARY_PATH of a GPU run. Needs cudarc's sources in the cargo
# registry (any `cargo fetch` of the workspace brings them).
#
#   tools/gpu_check/stub_libs.sh CUDA_ROOT/lib64
set -euo pipefail
dir=${1:?usage: stub_libs.sh LIBDIR}
version=$(awk '/^name = "cudarc"/ {getline; gsub(/[^0-9.]/, ""); print}' "$(dirname "$0")/../../Cargo.lock")
src=$(ls -d "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/cudarc-"$version" | head -1)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$dir"

# stub NAME SONAME PREFIX SYS_MODULE
stub() {
    grep -oE "^ *fn $3[A-Za-z0-9_]+\(" "$src/src/$4/sys/mod.rs" | sed -E 's/ *fn //; s/\(//' | sort -u |
        awk '{print "void " $1 "(void) {}"}' >"$work/$1.c"
    gcc -shared -fPIC -Wl,-soname,"$2" -o "$dir/$1.so" "$work/$1.c"
    ln -sf "$1.so" "$dir/$2"
    echo "$dir/$1.so: $(wc -l <"$work/$1.c") entry points of cudarc $version"
}
stub libcuda libcuda.so.1 cu driver
stub libcudnn libcudnn.so.9 cudnn cudnn
