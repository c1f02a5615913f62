#include "model/transformer.h"

#include "model/device.h"

#include <cmath>
#include <fstream>
#include <limits>
#include <set>

#include "common/error.h"
#include "common/format.h"
#include "model/gguf.h"

namespace frugal::model {
namespace {

bool isConv1dWeight(Role role) {
    return role == Role::QKV || role == Role::O || role == Role::Up || role == Role::Down;
}

bool isNormWeight(Role role) {
    return role == Role::AttnNorm || role == Role::MlpNorm || role == Role::FinalNorm;
}

// [.., d] -> [.., d] with the halves swapped and the new first half negated (HF rotate_half).
torch::Tensor rotateHalf(const torch::Tensor& x) {
    const int64_t half = x.size(-1) / 2;
    return torch::cat({-x.narrow(-1, half, half), x.narrow(-1, 0, half)}, /*dim=*/-1);
}

const char* rowNameOf(const FamilySpec& spec, Role role) {
    for (const TensorRow& row : spec.rows)
        if (row.role == role) return row.name;
    fail("family table of ", familyName(spec.family), " has no row for a requested role");
}

torch::Tensor rotaryFrequencies(const ModelConfig& config, torch::Device device) {
    const int64_t d = config.headDim;
    torch::Tensor exponents = torch::arange(0, d, 2, torch::kFloat32) / static_cast<double>(d);
    return (1.0 / torch::pow(config.ropeTheta, exponents)).to(torch::kFloat32).to(device);  // [d/2]
}

// DIR (made) with config.json of CONFIG saying DTYPE.
void writeConfigAs(const ModelConfig& config, const std::filesystem::path& dir, DType dtype) {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) fail(dir.string(), ": cannot create folder (", ec.message(), ")");
    ModelConfig c = config;
    c.torchDtype = dtype == DType::F32 ? "float32" : dtype == DType::F16 ? "float16" : "bfloat16";
    writeTextAtomically(dir / "config.json", c.toJson());
}

}  // namespace

LoadOptions LoadOptions::forDevice(const std::string& device) {
    requireDevice(device);
    LoadOptions options;
    if (isCudaName(device)) options.device = torch::Device(device);
    return options;
}

std::vector<Linear*> Block::linears() {
    std::vector<Linear*> out;
    for (Linear* l : {&q, &k, &v, &qkv, &o, &gate, &up, &down})
        if (l->defined()) out.push_back(l);
    return out;
}

bool Transformer::hasRole(Role role) const { return roleExists(m_config, *m_spec, role); }

std::vector<int64_t> Transformer::expectedShape(Role role) const {
    return roleShape(m_config, *m_spec, role);
}

void Transformer::forEachSlot(const std::function<void(Role, int64_t, torch::Tensor&)>& visit) {
    auto slot = [&](Role role, int64_t layer) -> torch::Tensor& {
        if (layer < 0) {
            switch (role) {
                case Role::Embed: return m_embed;
                case Role::PosEmbed: return m_posEmbed;
                case Role::ProjectIn: return m_projectIn.weight;
                case Role::ProjectOut: return m_projectOut.weight;
                case Role::FinalNorm: return m_finalNorm.weight;
                case Role::FinalNormBias: return m_finalNorm.bias;
                case Role::LmHead: return m_lmHead;
                default: break;
            }
        } else {
            Block& b = m_blocks[static_cast<size_t>(layer)];
            switch (role) {
                case Role::AttnNorm: return b.attnNorm.weight;
                case Role::AttnNormBias: return b.attnNorm.bias;
                case Role::MlpNorm: return b.mlpNorm.weight;
                case Role::MlpNormBias: return b.mlpNorm.bias;
                case Role::Q: return b.q.weight;
                case Role::QBias: return b.q.bias;
                case Role::K: return b.k.weight;
                case Role::KBias: return b.k.bias;
                case Role::V: return b.v.weight;
                case Role::VBias: return b.v.bias;
                case Role::QKV: return b.qkv.weight;
                case Role::QKVBias: return b.qkv.bias;
                case Role::O: return b.o.weight;
                case Role::OBias: return b.o.bias;
                case Role::Gate: return b.gate.weight;
                case Role::Up: return b.up.weight;
                case Role::UpBias: return b.up.bias;
                case Role::Down: return b.down.weight;
                case Role::DownBias: return b.down.bias;
                default: break;
            }
        }
        fail("family table row has no slot in the transformer");
    };
    for (const TensorRow& row : m_spec->rows)
        if (!row.perLayer && hasRole(row.role)) visit(row.role, -1, slot(row.role, -1));
    for (int64_t layer = 0; layer < static_cast<int64_t>(m_blocks.size()); ++layer)
        for (const TensorRow& row : m_spec->rows)
            if (row.perLayer && hasRole(row.role)) visit(row.role, layer, slot(row.role, layer));
}

