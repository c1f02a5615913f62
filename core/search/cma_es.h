#pragma once
// CMA-ES, the covariance matrix adaptation evolution strategy (SPEC-ZO §8; Hansen, "The CMA
// Evolution Strategy: A Tutorial"), as an ask/tell object:
//   full      rank-one (evolution path p_c) and rank-μ updates of C = B·D²·Bᵀ, cumulative
//             step-size adaptation (CSA, p_σ), the tutorial's default constants, h_σ stalling of
//             p_c; B and D refreshed lazily, every ⌈0.5 / ((c_1 + c_μ)·n)⌉ generations;
//   separable sep-CMA-ES (Ros & Hansen 2008): C diagonal, c_1 and c_μ scaled by (n + 2)/3; the
//             cheap choice at n ≥ 512, where full C barely adapts in a few hundred generations.
// Candidates outside the box [lower, upper] are clipped to it (repair): the clipped point is the
// one evaluated and told, so the mean never leaves the box. Every draw comes from the seed. A NaN
// fitness ranks last and is counted (nanFitnessCount), never dropped silently.

#include <torch/types.h>

#include <cstdint>
#include <functional>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "common/events.h"

namespace frugal::search {

// The strategy parameters of dimension N and population LAMBDA (≤ 0: 4 + ⌊3 ln n⌋).
struct CmaConstants {
    int64_t n = 0, lambda = 0, mu = 0;
    std::vector<double> weights;  // μ positive weights, summing to 1
    double mueff = 0, cs = 0, ds = 0, cc = 0, c1 = 0, cmu = 0, chiN = 0;
    bool separable = false;
    int64_t eigenEvery = 1;  // generations between refreshes of B and D (full C)
    static CmaConstants defaults(int64_t n, int64_t lambda = 0, bool separable = false);
};

struct CmaOptions {
    std::vector<double> x0;  // the start mean; its size is the dimension
    double sigma0 = 0.5;
    int64_t lambda = 0;  // ≤ 0: the default
    bool separable = false;
    double lower = -std::numeric_limits<double>::infinity();
    double upper = std::numeric_limits<double>::infinity();
    int64_t maxEvaluations = 0;  // 0: no budget
    double targetFitness = -std::numeric_limits<double>::infinity();
    double tolX = 1e-12;  // stop when σ·max √C_ii falls below tolX·σ0
    uint64_t seed = 0;
};

class CmaEs {
public:
    explicit CmaEs(const CmaOptions& options);

    // λ candidates [λ, n] (double), x_k = m + σ·B·D·z_k clipped to the box.
    torch::Tensor ask();
    // The fitness of each row of CANDIDATES (lower is better); the rows are the points told,
    // normally those ask() gave. Updates m, the paths, C and σ.
    void tell(const torch::Tensor& candidates, const std::vector<double>& fitness);

    // Why the search should end ("" while it should go on): target reached, budget spent, σ
    // collapsed (tolX) or C degenerate.
    std::string stopReason() const;

    const CmaConstants& constants() const { return m_k; }
    const torch::Tensor& mean() const { return m_mean; }  // [n] double
    double sigma() const { return m_sigma; }
    int64_t generation() const { return m_generation; }
    int64_t evaluations() const { return m_evaluations; }
    double bestFitness() const { return m_bestFitness; }
    const torch::Tensor& bestCandidate() const { return m_best; }
    int64_t nanFitnessCount() const { return m_nanCount; }
    // The covariance matrix [n, n] (separable: its diagonal as a matrix).
    torch::Tensor covariance() const;
    double conditionNumber() const;  // of C, from its last eigendecomposition

private:
    void decompose();
    double normal();

    CmaOptions m_options;
    CmaConstants m_k;
    torch::Tensor m_mean, m_ps, m_pc;
    torch::Tensor m_C;        // full: [n, n]; separable: [n] (the diagonal)
    torch::Tensor m_B, m_D;   // full: eigenvectors [n, n] and √eigenvalues [n]; separable: D only
    torch::Tensor m_invSqrtC;  // full: B·diag(1/D)·Bᵀ
    double m_sigma = 0;
    int64_t m_generation = 0, m_evaluations = 0, m_nanCount = 0, m_lastDecomposition = 0;
    double m_bestFitness = std::numeric_limits<double>::infinity();
    torch::Tensor m_best;
    std::mt19937_64 m_rng;
    bool m_hasSpare = false;
    double m_spare = 0;
};

// One generation as the caller saw it (for logging and the live view).
struct CmaGeneration {
    int64_t generation = 0, evaluations = 0;
    double best = 0, mean = 0, sigma = 0;  // best and mean fitness of the population
};

// ask/tell until ES says stop, STOP is requested (then Cancelled) or GENERATIONS (> 0) pass.
// OBJECTIVE gets a population [λ, n] and returns λ fitnesses (batched where it can be).
void minimize(CmaEs& es, const std::function<std::vector<double>(const torch::Tensor&)>& objective,
              const StopToken& stop, int64_t generations = 0,
              const std::function<void(const CmaGeneration&)>& onGeneration = {});

}  // namespace frugal::search
