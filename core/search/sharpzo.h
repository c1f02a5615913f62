#pragma once
// SharpZO (SPEC-ZO §7) on a language model's soft prompt: a d-dimensional vector w moves the m
// prompt embeddings through a fixed seeded random projection, p = p₀ + reshape(A·w, [m, H]), A's
// entries N(0, s²) with s = ‖p₀‖/√(m·H·d), so that a w of standard-normal coordinates moves the
// prompt by about its own norm (our scaling; BBT-style methods use the embedding std). Any other
// small trainable set (peft.target head, norms, bitfit, prefix, LoRA, the TT adapters) is moved the
// same way, θ = θ₀ + A·w over its values laid end to end (A stored: at most 2^26 entries).
//   stage 1  sharpness-aware CMA-ES: each generation draws λ candidates, estimates the gradient
//            at the CMA mean by central differences on every coordinate (CGE, 2d forwards),
//            ε* = ρ·g/‖g‖ (‖ε*‖ = ρ exactly: the paper's semantics; the reference code's
//            shared-norm quirk gives ρ/√λ and is not reproduced), evaluates L(x_i + ε*) and tells
//            CMA-ES the unshifted x_i. ρ = 0 is plain CMA-ES (BBT), without the CGE. It ends
//            after T_c generations, or when the dev accuracy has not risen more than min_delta
//            above its best for `patience` consecutive generations.
//   stage 2  sparse ZO-SGD from the CMA mean: every K steps a mask Ω from Z-scores,
//            score = |w|²·zscore(|ĝ_CGE|), Ω = 1 on the ⌊ratio·d⌋ smallest scores; each step
//            one Gaussian direction z (q = 1), ĝ = (L(w+μΩz) − L(w−μΩz))/(2μ)·Ωz, w ← w − ηĝ; no
//            weight decay, constant lr (the paper's plain update; the code's never-zeroed
//            gradient buffer is not reproduced). T_c = 0 makes the run plain ZO-SGD on the same
//            parameterisation, the baseline at equal forward budget.

#include <torch/types.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "common/events.h"
#include "eval/fine_tune_problem.h"
#include "search/cma_es.h"

namespace frugal::search {

// A loss of the search vector w ([d], double).
using VectorLoss = std::function<double(const torch::Tensor& w)>;

// The same loss at K points at once (X [K, d]): a population as one batched forward where the
// objective allows (SharpZO: K soft prompts as K replicas of one batch). The K losses.
using PointsLoss = std::function<std::vector<double>(const torch::Tensor& x)>;
// The losses at the rows of X: through POINTS when given, else one LOSS call a row.
std::vector<double> lossesAt(const VectorLoss& loss, const PointsLoss& points, const torch::Tensor& x);

// Central differences on every coordinate: g_j = (L(w + μe_j) − L(w − μe_j))/(2μ); 2d points
// (POINTS, when given, gets them in blocks of at most 64 MiB: one call for d up to 2,048).
torch::Tensor coordinateGradient(const VectorLoss& loss, const torch::Tensor& w, double mu,
                                 const PointsLoss& points = {});
// ε* = ρ·g/‖g‖ with g the CGE at M (a zero g gives ε* = 0).
torch::Tensor sharpnessShift(const VectorLoss& loss, const torch::Tensor& m, double rho, double mu,
                             const PointsLoss& points = {});

struct SharpGeneration {
    torch::Tensor candidates, shift;  // [λ, d] as told; [d]
    std::vector<double> fitness;      // L(x_i + ε*)
    int64_t forwards = 0;
    double cmaSeconds = 0, candidateSeconds = 0;  // in ask + tell; in the λ evaluations
    double cgeSeconds = 0;                        // in the 2d CGE evaluations (ρ > 0)
};
// One stage-1 generation of ES: ask, ε* at the mean (ρ > 0), f_i = L(x_i + ε*), tell(x_i, f_i).
// POINTS (optional): the λ candidates (and the 2d CGE points) evaluated as batches.
SharpGeneration sharpnessAwareGeneration(CmaEs& es, const VectorLoss& loss, double rho, double mu,
                                         const PointsLoss& points = {});

// Ω: 1 on the ⌊ratio·d⌋ coordinates with the smallest |w|²·zscore(|g|), 0 elsewhere.
torch::Tensor zScoreMask(const torch::Tensor& w, const torch::Tensor& g, double ratio);

struct SharpZoConfig {
    eval::FineTuneSpec common;  // peft.target: prompt by default; steps, lr: stage 2
    int64_t dim = 512, popsize = 40;
    double rho = 0.1, sigma0 = 0.4, cgeEps = 1e-3, bound = 0;  // bound > 0: the box [−b, b]
    bool separable = false;
    int64_t generations = 100;  // T_c; 0: no stage 1 (plain ZO-SGD on w)
    int64_t patience = 10;      // plateau rule, in generations; 0: off
    double minDelta = 0.01;
    double rgeEps = 1e-3, maskCgeEps = 1e-5, pruneRatio = 0.5;
    int64_t maskEvery = 200;  // K
    int64_t maxForwards = 0;  // training forwards of both stages; 0: no budget
    double targetLoss = 0;    // > 0: report the forwards until the dev loss first reaches it
    int64_t sharpnessProbes = 8;  // Hutchinson probes and ε-ball samples at stage 2's start; 0: off
    double sharpnessH = 1e-2;     // second-difference step in w
    uint64_t projectionSeed = 0;
    // Stage 1's points (candidates, CGE points) per batched forward: K soft prompts as K replicas
    // of the batch; 1: one forward a point. 0: popsize on a CUDA device (the population in one
    // forward, the 2d CGE points in forwards of popsize), 1 on the CPU, where a batched forward
    // costs what its points cost one by one (docs/BENCHMARKS.md) and takes K times the memory.
    // A forward of K points counts as K forwards.
    int64_t populationBatch = 0;

    void validate() const;
};

struct SharpZoResult : eval::FineTuneResult {
    int64_t stage1Generations = 0, stage1Forwards = 0;
    double stage1DevAccuracy = 0;
    std::string switchReason;
    int64_t forwardsToTarget = -1;  // −1: the target was never reached (or none was set)
    double startTrace = NAN, startTraceError = NAN, startEpsBall = NAN;  // at stage 2's start
};

SharpZoResult runSharpZo(const SharpZoConfig& config, EventSink& sink, const StopToken& stop);

}  // namespace frugal::search
