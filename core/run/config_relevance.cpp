// keyUsed (run/config_help.h): which keys a run reads under the choices made, from the readers'
// own branches (zo/zo_method.cpp, fo/fo_method.cpp, eval/fine_tune_config.cpp,
// prune/prune_method.cpp, analysis/landscape_method.cpp).

#include <set>

#include "run/config_help.h"
#include "zo/optimizers.h"

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

bool keyUsed(const std::string& method, const std::string& key, const Values& values) {
    const auto [table, name] = split(key);
    const auto get = [&](const std::string& k, const char* fallback) { return valueOf(values, k, fallback); };
    if (table == "peft") {
        const std::string target = get("peft.target", "full");
        const bool adapter = oneOf(target, {"lora", "prefix", "prompt", "loretta_adp", "loretta_rep"});
        if (name == "lora_rank" || name == "lora_alpha" || name == "lora_modules" || name == "lora_keep_zeros")
            return target == "lora";
        if (name == "prefix_tokens") return target == "prefix";
        if (name == "prompt_tokens") return target == "prompt";
        if (name.rfind("tt_", 0) == 0 && name != "tt_head") return oneOf(target, {"loretta_adp", "loretta_rep"});
        if (name == "tt_head" || name == "train_norms" || name == "seed") return adapter;
        return true;
    }
    if (table == "live_landscape") {
        if (name == "every") return true;
        const std::string every = get("live_landscape.every", "0");
        if (every == "0") return false;
        if (name == "sam") return method == "fo";
        return true;
    }
    if (oneOf(method, {"zo", "mezo", "fo", "sharpzo"}) && table == method) {
        // plain-text language modelling (train_text) or a labelled task
        const bool text = !get(table + ".train_text", "").empty();
        if (oneOf(name, {"dev_text", "seq_len"})) return text;
        if (oneOf(name, {"task", "train_file", "dev_file", "template", "labels"})) return !text;
    }
    if ((method == "zo" || method == "mezo") && table == method) {
        // the optimiser table says which of its constants each row reads
        if (zo::isZoOptimizerKey(name)) return zo::zoOptimizerReads(get(table + ".optimizer", "sgd"), name);
        const std::string schedule = get(table + ".query_schedule", "constant");
        if (name == "queries") return schedule == "constant";
        if (name.rfind("adazeta_", 0) == 0 || name == "q_max") return schedule == "adazeta";
        const std::string divergence = get(table + ".divergence", "stop");
        if (name == "divergence_factor") return divergence != "off";
        if (name == "rollback_steps" || name == "max_rollbacks") return divergence == "rollback";
        return true;
    }
    if (method == "fo" && table == "fo") {
        const std::string optimizer = get("fo.optimizer", "adamw");
        if (name == "momentum") return optimizer == "sgd";
        if (name == "beta1" || name == "beta2" || name == "adam_eps") return optimizer == "adamw";
        return true;
    }
    if (method == "prune" && table == "prune") {
        const std::string pruner = get("prune.method", "wanda");
        const std::string ro = get("prune.ro", "off");
        if (name == "alpha" || name == "ro") return pruner == "wandapp";
        if (name.rfind("ro_", 0) == 0) return pruner == "wandapp" && ro != "off";
        if (name == "feature_norm") return oneOf(pruner, {"wanda", "wandapp"});
        if (name == "block_size" || name == "percdamp") return pruner == "sparsegpt";
        if (name == "masks") return pruner == "masks";
        if (name == "calib" || name == "calib_samples" || name == "calib_seq_len" || name == "batch")
            return !oneOf(pruner, {"magnitude", "masks"});
        return true;
    }
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
