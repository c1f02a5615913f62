#include "zo/optimizers.h"

#include <sstream>

#include <cmath>

#include "common/error.h"

namespace frugal::zo {

namespace {

// sgd: θ ← θ(1 − lr·λ) − lr·ĝ (MeZO)
void sgd(const UpdateRule& rule, const UpdateChunk& c) {
    const auto lr = static_cast<float>(rule.lr);
    for (int64_t i = 0; i < c.n; ++i)
        if (c.live(i)) c.w[i] = c.w[i] * c.keep - lr * c.g[i];
}

// sign: θ ← θ(1 − lr·λ) − lr·sign(ĝ), element-wise (ZO-SignSGD)
void sign(const UpdateRule& rule, const UpdateChunk& c) {
    const auto lr = static_cast<float>(rule.lr);
    for (int64_t i = 0; i < c.n; ++i)
        if (c.live(i)) c.w[i] = c.w[i] * c.keep - lr * static_cast<float>((c.g[i] > 0) - (c.g[i] < 0));
}

// momentum: m ← μ·m + ĝ; θ ← θ(1 − lr·λ) − lr·m (torch's SGD momentum, dampening 0)
void momentum(const UpdateRule& rule, const UpdateChunk& c) {
    const auto lr = static_cast<float>(rule.lr);
    const auto mu = static_cast<float>(rule.momentum);
    for (int64_t i = 0; i < c.n; ++i) {
        if (!c.live(i)) continue;
        float& mi = c.m[i];
        mi = mu * mi + c.g[i];
        c.w[i] = c.w[i] * c.keep - lr * mi;
    }
}

// nesterov: m ← μ·m + ĝ; θ ← θ(1 − lr·λ) − lr·(ĝ + μ·m) (torch's SGD with nesterov=True,
// dampening 0; Sutskever et al. 2013's look-ahead form)
void nesterov(const UpdateRule& rule, const UpdateChunk& c) {
    const auto lr = static_cast<float>(rule.lr);
    const auto mu = static_cast<float>(rule.momentum);
    for (int64_t i = 0; i < c.n; ++i) {
        if (!c.live(i)) continue;
        float& mi = c.m[i];
        mi = mu * mi + c.g[i];
        c.w[i] = c.w[i] * c.keep - lr * (c.g[i] + mu * mi);
    }
}

// adam: m ← β1·m + (1−β1)·ĝ; v ← β2·v + (1−β2)·ĝ²; θ ← θ(1 − lr·λ) − lr·m̂/(√v̂ + eps), m̂ and v̂
// bias-corrected at step t (AdamW-style decoupled decay; ZO-Adam)
void adam(const UpdateRule& rule, const UpdateChunk& c) {
    const auto lr = static_cast<float>(rule.lr);
    const auto b1 = static_cast<float>(rule.beta1), b2 = static_cast<float>(rule.beta2);
    const auto c1 = static_cast<float>(1.0 - std::pow(rule.beta1, static_cast<double>(rule.t)));
    const auto c2 = static_cast<float>(1.0 - std::pow(rule.beta2, static_cast<double>(rule.t)));
    const auto adamEps = static_cast<float>(rule.adamEps);
    for (int64_t i = 0; i < c.n; ++i) {
        if (!c.live(i)) continue;
        float& mi = c.m[i];
        float& vi = c.v[i];
        mi = b1 * mi + (1 - b1) * c.g[i];
        vi = b2 * vi + (1 - b2) * c.g[i] * c.g[i];
        c.w[i] = c.w[i] * c.keep - lr * (mi / c1) / (std::sqrt(vi / c2) + adamEps);
    }
}

// lion: u ← β1·m + (1−β1)·ĝ; θ ← θ(1 − lr·λ) − lr·sign(u); m ← β2·m + (1−β2)·ĝ (Chen et al.
// 2023, "Symbolic Discovery of Optimization Algorithms", Algorithm 2, with ĝ the ZO estimate; the
// paper's β2 is 0.99, this table's shared default 0.999)
void lion(const UpdateRule& rule, const UpdateChunk& c) {
    const auto lr = static_cast<float>(rule.lr);
    const auto b1 = static_cast<float>(rule.beta1), b2 = static_cast<float>(rule.beta2);
    for (int64_t i = 0; i < c.n; ++i) {
        if (!c.live(i)) continue;
        float& mi = c.m[i];
        const float u = b1 * mi + (1 - b1) * c.g[i];
        c.w[i] = c.w[i] * c.keep - lr * static_cast<float>((u > 0) - (u < 0));
        mi = b2 * mi + (1 - b2) * c.g[i];
    }
}

}  // namespace

const std::vector<ZoOptimizer>& zoOptimizers() {
    // name, rule, state buffers, counts steps, fusable, conservative, element rule, keys it reads
    static const std::vector<ZoOptimizer> table = {
        {"sgd", "θ ← θ(1 − lr·λ) − lr·ĝ", 0, false, true, false, sgd, ""},
        {"momentum", "m ← μ·m + ĝ; θ ← θ(1 − lr·λ) − lr·m", 1, false, false, false, momentum, "momentum"},
        {"nesterov", "m ← μ·m + ĝ; θ ← θ(1 − lr·λ) − lr·(ĝ + μ·m)", 1, false, false, false, nesterov, "momentum"},
        {"sign", "θ ← θ(1 − lr·λ) − lr·sign(ĝ)", 0, false, false, false, sign, "sign", /*signRule=*/true},
        {"conservative", "the best of θ, θ − lr·ĝ, θ + lr·ĝ on the step's batch", 0, false, false, true, sgd, ""},
        {"adam", "m, v: Adam's moments of ĝ; θ ← θ(1 − lr·λ) − lr·m̂/(√v̂ + eps)", 2, true, false, false, adam,
         "beta1 beta2 adam_eps"},
        {"lion", "u = β1·m + (1 − β1)·ĝ; θ ← θ(1 − lr·λ) − lr·sign(u); m ← β2·m + (1 − β2)·ĝ", 1, false, false, false,
         lion, "beta1 beta2"},
    };
    return table;
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
