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

// Prefix or prompt tensors that fine-tuning saved beside the weights (adapter.safetensors), put
// back into MODEL; nothing when the folder has none. Bad names or shapes fail naming the tensor.
void attachSavedAdapters(model::Transformer& model, const std::filesystem::path& modelDir);

// `tokenizerPath` empty: the tokenizer in the model folder (and saved adapters attached).
ModelAndTokenizer loadModelAndTokenizer(const std::filesystem::path& modelDir,
                                        const std::filesystem::path& tokenizerPath);

}  // namespace frugal::eval