// Gives each linear its HF weight name; called once the blocks exist.
static void nameLinears(const FamilySpec& spec, std::vector<Block>& blocks, Linear& projectIn,
                        Linear& projectOut) {
    auto setName = [&](Linear& l, Role role, int64_t layer) {
        for (const TensorRow& row : spec.rows)
            if (row.role == role) l.name = expandName(spec, row.name, layer);
    };
    setName(projectIn, Role::ProjectIn, -1);
    setName(projectOut, Role::ProjectOut, -1);
    for (int64_t i = 0; i < static_cast<int64_t>(blocks.size()); ++i) {
        Block& b = blocks[static_cast<size_t>(i)];
        setName(b.q, Role::Q, i);
        setName(b.k, Role::K, i);
        setName(b.v, Role::V, i);
        setName(b.qkv, Role::QKV, i);
        setName(b.o, Role::O, i);
        setName(b.gate, Role::Gate, i);
        setName(b.up, Role::Up, i);
        setName(b.down, Role::Down, i);
    }
}

Transformer Transformer::load(const std::filesystem::path& path, const LoadOptions& options) {
    const std::filesystem::path dir = gguf::modelFolderFor(path);
    const ModelConfig config = ModelConfig::fromFile(dir / "config.json");
    const SafetensorsArchive archive = SafetensorsArchive::open(dir);
    return fromArchive(config, archive, options);
}

Transformer::Transformer(const ModelConfig& config, torch::Device device)
    : m_config(config), m_spec(&familySpec(config.family)), m_device(device) {
    m_blocks.resize(static_cast<size_t>(config.numLayers));
}

void Transformer::finishSetup() {
    nameLinears(*m_spec, m_blocks, m_projectIn, m_projectOut);
    if (m_spec->positions == PositionKind::Rotary)
        m_invFreq = rotaryFrequencies(m_config, m_device);
}

