#pragma once
// A stored zeroth-order run's checkpoints evaluated on another task, as a method
// (`method = "probe"`): the reader of the [probe] table and the body. Registered in
// run/method_registry.cpp. No torch in this header.

#include "common/method.h"
#include "common/method_view.h"

namespace frugal::analysis {

PreparedRun prepareProbeMethod(const MethodRequest& request);


MethodView probeView();

}  // namespace frugal::analysis
