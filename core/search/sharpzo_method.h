#pragma once
// SharpZO as a method (`method = "sharpzo"`): the reader, validation and schema of the [sharpzo]
// and [peft] tables and the body. Registered in run/method_registry.cpp. No torch in this header.

#include "common/method.h"
#include "common/method_view.h"

namespace frugal::search {

PreparedRun prepareSharpZoMethod(const MethodRequest& request);


MethodView sharpZoView();  // the CMA-ES stage, shaded on the loss

}  // namespace frugal::search
