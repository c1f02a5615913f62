#include "search/cma_es.h"

#include <ATen/ATen.h>
#include <torch/types.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "common/error.h"

namespace frugal::search {

namespace {

const auto kDouble = torch::TensorOptions().dtype(torch::kFloat64);

}  // namespace

CmaConstants CmaConstants::defaults(int64_t n, int64_t lambda, bool separable) {
    if (n < 1) fail("CMA-ES: the dimension must be at least 1, got ", n);
    CmaConstants k;
    k.n = n;
    k.separable = separable;
    const double dn = static_cast<double>(n);
    k.lambda = lambda > 0 ? lambda : 4 + static_cast<int64_t>(std::floor(3.0 * std::log(dn)));
    if (k.lambda < 2) fail("CMA-ES: the population must be at least 2, got ", k.lambda);
    k.mu = k.lambda / 2;
    double sum = 0, sumSq = 0;
    for (int64_t i = 1; i <= k.mu; ++i) {
        const double w = std::log((k.lambda + 1) / 2.0) - std::log(static_cast<double>(i));
        k.weights.push_back(w);
        sum += w;
    }
    for (double& w : k.weights) {
        w /= sum;
        sumSq += w * w;
    }
    k.mueff = 1.0 / sumSq;
    k.cs = (k.mueff + 2) / (dn + k.mueff + 5);
    k.ds = 1 + 2 * std::max(0.0, std::sqrt((k.mueff - 1) / (dn + 1)) - 1) + k.cs;
    k.cc = (4 + k.mueff / dn) / (dn + 4 + 2 * k.mueff / dn);
    k.c1 = 2 / ((dn + 1.3) * (dn + 1.3) + k.mueff);
    k.cmu = std::min(1 - k.c1, 2 * (k.mueff - 2 + 1 / k.mueff) / ((dn + 2) * (dn + 2) + k.mueff));
    if (separable) {  // Ros & Hansen: a diagonal C learns (n + 2)/3 times faster
        k.c1 *= (dn + 2) / 3;
        k.cmu = std::min(1 - k.c1, k.cmu * (dn + 2) / 3);
    }
    k.chiN = std::sqrt(dn) * (1 - 1 / (4 * dn) + 1 / (21 * dn * dn));
    k.eigenEvery = std::max<int64_t>(1, static_cast<int64_t>(std::ceil(0.5 / ((k.c1 + k.cmu) * dn))));
    return k;
}

CmaEs::CmaEs(const CmaOptions& options)
    : m_options(options),
      m_k(CmaConstants::defaults(static_cast<int64_t>(options.x0.size()), options.lambda, options.separable)),
      m_rng(options.seed) {
    if (!(options.sigma0 > 0) || !std::isfinite(options.sigma0))
        fail("CMA-ES: sigma0 must be a positive number, got ", options.sigma0);
    if (!(options.lower < options.upper))
        fail("CMA-ES: the bounds need lower < upper, got [", options.lower, ", ", options.upper, "]");
    const int64_t n = m_k.n;
    m_mean = torch::tensor(options.x0, kDouble).clamp(options.lower, options.upper);
    if (!torch::isfinite(m_mean).all().item<bool>()) fail("CMA-ES: the start point x0 is not finite");
    m_sigma = options.sigma0;
    m_ps = torch::zeros({n}, kDouble);
    m_pc = torch::zeros({n}, kDouble);
    if (m_k.separable) {
        m_C = torch::ones({n}, kDouble);
        m_D = torch::ones({n}, kDouble);
    } else {
        m_C = torch::eye(n, kDouble);
        m_B = torch::eye(n, kDouble);
        m_D = torch::ones({n}, kDouble);
        m_invSqrtC = torch::eye(n, kDouble);
    }
    m_best = m_mean.clone();
}

double CmaEs::normal() {  // Box-Muller on 53-bit uniforms: the same values on every platform
    if (m_hasSpare) {
        m_hasSpare = false;
        return m_spare;
    }
    const double u1 = (static_cast<double>(m_rng() >> 11) + 1.0) * (1.0 / 9007199254740993.0);
    const double u2 = static_cast<double>(m_rng() >> 11) * (1.0 / 9007199254740992.0);
    const double r = std::sqrt(-2 * std::log(u1));
    m_spare = r * std::sin(2 * M_PI * u2);
    m_hasSpare = true;
    return r * std::cos(2 * M_PI * u2);
}

torch::Tensor CmaEs::ask() {
    const int64_t n = m_k.n, lambda = m_k.lambda;
    std::vector<double> z(static_cast<size_t>(lambda * n));
    for (double& v : z) v = normal();
    const torch::Tensor Z = torch::tensor(z, kDouble).view({lambda, n});
    torch::Tensor Y = m_k.separable ? Z * m_D : torch::matmul(Z * m_D, m_B.t());  // rows: B·D·z
    return (m_mean + m_sigma * Y).clamp(m_options.lower, m_options.upper);
}

void CmaEs::tell(const torch::Tensor& candidates, const std::vector<double>& fitness) {
    const int64_t n = m_k.n, lambda = m_k.lambda;
    if (candidates.dim() != 2 || candidates.size(0) != lambda || candidates.size(1) != n)
        fail("CMA-ES tell: expected candidates [", lambda, ", ", n, "], got ", candidates.sizes());
    if (static_cast<int64_t>(fitness.size()) != lambda)
        fail("CMA-ES tell: expected ", lambda, " fitness values, got ", fitness.size());
    const torch::Tensor X = candidates.to(torch::kFloat64).contiguous();

    std::vector<int64_t> order(static_cast<size_t>(lambda));
    std::iota(order.begin(), order.end(), 0);
    auto key = [&](int64_t i) {
        const double f = fitness[static_cast<size_t>(i)];
        return std::isnan(f) ? std::numeric_limits<double>::infinity() : f;
    };
    std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return key(a) < key(b); });
    for (double f : fitness)
        if (std::isnan(f)) ++m_nanCount;
    m_evaluations += lambda;
    if (key(order[0]) < m_bestFitness) {
        m_bestFitness = key(order[0]);
        m_best = X[order[0]].clone();
    }

    const std::vector<int64_t> top(order.begin(), order.begin() + m_k.mu);
    const torch::Tensor Ysel = (X.index_select(0, torch::tensor(top, torch::kInt64)) - m_mean) / m_sigma;  // [μ, n]
    const torch::Tensor w = torch::tensor(m_k.weights, kDouble);
    const torch::Tensor yw = torch::matmul(w, Ysel);  // [n]
    m_mean = m_mean + m_sigma * yw;

    const torch::Tensor invSqrtCyw = m_k.separable ? yw / m_D : torch::matmul(m_invSqrtC, yw);
    m_ps = (1 - m_k.cs) * m_ps + std::sqrt(m_k.cs * (2 - m_k.cs) * m_k.mueff) * invSqrtCyw;
    const double psNorm = m_ps.norm().item<double>();
    const double denom = std::sqrt(1 - std::pow(1 - m_k.cs, 2.0 * static_cast<double>(m_generation + 1)));
    const double hs = psNorm / denom < (1.4 + 2.0 / (n + 1.0)) * m_k.chiN ? 1.0 : 0.0;
    m_pc = (1 - m_k.cc) * m_pc + hs * std::sqrt(m_k.cc * (2 - m_k.cc) * m_k.mueff) * yw;

    const double keep = 1 - m_k.c1 - m_k.cmu + (1 - hs) * m_k.c1 * m_k.cc * (2 - m_k.cc);  // Σw = 1
    if (m_k.separable) {
        m_C = keep * m_C + m_k.c1 * m_pc * m_pc + m_k.cmu * torch::matmul(w, Ysel * Ysel);
    } else {
        const torch::Tensor rankMu = torch::matmul(Ysel.t() * w, Ysel);  // Σ w_i y_i y_iᵀ
        m_C = keep * m_C + m_k.c1 * torch::outer(m_pc, m_pc) + m_k.cmu * rankMu;
    }
    m_sigma *= std::exp((m_k.cs / m_k.ds) * (psNorm / m_k.chiN - 1));
    ++m_generation;

    if (m_k.separable) {
        m_D = m_C.clamp_min(1e-300).sqrt();
    } else if (m_generation - m_lastDecomposition >= m_k.eigenEvery) {
        decompose();
    }
}

