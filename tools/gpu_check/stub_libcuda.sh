#!/usr/bin/env bash
# A stub libcuda.so for CUDA builds on a machine without the NVIDIA driver (README "GPU builds"):
# every driver entry point that cudarc (the crate Candle's CUDA backend uses) declares, as an
# empty function, so the link succeeds; the real driver replaces it at run time. Needs cudarc's
# sources in the cargo registry (any `cargo fetch` of the workspace brings them).
#
#   tools/gpu_check/stub_libcuda.sh CUDA_ROOT/lib64
set -euo pipefail
dir=${1:?usage: stub_libcuda.sh LIBDIR}
version=$(awk '/^name = "cudarc"/ {getline; gsub(/[^0-9.]/, ""); print}' "$(dirname "$0")/../../Cargo.lock")
src=$(ls -d "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/cudarc-"$version" | head -1)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
grep -oE '^ *fn cu[A-Za-z0-9_]+\(' "$src/src/driver/sys/mod.rs" | sed -E 's/ *fn //; s/\(//' | sort -u |
    awk '{print "void " $1 "(void) {}"}' >"$work/stub.c"
mkdir -p "$dir"
gcc -shared -fPIC -Wl,-soname,libcuda.so.1 -o "$dir/libcuda.so" "$work/stub.c"
ln -sf libcuda.so "$dir/libcuda.so.1"
echo "$dir/libcuda.so: $(wc -l <"$work/stub.c") entry points of cudarc $version"
