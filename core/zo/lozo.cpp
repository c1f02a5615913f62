// LOZO (Chen et al., "Enhancing Zeroth-order Fine-tuning for Language Models with Low-rank
// Structures", ICLR 2025, optsuite/LOZO; zo/scheme.h): per weight matrix W [m, n] (a tensor of
// two or more dimensions, its trailing ones flattened) the perturbation is Z = U Vᵀ, U [m, r] and
// V [n, r] standard Gaussian, no scaling; U is drawn each step (from the step's seed), V every ν
// steps (from the seed of the step that begins its period) and kept between. Tensors of one
// dimension take MeZO's Gaussian z. The central estimate g = (L(θ+εZ) − L(θ−εZ)) / 2ε, and
//   LOZO:   W ← W(1 − lr·λ) − lr · g · U Vᵀ
//   LOZO-M: M ← β·M + (1 − β)·g·U (M [m, r]; the first M = g·U), and when V is drawn again
//           M ← β·M·V_oldᵀ·V_new / n + (1 − β)·g·U; W ← W(1 − lr·λ) − lr · M Vᵀ
//           (one-dimensional tensors: m ← β·m + (1 − β)·g·z, θ ← θ − lr·m).
// E_U[g·U Vᵀ] = ∇L·V Vᵀ: the estimate is the gradient projected on V's column space. Each element
// of U Vᵀ is Σ_k U_ik V_jk in fp32, k ascending, so replay gives the same bits. The update uses
// the U that was measured (the reference draws another U on the steps that redraw V).

#include <cmath>

#include "zo/scheme.h"

namespace frugal::zo {

torch::Tensor lozoFactor(uint64_t seed, uint32_t stream, int64_t rows, int64_t rank) {
    torch::Tensor f = torch::empty({rows, rank}, torch::kFloat32);
    directionRange(seed, stream, 0, static_cast<uint64_t>(rows * rank), DirectionLaw::Gaussian, f.data_ptr<float>());
    return f;
}

uint64_t lozoVSeed(uint64_t periodSeed) { return (periodSeed * 0x9E3779B97F4A7C15ull + 0x4C4F5A4Full) >> 11; }

namespace {

class LozoStepper : public ZoStepper {
public:
    LozoStepper(const ZoConfig& c, const std::vector<Trainable>& params) : m_c(c), m_params(params), m_r(c.lozoRank) {
        for (const auto& p : m_params) {
            const bool matrix = p.tensor.dim() >= 2;
            m_rows.push_back(matrix ? p.tensor.size(0) : 0);
            m_cols.push_back(matrix ? p.tensor.numel() / p.tensor.size(0) : 0);
        }
        m_v.resize(m_params.size());
        m_u.resize(m_params.size());
        if (c.lozoMomentum > 0) m_m.resize(m_params.size());
    }

    int64_t stateBytes() const override {
        int64_t bytes = 0;
        for (const auto& t : m_v) bytes += t.defined() ? t.nbytes() : 0;
        for (const auto& t : m_m) bytes += t.defined() ? t.nbytes() : 0;
        return bytes;
    }

