#pragma once
// DSnoT (Zhang et al., "Dynamic Sparse No Training", ICLR 2024; docs/METHODS.md): training-free
// prune-and-grow over an initial mask. For output row i, e_ij = W_ij·μ_j with μ_j the mean of
// input j over a calibration sequence (its sum over the sequence's tokens, averaged over
// sequences), and the row's expected reconstruction error is r_i = Σ_{j pruned} e_ij: what the
// pruned weights took from the row's output. Each cycle revives one pruned weight and prunes one
// kept weight per row so that |r_i| falls, at fixed sparsity:
//   r_i > 0: revive the pruned weight with the largest e_ij / Var[x_j]^p, prune the kept weight
//            with e_ij < 0 and the lowest base score;
//   r_i ≤ 0: revive the smallest e_ij / Var[x_j]^p, prune the kept e_ij > 0 with the lowest score;
//   N:M: the weight pruned is the kept one with the lowest base score in the revived one's group.
// A swap is made only where it lowers |r_i| (and |r_i| is above the threshold); a row whose swap
// would not stops there. Core-private (torch).
//
// Dimension legend: C_out x C_in the weight.

#include <torch/types.h>

#include <cstdint>
#include <vector>

#include "prune/mask.h"

namespace frugal::prune {

struct DsnotOptions {
    int64_t maxCycles = 50;   // the reference's max_cycle_time
    double threshold = 0.1;   // rows with |r_i| at most this stop (the reference's update_threshold)
    double varPower = 1;      // p of Var[x_j]^p in the revival order (pow_of_var_regrowing)
};

struct DsnotResult {
    torch::Tensor mask;               // [C_out, C_in] bool, true = pruned
    std::vector<double> totalError;   // Σ_i |r_i| before the first cycle and after each cycle
    int64_t swaps = 0;
};

// WEIGHT [C_out, C_in]; MASK the initial mask (true = pruned), as the base pruner chose it from
// BASESCORE [C_out, C_in] (lower = pruned first); MEANSUMS [C_in] the per-sequence sums μ;
// VARIANCE [C_in] Var[x_j]; SPARSITY the mask's (N:M swaps stay within a group).
DsnotResult dsnot(const torch::Tensor& weight, const torch::Tensor& mask, const torch::Tensor& baseScore,
                  const torch::Tensor& meanSums, const torch::Tensor& variance, const Sparsity& sparsity,
                  const DsnotOptions& options = {});

}  // namespace frugal::prune
