#include "model/family_table.h"

#include "common/error.h"

namespace frugal::model {
namespace {

const FamilySpec kLlama{
    Family::Llama,
    "model.",
    {},
    NormKind::Rms,
    PositionKind::Rotary,
    0,
    /*gatedMlp=*/true,
    /*fusedQkv=*/false,
    /*conv1dLayout=*/false,
    /*attentionBiasFromConfig=*/true,
    {
        {Role::Embed, "embed_tokens.weight", false},
        {Role::FinalNorm, "norm.weight", false},
        {Role::LmHead, "lm_head.weight", false},
        {Role::AttnNorm, "layers.{i}.input_layernorm.weight", true},
        {Role::Q, "layers.{i}.self_attn.q_proj.weight", true},
        {Role::QBias, "layers.{i}.self_attn.q_proj.bias", true},
        {Role::K, "layers.{i}.self_attn.k_proj.weight", true},
        {Role::KBias, "layers.{i}.self_attn.k_proj.bias", true},
        {Role::V, "layers.{i}.self_attn.v_proj.weight", true},
        {Role::VBias, "layers.{i}.self_attn.v_proj.bias", true},
        {Role::O, "layers.{i}.self_attn.o_proj.weight", true},
        {Role::OBias, "layers.{i}.self_attn.o_proj.bias", true},
        {Role::MlpNorm, "layers.{i}.post_attention_layernorm.weight", true},
        {Role::Gate, "layers.{i}.mlp.gate_proj.weight", true},
        {Role::Up, "layers.{i}.mlp.up_proj.weight", true},
        {Role::Down, "layers.{i}.mlp.down_proj.weight", true},
    },
    {"rotary_emb.inv_freq"},
};

const FamilySpec kOpt{
    Family::Opt,
    "model.decoder.",
    {"decoder."},
    NormKind::Layer,
    PositionKind::Learned,
    2,
    /*gatedMlp=*/false,
    /*fusedQkv=*/false,
    /*conv1dLayout=*/false,
    /*attentionBiasFromConfig=*/false,
    {
        {Role::Embed, "embed_tokens.weight", false},
        {Role::PosEmbed, "embed_positions.weight", false},
        {Role::ProjectIn, "project_in.weight", false},
        {Role::ProjectOut, "project_out.weight", false},
        {Role::FinalNorm, "final_layer_norm.weight", false},
        {Role::FinalNormBias, "final_layer_norm.bias", false},
        {Role::LmHead, "lm_head.weight", false},
        {Role::AttnNorm, "layers.{i}.self_attn_layer_norm.weight", true},
        {Role::AttnNormBias, "layers.{i}.self_attn_layer_norm.bias", true},
        {Role::Q, "layers.{i}.self_attn.q_proj.weight", true},
        {Role::QBias, "layers.{i}.self_attn.q_proj.bias", true},
        {Role::K, "layers.{i}.self_attn.k_proj.weight", true},
        {Role::KBias, "layers.{i}.self_attn.k_proj.bias", true},
        {Role::V, "layers.{i}.self_attn.v_proj.weight", true},
        {Role::VBias, "layers.{i}.self_attn.v_proj.bias", true},
        {Role::O, "layers.{i}.self_attn.out_proj.weight", true},
        {Role::OBias, "layers.{i}.self_attn.out_proj.bias", true},
        {Role::MlpNorm, "layers.{i}.final_layer_norm.weight", true},
        {Role::MlpNormBias, "layers.{i}.final_layer_norm.bias", true},
        {Role::Up, "layers.{i}.fc1.weight", true},
        {Role::UpBias, "layers.{i}.fc1.bias", true},
        {Role::Down, "layers.{i}.fc2.weight", true},
        {Role::DownBias, "layers.{i}.fc2.bias", true},
    },
    {},
};

const FamilySpec kGpt2{
    Family::Gpt2,
    "transformer.",
    {""},
    NormKind::Layer,
    PositionKind::Learned,
    0,
    /*gatedMlp=*/false,
    /*fusedQkv=*/true,
    /*conv1dLayout=*/true,
    /*attentionBiasFromConfig=*/false,
    {
        {Role::Embed, "wte.weight", false},
        {Role::PosEmbed, "wpe.weight", false},
        {Role::FinalNorm, "ln_f.weight", false},
        {Role::FinalNormBias, "ln_f.bias", false},
        {Role::LmHead, "lm_head.weight", false},
        {Role::AttnNorm, "h.{i}.ln_1.weight", true},
        {Role::AttnNormBias, "h.{i}.ln_1.bias", true},
        {Role::QKV, "h.{i}.attn.c_attn.weight", true},
        {Role::QKVBias, "h.{i}.attn.c_attn.bias", true},
        {Role::O, "h.{i}.attn.c_proj.weight", true},
        {Role::OBias, "h.{i}.attn.c_proj.bias", true},
        {Role::MlpNorm, "h.{i}.ln_2.weight", true},
        {Role::MlpNormBias, "h.{i}.ln_2.bias", true},
        {Role::Up, "h.{i}.mlp.c_fc.weight", true},
        {Role::UpBias, "h.{i}.mlp.c_fc.bias", true},
        {Role::Down, "h.{i}.mlp.c_proj.weight", true},
        {Role::DownBias, "h.{i}.mlp.c_proj.bias", true},
    },
    {".attn.bias", ".attn.masked_bias"},
};

}  // namespace

const FamilySpec& familySpec(Family family) {
    switch (family) {
        case Family::Llama: return kLlama;
        case Family::Opt: return kOpt;
        case Family::Gpt2: return kGpt2;
    }
    fail("unknown model family");
}

std::string expandName(const FamilySpec& spec, const char* rowName, int64_t layer) {
    std::string name = rowName;
    const auto at = name.find("{i}");
    if (at != std::string::npos) name.replace(at, 3, std::to_string(layer));
    // lm_head sits outside the decoder in every family
    if (name.rfind("lm_head.", 0) == 0) return name;
    return spec.prefix + name;
}

bool roleExists(const ModelConfig& c, const FamilySpec& spec, Role role) {
    switch (role) {
        case Role::LmHead: return !c.tieWordEmbeddings;
        case Role::ProjectIn:
        case Role::ProjectOut: return c.wordEmbedProjDim != 0 && c.wordEmbedProjDim != c.hiddenSize;
        case Role::FinalNorm:
        case Role::FinalNormBias: return c.doLayerNormBefore;
        case Role::QBias:
        case Role::KBias:
        case Role::VBias:
        case Role::OBias: return !spec.attentionBiasFromConfig || c.attentionBias;
        default: return true;
    }
}

std::vector<int64_t> roleShape(const ModelConfig& c, const FamilySpec& spec, Role role) {
    const int64_t h = c.hiddenSize, v = c.vocabSize, i = c.intermediateSize;
    const int64_t e = c.wordEmbedProjDim ? c.wordEmbedProjDim : h;
    const int64_t qd = c.numHeads * c.headDim, kvd = c.numKvHeads * c.headDim;
    switch (role) {
        case Role::Embed: return {v, e};
        case Role::PosEmbed: return {c.maxPositions + spec.positionOffset, h};
        case Role::ProjectIn: return {h, e};
        case Role::ProjectOut: return {e, h};
        case Role::LmHead: return {v, e};
        case Role::FinalNorm:
        case Role::FinalNormBias:
        case Role::AttnNorm:
        case Role::AttnNormBias:
        case Role::MlpNorm:
        case Role::MlpNormBias: return {h};
        case Role::Q: return {qd, h};
        case Role::QBias: return {qd};
        case Role::K:
        case Role::V: return {kvd, h};
        case Role::KBias:
        case Role::VBias: return {kvd};
        case Role::QKV: return {qd + 2 * kvd, h};
        case Role::QKVBias: return {qd + 2 * kvd};
        case Role::O: return {h, qd};
        case Role::OBias: return {h};
        case Role::Gate:
        case Role::Up: return {i, h};
        case Role::UpBias: return {i};
        case Role::Down: return {h, i};
        case Role::DownBias: return {h};
    }
    return {};
}

std::vector<WeightSlot> weightLayout(const ModelConfig& config) {
    const FamilySpec& spec = familySpec(config.family);
    std::vector<WeightSlot> out;
    for (const TensorRow& row : spec.rows)
        if (!row.perLayer && roleExists(config, spec, row.role))
            out.push_back({row.role, -1, expandName(spec, row.name, -1),
                           roleShape(config, spec, row.role)});
    for (int64_t layer = 0; layer < config.numLayers; ++layer)
        for (const TensorRow& row : spec.rows)
            if (row.perLayer && roleExists(config, spec, row.role))
                out.push_back({row.role, layer, expandName(spec, row.name, layer),
                               roleShape(config, spec, row.role)});
    return out;
}

}  // namespace frugal::model