CheckpointMatch matchCheckpoint(const ModelConfig& config, const SafetensorsArchive& archive) {
    const FamilySpec& spec = familySpec(config.family);
    // Published checkpoints differ in the prefix before the decoder's names: find the one used.
    const std::string embedRow = rowNameOf(spec, Role::Embed);
    CheckpointMatch match;
    bool found = false;
    std::vector<std::string> tried;
    std::vector<std::string> prefixes{spec.prefix};
    for (const char* p : spec.otherPrefixes) prefixes.emplace_back(p);
    for (const std::string& p : prefixes) {
        tried.push_back(p + embedRow);
        if (!found && archive.contains(p + embedRow)) {
            match.filePrefix = p;
            found = true;
        }
    }
    if (!found) {
        std::string list;
        for (const auto& n : tried) list += (list.empty() ? "'" : ", '") + n + "'";
        fail("checkpoint has no token embedding (looked for ", list, ") for model_type '",
             config.modelType, "'; does config.json describe these weights?");
    }
    const std::string prefix = spec.prefix;
    std::set<std::string> used;
    for (const WeightSlot& slot : weightLayout(config)) {
        const std::string name = slot.name.rfind(prefix, 0) == 0
                                     ? match.filePrefix + slot.name.substr(prefix.size())
                                     : slot.name;
        if (!archive.contains(name))
            fail("checkpoint is missing tensor '", name, "' (model_type '", config.modelType, "', ",
                 config.numLayers, " layers in config.json)");
        const TensorInfo& info = archive.info(name);
        std::vector<int64_t> want = slot.shape;
        if (spec.conv1dLayout && isConv1dWeight(slot.role)) std::swap(want[0], want[1]);
        if (info.shape != want)
            fail(archive.fileOf(name), ": tensor '", name, "' has shape ", shapeText(info.shape),
                 ", expected ", shapeText(want), " from config.json (hidden_size ", config.hiddenSize,
                 ", intermediate_size ", config.intermediateSize, ", vocab_size ", config.vocabSize,
                 "); wrong model_type or sizes?");
        match.fileNames.push_back(name);
        used.insert(name);
    }
    match.tensorsChecked = static_cast<int64_t>(used.size());
    for (const std::string& name : archive.names()) {
        if (used.count(name)) continue;
        bool ignorable = config.tieWordEmbeddings && name == "lm_head.weight";
        for (const char* suffix : spec.ignoredSuffixes) {
            const std::string s = suffix;
            if (name.size() >= s.size() && name.compare(name.size() - s.size(), s.size(), s) == 0)
                ignorable = true;
        }
        if (!ignorable)
            fail(archive.fileOf(name), ": unexpected tensor '", name, "' for a ", config.modelType,
                 " model with ", config.numLayers,
                 " layers; wrong model_type or num_hidden_layers?");
        ++match.tensorsIgnored;
    }
    return match;
}

Transformer Transformer::fromArchive(const ModelConfig& config, const SafetensorsArchive& archive,
                                     const LoadOptions& options) {
    // every name and shape checked before the first tensor is read
    const CheckpointMatch match = matchCheckpoint(config, archive);
    Transformer t(config, options.device);
    const FamilySpec& spec = *t.m_spec;
    size_t at = 0;
    t.m_streamed = options.streamBlocks;
    t.forEachSlot([&](Role role, int64_t layer, torch::Tensor& slot) {
        const std::string& name = match.fileNames.at(at++);
        if (options.streamBlocks && layer >= 0) {  // a placeholder: the block store reads it
            slot = torch::empty(t.expectedShape(role), torch::TensorOptions().device(torch::kMeta).dtype(options.computeType));
            return;
        }
        torch::Tensor value = archive.read(name, options.computeType);
        if (spec.conv1dLayout && isConv1dWeight(role)) value = value.t().contiguous();
        if (options.device != torch::kCPU) value = value.to(options.device);
        slot = value;
    });
    t.finishSetup();
    return t;
}

Transformer Transformer::random(const ModelConfig& config, uint64_t seed, double stddev,
                                const LoadOptions& options) {
    Transformer t(config, options.device);
    auto gen = at::detail::createCPUGenerator(seed);
    const auto opts = torch::TensorOptions().dtype(torch::kFloat32);
    t.forEachSlot([&](Role role, int64_t, torch::Tensor& slot) {
        torch::Tensor value = torch::randn(t.expectedShape(role), gen, opts) * stddev;
        if (isNormWeight(role)) value = value + 1.0;
        slot = value.to(options.device, options.computeType);
    });
    t.finishSetup();
    return t;
}

void Transformer::saveStreamed(const std::filesystem::path& dir, DType dtype, const std::function<void(int64_t)>& bringIn,
                               uint64_t maxShardBytes) {
    struct Entry {
        int64_t layer;
        bool transposed;
        torch::Tensor* slot;
    };
    std::vector<Entry> entries;
    std::vector<std::pair<std::string, std::vector<int64_t>>> planned;
    forEachSlot([&](Role role, int64_t layer, torch::Tensor& slot) {
        const bool transposed = m_spec->conv1dLayout && isConv1dWeight(role);
        entries.push_back({layer, transposed, &slot});
        std::vector<int64_t> shape = slot.sizes().vec();
        if (transposed) std::swap(shape[0], shape[1]);
        planned.emplace_back(expandName(*m_spec, rowNameOf(*m_spec, role), layer), shape);
    });
    writeConfigAs(m_config, dir, dtype);
    int64_t in = -1;
    writeSafetensorsSharded(dir, planned, dtype, maxShardBytes, [&](size_t i) {
        const Entry& e = entries[i];
        if (e.layer >= 0 && e.layer != in) bringIn(in = e.layer);
        return e.transposed ? e.slot->t() : *e.slot;
    });
}

