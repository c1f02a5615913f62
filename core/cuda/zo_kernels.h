#pragma once
// The CUDA passes over one trainable tensor's weights that core/zo/perturb.cpp makes on the CPU:
// perturb, restoreAndUpdate and the fused restoreUpdateAndPerturb, element for element the same
// arithmetic and the same rounding, so a run gives the same bits on either device. Plain C++ (no
// CUDA or torch headers): the kernels live in zo_kernels.cu, the per-element math they share
// with the host in direction_math.cuh.
//
// The CPU passes map onto one applyPass() per trainable tensor:
//   perturb(seed, scale, mask, refresh)    update = null,  perturb = {seed, scale, k, refresh}
//   restoreAndUpdate(seed, ...)            update = {...}, perturb = null
//   restoreUpdateAndPerturb(seed, ..., next, nextScale)
//                                          update = {...}, perturb = {next, nextScale, k', true}
// where k, k' are directionScale(params, seed, law) (1 unless the law is sphere), and `refresh`
// is false for a fixed mask (SparseMask::fixed), which the CPU never refreshes either.

#include <cstdint>

namespace frugal::cuda {

enum class WeightType { F32, BF16, F16 };

// The sphere law is Gaussian rescaled by sqrt(d)/||z|| over all tensors: pass Gaussian and that
// factor as sphereScale (the CPU's directionScale()).
enum class Law { Gaussian, Rademacher };

// restoreAndUpdate()'s stage: θ ← (θ + restore·k·z)·(1 − lr·λ) − lr·g·k·z, z = z(seed), with
// λ = weightDecay when decay, else 0. Doubles, as the CPU takes them: the launcher rounds the
// coefficients to float exactly as perturb.cpp does.
struct RestoreUpdate {
    uint64_t seed = 0;
    double restore = 0;            // +ε after a central step, −ε after a forward step
    double lr = 0;
    double projectedGradient = 0;  // g
    double weightDecay = 0;
    bool decay = true;             // Trainable::decay
    double sphereScale = 1;        // k
};

// perturb()'s stage: θ ← θ + scale·k·z(seed).
struct Perturbation {
    uint64_t seed = 0;
    double scale = 0;
    double sphereScale = 1;  // k
    bool refresh = false;    // first set each mask bit to |θ| <= threshold (needs maskBits)
    float threshold = 0;     // SparseMask::thresholds[tensor]
};

// One pass over the N contiguous weights of one trainable tensor, resident on the device. When
// both stages are given, the weights are rounded to their dtype between them, as the CPU's fused
// pass does (so fused and separate passes give the same bits).
struct TensorPass {
    void* weights = nullptr;  // device pointer to n elements of `type`
    WeightType type = WeightType::F32;
    int64_t n = 0;
    uint32_t tensor = 0;  // Trainable::index: the tensor's direction stream
    Law law = Law::Gaussian;
    const RestoreUpdate* update = nullptr;  // host pointer; null: no restore/update stage
    const Perturbation* perturb = nullptr;  // host pointer; null: no perturbation stage
    // Sparse-MeZO mask or null: a device copy of SparseMask::bits[tensor], (n + 63) / 64 words,
    // bit i % 64 of word i / 64 set = element i is perturbed, updated and decayed. The CPU's own
    // layout (1/32 of fp32 weights), so it is copied as is; refresh rewrites it in place.
    uint64_t* maskBits = nullptr;
    void* stream = nullptr;  // cudaStream_t; null: the default stream
};

// The element rules of the optimiser rows (core/zo/optimizers.cpp; math::ruleElement): each row
// names the one it moves by (conservative moves as sgd).
enum class Rule { Sgd, Sign, Momentum, Nesterov, Adam, Lion };

// A rule's constants as float, each rounded once from the CPU's doubles as the CPU rows round
// them: KEEP = 1 − lr·λ for the tensor (λ = 0 without decay), C1/C2 Adam's bias corrections
// 1 − β^t computed in double.
struct RuleFloats {
    float lr = 0, keep = 1, momentum = 0, beta1 = 0, beta2 = 0, c1 = 1, c2 = 1, adamEps = 0;
};

// applyUpdate()'s pass over one tensor (core/zo/perturb.cpp's applyUpdate): ĝ from Q directions
// regenerated in place, ĝ_i = Σ_j c_j·z_j(i) summed from +0 in query order with c_j = g_j·k_j/q,
// then RULE on each element whose mask bit is set (all without a mask), its state in M and V.
struct TensorUpdate {
    void* weights = nullptr;  // device pointer to n elements of `type`
    WeightType type = WeightType::F32;
    int64_t n = 0;
    uint32_t tensor = 0;
    Law law = Law::Gaussian;
    int64_t queries = 0;
    const uint64_t* seeds = nullptr;         // device pointer to `queries` seeds
    const float* coefficients = nullptr;     // device pointer to `queries` c_j, rounded as the CPU's
    Rule rule = Rule::Sgd;
    RuleFloats floats;
    float* m = nullptr;  // device fp32 state, n elements, where the row keeps it
    float* v = nullptr;
    const uint64_t* maskBits = nullptr;  // as TensorPass::maskBits (read only here)
    void* stream = nullptr;
};

void applyUpdate(const TensorUpdate& update);

// Launches the pass on its stream (asynchronous, like any kernel launch). Throws
// std::runtime_error naming the tensor and what was expected on bad arguments or a CUDA error.
void applyPass(const TensorPass& pass);

// A CUDA device is present and the runtime can talk to it.
bool cudaDeviceAvailable();

}  // namespace frugal::cuda
