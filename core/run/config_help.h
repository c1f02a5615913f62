#pragma once
// What each config key means, in one line: the workbench form's tooltips (and anything else that
// explains a key). No torch in this header.

#include <map>
#include <string>

namespace frugal::run {

// One line on what KEY (a full path as the method's reader declares it: "zo.lr",
// "peft.lora_rank", "prune.sparsity", "live_landscape.every") means for METHOD ("zo", "mezo",
// "fo", "prune", "sharpzo", "landscape", "pretrain", "eval"), or "" when no line is known.
std::string keyHelp(const std::string& method, const std::string& key);

// Whether METHOD's run reads KEY under the choices in VALUES (full key -> value as the form shows
// it, strings without quotes; a key absent from VALUES takes its default): the ZO optimiser's
// moments only for adam, LoRA's rank only for target = "lora", the AdaZeta constants only on its
// schedule, and so on. The form shows the keys read and folds the others under "advanced".
bool keyUsed(const std::string& method, const std::string& key, const std::map<std::string, std::string>& values);

}  // namespace frugal::run
