#include "peft/param_set.h"

#include <ATen/CPUGeneratorImpl.h>

#include <cmath>

#include "common/error.h"
#include "common/format.h"
#include "peft/tt.h"

namespace frugal::peft {

namespace {

bool contains(const std::string& s, const char* part) { return s.find(part) != std::string::npos; }
bool endsWith(const std::string& s, const std::string& suffix) {
    return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}
bool isNorm(const std::string& n) {
    return contains(n, "norm") || contains(n, ".ln_") || contains(n, "layer_norm");
}
std::string withoutWeightSuffix(const std::string& name) {
    return endsWith(name, ".weight") ? name.substr(0, name.size() - 7) : name;
}

model::Role roleOf(const std::string& m) {
    using model::Role;
    if (m == "q") return Role::Q;
    if (m == "k") return Role::K;
    if (m == "v") return Role::V;
    if (m == "o") return Role::O;
    if (m == "qkv") return Role::QKV;
    if (m == "gate") return Role::Gate;
    if (m == "up") return Role::Up;
    if (m == "down") return Role::Down;
    fail("peft.lora_modules: unknown module '", m, "' (expected q, k, v, o, qkv, gate, up, down)");
}

void checkTtOptions(const PeftOptions& o) {
    if (o.ttRank < 1) fail("peft.tt_rank must be at least 1, got ", o.ttRank);
    if (o.ttBottleneck < 1) fail("peft.tt_bottleneck must be at least 1, got ", o.ttBottleneck);
    if (o.ttActivation != "relu" && o.ttActivation != "tanh")
        fail("peft.tt_activation: unknown '", o.ttActivation, "' (expected relu or tanh)");
    if (o.ttInit != "gaussian" && o.ttInit != "identity")
        fail("peft.tt_init: unknown '", o.ttInit, "' (expected gaussian or identity)");
    parseTtForward(o.ttForward);
}

void checkLoraModules(const PeftOptions& o, const std::string& key) {
    if (o.loraRank < 1) fail("peft.lora_rank must be at least 1, got ", o.loraRank);
    if (o.loraModules.empty()) fail("peft.", key, " is empty");
}

model::Linear* moduleOf(model::Block& b, const std::string& m);

// The projection M of block B, refused by name when this model has none.
model::Linear* definedModule(const model::Transformer& model, model::Block& b, const std::string& m) {
    model::Linear* l = moduleOf(b, m);
    if (!l->defined())
        fail("peft.lora_modules: this ", model.config().modelType, " model has no '", m, "' projection",
             b.qkv.defined() ? " (it fuses q, k, v into one: use \"qkv\")" : "");
    return l;
}

model::Linear* moduleOf(model::Block& b, const std::string& m) {
    if (m == "q") return &b.q;
    if (m == "k") return &b.k;
    if (m == "v") return &b.v;
    if (m == "o") return &b.o;
    if (m == "qkv") return &b.qkv;
    if (m == "gate") return &b.gate;
    if (m == "up") return &b.up;
    if (m == "down") return &b.down;
    fail("peft.lora_modules: unknown module '", m, "' (expected q, k, v, o, qkv, gate, up, down)");
}

}  // namespace

std::string targetName(Target t) {
    switch (t) {
        case Target::Full: return "full";
        case Target::BitFit: return "bitfit";
        case Target::Norms: return "norms";
        case Target::Head: return "head";
        case Target::Lora: return "lora";
        case Target::Prefix: return "prefix";
        case Target::Prompt: return "prompt";
        case Target::LorettaAdp: return "loretta_adp";
        case Target::LorettaRep: return "loretta_rep";
    }
    return "unknown";
}

Target parseTarget(const std::string& name) {
    for (auto t : {Target::Full, Target::BitFit, Target::Norms, Target::Head, Target::Lora,
                   Target::Prefix, Target::Prompt, Target::LorettaAdp, Target::LorettaRep})
        if (targetName(t) == name) return t;
    fail("unknown trainable target '", name,
         "' (expected full, bitfit, norms, head, lora, prefix, prompt, loretta_adp or "
         "loretta_rep)");
}

bool isAdapter(Target t) {
    return t == Target::Lora || t == Target::Prefix || t == Target::Prompt ||
           t == Target::LorettaAdp || t == Target::LorettaRep;
}

bool isBiasOrNorm(const std::string& name) { return endsWith(name, ".bias") || isNorm(name); }

ParamSet ParamSet::select(const model::Transformer& model, Target target) {
    if (isAdapter(target))
        fail("trainable target '", targetName(target), "' adds adapters: use ParamSet::attach");
    ParamSet set;
    set.m_target = target;
    const auto params = model.parameters();
    const bool tied = model.config().tieWordEmbeddings;
    for (size_t i = 0; i < params.size(); ++i) {
        const auto& [name, tensor] = params[i];
        set.m_total += tensor.numel();
        bool take = false;
        switch (target) {
            case Target::Full: take = true; break;
            case Target::BitFit: take = endsWith(name, ".bias"); break;
            case Target::Norms: take = isNorm(name); break;
            case Target::Head:
                take = contains(name, "lm_head") ||
                       (tied && (contains(name, "embed_tokens") || contains(name, "wte")));
                break;
            default: break;
        }
        if (take)
            set.m_trainables.push_back(
                {name, tensor, static_cast<uint32_t>(i), !isBiasOrNorm(name)});
    }
    if (set.m_trainables.empty())
        fail("trainable target '", targetName(target), "' selects no tensor of this ",
             model.config().modelType, " model",
             target == Target::BitFit ? " (it has no bias tensors; LLaMA-family models have none)"
                                      : "");
    set.m_detail = targetName(target);
    return set;
}

ParamSet ParamSet::attach(model::Transformer& model, const PeftOptions& o) {
    if (!isAdapter(o.target)) return select(model, o.target);
    ParamSet set;
    set.m_target = o.target;
    set.m_total = model.parameterCount();
    auto gen = at::detail::createCPUGenerator(o.seed);
    torch::NoGradGuard noGrad;
    const auto dtype = torch::kFloat32;  // adapters train in fp32 over base weights of any dtype
    const auto add = [&](const std::string& name, const torch::Tensor& t, bool decay = true) {
        set.m_trainables.push_back(
            {name, t, static_cast<uint32_t>(set.m_trainables.size()), decay});
    };
    const auto vocab = model.config().vocabSize;
    if (o.target == Target::Lora) {
        if (o.loraRank < 1) fail("peft.lora_rank must be at least 1, got ", o.loraRank);
        if (o.loraModules.empty()) fail("peft.lora_modules is empty");
        for (int64_t layer = 0; layer < model.numLayers(); ++layer) {
            model::Block& b = model.block(layer);
            for (const auto& m : o.loraModules) {
                model::Linear* l = definedModule(model, b, m);
                if (l->loraA.defined()) fail("peft.lora_modules names '", m, "' twice");
                const int64_t in = l->weight.size(1), out = l->weight.size(0);
                const double bound = 1.0 / std::sqrt(static_cast<double>(in));
                // on the model's device: a streamed model's block weights are placeholders
                l->loraA = (torch::rand({o.loraRank, in}, gen) * (2 * bound) - bound)
                               .to(model.device(), dtype)
                               .contiguous();
                l->loraB = torch::zeros({out, o.loraRank}, torch::TensorOptions().dtype(dtype).device(model.device()));
                l->loraScale = o.loraAlpha / static_cast<double>(o.loraRank);
                if (o.loraKeepZeros) l->loraMask = l->weight != 0;
                const std::string base = withoutWeightSuffix(l->name);
                add(base + ".lora_A.weight", l->loraA);
                add(base + ".lora_B.weight", l->loraB);
            }
        }
        std::string modules;
        for (const auto& m : o.loraModules) modules += (modules.empty() ? "" : ",") + m;
        set.m_detail = cat("lora r=", o.loraRank, " alpha=", o.loraAlpha, " on ", modules,
                           o.loraKeepZeros ? ", masked by the base weights' non-zeros" : "");
    } else if (o.target == Target::Prefix) {
        if (o.prefixTokens < 1) fail("peft.prefix_tokens must be at least 1, got ", o.prefixTokens);
        const torch::Tensor ids = torch::randint(vocab, {1, o.prefixTokens}, gen, torch::kLong);
        c10::InferenceMode guard(false);
        const auto kv = model.keyValues(ids.to(model.device()));
        for (int64_t layer = 0; layer < model.numLayers(); ++layer) {
            const auto& [k, v] = kv.at(static_cast<size_t>(layer));  // [1,nkv,P,d]
            model::Block& b = model.block(layer);
            b.prefixKey = k[0].transpose(0, 1).reshape({o.prefixTokens, -1}).to(dtype).contiguous();
            b.prefixValue = v[0].transpose(0, 1).reshape({o.prefixTokens, -1}).to(dtype).contiguous();
            add(cat("model.layers.", layer, ".prefix_key"), b.prefixKey);
            add(cat("model.layers.", layer, ".prefix_value"), b.prefixValue);
        }
        set.m_detail = cat("prefix of ", o.prefixTokens, " tokens per layer");
    } else if (o.target == Target::LorettaAdp) {
        checkTtOptions(o);
        TtAdapterOptions ao;
        ao.bottleneck = o.ttBottleneck;
        ao.rank = o.ttRank;
        ao.activation = o.ttActivation;
        ao.scaling = o.ttScaling;
        ao.identityStart = o.ttInit == "identity";
        ao.forward = parseTtForward(o.ttForward);
        const int64_t width = model.config().hiddenSize;
        int64_t adapters = 0;
        for (int64_t layer = 0; layer < model.numLayers(); ++layer) {
            model::Block& b = model.block(layer);
            const auto place = [&](model::Linear& l, bool input) {
                auto adapter = std::make_shared<TtBottleneckAdapter>(width, ao, gen, model.device());
                const std::string base =
                    withoutWeightSuffix(l.name) + (input ? ".tt_adapter_in" : ".tt_adapter_out");
                for (size_t k = 0; k < adapter->down().cores().size(); ++k)
                    add(cat(base, ".down.core", k), adapter->down().cores()[k]);
                add(base + ".down.bias", adapter->downBias(), false);
                for (size_t k = 0; k < adapter->up().cores().size(); ++k)
                    add(cat(base, ".up.core", k), adapter->up().cores()[k]);
                add(base + ".up.bias", adapter->upBias(), false);
                (input ? l.before : l.after) = adapter;
                ++adapters;
            };
            if (b.gate.defined()) place(b.gate, true);
            place(b.up, true);
            place(b.down, false);
        }
        set.m_detail = cat("loretta_adp: ", adapters, " TT adapters at ",
                           model.block(0).gate.defined() ? "the inputs of gate and up and the output of down"
                                                         : "the input of the MLP's first and the output of its second projection",
                           " (bottleneck ", o.ttBottleneck, ", TT rank ", o.ttRank, ", ",
                           o.ttActivation, ", scaling ", o.ttScaling, ", ", o.ttInit, " init, ",
                           o.ttForward, " forward)");
    } else if (o.target == Target::LorettaRep) {
        checkTtOptions(o);
        checkLoraModules(o, "lora_modules");
        const bool identity = o.ttInit == "identity";
        const TtForward forward = parseTtForward(o.ttForward);
        for (int64_t layer = 0; layer < model.numLayers(); ++layer) {
            model::Block& b = model.block(layer);
            for (const auto& m : o.loraModules) {
                model::Linear* l = definedModule(model, b, m);
                if (l->update) fail("peft.lora_modules names '", m, "' twice");
                const int64_t in = l->weight.size(1), out = l->weight.size(0);
                auto update = std::make_shared<TtLoraUpdate>(in, out, o.loraRank, o.loraAlpha,
                                                             o.ttRank, identity, forward, gen,
                                                             model.device());
                const std::string base = withoutWeightSuffix(l->name) + ".tt_update";
                for (size_t k = 0; k < update->a().cores().size(); ++k)
                    add(cat(base, ".a.core", k), update->a().cores()[k]);
                for (size_t k = 0; k < update->b().cores().size(); ++k)
                    add(cat(base, ".b.core", k), update->b().cores()[k]);
                l->update = update;
            }
        }
        std::string modules;
        for (const auto& m : o.loraModules) modules += (modules.empty() ? "" : ",") + m;
        set.m_detail = cat("loretta_rep r=", o.loraRank, " alpha=", o.loraAlpha, " TT rank ",
                           o.ttRank, " on ", modules, " (", o.ttInit, " init",
                           identity ? ", B's last core zero" : ", minus the update's initial value",
                           ", ", o.ttForward, " forward)");
    } else {
        if (o.promptTokens < 1) fail("peft.prompt_tokens must be at least 1, got ", o.promptTokens);
        const torch::Tensor ids = torch::randint(vocab, {o.promptTokens}, gen, torch::kLong);
        const torch::Tensor& embed = model.tokenEmbedding();
        model.setSoftPrompt(embed.index_select(0, ids.to(embed.device())).to(dtype).contiguous());
        add("prompt_embeddings", model.softPrompt());
        set.m_detail = cat("prompt of ", o.promptTokens, " soft tokens");
    }
    if (o.ttHead) {
        checkTtOptions(o);
        if (model.headAdapter()) fail("peft.tt_head: the model already has a head adapter");
        const int64_t width = model.tokenEmbedding().size(1);
        auto head = std::make_shared<TtHeadAdapter>(width, o.ttRank, parseTtForward(o.ttForward),
                                                    gen, model.device());
        for (size_t k = 0; k < head->matrix().cores().size(); ++k)
            add(cat("tt_head.core", k), head->matrix().cores()[k]);
        model.setHeadAdapter(head);
        set.m_detail += cat(" + TT head ", width, "x", width);
    }
    if (o.trainNorms) {
        const auto params = model.parameters();
        for (const auto& [name, tensor] : params)
            if (isNorm(name)) add(name, tensor, false);
        set.m_detail += " + norms (trained)";
    } else if (o.target == Target::LorettaAdp || o.target == Target::LorettaRep) {
        set.m_detail += "; norms frozen";
    }
    return set;
}

int64_t ParamSet::trainableCount() const {
    int64_t n = 0;
    for (const auto& t : m_trainables) n += t.tensor.numel();
    return n;
}

std::string ParamSet::describe() const {
    return cat(m_detail, ": ", withThousands(trainableCount()), " of ", withThousands(m_total),
               " parameters trainable");
}

}  // namespace frugal::peft

