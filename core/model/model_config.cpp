#include "model/model_config.h"

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "common/error.h"

namespace frugal::model {
namespace {

using json = nlohmann::json;

// Far above any published model, and low enough that products of two sizes cannot overflow.
constexpr int64_t kMaxDimension = int64_t{1} << 24;

// Reads the config keys with one clear message per wrong or missing key.
class Reader {
public:
    Reader(const json& root, std::string source) : m_root(root), m_source(std::move(source)) {}

    bool has(const char* key) const { return m_root.contains(key) && !m_root[key].is_null(); }
    bool present(const char* key) const { return m_root.contains(key); }

    int64_t positiveInt(const char* key) const {
        if (!has(key)) fail(m_source, ": missing key '", key, "' (a positive integer)");
        const json& v = m_root[key];
        if (!v.is_number_integer() || v.get<int64_t>() <= 0)
            fail(m_source, ": key '", key, "' must be a positive integer, got ", v.dump());
        if (v.get<int64_t>() > kMaxDimension)
            fail(m_source, ": key '", key, "' = ", v.get<int64_t>(),
                 " is implausibly large (at most ", kMaxDimension, ")");
        return v.get<int64_t>();
    }
    int64_t positiveInt(const char* key, int64_t fallback) const {
        return has(key) ? positiveInt(key) : fallback;
    }
    std::optional<int64_t> optionalId(const char* key) const {
        if (!has(key)) return std::nullopt;
        const json& v = m_root[key];
        if (v.is_array()) {  // some configs list several eos ids; the first one is the default
            if (v.empty() || !v[0].is_number_integer())
                fail(m_source, ": key '", key, "' must be an integer or a list of integers");
            return v[0].get<int64_t>();
        }
        if (!v.is_number_integer())
            fail(m_source, ": key '", key, "' must be an integer, got ", v.dump());
        return v.get<int64_t>();
    }
    double positiveNumber(const char* key, double fallback) const {
        if (!has(key)) return fallback;
        const json& v = m_root[key];
        if (!v.is_number() || v.get<double>() <= 0)
            fail(m_source, ": key '", key, "' must be a positive number, got ", v.dump());
        return v.get<double>();
    }
    bool boolean(const char* key, bool fallback) const {
        if (!has(key)) return fallback;
        const json& v = m_root[key];
        if (!v.is_boolean())
            fail(m_source, ": key '", key, "' must be true or false, got ", v.dump());
        return v.get<bool>();
    }
    std::string string(const char* key, const std::string& fallback) const {
        if (!has(key)) return fallback;
        const json& v = m_root[key];
        if (!v.is_string()) fail(m_source, ": key '", key, "' must be a string, got ", v.dump());
        return v.get<std::string>();
    }
    const std::string& source() const { return m_source; }

private:
    const json& m_root;
    std::string m_source;
};

struct TypeEntry {
    const char* modelType;
    Family family;
};
constexpr TypeEntry kModelTypes[] = {
    {"llama", Family::Llama},
    {"mistral", Family::Llama},
    {"opt", Family::Opt},
    {"gpt2", Family::Gpt2},
};

void readLlama(const Reader& r, ModelConfig& c) {
    c.vocabSize = r.positiveInt("vocab_size");
    c.hiddenSize = r.positiveInt("hidden_size");
    c.intermediateSize = r.positiveInt("intermediate_size");
    c.numLayers = r.positiveInt("num_hidden_layers");
    c.numHeads = r.positiveInt("num_attention_heads");
    c.numKvHeads = r.positiveInt("num_key_value_heads", c.numHeads);
    if (c.hiddenSize % c.numHeads != 0 && !r.has("head_dim"))
        fail(r.source(), ": hidden_size ", c.hiddenSize,
             " is not divisible by num_attention_heads ", c.numHeads);
    c.headDim = r.positiveInt("head_dim", c.hiddenSize / c.numHeads);
    if (c.headDim % 2 != 0)
        fail(r.source(), ": head_dim ", c.headDim, " must be even for rotary position embeddings");
    c.maxPositions = r.positiveInt("max_position_embeddings", 2048);
    c.ropeTheta = r.positiveNumber("rope_theta", 10000.0);
    c.rmsNormEps = r.positiveNumber("rms_norm_eps", 1e-6);
    c.tieWordEmbeddings = r.boolean("tie_word_embeddings", false);
    c.attentionBias = r.boolean("attention_bias", false);
    if (r.has("sliding_window")) {
        c.slidingWindow = r.positiveInt("sliding_window");
    } else if (c.modelType == "mistral" && !r.present("sliding_window")) {
        c.slidingWindow = 4096;  // MistralConfig's default when the key is absent (null: none)
    }
    c.activation = r.string("hidden_act", "silu");
    if (c.activation != "silu")
        fail(r.source(), ": hidden_act '", c.activation, "' is not supported for ", c.modelType,
             " (expected \"silu\")");
    if (r.has("rope_scaling"))
        fail(r.source(),
             ": rope_scaling is set; scaled rotary embeddings are not supported yet "
             "(remove the key to use plain RoPE)");
}

void readOpt(const Reader& r, ModelConfig& c) {
    c.vocabSize = r.positiveInt("vocab_size");
    c.hiddenSize = r.positiveInt("hidden_size");
    c.intermediateSize = r.positiveInt("ffn_dim");
    c.numLayers = r.positiveInt("num_hidden_layers");
    c.numHeads = r.positiveInt("num_attention_heads");
    c.numKvHeads = c.numHeads;
    if (c.hiddenSize % c.numHeads != 0)
        fail(r.source(), ": hidden_size ", c.hiddenSize,
             " is not divisible by num_attention_heads ", c.numHeads);
    c.headDim = c.hiddenSize / c.numHeads;
    c.maxPositions = r.positiveInt("max_position_embeddings");
    c.doLayerNormBefore = r.boolean("do_layer_norm_before", true);
    c.wordEmbedProjDim = r.positiveInt("word_embed_proj_dim", c.hiddenSize);
    c.tieWordEmbeddings = r.boolean("tie_word_embeddings", true);
    c.layerNormEps = 1e-5;
    c.activation = r.string("activation_function", "relu");
    if (c.activation != "relu" && c.activation != "gelu")
        fail(r.source(), ": activation_function '", c.activation,
             "' is not supported for opt (expected \"relu\" or \"gelu\")");
    if (!r.boolean("enable_bias", true))
        fail(r.source(), ": enable_bias false is not supported for opt");
    if (r.boolean("_remove_final_layer_norm", false))
        fail(r.source(), ": _remove_final_layer_norm true is not supported for opt");
}

void readGpt2(const Reader& r, ModelConfig& c) {
    c.vocabSize = r.positiveInt("vocab_size");
    c.hiddenSize = r.positiveInt("n_embd");
    c.numLayers = r.positiveInt("n_layer");
    c.numHeads = r.positiveInt("n_head");
    c.numKvHeads = c.numHeads;
    if (c.hiddenSize % c.numHeads != 0)
        fail(r.source(), ": n_embd ", c.hiddenSize, " is not divisible by n_head ", c.numHeads);
    c.headDim = c.hiddenSize / c.numHeads;
    c.intermediateSize = r.positiveInt("n_inner", 4 * c.hiddenSize);
    c.maxPositions = r.positiveInt("n_positions");
    c.layerNormEps = r.positiveNumber("layer_norm_epsilon", 1e-5);
    c.tieWordEmbeddings = r.boolean("tie_word_embeddings", true);
    c.activation = r.string("activation_function", "gelu_new");
    if (c.activation != "gelu_new" && c.activation != "gelu")
        fail(r.source(), ": activation_function '", c.activation,
             "' is not supported for gpt2 (expected \"gelu_new\" or \"gelu\")");
    if (r.boolean("scale_attn_by_inverse_layer_idx", false) ||
        r.boolean("reorder_and_upcast_attn", false) || !r.boolean("scale_attn_weights", true))
        fail(r.source(), ": non-default gpt2 attention scaling flags are not supported");
}

}  // namespace

std::string familyName(Family family) {
    switch (family) {
        case Family::Llama: return "llama";
        case Family::Opt: return "opt";
        case Family::Gpt2: return "gpt2";
    }
    return "unknown";
}

std::vector<std::string> ModelConfig::supportedModelTypes() {
    std::vector<std::string> names;
    for (const auto& entry : kModelTypes) names.emplace_back(entry.modelType);
    return names;
}

ModelConfig ModelConfig::fromJson(std::string_view jsonText, const std::string& source) {
    json root;
    try {
        root = json::parse(jsonText.begin(), jsonText.end());
    } catch (const json::exception& e) {
        fail(source, ": not valid JSON (", e.what(), ")");
    }
    if (!root.is_object()) fail(source, ": expected a JSON object at the top level");
    Reader r(root, source);

    ModelConfig c;
    c.modelType = r.string("model_type", "");
    if (c.modelType.empty()) fail(source, ": missing key 'model_type'");
    const TypeEntry* entry = nullptr;
    for (const auto& e : kModelTypes)
        if (c.modelType == e.modelType) entry = &e;
    if (!entry) {
        std::string list;
        for (const auto& name : supportedModelTypes()) list += (list.empty() ? "" : ", ") + name;
        fail(source, ": model_type '", c.modelType, "' is not supported; supported: ", list);
    }
    c.family = entry->family;
    switch (c.family) {
        case Family::Llama: readLlama(r, c); break;
        case Family::Opt: readOpt(r, c); break;
        case Family::Gpt2: readGpt2(r, c); break;
    }
    if (c.numLayers > 4096)
        fail(source, ": ", c.numLayers, " layers is implausibly many (at most 4096)");
    if (c.numHeads % c.numKvHeads != 0)
        fail(source, ": num_attention_heads ", c.numHeads,
             " is not a multiple of num_key_value_heads ", c.numKvHeads);
    c.torchDtype = r.string("torch_dtype", "");
    c.bosTokenId = r.optionalId("bos_token_id");
    c.eosTokenId = r.optionalId("eos_token_id");
    c.padTokenId = r.optionalId("pad_token_id");
    return c;
}

ModelConfig ModelConfig::fromFile(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) fail(path.string(), ": cannot open (expected a Hugging Face config.json)");
    std::stringstream buffer;
    buffer << in.rdbuf();
    return fromJson(buffer.str(), path.string());
}

