#include "peft/param_set.h"

#include "common/error.h"

namespace frugal::peft {

namespace {

bool contains(const std::string& s, const char* part) { return s.find(part) != std::string::npos; }
bool endsWith(const std::string& s, const std::string& suffix) {
    return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}
bool isNorm(const std::string& n) {
    return contains(n, "norm") || contains(n, ".ln_") || contains(n, "layer_norm");
}

}  // namespace

std::string targetName(Target t) {
    switch (t) {
        case Target::Full: return "full";
        case Target::BitFit: return "bitfit";
        case Target::Norms: return "norms";
        case Target::Head: return "head";
    }
    return "unknown";
}

Target parseTarget(const std::string& name) {
    for (auto t : {Target::Full, Target::BitFit, Target::Norms, Target::Head})
        if (targetName(t) == name) return t;
    fail("unknown trainable target '", name, "' (expected full, bitfit, norms or head)");
}

bool isBiasOrNorm(const std::string& name) { return endsWith(name, ".bias") || isNorm(name); }

ParamSet ParamSet::select(const model::Transformer& model, Target target) {
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
    return set;
}

int64_t ParamSet::trainableCount() const {
    int64_t n = 0;
    for (const auto& t : m_trainables) n += t.tensor.numel();
    return n;
}

}  // namespace frugal::peft
