# SPDX-License-Identifier: Apache-2.0
# Ward's two set-up commands: `make run` and `make test`. Everything else is
# for developers and CI. Build trees live in build/<preset>.

SHELL := /bin/bash
PRESET ?= release
BUILD := build/$(PRESET)
WARD := $(BUILD)/cmd/ward/ward
export WARD_VECTORS ?= $(abspath ../shared/vectors)

.PHONY: all deps configure build test run asan fuzz fuzz-smoke bench-attest clean format help

all: build

help:
	@echo "make run         set up, build and run Ward's main job on the embedded default"
	@echo "make test        set up, build and run the whole test suite (CTest summary)"
	@echo "make asan        build + test with ASan and UBSan"
	@echo "make fuzz-smoke  build the libFuzzer targets and run each briefly (FUZZ_SECONDS=30)"
	@echo "make deps        install the Debian packages (idempotent)"

deps:
	@scripts/install-deps.sh

configure: deps
	@cmake --preset $(PRESET) >/dev/null

build: configure
	@cmake --build --preset $(PRESET)

test: build
	@ctest --preset $(PRESET)

run: build
	@scripts/run-demo.sh $(WARD)

asan:
	@$(MAKE) --no-print-directory test PRESET=asan

fuzz-smoke: deps
	@scripts/fuzz-smoke.sh $${FUZZ_SECONDS:-30}

clean:
	rm -rf build

format:
	@git ls-files '*.c' '*.h' | xargs clang-format -i
