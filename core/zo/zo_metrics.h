#pragma once
// The zeroth-order engine's metric keys (zo/engine.cpp emits them; zoView draws them).

namespace frugal::zo::metrics {

inline constexpr const char* kQueries = "zo/queries";
inline constexpr const char* kEpochQueries = "zo/epoch_queries";
inline constexpr const char* kProjectedGrad = "zo/projected_grad";
inline constexpr const char* kProjectedGradAbsMean = "zo/projected_grad_abs_mean";
inline constexpr const char* kLr = "zo/lr";
inline constexpr const char* kSeed = "zo/seed";
inline constexpr const char* kPerturbedFraction = "zo/perturbed_fraction";
inline constexpr const char* kConservativeChoice = "zo/conservative_choice";
inline constexpr const char* kRollback = "zo/rollback";

}  // namespace frugal::zo::metrics
