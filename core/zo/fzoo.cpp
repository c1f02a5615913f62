// FZOO (ICLR 2026, DKmiyan/FZOO; zo/scheme.h): each step, n = fzoo_batch one-sided Rademacher
// estimates around one L(θ), and the step normalised by the spread of their losses:
//   l_i = L(θ + ε z_i), l_0 = L(θ), σ = the standard deviation (population) of l_1 … l_n,
//   θ ← θ − lr · (1/n) Σ_i (l_i − l_0)/σ · z_i.
// Since l_i − l_0 ≈ ε zᵢᵀ∇L and σ ≈ ε ‖∇L‖ on a smooth loss, the step is normalised SGD along the
// estimate, free of ε and of the loss's scale. n + 1 forwards a step. The projected gradients
// (l_i − l_0)/σ are the trajectory's, so replay needs no σ. A batch whose losses are all equal
// (σ = 0) moves nothing. On a soft prompt (peft.target = "prompt", fzoo_batched) the n perturbed
// prompts go through the model as n replicas of the batch in one forward, as the reference's
// batched path means to (the prompt itself is never perturbed in place, so replay makes no
// passes there either); it counts as n forwards.

#include <cmath>

#include "zo/scheme.h"

namespace frugal::zo {

namespace {

class FzooStepper : public ZoStepper {
public:
    FzooStepper(const ZoConfig& c, const std::vector<Trainable>& params) : m_c(c), m_params(params) {
        m_batched = c.fzooBatched && c.common.peft.target == peft::Target::Prompt && m_params.size() == 1;
    }

    void setPromptBatch(std::function<std::vector<double>(const torch::Tensor&)> losses) override {
        m_promptLosses = std::move(losses);
    }

    double step(StepRecord& rec, const std::function<double()>* loss, int64_t& forwards) override {
        const bool replay = loss == nullptr;
        const size_t n = rec.seeds.size();
        const double eps = m_c.eps;
        double base = NAN;
        if (!replay) base = evaluateLoss(*loss, forwards, "at θ");
        std::vector<double> losses(n, 0.0);
        if (m_batched) {
            if (!replay) {
                if (!m_promptLosses) fail("FZOO: no batched forward for the soft prompt");
                losses = m_promptLosses(fzooPrompts(m_params[0], rec.seeds, eps));
                if (losses.size() != n) fail("FZOO: the batched forward gave ", losses.size(), " losses for ", n, " prompts");
                forwards += static_cast<int64_t>(n);
                for (double l : losses)
                    if (!std::isfinite(l)) throw Diverged(cat("the loss at θ+εz is ", l));
            }
        } else {
            for (size_t i = 0; i < n; ++i) {
                perturb(m_params, rec.seeds[i], +eps, DirectionLaw::Rademacher);
                if (!replay) losses[i] = evaluateLoss(*loss, forwards, "at θ+εz");
                perturb(m_params, rec.seeds[i], -eps, DirectionLaw::Rademacher);
            }
        }
        if (!replay) {
            double mean = 0, var = 0;
            for (double l : losses) mean += l;
            mean /= static_cast<double>(n);
            for (double l : losses) var += (l - mean) * (l - mean);
            const double sigma = std::sqrt(var / static_cast<double>(n));
            rec.grads.assign(n, 0.0);
            if (sigma > 0)
                for (size_t i = 0; i < n; ++i) rec.grads[i] = (losses[i] - base) / sigma;
            m_sigma = sigma;
        }
        if (rec.grads.size() != n) fail("trajectory step ", rec.step, ": seeds and gradients differ in number");
        // a batch of equal losses (σ = 0, every projected gradient 0) moves nothing, decay included
        bool moves = false;
        for (double g : rec.grads) moves = moves || g != 0;
        if (!moves) return base;
        std::vector<Query> queries;
        for (size_t i = 0; i < n; ++i) queries.push_back({rec.seeds[i], rec.grads[i]});
        applyUpdate(m_params, queries, DirectionLaw::Rademacher, ruleOf(m_c, zoSgd(), rec.lr), m_state);
        return base;
    }

    std::vector<std::pair<std::string, double>> series() const override { return {{"fzoo/loss_std", m_sigma}}; }

private:
    const ZoConfig& m_c;
    std::vector<Trainable> m_params;
    OptimizerState m_state;  // SGD keeps none
    double m_sigma = 0;
    bool m_batched = false;
    std::function<std::vector<double>(const torch::Tensor&)> m_promptLosses;
};

}  // namespace

torch::Tensor fzooPrompts(const Trainable& prompt, const std::vector<uint64_t>& seeds, double eps) {
    const torch::Tensor base = prompt.tensor.detach();
    torch::Tensor out = torch::empty({static_cast<int64_t>(seeds.size()), base.size(0), base.size(1)}, base.options());
    for (size_t i = 0; i < seeds.size(); ++i) {
        torch::Tensor p = out[static_cast<int64_t>(i)];
        p.copy_(base);
        perturb({Trainable{prompt.name, p, prompt.index, prompt.decay}}, seeds[i], +eps, DirectionLaw::Rademacher);
    }
    return out;
}

std::unique_ptr<ZoStepper> makeFzoo(const ZoConfig& c, const std::vector<Trainable>& params) {
    return std::make_unique<FzooStepper>(c, params);
}

int64_t fzooDirections(const ZoConfig& c) { return c.fzooBatch; }

const char* fzooSingleProcess(const ZoConfig& c) {
    return c.fzooBatched && c.common.peft.target == peft::Target::Prompt ? " with fzoo_batched = true; set it to false"
                                                                         : nullptr;
}

void validateFzoo(const ZoConfig& c) {
    const auto k = [&c](const char* key) { return c.table + "." + key; };
    if (c.fzooBatch < 2)
        failAt(k("fzoo_batch"), c.table, ".fzoo_batch must be at least 2 (σ of one loss is 0), got ", c.fzooBatch);
    if (c.optimizer != &zoSgd())
        failAt(k("optimizer"), c.table, ".scheme = \"fzoo\" makes its own normalised SGD step; set optimizer = \"sgd\"");
    refuseMask(c, "fzoo", "perturbs every trainable; no mask");
    if (c.direction == DirectionLaw::Sphere)
        failAt(k("direction"), c.table, ".scheme = \"fzoo\" draws Rademacher directions (zo.direction is not read)");
    if (c.querySchedule != QueryPolicy::Constant || c.queries != 1)
        failAt(k("queries"), c.table, ".scheme = \"fzoo\" draws fzoo_batch directions a step; leave queries at 1");
}

}  // namespace frugal::zo
