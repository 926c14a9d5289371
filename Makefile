# adamp-rs: the two commands a newcomer runs are `make reproduce-all` and `make test`.
CARGO ?= cargo
PROFILE ?= embedded

.PHONY: all build test reproduce-all quick bench bench-optim lint fmt clean

all: build

build:
	$(CARGO) build --release --workspace

## The tests. Everything runs in release mode (training in debug is ~20x slower).
test:
	$(CARGO) test --workspace --release

## The main job: every task on the embedded default, then the report.
reproduce-all: build
	$(CARGO) run --release -p adamp-harness --bin adamp -- reproduce --profile $(PROFILE)

## A few-minute run of everything, for a first look.
quick:
	$(MAKE) reproduce-all PROFILE=quick

## Optimizer step benchmark: ms/step, ratios, bandwidth floor; writes results/bench/optim.csv.
bench-optim:
	$(CARGO) run --release -p adamp-optim --example bench_optim

bench: bench-optim

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --release --all-targets -- -D warnings

fmt:
	$(CARGO) fmt --all

clean:
	$(CARGO) clean
