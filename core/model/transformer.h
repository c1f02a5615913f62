#pragma once
// Transformer: the decoder-only language model of every supported family (LLaMA/Mistral, OPT,
// GPT-2), driven by the family table. It owns its weights (fp32 on CPU by default); forward is
// const and may run on one thread at a time per instance. Weight names are the Hugging Face names
// of the canonical layout, so saving writes a checkpoint that Hugging Face loads.
//
// Dimensions: B batch, T tokens, H hidden, V vocabulary, nh query heads, nkv key/value heads,
// d head size, I MLP width.

#include <torch/types.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "model/family_table.h"
#include "model/model_config.h"
#include "model/safetensors.h"

namespace frugal::model {

// A function that parameter-efficient fine-tuning adds around a linear layer (peft/ owns the
// implementations: tensor-train bottleneck adapters and updates). Its tensors are its own; apply()
// must be const and may be called from one thread at a time.
class LinearAdapter {
public:
    virtual ~LinearAdapter() = default;
    virtual torch::Tensor apply(const torch::Tensor& x) const = 0;
};

// y = x W^T + b with W [out, in] (GPT-2's Conv1D weights are transposed to this on load).
struct Linear {
    std::string name;  // HF name of the weight, e.g. "model.layers.0.mlp.up_proj.weight"
    torch::Tensor weight;
    torch::Tensor bias;  // undefined when the layer has none
    // LoRA (Hu et al. 2021): y += scale * (x A^T) B^T with A [r, in], B [out, r]; undefined when
    // the layer has no adapter.
    torch::Tensor loraA, loraB;
    double loraScale = 0;
    // [out, in] bool, defined for LoRA on a pruned model (peft.lora_keep_zeros): the update
    // scale * B A counts only where the mask is true, in the forward and at merge, so weights
    // that are zero stay +0.0.
    torch::Tensor loraMask;
    // Tensor-train adapters (LoRETTA): x -> before(x) ahead of the layer, y += update(x) beside
    // it, y -> after(y) behind it; null when absent.
    std::shared_ptr<const LinearAdapter> before, update, after;
    bool defined() const { return weight.defined(); }
};

struct Norm {
    torch::Tensor weight;
    torch::Tensor bias;  // LayerNorm only
};

struct Block {
    Norm attnNorm, mlpNorm;
    Linear q, k, v, qkv, o;          // qkv is used instead of q, k, v when the family fuses them
    Linear gate, up, down;           // gate only in gated (SwiGLU) MLPs
    // Prefix tuning (Li & Liang 2021, as MeZO trains it): P extra key and value vectors
    // [P, nkv*d] that every query attends to, keys taken as already rotated (positions 0..P-1;
    // the real tokens then start at position P, as after Hugging Face's past_key_values);
    // undefined when absent. Every layer has one or none does.
    torch::Tensor prefixKey, prefixValue;
    std::vector<Linear*> linears();  // in forward order
};

// The weights a checkpoint holds for a model of CONFIG, matched against the config before any
// tensor is read: each weight's name in the files (after the checkpoint's own prefix) and its
// shape, every weight present and no unexpected tensor. Throws naming the first mismatch.
struct CheckpointMatch {
    std::string filePrefix;               // the prefix the files use before the decoder's names
    std::vector<std::string> fileNames;   // per weightLayout(config) slot, in that order
    int64_t tensorsChecked = 0;           // names and shapes compared
    int64_t tensorsIgnored = 0;           // buffers and a tied head's copy, accepted unread
};
CheckpointMatch matchCheckpoint(const ModelConfig& config, const SafetensorsArchive& archive);

struct LoadOptions {
    torch::Device device = torch::kCPU;
    torch::ScalarType computeType = torch::kFloat32;
    // The decoder blocks' weights left out: each a tensor of its shape and dtype on the meta
    // device (no memory), for a model::BlockStore to bring in one block at a time. The
    // embeddings, final norm and head are read as usual.
    bool streamBlocks = false;

