#pragma once
// Pre-training from scratch as a method (`method = "pretrain"`): registered in
// run/method_registry.cpp. No torch in this header.

#include "common/method.h"

namespace frugal::pretrain {

PreparedRun preparePretrainMethod(const MethodRequest& request);

}  // namespace frugal::pretrain