NamedTensors Transformer::parameters() const {
    NamedTensors out;
    auto* self = const_cast<Transformer*>(this);
    self->forEachSlot([&](Role role, int64_t layer, torch::Tensor& slot) {
        out.emplace_back(expandName(*m_spec, rowNameOf(*m_spec, role), layer), slot);
    });
    return out;
}

void Transformer::forEachBlockWeight(int64_t layer,
                                     const std::function<void(const std::string& name, torch::Tensor& slot)>& visit) {
    if (layer < 0 || layer >= numLayers()) fail("block ", layer, " of a model of ", numLayers(), " blocks");
    forEachSlot([&](Role role, int64_t at, torch::Tensor& slot) {
        if (at == layer) visit(expandName(*m_spec, rowNameOf(*m_spec, role), layer), slot);
    });
}

int64_t Transformer::parameterCount() const {
    int64_t n = 0;
    for (const auto& [name, tensor] : parameters()) n += tensor.numel();
    return n;
}

void Transformer::save(const std::filesystem::path& dir, DType dtype,
                       uint64_t maxShardBytes) const {
    NamedTensors tensors;
    auto* self = const_cast<Transformer*>(this);
    self->forEachSlot([&](Role role, int64_t layer, torch::Tensor& slot) {
        const bool transposed = m_spec->conv1dLayout && isConv1dWeight(role);
        tensors.emplace_back(expandName(*m_spec, rowNameOf(*m_spec, role), layer),
                             transposed ? slot.t() : slot);
    });
    writeConfigAs(m_config, dir, dtype);
    writeSafetensorsSharded(dir, tensors, dtype, maxShardBytes);
}

AttentionContext Transformer::context(const torch::Tensor& ids, const torch::Tensor& mask) const {
    if (ids.dim() != 2) fail("input ids must be [B,T], got shape ", ids.sizes());
    const int64_t batch = ids.size(0);
    int64_t steps = ids.size(1);
    const auto longOpts = torch::TensorOptions().dtype(torch::kLong).device(m_device);
    torch::Tensor valid =
        mask.defined() ? mask.to(m_device, torch::kLong) : torch::ones({batch, steps}, longOpts);
    if (valid.sizes() != ids.sizes())
        fail("attention mask has shape ", valid.sizes(), " but ids have ", ids.sizes());
    if (mask.defined() && valid.numel() > 0 &&
        (valid.min().item<int64_t>() < 0 || valid.max().item<int64_t>() > 1))
        fail("attention mask must hold only 0 (padding) and 1 (token)");
    if (m_softPrompt.defined()) {  // the soft prompt's positions come first, always attended
        if (m_softPrompt.dim() == 3 && m_softPrompt.size(0) != batch)
            fail("a per-sequence soft prompt has ", m_softPrompt.size(0), " rows for a batch of ", batch, " sequences");
        valid = torch::cat({torch::ones({batch, m_softPrompt.size(-2)}, longOpts), valid}, 1);
        steps += m_softPrompt.size(-2);
    }
    AttentionContext ctx;
    // With prefixes the real tokens come after them, as with Hugging Face's past key values.
    const int64_t prefix =
        m_blocks.empty() || !m_blocks.front().prefixKey.defined() ? 0 : m_blocks.front().prefixKey.size(0);
    ctx.positions = (valid.cumsum(/*dim=*/1) - 1).clamp_min(0) + prefix;  // [B,T]
    if (m_spec->positions == PositionKind::Learned && steps + prefix > m_config.maxPositions)
        fail("sequence of ", steps, " tokens", prefix ? cat(" after a prefix of ", prefix) : "",
             " exceeds max_position_embeddings ", m_config.maxPositions);

    if (m_config.slidingWindow && steps > *m_config.slidingWindow)
        fail("sequence of ", steps, " tokens exceeds sliding_window ", *m_config.slidingWindow,
             "; sliding-window attention is not implemented");

    // query i may see key j when j <= i and j is a real token; always itself, so no row is empty
    const auto boolOpts = torch::TensorOptions().dtype(torch::kBool).device(m_device);
    torch::Tensor causal = torch::ones({steps, steps}, boolOpts).tril();            // [T,T]
    torch::Tensor keyValid = valid.to(torch::kBool).reshape({batch, 1, 1, steps});  // [B,1,1,T]
    torch::Tensor self = torch::eye(steps, boolOpts);                               // [T,T]
    torch::Tensor allowed = (causal & keyValid) | self;                             // [B,1,T,T]
    const auto floatOpts = torch::TensorOptions().dtype(m_embed.scalar_type()).device(m_device);
    ctx.maskBias = torch::zeros(allowed.sizes(), floatOpts)
                       .masked_fill(allowed.logical_not(), -std::numeric_limits<float>::infinity());

    if (m_spec->positions == PositionKind::Rotary) {
        torch::Tensor freqs =
            ctx.positions.to(torch::kFloat32).unsqueeze(-1) * m_invFreq;  // [B,T,d/2]
        torch::Tensor emb = torch::cat({freqs, freqs}, /*dim=*/-1);       // [B,T,d]
        ctx.cos = emb.cos().unsqueeze(1).to(m_embed.scalar_type());       // [B,1,T,d]
        ctx.sin = emb.sin().unsqueeze(1).to(m_embed.scalar_type());
    }
    return ctx;
}