    // "cpu", "cuda" or "cuda:N"; refuses CUDA when this LibTorch build has none.
    static LoadOptions forDevice(const std::string& device);
};

// Per-batch attention inputs shared by all blocks: positions and the additive mask.
struct AttentionContext {
    torch::Tensor positions;  // [B,T] int64
    torch::Tensor maskBias;   // [B,1,T,T] 0 where allowed, -inf elsewhere
    torch::Tensor cos, sin;   // [B,1,T,d] rotary tables (rotary families only)
};

// Called with each linear layer's input during forward, e.g. to collect pruning statistics.
using LinearInputObserver = std::function<void(const Linear&, const torch::Tensor& input)>;

class Transformer {
public:
    // Reads config.json and the safetensors weights of a Hugging Face folder, validating names,
    // shapes and completeness against the config.
    static Transformer load(const std::filesystem::path& dir, const LoadOptions& options = {});
    // Builds from an open archive (weights read, converted and released one tensor at a time).
    static Transformer fromArchive(const ModelConfig& config, const SafetensorsArchive& archive,
                                   const LoadOptions& options = {});
    // A randomly initialised model (normal(0, std), norms at one), seeded.
    static Transformer random(const ModelConfig& config, uint64_t seed, double stddev = 0.02,
                              const LoadOptions& options = {});

    const ModelConfig& config() const { return m_config; }
    const FamilySpec& spec() const { return *m_spec; }
    torch::Device device() const { return m_device; }

    // ids [B,T] int64, mask [B,T] (1 = token, 0 = padding; undefined = all ones) -> logits [B,T,V].
    // Positions count real tokens only (cumsum of the mask, as Hugging Face's generate() and OPT
    // do), so left- and right-padded rows give each sequence's own logits; padded positions
    // attend only to themselves and their outputs are meaningless.
    torch::Tensor forward(const torch::Tensor& ids, const torch::Tensor& mask = {}) const;

    // The same forward in pieces, for block-by-block algorithms (pruning).
    AttentionContext context(const torch::Tensor& ids, const torch::Tensor& mask) const;
    torch::Tensor embed(const torch::Tensor& ids, const AttentionContext& ctx) const;  // [B,T,H]
    torch::Tensor forwardBlock(int64_t layer, const torch::Tensor& hidden,
                               const AttentionContext& ctx) const;
    // The last block's output, soft-prompt positions included: [B,P+T,H].
    torch::Tensor hidden(const torch::Tensor& ids, const torch::Tensor& mask) const;
    torch::Tensor head(const torch::Tensor& hidden) const;  // [B,T,H] -> [B,T,V]
    // The head at K (sequence, position) pairs of the real tokens of HIDDEN, the last block's
    // output: forwardAt() is headAt(hidden(ids, mask), rows, positions).
    torch::Tensor headAt(const torch::Tensor& hidden, const torch::Tensor& rows, const torch::Tensor& positions) const;
    // The logits at K (sequence, position) pairs of the real tokens only ([K] each): [K, V]. The
    // same as forward().index({rows, positions}) without the logits of the other positions (the
    // head is the largest matrix product of a small model, and its [B,T,V] output the largest
    // tensor of a forward).
    torch::Tensor forwardAt(const torch::Tensor& ids, const torch::Tensor& mask, const torch::Tensor& rows,
                            const torch::Tensor& positions) const;

    int64_t numLayers() const { return static_cast<int64_t>(m_blocks.size()); }
    // Block LAYER's weights (norms, projections, biases; not the adapters peft adds) under their
    // canonical names, as parameters() names them, each slot writable: a block store puts a
    // block's weights in (and meta placeholders back) through it.
    void forEachBlockWeight(int64_t layer, const std::function<void(const std::string& name, torch::Tensor& slot)>& visit);
    // Whether the blocks were left out at load (LoadOptions::streamBlocks).
    bool streamed() const { return m_streamed; }
    Block& block(int64_t layer) { return m_blocks.at(static_cast<size_t>(layer)); }
    const Block& block(int64_t layer) const { return m_blocks.at(static_cast<size_t>(layer)); }

