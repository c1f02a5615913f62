#pragma once
// Writes a randomly initialised checkpoint in Hugging Face layout: for tests, benchmarks and
// smoke runs without downloaded weights. No torch in this header.

#include <cstdint>
#include <filesystem>
#include <string>

namespace frugal::model {

struct RandomModelOptions {
    std::string modelType = "llama";  // llama, mistral, opt or gpt2
    int64_t layers = 2;
    int64_t hidden = 64;
    int64_t heads = 4;
    int64_t kvHeads = 0;       // 0: same as heads
    int64_t intermediate = 0;  // 0: the family's usual width
    int64_t vocab = 128;
    int64_t maxPositions = 512;
    bool tied = false;
    uint64_t seed = 0;
    double stddev = 0.02;
    std::string dtype = "F32";            // F32, F16 or BF16
    uint64_t maxShardBytes = 4ull << 30;  // shards above this size
    // A Hugging Face config.json whose shape is used instead of the options above (type, layers,
    // hidden, heads, ...): a random model of a published model's shape, e.g. LLaMA-2-7B's.
    std::filesystem::path like;
};

// Returns the parameter count.
int64_t writeRandomModel(const RandomModelOptions& options, const std::filesystem::path& dir);

}  // namespace frugal::model