namespace {

// scale * B A where LAYER's mask is true, exactly 0.0 elsewhere.
torch::Tensor maskedLoraDelta(const Linear& layer) {
    const torch::Tensor delta = torch::matmul(layer.loraB, layer.loraA) * layer.loraScale;
    return torch::where(layer.loraMask, delta, torch::zeros({}, delta.options()));
}

}  // namespace

torch::Tensor Transformer::linear(const Linear& layer, const torch::Tensor& input) const {
    const torch::Tensor x = layer.before ? layer.before->apply(input) : input;
    if (m_observer) m_observer(layer, x);
    torch::Tensor y = torch::linear(x, layer.weight, layer.bias);
    if (layer.loraMask.defined())  // the masked update as one [out, in] matrix: zeros stay zero
        y = y + (torch::linear(x.to(layer.loraA.scalar_type()), maskedLoraDelta(layer))).to(y.scalar_type());
    else if (layer.loraA.defined())  // fp32 adapters over weights of any dtype
        y = y + (torch::linear(torch::linear(x.to(layer.loraA.scalar_type()), layer.loraA), layer.loraB) *
                 layer.loraScale).to(y.scalar_type());
    if (layer.update) y = y + layer.update->apply(x);
    return layer.after ? layer.after->apply(y) : y;
}

torch::Tensor Transformer::norm(const Norm& n, const torch::Tensor& x) const {
    if (m_spec->norm == NormKind::Rms) {
        torch::Tensor x32 = x.to(torch::kFloat32);
        torch::Tensor scaled =
            x32 * torch::rsqrt(x32.pow(2).mean(/*dim=*/-1, /*keepdim=*/true) + m_config.rmsNormEps);
        return scaled.to(x.scalar_type()) * n.weight;
    }
    return torch::layer_norm(x, {x.size(-1)}, n.weight, n.bias, m_config.layerNormEps);
}

