#pragma once
// The pruning driver's metric keys (prune/pipeline.cpp emits them; pruneView draws them).

namespace frugal::prune::metrics {

inline constexpr const char* kBlockError = "prune/block_error";
inline constexpr const char* kPerplexity = "prune/perplexity";
inline constexpr const char* kPerplexityDense = "prune/perplexity_dense";
inline constexpr const char* kSparsity = "prune/sparsity";
inline constexpr const char* kSparsityPerMatrix = "prune/sparsity_per_matrix";  // a vector series
// OWL's vector series: each block's outlier ratio and the sparsity it was given
inline constexpr const char* kOwlOutlierRatio = "prune/owl_outlier_ratio";
inline constexpr const char* kLayerSparsity = "prune/layer_sparsity";
inline constexpr const char* kSeconds = "prune/seconds";
inline constexpr const char* kCalibForwardSeconds = "prune/calib_forward_seconds";
inline constexpr const char* kTimeOverForward = "prune/time_over_forward";
inline constexpr const char* kRgsGradientShare = "prune/rgs_gradient_share";

}  // namespace frugal::prune::metrics
