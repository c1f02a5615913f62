#pragma once
// Zeroth-order fine-tuning as a method (`method = "zo"`, or its preset name "mezo"): the config
// reader, validation and schema of the [zo] (or [mezo]) and [peft] tables, the body, and replay
// from a run's trajectory. Registered in run/method_registry.cpp. No torch in this header.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/method.h"
#include "common/method_view.h"
#include "eval/training_probe.h"

namespace frugal::zo {

// PROBES: the [live_landscape] probe's factory (analysis/'s, handed down by the registry row).
PreparedRun prepareZoMethod(const MethodRequest& request, const eval::TrainingProbeFactory& probes);    // "zo"
PreparedRun prepareMezoMethod(const MethodRequest& request, const eval::TrainingProbeFactory& probes);  // "mezo"
// Rebuilds a zo or mezo run's weights from its config and trajectory; returns the steps applied.
int64_t replayZoMethod(const ReplayRequest& request);
// What a zo or mezo config trains and its memory estimate.
std::optional<TrainableSummary> zoTrainables(const std::string& text, const std::string& source,
                                             const std::vector<std::string>& overrides);


MethodView zoView();    // the query schedule, the projected gradient; the presets
MethodView mezoView();  // zo's, without the presets (zo configs)

}  // namespace frugal::zo
