// keyUsed (run/config_help.h): which keys a run reads under the choices made. The fine-tuning
// readers (eval/fine_tune_config.cpp, zo/zo_method.cpp, fo/fo_method.cpp) declare it with each key
// and prune/prune_method.cpp (KeyDoc::when); the rules here are those of
// analysis/landscape_method.cpp, whose reader does not yet.

#include <set>

#include "run/config_help.h"

namespace frugal::run {

namespace {

using Values = std::map<std::string, std::string>;

std::string valueOf(const Values& values, const std::string& key, const std::string& fallback) {
    const auto it = values.find(key);
    return it == values.end() || it->second.empty() ? fallback : it->second;
}

bool oneOf(const std::string& v, std::initializer_list<const char*> choices) {
    for (const char* c : choices)
        if (v == c) return true;
    return false;
}

// KEY's last part and its table ("zo.beta1" -> "zo", "beta1").
std::pair<std::string, std::string> split(const std::string& key) {
    const size_t dot = key.rfind('.');
    if (dot == std::string::npos) return {"", key};
    return {key.substr(0, dot), key.substr(dot + 1)};
}

}  // namespace

bool keyUsed(const std::string& method, const ConfigField& field, const std::vector<ConfigField>& schema,
             const Values& values) {
    if (!field.readUnder(values, schema)) return false;
    const auto [table, name] = split(field.key);
    const auto get = [&](const std::string& k, const char* fallback) { return valueOf(values, k, fallback); };
    if (method == "landscape" && table == "landscape") {
        // declared by the shared fine-tuning reader, but a landscape trains nothing
        if (oneOf(name, {"dtype", "steps", "lr", "lr_schedule", "weight_decay", "eval_every", "eval_limit", "save",
                         "train_text", "dev_text", "seq_len"}))
            return false;
        const std::string directions = get("landscape.directions", "filter");
        if (name == "model_b") return directions == "between";
        if (name == "zo_seed" || name == "zo_law") return directions == "zo_step";
        return true;
    }
    return true;
}

}  // namespace frugal::run
