#pragma once
// First-order fine-tuning as a method (`method = "fo"`): SGD / AdamW baselines through autograd on
// the same problem as ZO runs; the [fo] and [peft] tables. Registered in run/method_registry.cpp.
// No torch in this header.

#include <optional>
#include <string>
#include <vector>

#include "common/method.h"
#include "common/method_view.h"
#include "eval/training_probe.h"

namespace frugal::fo {

// PROBES: the [live_landscape] probe's factory (analysis/'s, handed down by the registry row).
PreparedRun prepareFoMethod(const MethodRequest& request, const eval::TrainingProbeFactory& probes);
// What an fo config trains and its memory estimate.
std::optional<TrainableSummary> foTrainables(const std::string& text, const std::string& source,
                                             const std::vector<std::string>& overrides);


MethodView foView();

}  // namespace frugal::fo