std::string ModelConfig::toJson() const {
    json j;
    j["model_type"] = modelType;
    j["vocab_size"] = vocabSize;
    j["tie_word_embeddings"] = tieWordEmbeddings;
    if (!torchDtype.empty()) j["torch_dtype"] = torchDtype;
    if (bosTokenId) j["bos_token_id"] = *bosTokenId;
    if (eosTokenId) j["eos_token_id"] = *eosTokenId;
    if (padTokenId) j["pad_token_id"] = *padTokenId;
    switch (family) {
        case Family::Llama:
            j["architectures"] = {modelType == "mistral" ? "MistralForCausalLM"
                                                         : "LlamaForCausalLM"};
            j["hidden_size"] = hiddenSize;
            j["intermediate_size"] = intermediateSize;
            j["num_hidden_layers"] = numLayers;
            j["num_attention_heads"] = numHeads;
            j["num_key_value_heads"] = numKvHeads;
            if (headDim * numHeads != hiddenSize) j["head_dim"] = headDim;
            j["max_position_embeddings"] = maxPositions;
            j["rope_theta"] = ropeTheta;
            j["rms_norm_eps"] = rmsNormEps;
            j["hidden_act"] = activation;
            j["attention_bias"] = attentionBias;
            if (slidingWindow) j["sliding_window"] = *slidingWindow;
            break;
        case Family::Opt:
            j["architectures"] = {"OPTForCausalLM"};
            j["hidden_size"] = hiddenSize;
            j["ffn_dim"] = intermediateSize;
            j["num_hidden_layers"] = numLayers;
            j["num_attention_heads"] = numHeads;
            j["max_position_embeddings"] = maxPositions;
            j["do_layer_norm_before"] = doLayerNormBefore;
            j["word_embed_proj_dim"] = wordEmbedProjDim;
            j["activation_function"] = activation;
            break;
        case Family::Gpt2:
            j["architectures"] = {"GPT2LMHeadModel"};
            j["n_embd"] = hiddenSize;
            j["n_inner"] = intermediateSize;
            j["n_layer"] = numLayers;
            j["n_head"] = numHeads;
            j["n_positions"] = maxPositions;
            j["layer_norm_epsilon"] = layerNormEps;
            j["activation_function"] = activation;
            break;
    }
    return j.dump(2) + "\n";
}

}  // namespace frugal::model
