#pragma once
// Wanda++'s regional gradient score (SPEC-PRUNING §2.2): S_ij = (alpha * G_ij + ||X_j||) * |W_ij|,
// G_ij = sqrt((1/N) sum_n (dL_n/dW_ij)^2), L_n = ||f(X_n)||_F the UNSQUARED norm of the block's
// output for calibration sample n (no labels), gradients taken in fp32 on the block before it is
// pruned. The scale of ||X_j|| matters here because the two terms are added: the spec's choice is
// the unnormalised norm over all N*L tokens; Wanda's per-sequence normalisation (smaller by
// sqrt(N)) is the other named option. With alpha = 0 the score is Wanda's.

#include <torch/types.h>

#include <string>
#include <vector>

#include "prune/mask.h"

namespace frugal::prune {

enum class FeatureNorm { Unnormalised, PerSequence };
std::string featureNormName(FeatureNorm norm);  // "unnormalised", "per_sequence"
FeatureNorm parseFeatureNorm(const std::string& name);

// ||X_j|| from the running statistic: sqrt(N * meanSquares) (unnormalised) or sqrt(meanSquares).
torch::Tensor featureNorms(const InputStatistics& stats, FeatureNorm norm);

// Accumulates the squared gradients of ||output||_F with respect to WEIGHTS (fp32 leaf tensors
// that require grad), one calibration sample at a time.
class RegionalGradient {
public:
    explicit RegionalGradient(std::vector<torch::Tensor> weights);
    // OUTPUT: the block's output for one sample, computed from WEIGHTS with autograd on.
    void add(const torch::Tensor& output);
    torch::Tensor rms(size_t i) const;  // G for weight i
    int64_t samples() const { return m_samples; }

private:
    std::vector<torch::Tensor> m_weights, m_sumSquares;
    int64_t m_samples = 0;
};

torch::Tensor wandaPlusPlusScore(const torch::Tensor& weight, const torch::Tensor& gradientRms,
                                 const torch::Tensor& featureNorm, double alpha);

}  // namespace frugal::prune