    double step(StepRecord& rec, const std::function<double()>* loss, int64_t& forwards) override {
        const bool replay = loss == nullptr;
        if (rec.seeds.size() != 1) fail("LOZO: step ", rec.step, " has ", rec.seeds.size(), " directions (expected 1)");
        const uint64_t seed = rec.seeds[0];
        const bool redraw = (rec.step - 1) % m_c.lozoNu == 0 || !m_vDrawn;
        std::vector<torch::Tensor> oldV;
        if (redraw) {
            oldV = m_v;
            for (size_t i = 0; i < m_params.size(); ++i)
                if (m_rows[i] > 0) m_v[i] = lozoFactor(lozoVSeed(seed), m_params[i].index, m_cols[i], m_r);
            m_vDrawn = true;
        }
        for (size_t i = 0; i < m_params.size(); ++i)
            if (m_rows[i] > 0) m_u[i] = lozoFactor(seed, m_params[i].index, m_rows[i], m_r);
        const double eps = m_c.eps;
        pass(seed, +eps);
        const double plus = replay ? NAN : evaluateLoss(*loss, forwards, "at θ+εUVᵀ");
        pass(seed, -2 * eps);
        if (!replay) rec.grads.assign(1, (plus - evaluateLoss(*loss, forwards, "at θ−εUVᵀ")) / (2 * eps));
        if (rec.grads.size() != 1) fail("trajectory step ", rec.step, ": seeds and gradients differ in number");
        pass(seed, +eps);
        update(seed, rec.grads[0], rec.lr, redraw ? &oldV : nullptr);
        m_redrawn = redraw;
        return plus;
    }

    std::vector<std::pair<std::string, double>> series() const override {
        return {{"lozo/rank", static_cast<double>(m_r)}, {"lozo/v_drawn", m_redrawn ? 1.0 : 0.0}};
    }

private:
    // θ ← θ + SCALE·Z: U Vᵀ for the matrices, z for the rest.
    void pass(uint64_t seed, double scale) {
        const auto s = static_cast<float>(scale);
        forEachWeightChunk(m_params, [&](size_t pi, float* w, int64_t start, int64_t len) {
            if (m_rows[pi] == 0) {
                std::vector<float> z(static_cast<size_t>(len));
                directionValues(m_params[pi], seed, DirectionLaw::Gaussian, start, len, z.data());
                for (int64_t e = 0; e < len; ++e) w[e] += s * z[static_cast<size_t>(e)];
                return;
            }
            const float* u = m_u[pi].data_ptr<float>();
            const float* v = m_v[pi].data_ptr<float>();
            for (int64_t e = 0; e < len; ++e) w[e] += s * lowRank(u, v, pi, start + e);
        });
    }

    // M·(V_oldᵀ·V_new)/n, the r × r product first, each sum in a fixed order (not BLAS, whose
    // split of a long sum may depend on the thread count): replay gives the same bits anywhere.
    static torch::Tensor rotated(const torch::Tensor& m, const torch::Tensor& oldV, const torch::Tensor& newV) {
        const int64_t n = oldV.size(0), r = oldV.size(1), rows = m.size(0);
        std::vector<double> g(static_cast<size_t>(r * r), 0.0);
        const float* a = oldV.data_ptr<float>();
        const float* b = newV.data_ptr<float>();
        for (int64_t k = 0; k < r; ++k)
            for (int64_t l = 0; l < r; ++l) {
                double sum = 0;
                for (int64_t j = 0; j < n; ++j) sum += double(a[j * r + k]) * double(b[j * r + l]);
                g[static_cast<size_t>(k * r + l)] = sum / static_cast<double>(n);
            }
        torch::Tensor out = torch::empty({rows, r}, torch::kFloat32);
        const float* mm = m.data_ptr<float>();
        float* o = out.data_ptr<float>();
        for (int64_t i = 0; i < rows; ++i)
            for (int64_t l = 0; l < r; ++l) {
                double sum = 0;
                for (int64_t k = 0; k < r; ++k) sum += double(mm[i * r + k]) * g[static_cast<size_t>(k * r + l)];
                o[i * r + l] = static_cast<float>(sum);
            }
        return out;
    }

    // Σ_k A[i, k] B[j, k] for element E = i·n + j of tensor PI.
    float lowRank(const float* a, const float* b, size_t pi, int64_t e) const {
        const int64_t n = m_cols[pi], i = e / n, j = e % n;
        float z = 0;
        for (int64_t k = 0; k < m_r; ++k) z += a[i * m_r + k] * b[j * m_r + k];
        return z;
    }

