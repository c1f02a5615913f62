#pragma once
// Evaluation as a method (`method = "eval"`): accuracy on tasks (built-in names or files, zero- or
// few-shot) and perplexity on a text, as a stored run; `frugal eval task|ppl` runs it too.
// Registered in run/method_registry.cpp. No torch in this header.

#include "common/method.h"
#include "common/method_view.h"

namespace frugal::eval {

// The body reports eval/<task>/accuracy, .../accuracy_norm, .../accuracy_calibrated,
// .../examples and eval/perplexity, and writes results.json (artifact "results": every figure
// with what it was measured on) into the run's artifact folder.
PreparedRun prepareEvalMethod(const MethodRequest& request);


MethodView evalView();

}  // namespace frugal::eval
