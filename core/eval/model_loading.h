#pragma once
// The model of a Hugging Face folder together with its tokenizer, checked to fit each other;
// shared by the evaluation commands. Private to core/eval.

#include <filesystem>

#include "model/tokenizer.h"
#include "model/transformer.h"

namespace frugal::eval {

struct ModelAndTokenizer {
    model::Tokenizer tokenizer;
    model::Transformer model;
};

// `tokenizerPath` empty: the tokenizer in the model folder. Saved adapters (peft/adapter_io.h)
// are attached. WEIGHTS: the dtype the weights are held and computed in (model.dtype). DEVICE:
// "cpu", "cuda" or "cuda:N" (model/device.h); a CUDA device that is not there is bad input.
// STREAMBLOCKS: the decoder blocks left out for a model::BlockStore (LoadOptions::streamBlocks).
ModelAndTokenizer loadModelAndTokenizer(const std::filesystem::path& modelDir,
                                        const std::filesystem::path& tokenizerPath,
                                        torch::ScalarType weights = torch::kFloat32,
                                        const std::string& device = "cpu", bool streamBlocks = false);

// "fp32", "bf16" or "fp16" (a config's dtype key) as a torch dtype; KEY names it in the message.
torch::ScalarType weightDtype(const std::string& name, const std::string& key);

}  // namespace frugal::eval
