#pragma once
// First-order fine-tuning as a method (`method = "fo"`): SGD / AdamW baselines through autograd on
// the same problem as ZO runs; the [fo] and [peft] tables. Registered in run/method_registry.cpp.
// No torch in this header.

#include "common/method.h"

namespace frugal::fo {

PreparedRun prepareFoMethod(const MethodRequest& request);

}  // namespace frugal::fo
