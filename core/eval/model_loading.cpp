#include "eval/model_loading.h"

#include "common/error.h"
#include "peft/adapter_io.h"

namespace frugal::eval {

ModelAndTokenizer loadModelAndTokenizer(const std::filesystem::path& modelDir,
                                        const std::filesystem::path& tokenizerPath) {
    model::Tokenizer tokenizer =
        model::Tokenizer::load(tokenizerPath.empty() ? modelDir : tokenizerPath);
    model::Transformer model = model::Transformer::load(modelDir);
    peft::attachSavedAdapters(model, modelDir);
    if (tokenizer.vocabSize() > model.config().vocabSize)
        fail("tokenizer has ", tokenizer.vocabSize(), " tokens but the model's vocab_size is ",
             model.config().vocabSize, "; wrong --tokenizer for this model?");
    return {std::move(tokenizer), std::move(model)};
}

}  // namespace frugal::eval
