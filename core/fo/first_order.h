#pragma once
// First-order baselines on the same fine-tuning problem as the ZO engine (same model, trainable
// set, objective, batches and dev evaluation): SGD (optional momentum) and AdamW through
// autograd, so ZO and FO runs compare in one table. Memory is what a backward pass costs: the
// activations kept for it, a gradient per trainable element and, for AdamW, two moments.

#include <array>
#include <cstdint>
#include <filesystem>
#include <string>

#include "common/events.h"
#include "common/named.h"
#include "eval/fine_tune_problem.h"
#include "eval/training_probe.h"

namespace frugal::fo {

enum class FoOptimizer { AdamW, Sgd };
inline constexpr std::array<Named<FoOptimizer>, 2> kFoOptimizers = {{{FoOptimizer::AdamW, "adamw"}, {FoOptimizer::Sgd, "sgd"}}};

struct FoConfig {
    eval::FineTuneSpec common;
    FoOptimizer optimizer = FoOptimizer::AdamW;
    double momentum = 0.0;            // sgd
    double beta1 = 0.9, beta2 = 0.999, adamEps = 1e-8;
    double gradClip = 0;  // global norm; 0: none

    void validate() const;  // fo/fo_method.cpp, beside the reader
};

struct FoResult : eval::FineTuneResult {
    int64_t backwardPasses = 0;
};

// Fine-tunes CONFIG's model, reporting to SINK. A NaN or infinite loss is recorded, then fails the
// run naming the step; a stop request ends it with Cancelled. With a RESUMEDIR, a resume point
// (eval/resume_point.h) and a checkpoint of the trainable tensors and the optimiser state are
// kept there, rewritten at every evaluation step and at a stop; RESUME continues from them, the
// run then going on exactly as if it had never stopped.
// PROBES: the [live_landscape] probe's factory (empty: a config with the table is refused).
FoResult runFirstOrder(const FoConfig& config, EventSink& sink, const StopToken& stop,
                       const std::filesystem::path& resumeDir = {}, bool resume = false,
                       const eval::TrainingProbeFactory& probes = {});

}  // namespace frugal::fo
