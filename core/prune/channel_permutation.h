#pragma once
// Channel permutation for N:M sparsity (RIA, Zhang et al., "Plug-and-Play", ICLR 2024, §3.3): N:M
// prunes N of every M consecutive input channels of a row, so which channels share a group
// decides what can be kept. A permutation of the input channels (realised on hardware by
// gathering the layer's input in that order before its product) groups them so that more of the
// score survives. Frugal keeps the weights in their order and applies the mask chosen in the
// permuted order; the mask is N:M in that order. Core-private (torch).
//
// Dimension legend: C_out x C_in the score.

#include <torch/types.h>

#include <cstdint>
#include <vector>

namespace frugal::prune {

// The score kept by N:M in the order PERM (PERM[k] = the column placed at position k): for every
// row and group of M positions, the sum of its M − N largest scores.
double keptScore(const torch::Tensor& score, const std::vector<int64_t>& perm, int64_t n, int64_t m);

struct PermutationResult {
    std::vector<int64_t> perm;        // perm[k] = the original column at position k
    double identityKept = 0, kept = 0;  // keptScore of the identity and of perm
};

// A permutation whose kept score is at least the identity's: the better of the identity and
// RIA's start (columns by their total score, dealt to the groups in a serpentine), then ROUNDS
// rounds in which every position tries swaps with CANDIDATES positions of other groups (drawn
// from SEED), each swap made only where it raises the kept score.
PermutationResult permuteForNM(const torch::Tensor& score, int64_t n, int64_t m, int64_t rounds = 2,
                               int64_t candidates = 16, uint64_t seed = 0);

}  // namespace frugal::prune
