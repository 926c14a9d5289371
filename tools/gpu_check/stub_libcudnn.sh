#!/usr/bin/env bash
# A stub libcudnn.so for `--features cuda` builds on a machine without cuDNN (README "GPU builds").
# The models crate's `cuda` feature turns on `candle-core/cudnn`, so cudarc links `-lcudnn`; this
# writes every cuDNN entry point that cudarc declares (`fn cudnn...(` in its src/cudnn/sys/mod.rs)
# as an empty function, with the soname `libcudnn.so.9` of the library PyTorch's
# `nvidia-cudnn-cu13` wheel ships, so the link succeeds. At run time the real libcudnn.so.9 comes
# from that wheel (`site-packages/nvidia/cudnn/lib` on LD_LIBRARY_PATH, as tools/gpu_check/run.sh
# sets it); never put the stub's folder on LD_LIBRARY_PATH of a GPU run. Needs cudarc's sources in
# the cargo registry (any `cargo fetch` of the workspace brings them).
#
#   tools/gpu_check/stub_libcudnn.sh CUDA_ROOT/lib64
set -euo pipefail
dir=${1:?usage: stub_libcudnn.sh LIBDIR}
version=$(awk '/^name = "cudarc"/ {getline; gsub(/[^0-9.]/, ""); print}' "$(dirname "$0")/../../Cargo.lock")
src=$(ls -d "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/cudarc-"$version" | head -1)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
grep -oE '^ *fn cudnn[A-Za-z0-9_]+\(' "$src/src/cudnn/sys/mod.rs" | sed -E 's/ *fn //; s/\(//' | sort -u |
    awk '{print "void " $1 "(void) {}"}' >"$work/stub.c"
mkdir -p "$dir"
gcc -shared -fPIC -Wl,-soname,libcudnn.so.9 -o "$dir/libcudnn.so" "$work/stub.c"
ln -sf libcudnn.so "$dir/libcudnn.so.9"
echo "$dir/libcudnn.so: $(wc -l <"$work/stub.c") entry points of cudarc $version"
