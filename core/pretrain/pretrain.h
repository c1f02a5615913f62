#pragma once
// Pre-training a LLaMA-architecture language model from scratch with AdamW (autograd): the recipe
// of the built-in model (experiments/pretrain-tiny.toml). One call does the whole recipe: train a
// byte-level BPE on the corpus (or load a given tokenizer), tokenize the sources, hold out the
// tail of each, train on windows drawn from the weighted mix, evaluate, save a Hugging Face
// folder (config.json, model.safetensors, tokenizer.json) with training.json and
// training_log.csv. Deterministic: the same config, seed and thread counts give the same
// weights. Runs on the calling thread; no torch in this header.

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "common/events.h"

namespace frugal::pretrain {

struct CorpusSource {
    std::string name;
    std::filesystem::path path;
    double weight = 1.0;  // share of training windows (normalised over sources)
};

struct PretrainConfig {
    std::filesystem::path file;  // the TOML it was read from
    std::string text;            // its contents, stored with the model

    // [output]
    std::filesystem::path outDir;
    std::string dtype = "F32";
    // [tokenizer]
    std::filesystem::path tokenizerPath;  // empty: train one on the sources
    int64_t vocabSize = 4096;
    int64_t minFrequency = 2;
    // [model]
    int64_t hidden = 256;
    int64_t layers = 4;
    int64_t heads = 8;
    int64_t kvHeads = 8;
    int64_t intermediate = 0;  // 0: LLaMA's 8H/3 rounded up to a multiple of 32
    int64_t maxPositions = 256;
    double ropeTheta = 10000.0;
    bool tied = true;
    double initStd = 0.02;
    // [data]
    std::vector<CorpusSource> sources;
    double holdoutFraction = 0.01;  // the tail of each source, never trained on
    std::filesystem::path evalText;  // held-out perplexity text (e.g. Moby Dick)
    // [train]
    uint64_t seed = 1;
    int64_t steps = 1000;
    int64_t batchSize = 16;
    int64_t seqLen = 256;
    double lr = 1e-3;
    double minLr = 1e-4;
    int64_t warmupSteps = 100;
    double weightDecay = 0.1;
    double beta1 = 0.9;
    double beta2 = 0.95;
    double adamEps = 1e-8;
    double gradClip = 1.0;
    int64_t logEvery = 10;
    int64_t evalEvery = 200;
    int64_t evalWindows = 16;  // held-out windows per source
    int64_t checkpointEvery = 0;  // steps; 0: no checkpoints (a multiple of logEvery)

    std::string resolvedText;    // the config after overrides, as TOML

    // Read in pretrain/pretrain_method.cpp. Unknown keys are refused with the nearest valid name; wrong types and out-of-range values
    // name the key path ("train.lr"). OVERRIDES: "train.lr=1e-3" or, when the key name is unique,
    // "lr=1e-3"; the value is read as TOML (a bare word as a string).
    static PretrainConfig fromToml(const std::filesystem::path& file,
                                   const std::vector<std::string>& overrides = {});
    static PretrainConfig fromTomlText(const std::string& text, const std::string& sourceName,
                                       const std::vector<std::string>& overrides = {});
};

struct PretrainResult {
    int64_t parameters = 0;
    int64_t tokensSeen = 0;
    int64_t steps = 0;
    double trainSeconds = 0;       // the optimisation loop
    double totalSeconds = 0;       // tokenizer + tokenization + training + evaluation + save
    double finalTrainLoss = 0;     // mean over the last logEvery steps
    double heldOutLoss = 0;        // mean over the sources' held-out windows
    double evalPerplexity = 0;     // on evalText, windows of maxPositions tokens
    std::string evalProtocol;
    int64_t vocabSize = 0;
    int64_t corpusTokens = 0;
};

// Reports every step's metrics (train/loss, train/lr, train/grad_norm, train/tokens_per_s,
// held_out/<source>, held_out/mean, eval/perplexity) and one log line per event to SINK.
// Checkpoints (every config.checkpointEvery steps) go to SINK's artifact folder, checkpoint/latest:
// weights, AdamW state, the sampler's RNG state, step, and the log so far; metrics are flushed
// first. RESUME continues from it: the same metrics, bit for bit, as the run without the
// interruption (same thread counts). A stop request ends the run with Cancelled, before anything
// is saved.
PretrainResult pretrain(const PretrainConfig& config, EventSink& sink, const StopToken& stop,
                        bool resume = false);

}  // namespace frugal::pretrain
