#pragma once
// What each config key means, in one line: the workbench form's tooltips (and anything else that
// explains a key). No torch in this header.

#include <map>
#include <string>
#include <vector>

#include "common/method.h"

namespace frugal::run {

// One line on what FIELD (a key of METHOD's schema, run::configSchema: "zo.lr",
// "peft.lora_rank", "prune.sparsity") means for METHOD ("zo", "mezo", "fo", "prune", "sharpzo",
// "landscape", "pretrain", "eval"): the reader's own declaration, or "" when no line is known.
std::string keyHelp(const std::string& method, const ConfigField& field);

// Whether METHOD's run reads KEY under the choices in VALUES (full key -> value as the form shows
// it, strings without quotes; a key absent from VALUES takes its default): the ZO optimiser's
// moments only for adam, LoRA's rank only for target = "lora", the AdaZeta constants only on its
// schedule, and so on. The form shows the keys read and folds the others under "advanced".
// The reader's declaration decides (ConfigField::readUnder, with SCHEMA's defaults); the methods
// whose readers do not declare it yet have their rules here.
bool keyUsed(const std::string& method, const ConfigField& field, const std::vector<ConfigField>& schema,
             const std::map<std::string, std::string>& values);

}  // namespace frugal::run
