// HiZOO (Zhao et al., "Second-Order Fine-Tuning without Pain for LLMs: A Hessian Informed
// Zeroth-Order Optimizer", ICLR 2025, Yanjun-Zhao/HiZOO; zo/scheme.h): a diagonal Hessian
// estimate h ≈ diag ∇²L (the state Σ⁻¹, one fp32 tensor the size of the trainables, starting at
// 1) preconditions the perturbation and the step. With s = ε·z/√h:
//   l_0 = L(θ), l_± = L(θ ± s)                                    (three forwards)
//   δ = (l_+ + l_− − 2·l_0) / (2ε²)  (= ½ zᵀ(h^{-½} ∇²L h^{-½})z on a quadratic)
//   ĥ_i = h_i · δ · (z_i² − 1)        (E[ĥ_i] = (∇²L)_ii for a fixed h: Gaussian z)
//   h ← (1 − α)·h + α·ĥ, held at least 1e-8 where it is used
//   θ ← θ(1 − lr·λ) − lr · (l_+ − l_−)/(2ε) · z/√h     (h after this step's update)
// α = hizoo_alpha; α = 0 keeps h = 1, which is MeZO's step (with one more forward).

#include <cmath>

#include "zo/scheme.h"

namespace frugal::zo {

namespace {

constexpr float kFloor = 1e-8f;

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
        updateHessian(seed, rec.grads[1]);
        move(seed, rec.grads[0], rec.lr);
        if (!replay) {
            m_curvature = rec.grads[1];
            double sum = 0, lo = INFINITY, hi = -INFINITY;
            int64_t n = 0;
            for (const auto& h : m_h) {
                sum += h.sum().item<double>();
                lo = std::min(lo, h.min().item<double>());
                hi = std::max(hi, h.max().item<double>());
                n += h.numel();
            }
            m_mean = sum / static_cast<double>(n);
            m_min = lo;
            m_max = hi;
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

    void updateHessian(uint64_t seed, double curvature) {
        const auto a = static_cast<float>(m_c.hizooAlpha), d = static_cast<float>(curvature);
        if (a == 0) return;
        for (size_t pi = 0; pi < m_params.size(); ++pi) {
            const int64_t n = m_h[pi].numel();
            float* h = m_h[pi].data_ptr<float>();
            std::vector<float> z(static_cast<size_t>(std::min(n, kChunk)));
            for (int64_t start = 0; start < n; start += kChunk) {
                const int64_t len = std::min(kChunk, n - start);
                directionValues(m_params[pi], seed, DirectionLaw::Gaussian, start, len, z.data());
                for (int64_t e = 0; e < len; ++e) {
                    const float zi = z[static_cast<size_t>(e)];
                    float& hi = h[start + e];
                    hi = (1 - a) * hi + a * (std::max(hi, kFloor) * d * (zi * zi - 1));
                }
            }
        }
    }

    void move(uint64_t seed, double g, double lr) {
        const auto lrg = static_cast<float>(lr * g);
        forEachWeightChunk(m_params, [&](size_t pi, float* w, int64_t start, int64_t len) {
            const float keep = m_params[pi].decay ? static_cast<float>(1.0 - lr * m_c.common.weightDecay) : 1.0f;
            std::vector<float> z(static_cast<size_t>(len));
            directionValues(m_params[pi], seed, DirectionLaw::Gaussian, start, len, z.data());
            const float* h = m_h[pi].data_ptr<float>() + start;
            for (int64_t e = 0; e < len; ++e)
                w[e] = w[e] * keep - lrg * (z[static_cast<size_t>(e)] / std::sqrt(std::max(h[e], kFloor)));
        });
    }

    const ZoConfig& m_c;
    std::vector<Trainable> m_params;
    std::vector<torch::Tensor> m_h;  // per trainable, flat fp32
    double m_mean = 1, m_min = 1, m_max = 1, m_curvature = 0;
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
    if (c.querySchedule != QueryPolicy::Constant || c.queries != 1)
        failAt(k("queries"), c.table, ".scheme = \"hizoo\" takes one direction a step; set queries = 1");
    if (c.direction != DirectionLaw::Gaussian)
        failAt(k("direction"), c.table, ".scheme = \"hizoo\" draws Gaussian directions (its Hessian estimate needs E[z²] = 1)");
    if (c.sparsity > 0 || c.keepZeros)
        failAt(k(c.sparsity > 0 ? "sparsity" : "keep_zeros"), c.table, ".scheme = \"hizoo\" perturbs every trainable; no mask");
    if (c.common.device != "cpu")
        failAt(k("device"), c.table, ".scheme = \"hizoo\" runs on the CPU (its passes have no CUDA kernels yet)");
}

}  // namespace frugal::zo
