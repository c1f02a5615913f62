#pragma once
// Zeroth-order fine-tuning as a method (`method = "zo"`, or its preset name "mezo"): the config
// reader, validation and schema of the [zo] (or [mezo]) and [peft] tables, the body, and replay
// from a run's trajectory. Registered in run/method_registry.cpp. No torch in this header.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/method.h"

namespace frugal::zo {

PreparedRun prepareZoMethod(const MethodRequest& request);    // method = "zo"
PreparedRun prepareMezoMethod(const MethodRequest& request);  // method = "mezo"
// Rebuilds a zo or mezo run's weights from its config and trajectory; returns the steps applied.
int64_t replayZoMethod(const ReplayRequest& request);
// What a zo or mezo config trains and its memory estimate.
std::optional<TrainableSummary> zoTrainables(const std::string& text, const std::string& source,
                                             const std::vector<std::string>& overrides);

}  // namespace frugal::zo