torch::Tensor Transformer::embed(const torch::Tensor& ids, const AttentionContext& ctx) const {
    torch::Tensor idsDev = ids.to(m_device, torch::kLong);
    const int64_t vocab = m_config.vocabSize;
    if (idsDev.numel() > 0) {
        const int64_t lo = idsDev.min().item<int64_t>(), hi = idsDev.max().item<int64_t>();
        if (lo < 0 || hi >= vocab)
            fail("token id ", lo < 0 ? lo : hi, " is outside the vocabulary [0, ", vocab, ")");
    }
    torch::Tensor x = torch::embedding(m_embed, idsDev);    // [B,T,E]
    if (m_softPrompt.defined())                             // [B,P+T,E]
        x = torch::cat({(m_softPrompt.dim() == 3 ? m_softPrompt : m_softPrompt.unsqueeze(0).expand({x.size(0), -1, -1}))
                           .to(x.scalar_type()),
                       x}, 1);
    if (m_projectIn.defined()) x = linear(m_projectIn, x);  // [B,T,H]
    if (m_spec->positions == PositionKind::Learned)
        x = x + torch::embedding(m_posEmbed, ctx.positions + m_spec->positionOffset);
    return x;
}

torch::Tensor Transformer::attention(const Block& b, const torch::Tensor& x,
                                     const AttentionContext& ctx) const {
    const int64_t batch = x.size(0), steps = x.size(1);
    const int64_t nh = m_config.numHeads, nkv = m_config.numKvHeads, d = m_config.headDim;
    torch::Tensor q, k, v;
    if (b.qkv.defined()) {
        auto parts = linear(b.qkv, x).split_with_sizes({nh * d, nkv * d, nkv * d}, /*dim=*/-1);
        q = parts[0], k = parts[1], v = parts[2];
    } else {
        q = linear(b.q, x), k = linear(b.k, x), v = linear(b.v, x);
    }
    q = q.view({batch, steps, nh, d}).transpose(1, 2);   // [B,nh,T,d]
    k = k.view({batch, steps, nkv, d}).transpose(1, 2);  // [B,nkv,T,d]
    v = v.view({batch, steps, nkv, d}).transpose(1, 2);
    if (ctx.cos.defined()) {
        q = q * ctx.cos + rotateHalf(q) * ctx.sin;
        k = k * ctx.cos + rotateHalf(k) * ctx.sin;
    }
    if (m_capture) m_capture->emplace_back(k, v);
    torch::Tensor maskBias = ctx.maskBias;
    if (b.prefixKey.defined()) {  // [B,nkv,P+T,d]; every query sees every prefix position
        const int64_t p = b.prefixKey.size(0);
        k = torch::cat({b.prefixKey.to(k.scalar_type()).view({1, p, nkv, d}).transpose(1, 2).expand({batch, nkv, p, d}), k}, 2);
        v = torch::cat({b.prefixValue.to(v.scalar_type()).view({1, p, nkv, d}).transpose(1, 2).expand({batch, nkv, p, d}), v}, 2);
        maskBias = torch::cat({torch::zeros({batch, 1, steps, p}, maskBias.options()), maskBias}, -1);
    }
    const int64_t keys = k.size(2);
    if (nkv != nh) {  // GQA: query head j reads key/value head j / (nh / nkv)
        const int64_t rep = nh / nkv;
        k = k.unsqueeze(2).expand({batch, nkv, rep, keys, d}).reshape({batch, nh, keys, d});
        v = v.unsqueeze(2).expand({batch, nkv, rep, keys, d}).reshape({batch, nh, keys, d});
    }
    const double scale = 1.0 / std::sqrt(static_cast<double>(d));
    torch::Tensor scores =
        torch::matmul(q, k.transpose(-2, -1)) * scale + maskBias;  // [B,nh,T,P+T]
    // softmax in fp32 whatever the compute dtype, as Hugging Face's eager attention does
    torch::Tensor probs = torch::softmax(scores, /*dim=*/-1, torch::kFloat32).to(q.scalar_type());
    torch::Tensor out = torch::matmul(probs, v);  // [B,nh,T,d]
    out = out.transpose(1, 2).reshape({batch, steps, nh * d});
    return linear(b.o, out);
}

torch::Tensor Transformer::mlp(const Block& b, const torch::Tensor& x) const {
    if (b.gate.defined()) return linear(b.down, torch::silu(linear(b.gate, x)) * linear(b.up, x));
    torch::Tensor h = linear(b.up, x);
    const std::string& act = m_config.activation;
    if (act == "relu")
        h = torch::relu(h);
    else if (act == "gelu_new")
        h = torch::gelu(h, "tanh");
    else
        h = torch::gelu(h);
    return linear(b.down, h);
}

