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

// Launches the pass on its stream (asynchronous, like any kernel launch). Throws
// std::runtime_error naming the tensor and what was expected on bad arguments or a CUDA error.
void applyPass(const TensorPass& pass);

// A CUDA device is present and the runtime can talk to it.
bool cudaDeviceAvailable();

}  // namespace frugal::cuda
