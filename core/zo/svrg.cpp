// MeZO-SVRG (Gautam et al., "Variance-reduced Zeroth-Order Methods for Fine-Tuning Language
// Models", ICML 2024, Algorithm 1; zo/scheme.h): every svrg_q steps a two-point estimate on a
// large batch (svrg_batch examples) at the current θ, kept with θ as the snapshot θ̃; the other
// steps correct the minibatch estimate at θ by the same minibatch's estimate at θ̃, along the same
// z, and add the large batch's:
//   full step (step − 1 ≡ 0 mod q):  c̃ = (L_big(θ+εz̃) − L_big(θ−εz̃))/2ε;  θ̃ ← θ;  θ ← θ − η1·c̃·z̃
//   other steps:  g = (L_B(θ+εz) − L_B(θ−εz))/2ε,  g̃ = (L_B(θ̃+εz) − L_B(θ̃−εz))/2ε,
//                 θ ← θ − η2·[(g − g̃)·z + c̃·z̃]
// The large batch's estimate is c̃ along the seeded z̃, so it needs no buffer: the state is θ̃ (one
// copy of the trainables in their dtype). η2 is the run's lr (and its schedule), η1 =
// svrg_lr_full (0: the same). A large-batch forward counts as svrg_batch / batch_size forwards.
// The trajectory keeps, per step, its z and g (and for the other steps a second row: z and g̃),
// so replay rebuilds θ̃ and the moves without the forwards.

#include <cmath>

#include "zo/scheme.h"

namespace frugal::zo {

namespace {

class SvrgStepper : public ZoStepper {
public:
    SvrgStepper(const ZoConfig& c, const std::vector<Trainable>& params) : m_c(c), m_params(params) {
        for (const auto& p : m_params) m_snapshot.push_back(p.tensor.clone());
    }

    int64_t stateBytes() const override {
        int64_t bytes = 0;
        for (const auto& t : m_snapshot) bytes += t.nbytes();
        return bytes;
    }

    void setLargeBatch(std::function<std::function<double()>(int64_t)> draw) override { m_draw = std::move(draw); }

    double step(StepRecord& rec, const std::function<double()>* loss, int64_t& forwards) override {
        const bool replay = loss == nullptr;
        const bool full = (rec.step - 1) % m_c.svrgQ == 0;
        const uint64_t seed = rec.seeds.at(0);
        const double eps = m_c.eps;
        const auto law = DirectionLaw::Gaussian;
        const auto twoPoint = [&](const std::function<double()>& f, int64_t per, double& plusOut) {
            perturb(m_params, seed, +eps, law);
            const double plus = replay ? 0 : evaluateLoss(f, forwards, "at θ+εz");
            perturb(m_params, seed, -2 * eps, law);
            const double minus = replay ? 0 : evaluateLoss(f, forwards, "at θ−εz");
            perturb(m_params, seed, +eps, law);
            forwards += 2 * (per - 1);
            plusOut = plus;
            return (plus - minus) / (2 * eps);
        };
        double logged = NAN;
        if (full) {
            // the passes are made in replay too (their rounding is part of the trajectory)
            std::function<double()> big;
            int64_t per = 1;
            if (!replay) {
                if (!m_draw) fail("MeZO-SVRG: no large batch to draw from");
                big = m_draw(m_c.svrgBatch);
                per = std::max<int64_t>(1, m_c.svrgBatch / std::max<int64_t>(1, m_c.common.batchSize));
            }
            const double c = twoPoint(big, per, logged);
            if (!replay) {
                rec.grads = {c};
                rec.seeds = {seed};
            }
            if (rec.grads.size() != 1) fail("trajectory step ", rec.step, ": a MeZO-SVRG full step keeps one row");
            for (size_t i = 0; i < m_params.size(); ++i) m_snapshot[i].copy_(m_params[i].tensor);
            m_fullSeed = seed;
            m_fullGrad = rec.grads[0];
            const double lrFull = m_c.svrgLrFull > 0 ? m_c.svrgLrFull : rec.lr;
            applyUpdate(m_params, {{seed, m_fullGrad}}, law, ruleOf(m_c, zoSgd(), lrFull), m_none);
            m_variance = NAN;
            return logged;
        }
        // at θ, then at θ̃ (the model's tensors hold θ̃ meanwhile), the same minibatch and z
        const std::function<double()> none;
        const std::function<double()>& f = replay ? none : *loss;
        double unused = 0;
        const double g = twoPoint(f, 1, logged);
        swapWithSnapshot();
        const double gSnapshot = twoPoint(f, 1, unused);
        swapWithSnapshot();
        if (!replay) {
            rec.seeds = {seed, seed};
            rec.grads = {g, gSnapshot};
            m_variance = (g - gSnapshot) * (g - gSnapshot);
        }
        if (rec.grads.size() != 2) fail("trajectory step ", rec.step, ": a MeZO-SVRG step keeps two rows");
        // θ ← θ − η2·[(g − g̃)·z + c̃·z̃]: applyUpdate averages its two queries, hence the 2
        applyUpdate(m_params, {{seed, 2 * (rec.grads[0] - rec.grads[1])}, {m_fullSeed, 2 * m_fullGrad}}, law,
                    ruleOf(m_c, zoSgd(), rec.lr), m_none);
        return logged;
    }

