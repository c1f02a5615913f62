#pragma once
// OWL, outlier-weighed layer-wise sparsity (Yin et al., ICML 2024; luuyin/OWL): a layer with more
// outlier scores keeps more of its weights. Its outlier ratio D is the share of the block's Wanda
// scores |W_ij|·‖X_j‖ (all its matrices together, on the dense model's activations) above M times
// their mean; the ratios are scaled to [0, 2λ], their mean taken off, and subtracted from the
// target, so that the layers' sparsities average to the target exactly. Plain C++ (the arithmetic;
// the pass that measures D is the block driver's, prune/pipeline.cpp).

#include <vector>

namespace frugal::prune {

// Each layer's sparsity from the layers' outlier ratios (any scale: percent or share), the
// target sparsity and λ. All ratios equal: the target everywhere. Throws frugal::InputError naming
// prune.owl_lambda when a sparsity would leave (0, 1).
std::vector<double> owlSparsities(const std::vector<double>& outlierRatios, double target, double lambda);

}  // namespace frugal::prune
