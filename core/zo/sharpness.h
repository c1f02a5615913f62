#pragma once
// Forward-only curvature and sharpness estimators of a loss around a point θ, for any parameter
// space: the caller says how to evaluate the loss at θ plus a multiple of its k-th probe
// direction (a model's trainables perturbed in place, or a small search vector). SharpZO
// (search/) and the loss landscape (analysis/) share them.
//   Hutchinson   tr(H) ≈ mean over Rademacher probes v_k of vᵀHv, each from second differences
//                (L(θ+hv) − 2L(θ) + L(θ−hv))/h²  (2 forwards a probe plus one at θ); the standard
//                error is the probes' standard deviation / √probes.
//   ε-ball       max over unit directions u_k of L(θ + ρu_k) − L(θ), by random search (a lower
//                bound of the true ε-ball sharpness, tighter with more samples).

#include <cstdint>
#include <functional>
#include <vector>

namespace frugal::zo {

// LOSSALONG(k, h): the loss at θ + h·v_k, where v_k is the caller's k-th probe; (k, 0) is θ.
using LossAlong = std::function<double(int64_t probe, double h)>;

struct HutchinsonEstimate {
    double trace = 0, standardError = 0;
    std::vector<double> samples;  // vᵀHv per probe
    int64_t forwards = 0;
};
// v_k must be Rademacher (±1 entries) for an unbiased trace; PROBES ≥ 2, H > 0.
HutchinsonEstimate hutchinsonTrace(const LossAlong& lossAlong, int64_t probes, double h);

struct EpsBallEstimate {
    double sharpness = 0;  // max_k L(θ + ρu_k) − L(θ)
    double base = 0;       // L(θ)
    int64_t worstProbe = -1;
    int64_t forwards = 0;
};
// u_k must be unit-norm directions.
EpsBallEstimate epsBallSharpness(const LossAlong& lossAlong, int64_t samples, double rho);

}  // namespace frugal::zo
