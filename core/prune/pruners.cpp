#include "prune/pruners.h"

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

// masks: the masks of an earlier prune, as they are.
torch::Tensor savedMask(const MatrixInput& in) {
    return in.masks->read(in.linear.name, torch::kFloat32) != 0;
}

}  // namespace

const std::vector<Pruner>& pruners() {
    // name, selection, needs the Hessian, regional, mask of one matrix
    static const std::vector<Pruner> table = {
        {"magnitude", "|W| within the whole matrix", false, false, magnitude},
        {"magnitude_row", "|W| within each output row", false, false, magnitudeRow},
        {"wanda", "|W| * ||X_j|| within each output row", false, false, wanda},
        {"sparsegpt", "OBS with the damped Hessian, adaptive mask per column block", true, false, sparsegpt},
        {"wandapp", "(alpha * G + ||X_j||) * |W| within each output row, regional optimisation", false, true,
         nullptr},
        {"masks", "the saved masks of an earlier prune", false, false, savedMask},
    };
    return table;
}

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

}  // namespace frugal::prune