torch::Tensor Transformer::forwardBlock(int64_t layer, const torch::Tensor& hidden,
                                        const AttentionContext& ctx) const {
    const Block& b = block(layer);
    if (m_config.doLayerNormBefore) {
        torch::Tensor h = hidden + attention(b, norm(b.attnNorm, hidden), ctx);
        return h + mlp(b, norm(b.mlpNorm, h));
    }
    torch::Tensor h = norm(b.attnNorm, hidden + attention(b, hidden, ctx));
    return norm(b.mlpNorm, h + mlp(b, h));
}

torch::Tensor Transformer::head(const torch::Tensor& hidden) const {
    torch::Tensor x = hidden;
    if (m_finalNorm.weight.defined()) x = norm(m_finalNorm, x);
    if (m_projectOut.defined()) x = linear(m_projectOut, x);
    if (m_headAdapter) x = m_headAdapter->apply(x);
    return torch::linear(x, m_lmHead.defined() ? m_lmHead : m_embed);
}

torch::Tensor Transformer::hidden(const torch::Tensor& ids, const torch::Tensor& mask) const {
    const AttentionContext ctx = context(ids, mask);
    torch::Tensor h = embed(ids, ctx);
    for (int64_t layer = 0; layer < numLayers(); ++layer) h = forwardBlock(layer, h, ctx);
    return h;
}

torch::Tensor Transformer::forward(const torch::Tensor& ids, const torch::Tensor& mask) const {
    torch::Tensor logits = head(hidden(ids, mask));
    if (m_softPrompt.defined()) logits = logits.narrow(1, m_softPrompt.size(-2), ids.size(1));
    return logits;
}

torch::Tensor Transformer::forwardAt(const torch::Tensor& ids, const torch::Tensor& mask, const torch::Tensor& rows,
                                     const torch::Tensor& positions) const {
    return headAt(hidden(ids, mask), rows, positions);
}

torch::Tensor Transformer::headAt(const torch::Tensor& hidden, const torch::Tensor& rows,
                                  const torch::Tensor& positions) const {
    const torch::Tensor at = m_softPrompt.defined() ? positions + m_softPrompt.size(-2) : positions;
    return head(hidden.index({rows, at}));
}

void Transformer::setSoftPrompt(torch::Tensor prompt) {
    if (prompt.defined() && ((prompt.dim() != 2 && prompt.dim() != 3) || prompt.size(-1) != m_embed.size(1)))
        fail("soft prompt must be [P, ", m_embed.size(1), "] (or [B, P, ", m_embed.size(1),
             "], one per sequence), got ", prompt.sizes());
    m_softPrompt = std::move(prompt);
}

std::vector<std::pair<torch::Tensor, torch::Tensor>> Transformer::keyValues(
    const torch::Tensor& ids) const {
    std::vector<std::pair<torch::Tensor, torch::Tensor>> out;
    m_capture = &out;
    try {
        forward(ids);
    } catch (...) {
        m_capture = nullptr;
        throw;
    }
    m_capture = nullptr;
    return out;
}

void Transformer::mergeLora() {
    for (int64_t layer = 0; layer < numLayers(); ++layer) mergeLoraOf(layer, /*keepAdapters=*/false);
}

void Transformer::mergeLoraOf(int64_t layer, bool keepAdapters) {
    torch::NoGradGuard noGrad;
    for (Linear* l : block(layer).linears())
        if (l->loraA.defined()) {
            const torch::Tensor delta = l->loraMask.defined() ? maskedLoraDelta(*l)
                                                              : torch::matmul(l->loraB, l->loraA) * l->loraScale;
            l->weight.add_(delta.to(l->weight.scalar_type()));
            if (!keepAdapters) l->loraA = l->loraB = l->loraMask = torch::Tensor();
        }
}

}  // namespace frugal::model
