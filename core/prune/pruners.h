#pragma once
// The score table of post-training pruning (SPEC-PRUNING §1-§3): one row per pruner, each with
// the mask it selects for one linear layer from what the block-by-block driver (pipeline.cpp)
// gathered on the dense block. Adding a pruner is one function and one row in pruners.cpp; the
// reader's choices and validation follow from the table. Wanda++ is the one regional row: its
// score needs the block's regional gradient and its optimisation moves the whole block, so the
// driver runs it as a block-level procedure. Core-private (torch).
// Adding a row: docs/ARCHITECTURE.md, "How to add", "A pruner (a score rule)".
//
// Dimension legend: C_out x C_in a linear layer's weight.

#include <torch/types.h>

#include <string>
#include <vector>

#include "model/safetensors.h"
#include "model/transformer.h"
#include "prune/mask.h"
#include "prune/sparsegpt.h"

namespace frugal::prune {

struct PruneSpec;

// What a pruner sees of one linear layer.
struct MatrixInput {
    model::Linear& linear;               // weight [C_out, C_in] (SparseGPT also updates it)
    const InputStatistics& stats;        // its inputs' statistics on the dense block
    const HessianAccumulator* hessian;   // its inputs' Hessian, for rows with needsHessian
    const Sparsity& sparsity;
    const PruneSpec& spec;
    const model::SafetensorsArchive* masks;  // saved masks, for the masks row
};

struct Pruner {
    const char* name;
    const char* selection;  // how the mask is chosen, in words (logged with each run)
    // The driver accumulates X^T X for each linear when this says so for the run's spec.
    bool (*needsHessian)(const PruneSpec& spec);
    bool regional;          // Wanda++: the block-level procedure (select is unused)
    // The mask of one matrix, [C_out, C_in] bool, true = pruned.
    torch::Tensor (*select)(const MatrixInput& input);
    // The keys of the [prune] table this row reads beyond those every row reads, separated by
    // spaces ("calib feature_norm"): the form shows them only for this row.
    const char* reads;
};

const std::vector<Pruner>& pruners();
std::vector<std::string> prunerNames();
// The row named NAME; throws naming prune.method and every valid name.
const Pruner& findPruner(const std::string& name);
// The rows that read KEY of the [prune] table (their `reads`).
std::vector<std::string> prunersReading(const std::string& key);

}  // namespace frugal::prune