void CmaEs::decompose() {
    m_C = torch::triu(m_C) + torch::triu(m_C, 1).t();  // exactly symmetric
    auto [values, vectors] = at::linalg_eigh(m_C, "L");
    m_D = values.clamp_min(1e-300).sqrt();
    m_B = vectors;
    m_invSqrtC = torch::matmul(m_B / m_D, m_B.t());
    m_lastDecomposition = m_generation;
}

torch::Tensor CmaEs::covariance() const { return m_k.separable ? torch::diag(m_C) : m_C; }

double CmaEs::conditionNumber() const {
    const double lo = m_D.min().item<double>(), hi = m_D.max().item<double>();
    return (hi * hi) / (lo * lo);
}

std::string CmaEs::stopReason() const {
    if (m_bestFitness <= m_options.targetFitness)
        return cat("target fitness ", m_options.targetFitness, " reached (", m_bestFitness, ")");
    if (m_options.maxEvaluations > 0 && m_evaluations + m_k.lambda > m_options.maxEvaluations)
        return cat("evaluation budget of ", m_options.maxEvaluations, " spent (", m_evaluations, " used)");
    const torch::Tensor diag = m_k.separable ? m_C : torch::diagonal(m_C);
    const double spread = m_sigma * std::sqrt(diag.max().item<double>());
    if (spread < m_options.tolX * m_options.sigma0)
        return cat("step size collapsed (sigma*sqrt(max C_ii) = ", spread, ")");
    if (!std::isfinite(m_sigma) || !torch::isfinite(m_mean).all().item<bool>())
        return "the mean or step size is no longer finite";
    if (conditionNumber() > 1e14) return cat("covariance condition number ", conditionNumber(), " above 1e14");
    return "";
}

void minimize(CmaEs& es, const std::function<std::vector<double>(const torch::Tensor&)>& objective,
              const StopToken& stop, int64_t generations,
              const std::function<void(const CmaGeneration&)>& onGeneration) {
    for (int64_t g = 0; generations <= 0 || g < generations; ++g) {
        if (!es.stopReason().empty()) return;
        if (stop.stopRequested())
            throw Cancelled(cat("CMA-ES stopped at generation ", es.generation(), " (", es.evaluations(),
                                " evaluations)"));
        const torch::Tensor X = es.ask();
        const std::vector<double> f = objective(X);
        es.tell(X, f);
        if (onGeneration) {
            CmaGeneration info;
            info.generation = es.generation();
            info.evaluations = es.evaluations();
            info.best = *std::min_element(f.begin(), f.end());
            info.mean = std::accumulate(f.begin(), f.end(), 0.0) / static_cast<double>(f.size());
            info.sigma = es.sigma();
            onGeneration(info);
        }
    }
}

}  // namespace frugal::search
