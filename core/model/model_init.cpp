#include "model/model_init.h"

#include <nlohmann/json.hpp>

#include "common/error.h"
#include "model/model_config.h"
#include "model/transformer.h"

namespace frugal::model {

int64_t writeRandomModel(const RandomModelOptions& o, const std::filesystem::path& dir) {
    nlohmann::json j;
    const int64_t kv = o.kvHeads > 0 ? o.kvHeads : o.heads;
    j["model_type"] = o.modelType;
    j["vocab_size"] = o.vocab;
    j["tie_word_embeddings"] = o.tied;
    if (o.modelType == "gpt2") {
        j["n_embd"] = o.hidden;
        j["n_layer"] = o.layers;
        j["n_head"] = o.heads;
        j["n_positions"] = o.maxPositions;
        j["n_inner"] = o.intermediate > 0 ? o.intermediate : 4 * o.hidden;
    } else if (o.modelType == "opt") {
        j["hidden_size"] = o.hidden;
        j["num_hidden_layers"] = o.layers;
        j["num_attention_heads"] = o.heads;
        j["max_position_embeddings"] = o.maxPositions;
        j["ffn_dim"] = o.intermediate > 0 ? o.intermediate : 4 * o.hidden;
    } else {
        j["hidden_size"] = o.hidden;
        j["num_hidden_layers"] = o.layers;
        j["num_attention_heads"] = o.heads;
        j["num_key_value_heads"] = kv;
        j["max_position_embeddings"] = o.maxPositions;
        // LLaMA's SwiGLU width: 2/3 of 4H, rounded up to a multiple of 32
        j["intermediate_size"] =
            o.intermediate > 0 ? o.intermediate : (8 * o.hidden / 3 + 31) / 32 * 32;
    }
    const ModelConfig config = o.like.empty() ? ModelConfig::fromJson(j.dump(), "init-model options")
                                              : ModelConfig::fromFile(o.like);
    // drawn in fp32 tensor by tensor and held in the written dtype (a 7 B model in bf16 is never
    // materialised in fp32); the values are the fp32 draws rounded as the writer would round them
    const DType dtype = parseDType(o.dtype, "init-model --dtype");
    LoadOptions held;
    held.computeType = toScalarType(dtype);
    const Transformer model = Transformer::random(config, o.seed, o.stddev, held);
    model.save(dir, dtype, o.maxShardBytes);
    return model.parameterCount();
}

}  // namespace frugal::model
