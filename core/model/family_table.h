#pragma once
// The family table: for each model family, the Hugging Face tensor names of every weight role and
// the architecture choices (norm, activation, positions, MLP form). Adding a family adds rows
// here and a test; the transformer code reads the table instead of branching on the family.
// Adding a family: docs/ARCHITECTURE.md, "How to add", "A model family".

#include <string>
#include <vector>

#include "model/model_config.h"

namespace frugal::model {

enum class Role {
    Embed,
    PosEmbed,
    ProjectIn,
    ProjectOut,
    FinalNorm,
    FinalNormBias,
    LmHead,
    AttnNorm,
    AttnNormBias,
    Q,
    QBias,
    K,
    KBias,
    V,
    VBias,
    QKV,
    QKVBias,
    O,
    OBias,
    MlpNorm,
    MlpNormBias,
    Gate,
    Up,
    UpBias,
    Down,
    DownBias,
};

enum class NormKind { Rms, Layer };
enum class PositionKind { Rotary, Learned };

struct TensorRow {
    Role role;
    const char* name;  // "{i}" stands for the layer index
    bool perLayer;
};

struct FamilySpec {
    Family family;
    const char* prefix;                      // canonical prefix of every tensor name
    std::vector<const char*> otherPrefixes;  // other prefixes seen in published checkpoints
    NormKind norm;
    PositionKind positions;
    int64_t positionOffset;        // OPT's learned positions start at index 2
    bool gatedMlp;                 // down(act(gate(x)) * up(x)) instead of down(act(up(x)))
    bool fusedQkv;                 // one [3H, H] projection (GPT-2 c_attn)
    bool conv1dLayout;             // weights stored [in, out] (GPT-2 Conv1D)
    bool attentionBiasFromConfig;  // LLaMA: attention biases only if attention_bias
    std::vector<TensorRow> rows;   // names without the prefix
    std::vector<const char*> ignoredSuffixes;  // buffers some checkpoints carry (not weights)
};

const FamilySpec& familySpec(Family family);

// Whether a model of CONFIG has a tensor of ROLE (tied heads, optional biases, ...), and its
// shape, [out, in] for linear weights. From the config alone: nothing is allocated.
bool roleExists(const ModelConfig& config, const FamilySpec& spec, Role role);
std::vector<int64_t> roleShape(const ModelConfig& config, const FamilySpec& spec, Role role);

struct WeightSlot {
    Role role;
    int64_t layer;  // -1 for model-level tensors
    std::string name;
    std::vector<int64_t> shape;
};
// Every weight of a model of CONFIG, in the order Transformer::parameters() gives them.
std::vector<WeightSlot> weightLayout(const ModelConfig& config);

// "model.layers.{i}.mlp.up_proj.weight" with layer 3 -> "model.layers.3.mlp.up_proj.weight"
std::string expandName(const FamilySpec& spec, const char* rowName, int64_t layer);

}  // namespace frugal::model
