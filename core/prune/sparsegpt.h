#pragma once
// SparseGPT (Frantar & Alistarh 2023; SPEC-PRUNING §3.2): prune a linear layer column block by
// column block, compensating each pruned weight's error in the not-yet-processed columns through
// the inverse Hessian of the layer-wise reconstruction loss. Masks follow prune/mask.h's
// conventions: unstructured selection is per block of columns (all rows x blockSize columns, the
// "adaptive mask"), exactly floor(numel * ratio) entries; N:M is chosen per row and aligned group
// from the current, already-updated weights.

#include <torch/types.h>

#include <cstdint>

#include "prune/mask.h"

namespace frugal::prune {

// H = (2 / N_seq) * sum over tokens of x x^T, accumulated as the reference's running mean.
class HessianAccumulator {
public:
    explicit HessianAccumulator(int64_t features);
    void add(const torch::Tensor& input);  // [B, L, C_in] or [L, C_in]
    const torch::Tensor& hessian() const { return m_h; }
    int64_t sequences() const { return m_sequences; }

private:
    torch::Tensor m_h;  // [C_in, C_in] fp32
    int64_t m_sequences = 0;
};

struct SparseGptOptions {
    int64_t blockSize = 128;
    double percdamp = 0.01;  // lambda = percdamp * mean(diag H) added to the diagonal
};

struct SparseGptResult {
    torch::Tensor mask;  // [C_out, C_in] true = pruned
    double loss = 0;     // sum over pruned entries of (w - q)^2 / (2 d^2), the reference's error
};

// Prunes WEIGHT [C_out, C_in] in place (pruned entries exactly +0.0, the others updated) given the
// layer's Hessian [C_in, C_in]. Inputs that never fired (H_jj = 0) get H_jj = 1 and their weight
// column zeroed, as the reference does.
SparseGptResult sparseGpt(torch::Tensor& weight, torch::Tensor hessian, const Sparsity& sparsity,
                          const SparseGptOptions& options = {}, const std::string& what = "weight");

}  // namespace frugal::prune
