#pragma once
// The passes of perturb.h on trainables that live on a CUDA device: each tensor goes through the
// kernels of core/cuda (zo_kernels.h), which give the CPU passes' bits. Private to core/zo: the
// functions of perturb.h call these when their tensors are on CUDA.

#include <vector>

#include "cuda/zo_kernels.h"
#include "peft/trainable.h"
#include "zo/directions.h"
#include "zo/optimizers.h"

namespace frugal::zo {

struct SparseMask;
struct OptimizerState;

// True when every trainable is on a CUDA device, false when every one is on the CPU; throws
// naming the first tensor that is elsewhere (mixed devices, or a device the passes have no
// kernels for).
bool trainablesOnCuda(const std::vector<peft::Trainable>& params);

// One restore/update and/or perturbation pass over every tensor (either pointer may be null; the
// sphere factors are in them). MASK: its device words are read, and rewritten by a refresh.
void cudaPass(const std::vector<peft::Trainable>& params, const cuda::RestoreUpdate* update,
              const cuda::Perturbation* perturb, DirectionLaw law, const SparseMask* mask);

// applyUpdate() on CUDA: COEFFICIENTS are the CPU's c_j = g_j·k_j/q, already rounded to float.
void cudaUpdate(const std::vector<peft::Trainable>& params, const std::vector<uint64_t>& seeds,
                const std::vector<float>& coefficients, DirectionLaw law, const ZoOptimizer& optimizer,
                const UpdateRule& rule, OptimizerState& state, const SparseMask* mask);

// Where SparseMask keeps its words for trainables on CUDA: one int64 tensor per trainable on its
// device, made from the host bits.
std::vector<torch::Tensor> maskWordsOnDevice(const std::vector<peft::Trainable>& params,
                                             const std::vector<std::vector<uint64_t>>& bits);

}  // namespace frugal::zo
