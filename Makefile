# The two commands of the README: `make run` and `make test`. Each installs what is missing
# (Debian packages, npm data), configures, builds (Release, -j2) and runs.

JOBS ?= 2
BIN := build/release/bin/frugal
DEMO := build/demo-model
FUZZ_SECONDS ?= 300

.PHONY: all deps data configure build run pretrain test test-all test-asan fuzz bench clean

all: build

deps:
	@scripts/install-deps

data:
	@scripts/fetch-data

configure: deps
	@cmake --preset release >/dev/null

build: configure
	cmake --build --preset release -j $(JOBS)

# Until the desktop workbench lands: the built-in model (resources/models/frugal-tiny, pre-trained
# by experiments/pretrain-tiny.toml) inspected, benchmarked and evaluated on the held-out text and
# the built-in tasks; the README's table lists the same figures.
run: build data
	$(BIN) inspect frugal-tiny | head -8
	$(BIN) bench forward --model frugal-tiny --batch 4 --seq 256 --iters 3
	$(BIN) --quiet eval ppl --text resources/data/text/moby-dick.txt --seq-len 256 --batch 8
	$(BIN) --quiet eval task --task sentiment
	$(BIN) --quiet eval task --task spam

# The built-in model's recipe, from scratch (about 40 minutes on 2 cores); rewrites
# resources/models/frugal-tiny/.
pretrain: build
	@scripts/fetch-data --corpus
	$(BIN) pretrain experiments/pretrain-tiny.toml

test: build data
	ctest --test-dir build/release -L unit --output-on-failure -j $(JOBS) --timeout 900

test-asan: deps data
	@cmake --preset asan >/dev/null
	cmake --build --preset asan -j $(JOBS)
	ctest --test-dir build/asan -L unit --output-on-failure -j $(JOBS) --timeout 1800

# libFuzzer targets (clang): each runs FUZZ_SECONDS on its seed corpus.
fuzz: deps
	@cmake --preset fuzz >/dev/null
	cmake --build --preset fuzz -j $(JOBS) --target fuzz_safetensors fuzz_tokenizer_json
	mkdir -p build/fuzz/corpus/safetensors build/fuzz/corpus/tokenizer_json
	build/fuzz/bin/fuzz_safetensors -max_total_time=$(FUZZ_SECONDS) -max_len=4096 \
	    -artifact_prefix=build/fuzz/ \
	    build/fuzz/corpus/safetensors tests/fuzz/corpus/safetensors
	build/fuzz/bin/fuzz_tokenizer_json -max_total_time=$(FUZZ_SECONDS) -max_len=8192 \
	    -artifact_prefix=build/fuzz/ -dict=tests/fuzz/tokenizer_json.dict \
	    build/fuzz/corpus/tokenizer_json tests/fuzz/corpus/tokenizer_json

clean:
	rm -rf build
