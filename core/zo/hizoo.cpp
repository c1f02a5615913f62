// HiZOO (Zhao et al., "Second-Order Fine-Tuning without Pain for LLMs: A Hessian Informed
// Zeroth-Order Optimizer", ICLR 2025, Yanjun-Zhao/HiZOO; zo/scheme.h): a diagonal Hessian
// estimate h ≈ diag ∇²L (the state Σ⁻¹, one fp32 tensor the size of the trainables, starting at
// 1) preconditions the perturbation and the step. With s = ε·z/√h:
//   l_0 = L(θ), l_± = L(θ ± s)                                    (three forwards)
//   δ = (l_+ + l_− − 2·l_0) / (2ε²)  (= ½ zᵀ(h^{-½} ∇²L h^{-½})z on a quadratic)
//   ĥ_i = h_i · δ · (z_i² − 1)        (E[ĥ_i] = (∇²L)_ii for a fixed h: Gaussian z)
//   h ← (1 − α)·h + α·ĥ, held at least 1e-2 where it is used
//   θ ← θ(1 − lr·λ) − lr · (l_+ − l_−)/(2ε) · z/√h     (h after this step's update)
// α = hizoo_alpha; α = 0 keeps h = 1, which is MeZO's step (with one more forward).

#include <cmath>
#include <mutex>

#include "zo/scheme.h"

namespace frugal::zo {

namespace {

// The least h used: a step is at most 10 × MeZO's along any coordinate (h starts at 1); an
// estimate driven to 0 or below by noise (ĥ is negative where z_i² < 1) cannot blow it up.
constexpr float kFloor = 1e-2f;

class HizooStepper : public ZoStepper {
public:
    HizooStepper(const ZoConfig& c, const std::vector<Trainable>& params) : m_c(c), m_params(params) {
        for (const auto& p : m_params) m_h.push_back(torch::ones({p.tensor.numel()}, torch::kFloat32));
    }

    int64_t stateBytes() const override {
        int64_t bytes = 0;
        for (const auto& t : m_h) bytes += t.nbytes();
        return bytes;
    }

    double step(StepRecord& rec, const std::function<double()>* loss, int64_t& forwards) override {
        const bool replay = loss == nullptr;
        if (rec.seeds.empty() || rec.seeds.size() > 2) fail("HiZOO: step ", rec.step, " has ", rec.seeds.size(), " rows (expected 1, or 2 in a trajectory)");
        const uint64_t seed = rec.seeds[0];
        const double eps = m_c.eps;
        double base = NAN, plus = NAN, minus = NAN;
        if (!replay) base = evaluateLoss(*loss, forwards, "at θ");
        perturbScaled(seed, +eps);
        if (!replay) plus = evaluateLoss(*loss, forwards, "at θ+εz/√h");
        perturbScaled(seed, -2 * eps);
        if (!replay) minus = evaluateLoss(*loss, forwards, "at θ−εz/√h");
        perturbScaled(seed, +eps);
        // the trajectory keeps the projected gradient and δ (in the choice column's stead: a
        // second "query" row with the same seed), so replay rebuilds h without the forwards
        if (!replay) {
            rec.grads = {(plus - minus) / (2 * eps), (plus + minus - 2 * base) / (2 * eps * eps)};
            rec.seeds = {seed, seed};
        }
        if (rec.grads.size() != 2 || rec.seeds.size() != 2)
            fail("trajectory step ", rec.step, ": HiZOO keeps two rows a step (the projected gradient and the curvature)");
        move(seed, rec.grads[0], rec.grads[1], rec.lr);
        if (!replay) {
            m_curvature = rec.grads[1];
            m_mean = m_sum / static_cast<double>(m_count);
        }
        return replay ? NAN : base;
    }

    size_t directions(const StepRecord&) const override { return 1; }

    std::vector<std::pair<std::string, double>> series() const override {
        return {{"hizoo/hessian_mean", m_mean}, {"hizoo/hessian_min", m_min}, {"hizoo/hessian_max", m_max},
                {"hizoo/curvature", m_curvature}};
    }

