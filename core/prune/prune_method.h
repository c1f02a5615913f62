#pragma once
// Post-training pruning as a method (`method = "prune"`, `frugal prune`): registered in
// run/method_registry.cpp. No torch in this header.

#include "common/method.h"
#include "common/method_view.h"

namespace frugal::prune {

PreparedRun preparePruneMethod(const MethodRequest& request);


MethodView pruneView();  // block error, perplexity, the sparsity grid up front

}  // namespace frugal::prune
