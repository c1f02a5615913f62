#pragma once
// In-place perturbation, restoration and update of trainable tensors along a seed-regenerated
// direction (the MeZO trick, SPEC-ZO §1.3). Every element is visited in chunks of at most
// kChunk elements per task across LibTorch's intra-op threads; each thread holds one chunk of
// direction values on its stack, never a parameter-sized buffer. Arithmetic is fp32 for fp32,
// bf16 and fp16 weights. The result does not depend on the thread count.

#include <torch/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "zo/directions.h"

namespace frugal::zo {

struct Trainable {
    std::string name;
    torch::Tensor tensor;  // contiguous, on CPU; fp32, bf16 or fp16
    uint32_t index = 0;    // stream id of its direction (its position in the trainable set)
    bool decay = true;     // MeZO skips weight decay for bias and norm tensors
};

inline constexpr int64_t kChunk = 4096;

// The sphere law's factor sqrt(d) / ||z|| over all tensors (1 for the other laws).
double directionScale(const std::vector<Trainable>& params, uint64_t seed, DirectionLaw law);

// θ ← θ + scale·z for every tensor.
void perturb(const std::vector<Trainable>& params, uint64_t seed, double scale, DirectionLaw law);

// The fused last pass of a two-point step: restore from θ − εz and apply the update,
// θ ← (θ + εz) − lr·(g·z + λ·(θ + εz)), λ = 0 for tensors with decay == false.
void restoreAndUpdate(const std::vector<Trainable>& params, uint64_t seed, double eps, double lr,
                      double projectedGradient, double weightDecay, DirectionLaw law);

}  // namespace frugal::zo
