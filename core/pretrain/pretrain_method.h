#pragma once
// Pre-training from scratch as a method (`method = "pretrain"`): registered in
// run/method_registry.cpp. No torch in this header.

#include "common/method.h"
#include "common/method_view.h"

namespace frugal::pretrain {

PreparedRun preparePretrainMethod(const MethodRequest& request);


MethodView pretrainView();

}  // namespace frugal::pretrain
