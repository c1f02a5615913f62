#pragma once
// First-order baselines on the same fine-tuning problem as the ZO engine (same model, trainable
// set, objective, batches and dev evaluation): SGD (optional momentum) and AdamW through
// autograd, so ZO and FO runs compare in one table. Memory is what a backward pass costs: the
// activations kept for it, a gradient per trainable element and, for AdamW, two moments.

#include <cstdint>
#include <string>

#include "train/finetune.h"

namespace frugal::train {

struct FoConfig {
    FineTuneSpec common;
    std::string optimizer = "adamw";  // adamw, sgd
    double momentum = 0.0;            // sgd
    double beta1 = 0.9, beta2 = 0.999, adamEps = 1e-8;
    double gradClip = 0;  // global norm; 0: none

    void validate() const;
};

using FoHooks = FineTuneHooks;

struct FoResult : FineTuneResult {
    int64_t backwardPasses = 0;
};

FoResult runFirstOrder(const FoConfig& config, const FoHooks& hooks);

}  // namespace frugal::train