    // The estimate h of tensor I (for tests).
    const torch::Tensor& hessian(size_t i) const { return m_h.at(i); }

private:
    // θ ← θ + SCALE·z/√h
    void perturbScaled(uint64_t seed, double scale) {
        const auto s = static_cast<float>(scale);
        forEachWeightChunk(m_params, [&](size_t pi, float* w, int64_t start, int64_t len) {
            std::vector<float> z(static_cast<size_t>(len));
            directionValues(m_params[pi], seed, DirectionLaw::Gaussian, start, len, z.data());
            const float* h = m_h[pi].data_ptr<float>() + start;
            for (int64_t e = 0; e < len; ++e) w[e] += s * z[static_cast<size_t>(e)] / std::sqrt(std::max(h[e], kFloor));
        });
    }

    // h ← (1 − α)·h + α·h·δ·(z² − 1), then θ ← θ(1 − lr·λ) − lr·g·z/√h with the new h, element by
    // element in one threaded pass (each element's arithmetic alone: any thread count, the same
    // bits); the series' sum, min and max gathered per chunk.
    void move(uint64_t seed, double g, double curvature, double lr) {
        const auto lrg = static_cast<float>(lr * g), a = static_cast<float>(m_c.hizooAlpha),
                   d = static_cast<float>(curvature);
        m_sum = 0;
        m_count = 0;
        m_min = INFINITY;
        m_max = -INFINITY;
        std::mutex gather;
        forEachWeightChunk(m_params, [&](size_t pi, float* w, int64_t start, int64_t len) {
            const float keep = m_params[pi].decay ? static_cast<float>(1.0 - lr * m_c.common.weightDecay) : 1.0f;
            std::vector<float> z(static_cast<size_t>(len));
            directionValues(m_params[pi], seed, DirectionLaw::Gaussian, start, len, z.data());
            float* h = m_h[pi].data_ptr<float>() + start;
            double sum = 0;
            float lo = INFINITY, hi = -INFINITY;
            for (int64_t e = 0; e < len; ++e) {
                const float zi = z[static_cast<size_t>(e)];
                if (a != 0) h[e] = (1 - a) * h[e] + a * (std::max(h[e], kFloor) * d * (zi * zi - 1));
                w[e] = w[e] * keep - lrg * (zi / std::sqrt(std::max(h[e], kFloor)));
                sum += h[e];
                lo = std::min(lo, h[e]);
                hi = std::max(hi, h[e]);
            }
            const std::lock_guard<std::mutex> lock(gather);
            m_sum += sum;
            m_count += len;
            m_min = std::min(m_min, double(lo));
            m_max = std::max(m_max, double(hi));
        });
    }

    const ZoConfig& m_c;
    std::vector<Trainable> m_params;
    std::vector<torch::Tensor> m_h;  // per trainable, flat fp32
    double m_mean = 1, m_min = 1, m_max = 1, m_curvature = 0, m_sum = 0;
    int64_t m_count = 0;
};

}  // namespace

std::unique_ptr<ZoStepper> makeHizoo(const ZoConfig& c, const std::vector<Trainable>& params) {
    return std::make_unique<HizooStepper>(c, params);
}

torch::Tensor hizooHessian(const ZoStepper& stepper, size_t tensor) {
    const auto* h = dynamic_cast<const HizooStepper*>(&stepper);
    if (!h) fail("hizooHessian: not a HiZOO stepper");
    return h->hessian(tensor);
}

void validateHizoo(const ZoConfig& c) {
    const auto k = [&c](const char* key) { return c.table + "." + key; };
    if (c.optimizer != &zoSgd())
        failAt(k("optimizer"), c.table, ".scheme = \"hizoo\" makes its own preconditioned step; set optimizer = \"sgd\"");
    requireOneDirection(c, "hizoo");
    if (c.direction != DirectionLaw::Gaussian)
        failAt(k("direction"), c.table, ".scheme = \"hizoo\" draws Gaussian directions (its Hessian estimate needs E[z²] = 1)");
    refuseMask(c, "hizoo", "perturbs every trainable; no mask");
    requireCpu(c, "hizoo");
}

}  // namespace frugal::zo
