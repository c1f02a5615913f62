// keyHelp (run/config_help.h): one line on what each config key means. The fine-tuning readers
// (eval/fine_tune_config.cpp with [peft] and [live_landscape], zo/zo_method.cpp, fo/fo_method.cpp)
// and prune, sharpzo, pretrain and eval declare it with the key; the lines here are those of
// analysis/landscape_method.cpp, whose reader does not yet, and the meanings a method gives a key
// that a shared reader declares (SharpZO's steps, FO's seed). Types, ranges and defaults are the
// schema's; these lines say what a key changes in the experiment.

#include "run/config_help.h"

#include <map>

namespace frugal::run {

namespace {

using Table = std::map<std::string, const char*>;

constexpr const char* kNotLandscape = "a fine-tuning key; a landscape trains nothing and does not read it";

// Keys of tables whose name is fixed, by full path ("landscape.dims", "train.lr").
const Table& byPath() {
    static const Table table = {
        // what the fine-tuning readers declare means something else in FO's table
        {"fo.seed", "the seed of the batch order"},
        {"fo.objective", "the loss: cross-entropy over the labels, or the gold label's LM loss"},
        {"fo.weight_decay", "weight decay λ: AdamW's decoupled, SGD's added to the gradient (none on biases and norms)"},
        // [landscape]
        {"landscape.model", "the model whose loss surface is sliced: a built-in name or a Hugging Face folder"},
        {"landscape.batch_size", "examples in the one fixed batch every point is scored on"},
        {"landscape.seed", "the seed of the fixed batch and the random directions"},
        {"landscape.task", "the task whose training split the fixed batch is drawn from"},
        {"landscape.objective", "the loss the surface shows: cross-entropy over the labels, LM loss or −accuracy"},
        {"landscape.dev_file", "a task of one's own: its dev examples (a landscape scores its training batch only)"},
        // fine-tuning keys that the landscape's reader declares but refuses in its table
        {"landscape.dtype", kNotLandscape},
        {"landscape.steps", kNotLandscape},
        {"landscape.lr", kNotLandscape},
        {"landscape.lr_schedule", kNotLandscape},
        {"landscape.weight_decay", kNotLandscape},
        {"landscape.eval_every", kNotLandscape},
        {"landscape.eval_limit", kNotLandscape},
        {"landscape.save", kNotLandscape},
        {"landscape.dims", "1: the loss along one direction; 2: a surface over two"},
        {"landscape.points", "points per axis (a 2-D slice scores points × points)"},
        {"landscape.lo", "where each axis starts, in units of its direction (between: 1 is model_b)"},
        {"landscape.hi", "where each axis ends, in units of its direction (between: 1 is model_b)"},
        {"landscape.directions",
         "filter-normalised random axes, the line towards model_b, or a ZO step's direction z"},
        {"landscape.model_b", "directions = between: the second model; the slice runs from model to it"},
        {"landscape.zo_seed", "directions = zo_step: the direction seed of the ZO step whose z is the first axis"},
        {"landscape.zo_law", "directions = zo_step: the ZO run's direction law, to regenerate its z"},
        {"landscape.timing_forwards", "forwards at the centre timed first, to state the slice's cost in forwards"},
        {"landscape.sharpness_probes", "Hutchinson probes and ε-ball samples of the sharpness at the centre; 0: none"},
        {"landscape.sharpness_h", "the second-difference step of the Hutchinson trace estimate"},
        {"landscape.sharpness_rho", "the radius ρ of the ε-ball maximum and of SAM's step"},
        {"landscape.sam", "also SAM's one-step sharpness L(θ + ρ∇L/‖∇L‖) − L(θ) (one backward pass)"},
        // [sharpzo]: steps and lr are stage 2's
        {"sharpzo.steps", "stage 2's ZO-SGD steps, after the CMA-ES warm start"},
        {"sharpzo.lr", "stage 2's learning rate η"},
        {"sharpzo.lr_schedule", "stage 2's learning-rate schedule (SharpZO takes only constant)"},
        {"sharpzo.weight_decay", "weight decay (SharpZO's stage 2 takes none: keep 0)"},
        {"sharpzo.seed", "the seed of the batches, CMA-ES's samples and stage 2's directions"},
        {"sharpzo.eval_every", "stage-2 steps between dev evaluations (stage 1 evaluates every generation)"},
        // pre-training: the array of tables its reader reads by hand
        {"data.sources", "the corpora trained on, each a [[data.sources]] with a name, path and weight"},
    };
    return table;
}

// Keys that mean the same wherever they are, by name: the last resort.
const Table& anywhere() {
    static const Table table = {
        {"method", "what the run does: zo, mezo, fo, prune, sharpzo, landscape, pretrain or eval"},
        {"seed", "the seed of the run's random draws"},
        {"steps", "optimisation steps"},
        {"lr", "the learning rate"},
        {"batch_size", "examples per step"},
    };
    return table;
}

// Lines that depend on the method as well as the key.
const char* forMethod(const std::string& method, const std::string& key) {
    if (method == "landscape" && key == "peft.target")
        return "the weights the directions span: every weight, biases, norms or the head";
    if (method == "sharpzo" && key == "peft.target")
        return "what w moves through its projection: a soft prompt by default, or another small trainable set";
    return nullptr;
}

const char* find(const Table& table, const std::string& key) {
    const auto it = table.find(key);
    return it == table.end() ? nullptr : it->second;
}

}  // namespace

std::string keyHelp(const std::string& method, const ConfigField& field) {
    // an entry of an array of tables ("data.sources[0].path") reads as its list's key
    std::string path;
    const std::string& key = field.key;
    for (size_t i = 0; i < key.size(); ++i) {
        if (key[i] == '[') {
            const size_t close = key.find(']', i);
            if (close == std::string::npos) return "";
            i = close;
        } else {
            path += key[i];
        }
    }
    if (const char* line = forMethod(method, path)) return line;
    if (const char* line = find(byPath(), path)) return line;
    if (!field.help.empty()) return field.help;  // the reader's own declaration
    const size_t dot = path.rfind('.');
    if (const char* line = find(anywhere(), dot == std::string::npos ? path : path.substr(dot + 1))) return line;
    return "";
}

}  // namespace frugal::run