namespace frugal::peft {

TrainableCount countTrainable(const model::ModelConfig& config, const PeftOptions& o) {
    using model::Role;
    TrainableCount c;
    const auto layout = model::weightLayout(config);
    const auto numel = [](const std::vector<int64_t>& shape) {
        int64_t n = 1;
        for (int64_t d : shape) n *= d;
        return n;
    };
    int64_t biases = 0, norms = 0, head = 0;
    for (const auto& w : layout) {
        const int64_t n = numel(w.shape);
        c.total += n;
        if (endsWith(w.name, ".bias")) biases += n;
        if (isNorm(w.name)) norms += n;
        if (w.role == Role::LmHead || (config.tieWordEmbeddings && w.role == Role::Embed)) head += n;
    }
    c.normElements = norms;
    const auto shapeOf = [&](Role role) -> const std::vector<int64_t>* {
        for (const auto& w : layout)
            if (w.role == role && w.layer == 0) return &w.shape;
        return nullptr;
    };
    const int64_t layers = config.numLayers, hidden = config.hiddenSize;
    const int64_t width = config.wordEmbedProjDim ? config.wordEmbedProjDim : hidden;
    const auto part = [&](const std::string& name, int64_t n) {
        c.parts.emplace_back(name, n);
        c.trainable += n;
    };
    switch (o.target) {
        case Target::Full: part("all weights", c.total); c.detail = "full"; break;
        case Target::BitFit:
            if (biases == 0)
                fail("trainable target 'bitfit' selects no tensor of this ", config.modelType,
                     " model (it has no bias tensors; LLaMA-family models have none)");
            part("biases", biases);
            c.detail = "bitfit";
            break;
        case Target::Norms: part("norms", norms); c.detail = "norms"; break;
        case Target::Head: part("head", head); c.detail = "head"; break;
        case Target::Lora:
        case Target::LorettaRep: {
            const bool tt = o.target == Target::LorettaRep;
            if (tt) checkTtOptions(o);
            checkLoraModules(o, "lora_modules");
            int64_t n = 0;
            std::string modules;
            for (const auto& m : o.loraModules) {
                const auto* shape = layers > 0 ? shapeOf(roleOf(m)) : nullptr;
                if (!shape)
                    fail("peft.lora_modules: this ", config.modelType, " model has no '", m,
                         "' projection",
                         shapeOf(Role::QKV) ? " (it fuses q, k, v into one: use \"qkv\")" : "");
                const int64_t out = (*shape)[0], in = (*shape)[1], r = o.loraRank;
                n += tt ? ttCoreCount(ttModes(in, r), o.ttRank) + ttCoreCount(ttModes(r, out), o.ttRank)
                        : r * (in + out);
                if (o.loraKeepZeros && !tt) c.maskBytes += layers * out * in;
                modules += (modules.empty() ? "" : ",") + m;
            }
            part(tt ? "TT updates" : "LoRA A and B", n * layers);
            c.detail = tt ? cat("loretta_rep r=", o.loraRank, " TT rank ", o.ttRank, " on ", modules)
                          : cat("lora r=", o.loraRank, " on ", modules);
            break;
        }
        case Target::Prefix:
            if (o.prefixTokens < 1) fail("peft.prefix_tokens must be at least 1, got ", o.prefixTokens);
            part("prefix keys and values",
                 layers * 2 * o.prefixTokens * config.numKvHeads * config.headDim);
            c.detail = cat("prefix of ", o.prefixTokens, " tokens per layer");
            break;
        case Target::Prompt:
            if (o.promptTokens < 1) fail("peft.prompt_tokens must be at least 1, got ", o.promptTokens);
            part("soft prompt", o.promptTokens * width);
            c.detail = cat("prompt of ", o.promptTokens, " soft tokens");
            break;
        case Target::LorettaAdp: {
            checkTtOptions(o);
            const int64_t bn = o.ttBottleneck;
            const int64_t sites = layers * (shapeOf(Role::Gate) ? 3 : 2);
            const int64_t down = ttCoreCount(ttModes(hidden, bn), o.ttRank);
            const int64_t up = ttCoreCount(ttModes(bn, hidden), o.ttRank);
            part("adapters", sites * (down + up + bn + hidden));
            c.detail = cat("loretta_adp: ", sites, " adapters x (", withThousands(down), " + ",
                           withThousands(up), " TT cores + ", bn, " + ", hidden, " biases), bottleneck ",
                           bn, ", TT rank ", o.ttRank);
            break;
        }
    }
    if (o.ttHead && isAdapter(o.target)) {
        checkTtOptions(o);
        part("TT head", ttCoreCount(ttModes(width, width), o.ttRank));
    }
    if (o.trainNorms && isAdapter(o.target)) part("norms", norms);
    return c;
}

}  // namespace frugal::peft