    void setLinearInputObserver(LinearInputObserver observer) { m_observer = std::move(observer); }

    // Prompt tuning (Lester et al. 2021): P soft input embeddings [P, E] placed before every
    // sequence; forward() still returns the logits of the real tokens only. Undefined: none.
    // [B, P, E]: one prompt per sequence of a batch of B (a population of prompts in one forward).
    const torch::Tensor& softPrompt() const { return m_softPrompt; }
    const torch::Tensor& tokenEmbedding() const { return m_embed; }  // [V, E]
    void setSoftPrompt(torch::Tensor prompt);
    // A function on the final hidden states ahead of the LM head (a tensorised head); null: none.
    void setHeadAdapter(std::shared_ptr<const LinearAdapter> adapter) {
        m_headAdapter = std::move(adapter);
    }
    const std::shared_ptr<const LinearAdapter>& headAdapter() const { return m_headAdapter; }
    // Each layer's keys (after rotary) and values [B, nkv, T, d] for IDS, e.g. to initialise
    // prefixes from real activations.
    std::vector<std::pair<torch::Tensor, torch::Tensor>> keyValues(const torch::Tensor& ids) const;
    // Folds every LoRA update into its weight (W += scale * B A) and removes the adapters.
    void mergeLora();
    // The same for block LAYER alone; KEEPADAPTERS: the adapters stay (a streamed model merges into
    // the copy of a block read for saving, which is never written back).
    void mergeLoraOf(int64_t layer, bool keepAdapters);

    // Every weight under its canonical HF name, in a fixed order; tensors are shared, not copied
    // (a tied head appears once, as the embedding). GPT-2 weights are given in [out, in] form.
    NamedTensors parameters() const;
    int64_t parameterCount() const;
    // Writes config.json and safetensors (sharded above maxShardBytes) in HF layout.
    void save(const std::filesystem::path& dir, DType dtype,
              uint64_t maxShardBytes = 4ull << 30) const;
    // The same for a streamed model: BRINGIN(layer) is called before the first weight of each
    // block is taken (it fetches the block: model/block_store.h), one shard's tensors held at a
    // time; the same files as save() of the same weights.
    void saveStreamed(const std::filesystem::path& dir, DType dtype, const std::function<void(int64_t)>& bringIn,
                      uint64_t maxShardBytes = 4ull << 30);

private:
    // An empty model of `config`'s shape on `device`; the factories fill its weights, then call
    // finishSetup().
    Transformer(const ModelConfig& config, torch::Device device);
    void finishSetup();
    torch::Tensor linear(const Linear& layer, const torch::Tensor& x) const;
    torch::Tensor norm(const Norm& n, const torch::Tensor& x) const;
    torch::Tensor attention(const Block& b, const torch::Tensor& x,
                            const AttentionContext& ctx) const;
    torch::Tensor mlp(const Block& b, const torch::Tensor& x) const;
    // Visits every weight slot with its role and layer (-1 for model-level slots).
    void forEachSlot(const std::function<void(Role, int64_t, torch::Tensor&)>& visit);
    bool hasRole(Role role) const;
    std::vector<int64_t> expectedShape(Role role) const;

    ModelConfig m_config;
    const FamilySpec* m_spec = nullptr;
    torch::Device m_device = torch::kCPU;
    torch::Tensor m_embed, m_posEmbed, m_lmHead;
    Linear m_projectIn, m_projectOut;
    Norm m_finalNorm;
    std::vector<Block> m_blocks;
    torch::Tensor m_invFreq;  // [d/2] rotary frequencies
    LinearInputObserver m_observer;
    torch::Tensor m_softPrompt;
    bool m_streamed = false;
    std::shared_ptr<const LinearAdapter> m_headAdapter;
    mutable std::vector<std::pair<torch::Tensor, torch::Tensor>>* m_capture = nullptr;
};

}  // namespace frugal::model
