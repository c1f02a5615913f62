#include "prune/pruners.h"

#include <sstream>

#include "common/error.h"
#include "prune/channel_permutation.h"
#include "prune/dsnot.h"
#include "prune/pipeline.h"

namespace frugal::prune {

namespace {

// magnitude (Han et al. 2015; SPEC-PRUNING §3.1): |W| compared within the whole matrix.
torch::Tensor magnitude(const MatrixInput& in) {
    return magnitudeMask(in.linear.weight, in.sparsity, in.linear.name);
}

// magnitude_row: |W| compared within each output row (Wanda's comparison group with Wanda's
// activation term left out), the per-output baseline of Wanda's ablations (SPEC-PRUNING §1.3).
torch::Tensor magnitudeRow(const MatrixInput& in) {
    return selectPerRow(in.linear.weight.abs(), in.sparsity, in.linear.name);
}

// wanda (Sun et al. 2023, Eq. 1): |W_ij| * ||X_j||, compared per output row.
torch::Tensor wanda(const MatrixInput& in) {
    return selectPerRow(wandaScore(in.linear.weight, in.stats.meanSquares()), in.sparsity, in.linear.name);
}

// sparsegpt (Frantar & Alistarh 2023): OBS with the damped input Hessian, adaptive mask per block
// of columns; the kept weights are updated.
torch::Tensor sparsegpt(const MatrixInput& in) {
    SparseGptOptions o;
    o.blockSize = in.spec.blockSize;
    o.percdamp = in.spec.percdamp;
    return sparseGpt(in.linear.weight, in.hessian->hessian(), in.sparsity, o, in.linear.name).mask;
}

// ria (Zhang et al. 2024, "Plug-and-Play", Eq. 4 with Wanda's comparison group): the relative
// importance |W_ij|/Σ_k|W_kj| + |W_ij|/Σ_k|W_ik| (against its input column and its output row)
// times ||X_j||^a, a = prune.ria_power (the paper's 0.5), compared per output row. The norm's
// scale (all tokens or per sequence) multiplies a whole row alike, so it leaves the mask as it is.
torch::Tensor ria(const MatrixInput& in) {
    const torch::Tensor w = in.linear.weight.to(torch::kFloat32).abs();
    const torch::Tensor relative = w / w.sum(0, /*keepdim=*/true) + w / w.sum(1, /*keepdim=*/true);
    const torch::Tensor activation = in.stats.meanSquares().to(torch::kFloat32).sqrt().pow(in.spec.riaPower);
    const torch::Tensor score = relative * activation.unsqueeze(0);
    if (!in.spec.riaPermute || !in.sparsity.structured()) return selectPerRow(score, in.sparsity, in.linear.name);
    // N:M over permuted input channels (prune/channel_permutation.h): the mask chosen in the
    // permuted order, put back in the weight's order
    const auto perm = permuteForNM(score, in.sparsity.n, in.sparsity.m, 2, 16, static_cast<uint64_t>(in.spec.seed)).perm;
    const torch::Tensor order = torch::tensor(perm, torch::kInt64);
    const torch::Tensor permuted = selectPerRow(score.index_select(1, order), in.sparsity, in.linear.name);
    return torch::zeros_like(permuted).index_copy_(1, order, permuted);
}

// dsnot (Zhang et al. 2024, "Dynamic Sparse No Training"; prune/dsnot.h): the mask of the base
// score prune.dsnot_base chooses per row (Wanda's |W|·‖X_j‖, |W|, or SparseGPT's saliency
// W²/[chol(H⁻¹)]²_jj without its weight update, as the reference), then DSnoT's prune-and-grow
// cycles at fixed sparsity.
torch::Tensor dsnotBaseScore(const MatrixInput& in) {
    const torch::Tensor w = in.linear.weight.to(torch::kFloat32);
    if (in.spec.dsnotBase == "wanda") return wandaScore(w, in.stats.meanSquares());
    if (in.spec.dsnotBase == "magnitude") return w.abs();
    torch::Tensor h = in.hessian->hessian().clone();
    const torch::Tensor dead = h.diagonal() == 0;
    h.diagonal().masked_fill_(dead, 1.0);
    h.diagonal().add_(in.spec.percdamp * h.diagonal().mean());
    torch::Tensor d;
    try {
        d = at::linalg_cholesky(at::cholesky_inverse(at::linalg_cholesky(h)), /*upper=*/true).diagonal();
    } catch (const c10::Error&) {
        fail(in.linear.name, ": the Hessian is not positive definite even after damping (percdamp ", in.spec.percdamp,
             "); raise percdamp or use more calibration tokens");
    }
    return w.masked_fill(dead.unsqueeze(0), 0.0).square() / d.square().unsqueeze(0);
}

torch::Tensor dsnotMask(const MatrixInput& in) {
    const torch::Tensor score = dsnotBaseScore(in);
    DsnotOptions o;
    o.maxCycles = in.spec.dsnotCycles;
    o.threshold = in.spec.dsnotThreshold;
    o.varPower = in.spec.dsnotVarPower;
    return dsnot(in.linear.weight, selectPerRow(score, in.sparsity, in.linear.name), score, in.stats.meanSums(),
                 in.stats.tokenVariance(), in.sparsity, o)
        .mask;
}

bool never(const PruneSpec&) { return false; }
bool always(const PruneSpec&) { return true; }
bool dsnotOverSparseGpt(const PruneSpec& spec) { return spec.dsnotBase == "sparsegpt"; }

// masks: the masks of an earlier prune, as they are.
torch::Tensor savedMask(const MatrixInput& in) {
    return in.masks->read(in.linear.name, torch::kFloat32) != 0;
}

}  // namespace

// The calibration keys, read by every row that looks at activations (a literal, to be joined to
// each row's own keys).
#define FRUGAL_CALIBRATION_KEYS "calib calib_samples calib_seq_len batch"

const std::vector<Pruner>& pruners() {
    // name, selection, needs the Hessian, regional, mask of one matrix, the keys it reads
    static const std::vector<Pruner> table = {
        {"magnitude", "|W| within the whole matrix", never, false, magnitude, ""},
        {"magnitude_row", "|W| within each output row", never, false, magnitudeRow, FRUGAL_CALIBRATION_KEYS},
        {"wanda", "|W| * ||X_j|| within each output row", never, false, wanda, FRUGAL_CALIBRATION_KEYS " feature_norm"},
        {"sparsegpt", "OBS with the damped Hessian, adaptive mask per column block", always, false, sparsegpt,
         FRUGAL_CALIBRATION_KEYS " block_size percdamp"},
        {"wandapp", "(alpha * G + ||X_j||) * |W| within each output row, regional optimisation", never, true,
         nullptr, FRUGAL_CALIBRATION_KEYS " feature_norm alpha ro ro_rounds ro_samples ro_lr ro_regradient"},
        {"masks", "the saved masks of an earlier prune", never, false, savedMask, "masks"},
        {"ria", "(|W|/column sum + |W|/row sum) * ||X_j||^a within each output row", never, false, ria,
         FRUGAL_CALIBRATION_KEYS " ria_power ria_permute"},
        {"dsnot", "the base row's mask per output row, then DSnoT's swaps lowering |sum of pruned W_ij * E[x_j]|",
         dsnotOverSparseGpt, false, dsnotMask,
         FRUGAL_CALIBRATION_KEYS " dsnot_base dsnot_cycles dsnot_threshold dsnot_var_power percdamp"},
    };
    return table;
}

#undef FRUGAL_CALIBRATION_KEYS

std::vector<std::string> prunerNames() {
    std::vector<std::string> names;
    for (const auto& p : pruners()) names.emplace_back(p.name);
    return names;
}

const Pruner& findPruner(const std::string& name) {
    std::string names;
    for (const auto& p : pruners()) {
        if (name == p.name) return p;
        names += (names.empty() ? "" : ", ") + std::string(p.name);
    }
    fail("prune.method: unknown method '", name, "' (expected one of ", names, ")");
}

std::vector<std::string> prunersReading(const std::string& key) {
    std::vector<std::string> rows;
    for (const auto& p : pruners()) {
        std::istringstream words(p.reads);
        for (std::string word; words >> word;)
            if (word == key) {
                rows.emplace_back(p.name);
                break;
            }
    }
    return rows;
}

}  // namespace frugal::prune
