#pragma once
// The adapter files that fine-tuning writes beside a model's weights, and the one place that
// reads them back: adapter.safetensors (prefix or prompt tensors, tensor-train adapter tensors
// with their frozen initial cores) and, for tensor-train adapters, adapter_config.json (their
// activation, scaling and forward). No Hugging Face architecture has these tensors, so they are
// not in model.safetensors.

#include <filesystem>
#include <string>

#include "model/transformer.h"
#include "peft/param_set.h"
#include "peft/peft_options.h"

namespace frugal::peft {

// Writes the adapter files of PARAMS (trained on MODEL with OPTIONS) to DIR; trained norms are
// base weights and go with the model. Returns what was written in words, "" when the target has
// no adapter tensors (full, bitfit, norms, head, lora).
std::string saveAdapters(const model::Transformer& model, const ParamSet& params,
                         const PeftOptions& options, const std::filesystem::path& dir);

// The adapter files in MODELDIR put back into MODEL; nothing when the folder has none. Bad names
// or shapes fail naming the file and the tensor.
void attachSavedAdapters(model::Transformer& model, const std::filesystem::path& modelDir);

}  // namespace frugal::peft
