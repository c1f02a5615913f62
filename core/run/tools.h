#pragma once
// The command line's tools that are not stored runs: inspecting a model, its logits, tokenizing,
// the forward / ZO / tensor-train benchmarks, counting a target's trainable parameters, writing a
// random checkpoint, training a tokenizer. Each takes its options as a JSON object (the flags
// given, with the CLI's defaults) and returns its result as the JSON object that `--json`
// prints; the CLI writes its text from the same object. No torch in this header.

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace frugal::run {

using Json = nlohmann::json;

// Family, sizes, parameter counts by dtype, files and every tensor of a model folder or the
// built-in model's name.
Json inspectModel(const std::string& model);
// The logits at the last position of each sequence of token ids, [V] each; the model loads once.
std::vector<std::vector<float>> lastPositionLogits(const std::string& model,
                                                   const std::vector<std::vector<int64_t>>& sequences,
                                                   const std::string& device);
// A GGUF file's version, metadata (long arrays shortened) and tensors with their ggml types.
Json inspectGguf(const std::string& file);
// FILE.gguf -> OUT/{config.json, model.safetensors, tokenizer.json}; DTYPE fp32 or bf16.
// Returns {architecture, tensors, parameters, tensors_by_type, vocabulary, seconds}.
Json convertGguf(const std::string& file, const std::string& out, const std::string& dtype);
std::vector<int32_t> tokenize(const std::string& tokenizerPath, const std::string& text, bool special);
// The same for many texts; the tokenizer loads once.
std::vector<std::vector<int32_t>> tokenizeMany(const std::string& tokenizerPath,
                                               const std::vector<std::string>& texts, bool special);

// {model, batch, seq, iters, seed, device} -> tokens/s, load time, peak RSS ...
Json benchForward(const Json& options);
// {model, batch, seq, steps, method, direction, target, seed} -> step/forward ms, peak RSS ...
Json benchZo(const Json& options);
// Both tensor-train forwards over a fixed set of shapes and row counts, ITERS repetitions each.
Json benchTt(int iters);

// {model_config | model, peft, rank, bottleneck, alpha, modules, prefix_tokens, prompt_tokens,
// train_norms, tt_head} -> the trainable count of that target, from config.json alone (plus
// model_type, layers, hidden and adapter for the text form).
Json countParams(const Json& options);

// {type, layers, hidden, heads, kv_heads, vocab, intermediate, max_positions, tied, seed, dtype,
// std, shard_mib} -> writes DIR; returns the parameter count.
int64_t writeRandomModel(const Json& options, const std::string& dir);

// {vocab, min_frequency}: a byte-level BPE trained on FILES, written to OUT; returns vocab_size,
// merges, words, unique_words.
Json trainTokenizer(const std::vector<std::string>& files, const Json& options, const std::string& out);

}  // namespace frugal::run

namespace frugal::run {

// What `frugal landscape RUN` slices: a landscape config (TOML) around a stored run's weights.
// {method, params (the run's flattened config), artifacts ([{kind, path}]), run_id, step (-1:
// the end), artifact_root, dims, points} -> {config, model, note}. A zeroth-order run is rebuilt
// from its trajectory into ARTIFACT_ROOT/replay-<id>-step-<n> (kept: the landscape run's config
// names it); with STEP ≥ 1 the weights before step STEP, sliced along that step's direction z. A
// run that saved its model (save = true) is sliced around it.
Json landscapeOfRun(const Json& request);

}  // namespace frugal::run
