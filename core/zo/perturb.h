#pragma once
// In-place perturbation, restoration and update of trainable tensors along seed-regenerated
// directions (the MeZO trick, SPEC-ZO §1.3). Every element is visited in chunks of at most
// kChunk elements per task across the usable cores; each thread holds a few chunks of
// direction values on its stack, never a parameter-sized buffer (optimiser state, for momentum and
// Adam, is the caller's and is the only parameter-sized memory). Arithmetic is fp32 for fp32,
// bf16 and fp16 weights. The result does not depend on the thread count.

#include <torch/types.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "peft/trainable.h"
#include "zo/directions.h"
#include "zo/optimizers.h"

namespace frugal::zo {

using peft::Trainable;

// A multiple of the generator's batches (4096 Rademacher, 6144 Gaussian values), so that each
// chunk is generated in place.
inline constexpr int64_t kChunk = 12288;

// Sparse-MeZO (SPEC-ZO §4): only the weights with |θ| at most a per-tensor threshold — the
// (1 − sparsity) quantile of |θ| in the weights the mask was built from — are perturbed, updated
// and decayed. The mask is recomputed from the unperturbed weights by the first pass of each step
// (refresh) and kept as one bit per element for the step's other passes (1/32 of fp32 weights).
struct SparseMask {
    double sparsity = 0;
    std::vector<float> thresholds;             // per tensor
    std::vector<std::vector<uint64_t>> bits;   // per tensor, bit i = element i is perturbed
    bool fixed = false;  // never refreshed: the bits stay as made
    // For trainables on CUDA: the bits as one int64 tensor per trainable on their device, which
    // the kernels read and refresh (BITS then holds the mask as made, not as refreshed).
    std::vector<torch::Tensor> deviceBits;
    static SparseMask fromWeights(const std::vector<Trainable>& params, double sparsity);
    // A fixed mask perturbing exactly the weights that are not zero now: fine-tuning a pruned
    // model keeps every pruned weight at +0.0 (recovery, issue #7).
    static SparseMask nonZero(const std::vector<Trainable>& params);
    double density() const;  // fraction of elements whose bit is set
    int64_t bytes() const;
};

// The sphere law's factor sqrt(d) / ||z|| over all tensors (1 for the other laws).
double directionScale(const std::vector<Trainable>& params, uint64_t seed, DirectionLaw law);

// θ ← θ + scale·z for every tensor (z masked when MASK is given; REFRESH: first recompute the
// mask's bits from the weights as they are).
void perturb(const std::vector<Trainable>& params, uint64_t seed, double scale, DirectionLaw law,
             SparseMask* mask = nullptr, bool refresh = false);

// The fused last pass of a one-query SGD step: undo the last perturbation and apply the update,
// θ ← (θ + restore·z)·(1 − lr·λ) − lr·g·z, λ = 0 for tensors with decay == false. RESTORE is +ε
// after a central step (weights at θ − εz) and −ε after a forward step (weights at θ + εz).
void restoreAndUpdate(const std::vector<Trainable>& params, uint64_t seed, double restore,
                      double lr, double projectedGradient, double weightDecay, DirectionLaw law,
                      const SparseMask* mask = nullptr);

// restoreAndUpdate() for SEED, then perturb(NEXTSEED, NEXTSCALE, refresh) in the same pass over
// the weights: the last pass of one step and the first of the next (a two-pass MeZO step). Each
// element goes through the same arithmetic and the same rounding to its dtype between the two as
// the separate passes make, so fused and separate give the same bits.
void restoreUpdateAndPerturb(const std::vector<Trainable>& params, uint64_t seed, double restore,
                             double lr, double projectedGradient, double weightDecay, DirectionLaw law,
                             SparseMask* mask, uint64_t nextSeed, double nextScale);

// One direction of a step and its projected gradient.
struct Query {
    uint64_t seed = 0;
    double grad = 0;
};

// Optimiser state: fp32 tensors shaped like each trainable, as many as the optimiser's row says
// (momentum: first; Adam: both).
struct OptimizerState {
    std::vector<torch::Tensor> first, second;
    int64_t steps = 0;
    static OptimizerState forRule(const ZoOptimizer& optimizer, const std::vector<Trainable>& params);
    int64_t bytes() const;
};

// One pass over the weights: regenerates the q directions chunk by chunk, forms ĝ and applies the
// rule's optimiser (zo/optimizers.h) to each chunk.
void applyUpdate(const std::vector<Trainable>& params, const std::vector<Query>& queries,
                 DirectionLaw law, const UpdateRule& rule, OptimizerState& state,
                 const SparseMask* mask = nullptr);

// For the schemes' own element arithmetic (zo/scheme.h): BODY(tensor index, weights as fp32,
// first element, count) for every chunk of every tensor, spread over the pass threads, each chunk
// written back in its tensor's dtype (fp32 in place; bf16 and fp16 rounded to nearest even). The
// result does not depend on the thread count when BODY's arithmetic for an element does not.
void forEachWeightChunk(const std::vector<Trainable>& params,
                        const std::function<void(size_t, float*, int64_t, int64_t)>& body);
// Elements [start, start + len) of P's direction under SEED (the sphere's before its rescaling).
void directionValues(const Trainable& p, uint64_t seed, DirectionLaw law, int64_t start, int64_t len, float* z);

// The threads of the perturbation passes that this thread starts while the scope lives (by
// default one per usable core; trainables on CUDA go through core/cuda's kernels instead, with the
// same bits). The passes run between forwards, when BLAS is idle; results are
// the same for any count, which is what a test of it sets the count for.
class PassThreads {
public:
    explicit PassThreads(int threads);
    ~PassThreads();
    PassThreads(const PassThreads&) = delete;
    PassThreads& operator=(const PassThreads&) = delete;
    // This thread's count: the innermost scope's, else one per usable core.
    static int current();

private:
    int m_threads;
    PassThreads* m_previous;
    static PassThreads*& active();
};

}  // namespace frugal::zo
