#include "prune/pruners.h"

#include <sstream>

#include "common/error.h"
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
    return selectPerRow(relative * activation.unsqueeze(0), in.sparsity, in.linear.name);
}

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
        {"magnitude", "|W| within the whole matrix", false, false, magnitude, ""},
        {"magnitude_row", "|W| within each output row", false, false, magnitudeRow, FRUGAL_CALIBRATION_KEYS},
        {"wanda", "|W| * ||X_j|| within each output row", false, false, wanda, FRUGAL_CALIBRATION_KEYS " feature_norm"},
        {"sparsegpt", "OBS with the damped Hessian, adaptive mask per column block", true, false, sparsegpt,
         FRUGAL_CALIBRATION_KEYS " block_size percdamp"},
        {"wandapp", "(alpha * G + ||X_j||) * |W| within each output row, regional optimisation", false, true,
         nullptr, FRUGAL_CALIBRATION_KEYS " feature_norm alpha ro ro_rounds ro_samples ro_lr ro_regradient"},
        {"masks", "the saved masks of an earlier prune", false, false, savedMask, "masks"},
        {"ria", "(|W|/column sum + |W|/row sum) * ||X_j||^a within each output row", false, false, ria,
         FRUGAL_CALIBRATION_KEYS " ria_power"},
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
