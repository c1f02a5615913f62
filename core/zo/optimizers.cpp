#include "zo/optimizers.h"

#include <sstream>

#include <cmath>

#include "common/error.h"
#include "cuda/direction_math.cuh"

namespace frugal::zo {

namespace {

// A row's element rule (cuda/direction_math.cuh, math::ruleElement: the same function the CUDA
// update kernel calls) over one chunk. The rules, in the table's words:
// sgd: θ ← θ(1 − lr·λ) − lr·ĝ (MeZO)
// sign: θ ← θ(1 − lr·λ) − lr·sign(ĝ), element-wise (ZO-SignSGD)
// momentum: m ← μ·m + ĝ; θ ← θ(1 − lr·λ) − lr·m (torch's SGD momentum, dampening 0)
// nesterov: m ← μ·m + ĝ; θ ← θ(1 − lr·λ) − lr·(ĝ + μ·m) (torch's SGD with nesterov=True,
//   dampening 0; Sutskever et al. 2013's look-ahead form)
// adam: m ← β1·m + (1−β1)·ĝ; v ← β2·v + (1−β2)·ĝ²; θ ← θ(1 − lr·λ) − lr·m̂/(√v̂ + eps), m̂ and v̂
//   bias-corrected at step t (AdamW-style decoupled decay; ZO-Adam)
// lion: u ← β1·m + (1−β1)·ĝ; θ ← θ(1 − lr·λ) − lr·sign(u); m ← β2·m + (1−β2)·ĝ (Chen et al. 2023,
//   "Symbolic Discovery of Optimization Algorithms", Algorithm 2, with ĝ the ZO estimate; the
//   paper's β2 is 0.99, this table's shared default 0.999)
template <cuda::Rule R>
void byRule(const UpdateRule& rule, const UpdateChunk& c) {
    const cuda::RuleFloats f = ruleFloats(rule, c.keep);
    for (int64_t i = 0; i < c.n; ++i)
        if (c.live(i))
            c.w[i] = cuda::math::ruleElement(R, c.w[i], c.g[i], c.m ? c.m + i : nullptr, c.v ? c.v + i : nullptr, f);
}

}  // namespace

const std::vector<ZoOptimizer>& zoOptimizers() {
    using R = cuda::Rule;
    // name, rule, state buffers, counts steps, fusable, conservative, element rule (and its chunk
    // loop), keys it reads
    static const std::vector<ZoOptimizer> table = {
        {"sgd", "θ ← θ(1 − lr·λ) − lr·ĝ", 0, false, true, false, R::Sgd, byRule<R::Sgd>, ""},
        {"momentum", "m ← μ·m + ĝ; θ ← θ(1 − lr·λ) − lr·m", 1, false, false, false, R::Momentum, byRule<R::Momentum>,
         "momentum"},
        {"nesterov", "m ← μ·m + ĝ; θ ← θ(1 − lr·λ) − lr·(ĝ + μ·m)", 1, false, false, false, R::Nesterov,
         byRule<R::Nesterov>, "momentum"},
        {"sign", "θ ← θ(1 − lr·λ) − lr·sign(ĝ)", 0, false, false, false, R::Sign, byRule<R::Sign>, "sign",
         /*signRule=*/true},
        {"conservative", "the best of θ, θ − lr·ĝ, θ + lr·ĝ on the step's batch", 0, false, false, true, R::Sgd,
         byRule<R::Sgd>, ""},
        {"adam", "m, v: Adam's moments of ĝ; θ ← θ(1 − lr·λ) − lr·m̂/(√v̂ + eps)", 2, true, false, false, R::Adam,
         byRule<R::Adam>, "beta1 beta2 adam_eps"},
        {"lion", "u = β1·m + (1 − β1)·ĝ; θ ← θ(1 − lr·λ) − lr·sign(u); m ← β2·m + (1 − β2)·ĝ", 1, false, false, false,
         R::Lion, byRule<R::Lion>, "beta1 beta2"},
    };
    return table;
}

cuda::RuleFloats ruleFloats(const UpdateRule& rule, float keep) {
    cuda::RuleFloats f;
    f.lr = static_cast<float>(rule.lr);
    f.keep = keep;
    f.momentum = static_cast<float>(rule.momentum);
    f.beta1 = static_cast<float>(rule.beta1);
    f.beta2 = static_cast<float>(rule.beta2);
    f.c1 = static_cast<float>(1.0 - std::pow(rule.beta1, static_cast<double>(rule.t)));
    f.c2 = static_cast<float>(1.0 - std::pow(rule.beta2, static_cast<double>(rule.t)));
    f.adamEps = static_cast<float>(rule.adamEps);
    return f;
}

const ZoOptimizer& zoSgd() { return zoOptimizers().front(); }

std::vector<std::string> zoOptimizerNames() {
    std::vector<std::string> names;
    for (const auto& o : zoOptimizers()) names.emplace_back(o.name);
    return names;
}

const ZoOptimizer& findZoOptimizer(const std::string& name) {
    std::string names;
    for (const auto& o : zoOptimizers()) {
        if (name == o.name) return o;
        names += (names.empty() ? "" : ", ") + std::string(o.name);
    }
    fail("zo.optimizer: unknown optimizer '", name, "' (expected one of ", names, ")");
}

namespace {
bool reads(const ZoOptimizer& o, const std::string& key) {
    std::istringstream words(o.reads);
    for (std::string word; words >> word;)
        if (word == key) return true;
    return false;
}
}  // namespace

std::vector<std::string> zoOptimizersReading(const std::string& key) {
    std::vector<std::string> rows;
    for (const auto& o : zoOptimizers())
        if (reads(o, key)) rows.emplace_back(o.name);
    return rows;
}


}  // namespace frugal::zo
