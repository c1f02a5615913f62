#pragma once
// Pruning masks and the scores they are selected from (SPEC-PRUNING §1.1-§1.4, §3.1, §7).
// Conventions, stated once:
//   - a mask is a bool tensor shaped like the weight [C_out, C_in]; true = pruned (set to +0.0);
//   - "N:M" means N entries PRUNED in every aligned group of M consecutive input columns of a row
//     (the Wanda reference's reading; at 2:4 and 4:8 it is also NVIDIA's "at most 2 of 4 kept");
//   - unstructured selection is per output row (Wanda) and prunes exactly floor(C_in * s) entries
//     of each row; the magnitude baseline compares within the whole matrix and prunes exactly
//     floor(numel * s) entries (not the reference's "<= threshold", which prunes one more and
//     more with ties);
//   - ties go to the lower column index (a stable sort), so masks are deterministic.

#include <torch/types.h>

#include <cstdint>
#include <string>

namespace frugal::prune {

struct Sparsity {
    double ratio = 0.5;    // unstructured: fraction pruned, in (0, 1)
    int64_t n = 0, m = 0;  // N:M when m > 0: n pruned per group of m
    bool structured() const { return m > 0; }
    std::string describe() const;  // "50% unstructured", "2:4"
    // "0.5" or "50%" (unstructured) or "2:4" / "4:8" (N:M, 0 < N < M); a clear message otherwise.
    static Sparsity parse(const std::string& text);
};

// Per-row selection of the lowest scores: unstructured (floor(C_in * ratio) per row) or N:M
// (N per aligned group of M; C_in must be a multiple of M). WHAT names the matrix in messages.
torch::Tensor selectPerRow(const torch::Tensor& scores, const Sparsity& sparsity,
                           const std::string& what = "weight");

// The magnitude baseline: |W| compared within the whole matrix (unstructured, exactly
// floor(numel * ratio) pruned) or per row and group for N:M.
torch::Tensor magnitudeMask(const torch::Tensor& weight, const Sparsity& sparsity,
                            const std::string& what = "weight");

// Wanda's score |W_ij| * sqrt(meanSquares_j), meanSquares from InputStatistics.
torch::Tensor wandaScore(const torch::Tensor& weight, const torch::Tensor& meanSquares);

// The running per-input-feature statistic of a linear layer's inputs, exactly as the Wanda
// reference accumulates it: after N sequences, meanSquares_j = (1/N) * sum over all N*L tokens of
// x_tj^2 (normalised by the number of SEQUENCES, not tokens; the factor does not change Wanda's
// per-row ranking but matters when the term is added to another).
class InputStatistics {
public:
    explicit InputStatistics(int64_t features);
    void add(const torch::Tensor& input);  // [B, L, C_in] or [L, C_in] (one sequence)
    // The same in two halves, so that layers sharing an input (q, k, v) reduce it once:
    // squares(input) = sum over its tokens of x^2 per feature, then addSquares(that, B).
    static torch::Tensor squares(const torch::Tensor& input);
    void addSquares(const torch::Tensor& sums, int64_t sequences);
    const torch::Tensor& meanSquares() const { return m_meanSquares; }
    int64_t sequences() const { return m_sequences; }
    // The sums of x per feature the same way (a sequence's sum over its tokens, averaged over
    // sequences), for the rows that need E[x] (DSnoT): sums(input) once, then addSums(that, B, T)
    // with T the input's tokens.
    static torch::Tensor sums(const torch::Tensor& input);
    void addSums(const torch::Tensor& sums, int64_t sequences, int64_t tokens);
    const torch::Tensor& meanSums() const { return m_meanSums; }
    // E[x_j] and Var[x_j] over every calibration token (the pooled variance E[x²] − E[x]²); both
    // need addSums to have been fed with every input addSquares was.
    torch::Tensor tokenMean() const;
    torch::Tensor tokenVariance() const;

private:
    torch::Tensor m_meanSquares;  // [C_in] fp32
    torch::Tensor m_meanSums;     // [C_in] fp32
    int64_t m_sequences = 0, m_sumSequences = 0, m_tokens = 0;
};

// Sets the masked weights to +0.0 in place; returns the number of pruned entries.
int64_t applyMask(torch::Tensor& weight, const torch::Tensor& mask);

}  // namespace frugal::prune
