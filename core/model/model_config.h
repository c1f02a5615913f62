#pragma once
// ModelConfig: the architecture of a decoder-only checkpoint, read from a Hugging Face
// config.json. A plain value type; safe to copy between threads.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace frugal::model {

enum class Family { Llama, Opt, Gpt2 };

std::string familyName(Family family);

struct ModelConfig {
    std::string
        modelType;  // config.json "model_type" as written ("llama", "mistral", "opt", "gpt2")
    Family family = Family::Llama;

    int64_t vocabSize = 0;
    int64_t hiddenSize = 0;
    int64_t intermediateSize = 0;
    int64_t numLayers = 0;
    int64_t numHeads = 0;
    int64_t numKvHeads = 0;
    int64_t headDim = 0;
    int64_t maxPositions = 0;
    bool tieWordEmbeddings = false;

    // LLaMA family
    double ropeTheta = 10000.0;
    double rmsNormEps = 1e-6;
    bool attentionBias = false;
    std::optional<int64_t> slidingWindow;  // Mistral; longer sequences are refused

    // OPT / GPT-2
    double layerNormEps = 1e-5;
    bool doLayerNormBefore = true;  // OPT-350m has false: post-LN blocks, no final norm
    int64_t wordEmbedProjDim = 0;   // OPT: embedding width; != hiddenSize adds project_in/out
    std::string activation;         // "silu", "relu", "gelu_new", "gelu"

    std::string torchDtype;  // "float32", "bfloat16", "float16" or empty

    std::optional<int64_t> bosTokenId;
    std::optional<int64_t> eosTokenId;
    std::optional<int64_t> padTokenId;

    // Parses config.json text; `source` names the file in error messages.
    static ModelConfig fromJson(std::string_view jsonText, const std::string& source);
    static ModelConfig fromFile(const std::filesystem::path& path);
    // Writes the config back in Hugging Face form (the keys its family uses).
    std::string toJson() const;

    static std::vector<std::string> supportedModelTypes();
};

}  // namespace frugal::model
