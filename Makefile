# ethp2p — the two commands a new user needs are `make run` and `make test`.
# Everything else (bench, fuzz, asan) is here for developers.

MAKEFLAGS += --no-print-directory
JOBS        ?= $(shell nproc 2>/dev/null || echo 2)
BUILD       ?= build
ASAN_BUILD  ?= build-asan
FUZZ_BUILD  ?= build-fuzz
FUZZ_SECONDS ?= 10
DATADIR     ?= $(HOME)/.ethp2p
NAT         ?= any
PORT        ?= 30303
WERROR      ?= $(if $(CI),ON,ON)

.PHONY: all deps build asan run test test-plain test-asan bench fuzz fuzz-build clean

all: build

deps:
	@bash scripts/install-deps.sh

build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DETHP2P_WERROR=$(WERROR) >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

asan: deps
	@cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DETHP2P_SANITIZE=ON -DETHP2P_BENCH=OFF -DETHP2P_WERROR=$(WERROR) >/dev/null
	@cmake --build $(ASAN_BUILD) -j $(JOBS)

# Starts a node: data directory under $HOME, NAT mechanism `any`.
run: build
	@if ./$(BUILD)/ethp2p node --help >/dev/null 2>&1; then \
	  exec ./$(BUILD)/ethp2p node --datadir $(DATADIR) --nat $(NAT) --port $(PORT); \
	else ./$(BUILD)/ethp2p --help; fi

test-plain: build
	@JOBS=$(JOBS) bash scripts/run-tests.sh $(BUILD)

test-asan: asan
	@ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  JOBS=$(JOBS) bash scripts/run-tests.sh $(ASAN_BUILD)

# Both suites, one closing line.
test: build asan
	@ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  JOBS=$(JOBS) bash scripts/run-tests.sh $(BUILD) $(ASAN_BUILD)

# C benchmarks, then the real-router lab benchmark (root + namespaces only; it says SKIP otherwise).
bench: build
	@for b in $(BUILD)/bench_*; do [ -x "$$b" ] && "$$b" || exit 1; done
	@bash bench/nat_lab_bench.sh $(BUILD)/ethp2p

fuzz-build: deps
	@CC=clang cmake -S . -B $(FUZZ_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DETHP2P_FUZZ=ON -DETHP2P_TESTS=OFF -DETHP2P_BENCH=OFF >/dev/null
	@cmake --build $(FUZZ_BUILD) -j $(JOBS)

# Runs every fuzz target for FUZZ_SECONDS on a copy of its seed corpus; any crash, leak
# or sanitizer report fails the run.
fuzz: fuzz-build
	@bash scripts/run-fuzz.sh $(FUZZ_BUILD) $(FUZZ_SECONDS)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD)
