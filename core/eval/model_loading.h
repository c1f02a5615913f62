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
// are attached.
ModelAndTokenizer loadModelAndTokenizer(const std::filesystem::path& modelDir,
                                        const std::filesystem::path& tokenizerPath);

}  // namespace frugal::eval
