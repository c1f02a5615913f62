#include "eval/model_loading.h"

#include "common/error.h"
#include "model/gguf.h"
#include "peft/adapter_io.h"

namespace frugal::eval {

torch::ScalarType weightDtype(const std::string& name, const std::string& key) {
    if (name == "fp32") return torch::kFloat32;
    if (name == "bf16") return torch::kBFloat16;
    if (name == "fp16") return torch::kHalf;
    fail(key, " is '", name, "', expected fp32, bf16 or fp16");
}

ModelAndTokenizer loadModelAndTokenizer(const std::filesystem::path& modelDir,
                                        const std::filesystem::path& tokenizerPath,
                                        torch::ScalarType weights, const std::string& device, bool streamBlocks) {
    model::LoadOptions options = model::LoadOptions::forDevice(device);
    options.streamBlocks = streamBlocks;
    model::Tokenizer tokenizer =
        model::Tokenizer::load(tokenizerPath.empty() ? modelDir : tokenizerPath);
    options.computeType = weights;
    if (weights == torch::kHalf && options.device.is_cpu())
        failInput("dtype = \"fp16\": this LibTorch has no fp16 matrix products on the CPU; use \"bf16\" "
                  "(as fast here, with fp32's range) or \"fp32\"");
    model::Transformer model = model::Transformer::load(modelDir, options);
    peft::attachSavedAdapters(model, model::gguf::modelFolderFor(modelDir));
    if (tokenizer.vocabSize() > model.config().vocabSize)
        fail("tokenizer has ", tokenizer.vocabSize(), " tokens but the model's vocab_size is ",
             model.config().vocabSize, "; wrong --tokenizer for this model?");
    return {std::move(tokenizer), std::move(model)};
}

}  // namespace frugal::eval
