#pragma once
// First-order baselines on the same fine-tuning problem as the ZO engine (same model, trainable
// set, objective, batches and dev evaluation): SGD (optional momentum) and AdamW through
// autograd, so ZO and FO runs compare in one table. Memory is what a backward pass costs: the
// activations kept for it, a gradient per trainable element and, for AdamW, two moments.

#include <cmath>
#include <cstdint>
#include <functional>
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

struct FoHooks {
    std::function<void(const std::string&)> log;
    std::function<void(const std::string& key, int64_t step, double value)> metric;
    std::function<void(int64_t step, int64_t total, double loss)> progress;
    std::function<bool()> stopRequested;
};

struct FoResult {
    int64_t trainable = 0, total = 0;
    int64_t steps = 0, forwardPasses = 0, backwardPasses = 0;
    double startDevAccuracy = 0, finalDevAccuracy = 0, bestDevAccuracy = 0, finalDevLoss = 0;
    double testAccuracy = NAN;  // the built-in task's test split, at the end
    double seconds = 0;
    int64_t peakRssBytes = 0;
    std::string savedAs;
};

FoResult runFirstOrder(const FoConfig& config, const FoHooks& hooks);

}  // namespace frugal::train