    size_t directions(const StepRecord&) const override { return 1; }

    std::vector<std::pair<std::string, double>> series() const override {
        if (std::isnan(m_variance)) return {{"svrg/full_grad", m_fullGrad}};  // a full step: no correction
        return {{"svrg/full_grad", m_fullGrad}, {"svrg/correction_sq", m_variance}};
    }

private:
    // θ ↔ θ̃ in place (the snapshot's forwards run on the model's own tensors)
    void swapWithSnapshot() {
        for (size_t i = 0; i < m_params.size(); ++i) {
            torch::Tensor t = m_params[i].tensor;
            const torch::Tensor keep = t.clone();
            t.copy_(m_snapshot[i]);
            m_snapshot[i].copy_(keep);
        }
    }

    const ZoConfig& m_c;
    std::vector<Trainable> m_params;
    std::vector<torch::Tensor> m_snapshot;
    std::function<std::function<double()>(int64_t)> m_draw;
    OptimizerState m_none;
    uint64_t m_fullSeed = 0;
    double m_fullGrad = 0, m_variance = NAN;
};

}  // namespace

std::unique_ptr<ZoStepper> makeSvrg(const ZoConfig& c, const std::vector<Trainable>& params) {
    return std::make_unique<SvrgStepper>(c, params);
}

int64_t svrgLargestBatch(const ZoConfig& c) { return std::max(c.common.batchSize, c.svrgBatch); }

const char* svrgSingleProcess(const ZoConfig&) { return " (its large batch is one process's)"; }

void validateSvrg(const ZoConfig& c) {
    const auto k = [&c](const char* key) { return c.table + "." + key; };
    if (c.svrgQ < 1) failAt(k("svrg_q"), c.table, ".svrg_q must be at least 1, got ", c.svrgQ);
    if (c.svrgBatch < c.common.batchSize)
        failAt(k("svrg_batch"), c.table, ".svrg_batch (", c.svrgBatch, ") must be at least batch_size (",
               c.common.batchSize, "): it is the large batch of the snapshot's estimate");
    if (c.estimator != Estimator::Central)
        failAt(k("estimator"), c.table, ".scheme = \"svrg\" makes central two-point estimates; set estimator = \"central\"");
    if (c.optimizer != &zoSgd())
        failAt(k("optimizer"), c.table, ".scheme = \"svrg\" makes its own variance-reduced SGD step; set optimizer = \"sgd\"");
    requireOneDirection(c, "svrg");
    if (c.direction != DirectionLaw::Gaussian)
        failAt(k("direction"), c.table, ".scheme = \"svrg\" draws Gaussian directions");
    refuseMask(c, "svrg", "perturbs every trainable; no mask");
}

}  // namespace frugal::zo
