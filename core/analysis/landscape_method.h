#pragma once
// The loss landscape as a method (`method = "landscape"`): the reader of the [landscape] and
// [peft] tables and the body. Registered in run/method_registry.cpp. No torch in this header.

#include "common/method.h"
#include "common/method_view.h"

namespace frugal::analysis {

PreparedRun prepareLandscapeMethod(const MethodRequest& request);


MethodView landscapeView();  // the surface up front

}  // namespace frugal::analysis
