#include "prune/wandapp.h"

#include <torch/autograd.h>

#include "common/error.h"

namespace frugal::prune {

std::string featureNormName(FeatureNorm n) {
    return n == FeatureNorm::Unnormalised ? "unnormalised" : "per_sequence";
}

FeatureNorm parseFeatureNorm(const std::string& name) {
    if (name == "unnormalised") return FeatureNorm::Unnormalised;
    if (name == "per_sequence") return FeatureNorm::PerSequence;
    fail("unknown feature norm '", name, "' (expected unnormalised or per_sequence)");
}

torch::Tensor featureNorms(const InputStatistics& stats, FeatureNorm norm) {
    const torch::Tensor& ms = stats.meanSquares();
    return norm == FeatureNorm::Unnormalised ? (ms * static_cast<double>(stats.sequences())).sqrt()
                                             : ms.sqrt();
}

RegionalGradient::RegionalGradient(std::vector<torch::Tensor> weights) : m_weights(std::move(weights)) {
    for (const auto& w : m_weights) {
        if (!w.requires_grad() || w.scalar_type() != torch::kFloat32)
            fail("regional gradient: weights must be fp32 tensors that require grad");
        m_sumSquares.push_back(torch::zeros_like(w, torch::TensorOptions().requires_grad(false)));
    }
}

void RegionalGradient::add(const torch::Tensor& output) {
    const std::vector<torch::Tensor> grads =
        torch::autograd::grad({output.to(torch::kFloat32).norm()}, m_weights, {}, false, false, true);
    for (size_t i = 0; i < grads.size(); ++i) {
        if (!grads[i].defined()) continue;  // this weight does not reach the output
        const torch::Tensor g = grads[i].detach();
        if (!torch::isfinite(g).all().item<bool>())
            fail("regional gradient: a non-finite gradient for weight ", i, " at sample ", m_samples);
        m_sumSquares[i].add_(g.pow(2));
    }
    ++m_samples;
}

torch::Tensor RegionalGradient::rms(size_t i) const {
    if (m_samples == 0) fail("regional gradient: no samples");
    return (m_sumSquares.at(i) / static_cast<double>(m_samples)).sqrt();
}

torch::Tensor wandaPlusPlusScore(const torch::Tensor& weight, const torch::Tensor& gradientRms,
                                 const torch::Tensor& featureNorm, double alpha) {
    if (gradientRms.sizes() != weight.sizes() || featureNorm.dim() != 1 ||
        featureNorm.size(0) != weight.size(1))
        fail("Wanda++ score: weight ", weight.sizes(), ", gradient RMS ", gradientRms.sizes(),
             " and feature norms ", featureNorm.sizes(), " do not match");
    const torch::Tensor w = weight.detach().abs().to(torch::kFloat32);
    return (alpha * gradientRms.to(torch::kFloat32) + featureNorm.to(torch::kFloat32).unsqueeze(0)) * w;
}

}  // namespace frugal::prune
