#include "peft/param_set.h"

#include <ATen/CPUGeneratorImpl.h>

#include <cmath>

#include "common/error.h"
#include "common/format.h"

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
    }
    return "unknown";
}

Target parseTarget(const std::string& name) {
    for (auto t : {Target::Full, Target::BitFit, Target::Norms, Target::Head, Target::Lora,
                   Target::Prefix, Target::Prompt})
        if (targetName(t) == name) return t;
    fail("unknown trainable target '", name,
         "' (expected full, bitfit, norms, head, lora, prefix or prompt)");
}

bool isAdapter(Target t) { return t == Target::Lora || t == Target::Prefix || t == Target::Prompt; }

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
    const auto dtype = model.tokenEmbedding().scalar_type();
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
                model::Linear* l = moduleOf(b, m);
                if (!l->defined())
                    fail("peft.lora_modules: this ", model.config().modelType, " model has no '", m,
                         "' projection",
                         b.qkv.defined() ? " (it fuses q, k, v into one: use \"qkv\")" : "");
                if (l->loraA.defined()) fail("peft.lora_modules names '", m, "' twice");
                const int64_t in = l->weight.size(1), out = l->weight.size(0);
                const double bound = 1.0 / std::sqrt(static_cast<double>(in));
                l->loraA = (torch::rand({o.loraRank, in}, gen) * (2 * bound) - bound)
                               .to(l->weight.device(), dtype)
                               .contiguous();
                l->loraB = torch::zeros({out, o.loraRank}, l->weight.options());
                l->loraScale = o.loraAlpha / static_cast<double>(o.loraRank);
                const std::string base = withoutWeightSuffix(l->name);
                add(base + ".lora_A.weight", l->loraA);
                add(base + ".lora_B.weight", l->loraB);
            }
        }
        std::string modules;
        for (const auto& m : o.loraModules) modules += (modules.empty() ? "" : ",") + m;
        set.m_detail = cat("lora r=", o.loraRank, " alpha=", o.loraAlpha, " on ", modules);
    } else if (o.target == Target::Prefix) {
        if (o.prefixTokens < 1) fail("peft.prefix_tokens must be at least 1, got ", o.prefixTokens);
        const torch::Tensor ids = torch::randint(vocab, {1, o.prefixTokens}, gen, torch::kLong);
        c10::InferenceMode guard(false);
        const auto kv = model.keyValues(ids.to(model.device()));
        for (int64_t layer = 0; layer < model.numLayers(); ++layer) {
            const auto& [k, v] = kv.at(static_cast<size_t>(layer));  // [1,nkv,P,d]
            model::Block& b = model.block(layer);
            b.prefixKey = k[0].transpose(0, 1).reshape({o.prefixTokens, -1}).clone().contiguous();
            b.prefixValue = v[0].transpose(0, 1).reshape({o.prefixTokens, -1}).clone().contiguous();
            add(cat("model.layers.", layer, ".prefix_key"), b.prefixKey);
            add(cat("model.layers.", layer, ".prefix_value"), b.prefixValue);
        }
        set.m_detail = cat("prefix of ", o.prefixTokens, " tokens per layer");
    } else {
        if (o.promptTokens < 1) fail("peft.prompt_tokens must be at least 1, got ", o.promptTokens);
        const torch::Tensor ids = torch::randint(vocab, {o.promptTokens}, gen, torch::kLong);
        const torch::Tensor& embed = model.tokenEmbedding();
        model.setSoftPrompt(embed.index_select(0, ids.to(embed.device())).clone().contiguous());
        add("prompt_embeddings", model.softPrompt());
        set.m_detail = cat("prompt of ", o.promptTokens, " soft tokens");
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
