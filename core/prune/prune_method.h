#pragma once
// Post-training pruning as a method (`method = "prune"`, `frugal prune`): registered in
// run/method_registry.cpp. No torch in this header.

#include "common/method.h"

namespace frugal::prune {

PreparedRun preparePruneMethod(const MethodRequest& request);

}  // namespace frugal::prune
