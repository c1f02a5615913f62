#pragma once
// A stored zeroth-order run's checkpoints evaluated on another task, as a method
// (`method = "probe"`): the reader of the [probe] table and the body. Registered in
// run/method_registry.cpp. No torch in this header.

#include "common/method.h"

namespace frugal::analysis {

PreparedRun prepareProbeMethod(const MethodRequest& request);

}  // namespace frugal::analysis
