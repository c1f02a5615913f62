#include "zo/scheme.h"

#include <cmath>
#include <sstream>

namespace frugal::zo {

double evaluateLoss(const std::function<double()>& loss, int64_t& forwards, const char* what) {
    const double l = loss();
    ++forwards;
    if (!std::isfinite(l)) throw Diverged(cat("the loss ", what, " is ", l));
    return l;
}

UpdateRule ruleOf(const ZoConfig& c, const ZoOptimizer& o, double lr) {
    UpdateRule rule;
    rule.optimizer = &o;
    rule.lr = lr;
    rule.weightDecay = c.common.weightDecay;
    rule.momentum = c.momentum;
    rule.beta1 = c.beta1;
    rule.beta2 = c.beta2;
    rule.adamEps = c.adamEps;
    return rule;
}

namespace {
void none(const ZoConfig&) {}
std::string keyOf(const ZoConfig& c, const char* key) { return c.table + "." + key; }
}  // namespace

void requireOneDirection(const ZoConfig& c, const char* scheme) {
    if (c.querySchedule != QueryPolicy::Constant || c.queries != 1)
        failAt(keyOf(c, "queries"), c.table, ".scheme = \"", scheme, "\" takes one direction a step; set queries = 1");
}

void refuseMask(const ZoConfig& c, const char* scheme, const char* why) {
    if (c.sparsity > 0 || c.keepZeros)
        failAt(keyOf(c, c.sparsity > 0 ? "sparsity" : "keep_zeros"), c.table, ".scheme = \"", scheme, "\" ", why);
}

void requireCpu(const ZoConfig& c, const char* scheme) {
    if (c.common.device != "cpu")
        failAt(keyOf(c, "device"), c.table, ".scheme = \"", scheme, "\" runs on the CPU (its passes have no CUDA kernels yet)");
}

const std::vector<ZoScheme>& zoSchemes() {
    // name, description, keys it reads, stepper, departures, validation
    static const std::vector<ZoScheme> table = {
        {"mezo", "MeZO's step (the estimator, directions, optimiser and mask keys)", "", nullptr, "", none},
        {"fzoo",
         "FZOO: fzoo_batch one-sided Rademacher estimates around one L(θ), the SGD step divided by the standard "
         "deviation of the batch's losses",
         "fzoo_batch fzoo_batched", makeFzoo,
         "one batched forward for the batch's perturbed soft prompts (peft.target = prompt); for other targets the "
         "forwards one after another, where the reference's batched path for all weights is unfinished and off by "
         "default; L(θ) before the perturbed forwards, where the reference takes it after them",
         validateFzoo, fzooDirections, 0, nullptr, fzooSingleProcess},
        {"lezo",
         "LeZO: a random lezo_fraction of the decoder blocks perturbed and updated each step (the blocks drawn "
         "from the step's seed), the tensors outside the blocks every step",
         "lezo_fraction", makeLezo,
         "the tensors outside the decoder blocks (embeddings, final norm, head) perturbed every step; the share "
         "of blocks a step is lezo_fraction (the paper's defaults are not public)",
         validateLezo},
        {"lozo",
         "LOZO: per weight matrix a rank-r perturbation U Vᵀ (U drawn each step, V every ν steps), the other "
         "tensors Gaussian; LOZO-M with lozo_momentum > 0",
         "lozo_rank lozo_nu lozo_momentum", makeLozo,
         "the update uses the U that was measured (the reference draws another U on the steps that redraw V)",
         validateLozo},
        {"hizoo",
         "HiZOO: a diagonal Hessian estimate Σ⁻¹ from L(θ) and L(θ ± εΣ^½z), the perturbation and the step "
         "along Σ^½z",
         "hizoo_alpha", makeHizoo,
         "ĥ_i = h_i·δ·(z_i² − 1), the unbiased form, where the reference's h_i·|δ|·z_i² tracks tr + 2·diag; no "
         "absolute value per step (h floored at 1e-8 where used); three forwards a step (the reference's fourth, "
         "L at the new θ, only logs)",
         validateHizoo, nullptr, /*Σ⁻¹*/ 1},
        {"svrg",
         "MeZO-SVRG: every svrg_q steps a two-point estimate on svrg_batch examples at a snapshot θ̃ = θ; the other "
         "steps' minibatch estimates at θ corrected by the same minibatch's at θ̃ along the same z",
         "svrg_q svrg_batch svrg_lr_full", makeSvrg,
         "the snapshot θ̃ kept and the correction evaluated at it, as Algorithm 1 says (the reference's shallow "
         "copy never keeps θ̃, so its correction is taken at the current θ); one z for both minibatch estimates "
         "(the reference draws two); a large batch of svrg_batch examples drawn at each full step, where the "
         "reference uses its whole training subset; no lr annealing",
         validateSvrg, nullptr, /*θ̃, counted as fp32: an upper bound*/ 1, svrgLargestBatch, svrgSingleProcess},
    };
    return table;
}

const ZoScheme& mezoScheme() { return zoSchemes().front(); }

std::vector<std::string> zoSchemeNames() {
    std::vector<std::string> names;
    for (const auto& s : zoSchemes()) names.emplace_back(s.name);
    return names;
}

const ZoScheme& findZoScheme(const std::string& name) {
    std::string names;
    for (const auto& s : zoSchemes()) {
        if (name == s.name) return s;
        names += (names.empty() ? "" : ", ") + std::string(s.name);
    }
    fail("zo.scheme: unknown scheme '", name, "' (expected one of ", names, ")");
}

std::vector<std::string> zoSchemesReading(const std::string& key) {
    std::vector<std::string> rows;
    for (const auto& s : zoSchemes()) {
        std::istringstream words(s.reads);
        for (std::string word; words >> word;)
            if (word == key) {
                rows.emplace_back(s.name);
                break;
            }
    }
    return rows;
}

}  // namespace frugal::zo