    void update(uint64_t seed, double g, double lr, const std::vector<torch::Tensor>* oldV) {
        const double beta = m_c.lozoMomentum;
        if (beta > 0) {
            for (size_t i = 0; i < m_params.size(); ++i) {
                const torch::Tensor gz = m_rows[i] > 0 ? m_u[i] * g : torch::Tensor();
                if (m_rows[i] == 0) {
                    if (!m_m[i].defined()) m_m[i] = torch::zeros({m_params[i].tensor.numel()}, torch::kFloat32);
                    continue;  // the one-dimensional momentum moves in the pass below, element by element
                }
                if (!m_m[i].defined()) {
                    m_m[i] = gz.clone();
                } else if (oldV && (*oldV)[i].defined()) {
                    m_m[i] = beta * rotated(m_m[i], (*oldV)[i], m_v[i]) + (1 - beta) * gz;
                } else {
                    m_m[i] = beta * m_m[i] + (1 - beta) * gz;
                }
                m_m[i] = m_m[i].contiguous();
            }
        }
        const auto lrf = static_cast<float>(lr), gf = static_cast<float>(g), bf = static_cast<float>(beta);
        const auto keepOf = [&](size_t pi) {
            return m_params[pi].decay ? static_cast<float>(1.0 - lr * m_c.common.weightDecay) : 1.0f;
        };
        const bool first = m_steps++ == 0;
        forEachWeightChunk(m_params, [&](size_t pi, float* w, int64_t start, int64_t len) {
            const float keep = keepOf(pi);
            if (m_rows[pi] == 0) {
                std::vector<float> z(static_cast<size_t>(len));
                directionValues(m_params[pi], seed, DirectionLaw::Gaussian, start, len, z.data());
                float* m = beta > 0 ? m_m[pi].data_ptr<float>() + start : nullptr;
                for (int64_t e = 0; e < len; ++e) {
                    const float gz = gf * z[static_cast<size_t>(e)];
                    float step = gz;
                    if (m) step = m[e] = first ? gz : bf * m[e] + (1 - bf) * gz;
                    w[e] = w[e] * keep - lrf * step;
                }
                return;
            }
            const float* v = m_v[pi].data_ptr<float>();
            if (beta > 0) {
                const float* m = m_m[pi].data_ptr<float>();
                for (int64_t e = 0; e < len; ++e) w[e] = w[e] * keep - lrf * lowRank(m, v, pi, start + e);
            } else {
                const float* u = m_u[pi].data_ptr<float>();
                for (int64_t e = 0; e < len; ++e) w[e] = w[e] * keep - lrf * (gf * lowRank(u, v, pi, start + e));
            }
        });
    }

    const ZoConfig& m_c;
    std::vector<Trainable> m_params;
    int64_t m_r;
    std::vector<int64_t> m_rows, m_cols;        // 0 rows: a one-dimensional tensor
    std::vector<torch::Tensor> m_u, m_v, m_m;   // [m, r], [n, r], LOZO-M's [m, r] (or [numel])
    bool m_vDrawn = false, m_redrawn = false;
    int64_t m_steps = 0;
};

}  // namespace

std::unique_ptr<ZoStepper> makeLozo(const ZoConfig& c, const std::vector<Trainable>& params) {
    return std::make_unique<LozoStepper>(c, params);
}

void validateLozo(const ZoConfig& c) {
    const auto k = [&c](const char* key) { return c.table + "." + key; };
    if (c.estimator != Estimator::Central)
        failAt(k("estimator"), c.table, ".scheme = \"lozo\" makes the central two-point estimate; set estimator = \"central\"");
    if (c.optimizer != &zoSgd())
        failAt(k("optimizer"), c.table, ".scheme = \"lozo\" moves by its own rule (LOZO-M: lozo_momentum); set optimizer = \"sgd\"");
    requireOneDirection(c, "lozo");
    refuseMask(c, "lozo", "perturbs whole matrices; no mask");
    requireCpu(c, "lozo");
}

}  // namespace frugal::zo
