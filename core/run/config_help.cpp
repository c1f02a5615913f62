// keyHelp (run/config_help.h): one line on what each config key means. The fine-tuning readers
// (eval/fine_tune_config.cpp with [peft] and [live_landscape], zo/zo_method.cpp, fo/fo_method.cpp)
// and prune/prune_method.cpp declare it with the key; the lines here are those of the readers
// that do not yet (search/sharpzo_method.cpp, analysis/landscape_method.cpp,
// pretrain/pretrain_method.cpp, eval/eval_method.cpp) and the meanings a method gives a key that a
// shared reader declares (a landscape's or SharpZO's steps). Types, ranges and defaults are the
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
        {"sharpzo.dim", "d: the size of the vector w that moves the trainables through a fixed random projection"},
        {"sharpzo.popsize", "λ: CMA-ES candidates per stage-1 generation"},
        {"sharpzo.rho", "stage 1's sharpness radius: candidates scored at x + ρ·g/‖g‖; 0: plain CMA-ES"},
        {"sharpzo.sigma0", "CMA-ES's initial step size σ0, in w's coordinates"},
        {"sharpzo.cge_eps", "stage 1's coordinate-difference step for the gradient g at the CMA mean"},
        {"sharpzo.bound", "candidates kept in the box [−bound, bound] per coordinate; 0: unbounded"},
        {"sharpzo.separable", "sep-CMA-ES: a diagonal covariance, cheaper for a large dim"},
        {"sharpzo.generations", "the most CMA-ES generations of stage 1; 0: no stage 1 (plain ZO-SGD on w)"},
        {"sharpzo.patience", "stage 1 ends after this many generations without a dev-accuracy rise; 0: off"},
        {"sharpzo.min_delta", "the rise of dev accuracy above its best that counts as progress for patience"},
        {"sharpzo.rge_eps", "stage 2's perturbation scale μ of the two-point estimate"},
        {"sharpzo.mask_cge_eps", "the coordinate-difference step of the gradient that scores stage 2's mask"},
        {"sharpzo.prune_ratio", "the share of w's coordinates stage 2 perturbs: the smallest |w|²·zscore(|g|)"},
        {"sharpzo.mask_every", "stage-2 steps between recomputing the mask"},
        {"sharpzo.max_forwards", "training forwards both stages may take in all; 0: no budget"},
        {"sharpzo.target_loss", "a dev loss; the forwards until it is first reached are reported; 0: none"},
        {"sharpzo.sharpness_probes",
         "Hutchinson probes and ε-ball samples of the sharpness at stage 2's start; 0: none"},
        {"sharpzo.sharpness_h", "the second-difference step (in w) of the Hutchinson trace estimate"},
        {"sharpzo.projection_seed", "the seed of the random projection from w to the trainables"},
        {"sharpzo.population_batch", "stage-1 points scored in one batched forward; 0: popsize on CUDA, 1 on the CPU"},
        // pre-training ([output], [tokenizer], [model], [data], [train])
        {"output.dir", "the folder the model, tokenizer, training.json and training_log.csv are written to"},
        {"output.dtype", "the dtype the trained weights are saved in"},
        {"tokenizer.path", "a tokenizer.json to use; empty: a byte-level BPE is trained on the sources"},
        {"tokenizer.vocab_size", "the size of the byte-level BPE vocabulary trained on the sources"},
        {"tokenizer.min_frequency", "how often a pair must occur in the corpus to become a merge"},
        {"model.hidden_size", "the width of the residual stream"},
        {"model.num_layers", "transformer blocks"},
        {"model.num_heads", "attention heads per block"},
        {"model.num_kv_heads", "key/value heads per block (fewer than num_heads: grouped-query attention)"},
        {"model.intermediate_size", "the MLP's hidden width; 0: LLaMA's 8·hidden/3, rounded up to a multiple of 32"},
        {"model.max_position_embeddings", "the longest context the model is built for"},
        {"model.rope_theta", "the base of the rotary position embedding's frequencies"},
        {"model.tie_word_embeddings", "share the token embedding with the output head"},
        {"model.init_std", "the standard deviation of the initial weights"},
        {"data.sources", "the corpora trained on, each a [[data.sources]] with a name, path and weight"},
        {"data.sources.name", "a corpus's name in the logs (default: its file name)"},
        {"data.sources.path", "the corpus's text file"},
        {"data.sources.weight", "the corpus's share of the training windows (normalised over the sources)"},
        {"data.holdout_fraction", "the tail of each source kept out of training, for the held-out loss"},
        {"data.eval_text", "a text whose perplexity the finished model is measured on"},
        {"train.seed", "the seed of the initial weights and the training windows"},
        {"train.steps", "AdamW steps"},
        {"train.batch_size", "training windows per step"},
        {"train.seq_len", "tokens per training window"},
        {"train.lr", "AdamW's peak learning rate, reached after warm-up, then cosine-decayed to min_lr"},
        {"train.min_lr", "the learning rate the cosine decay ends at"},
        {"train.warmup_steps", "steps of linear warm-up to the peak learning rate"},
        {"train.weight_decay", "AdamW's decoupled weight decay"},
        {"train.beta1", "AdamW's first-moment decay β1"},
        {"train.beta2", "AdamW's second-moment decay β2"},
        {"train.adam_eps", "AdamW's ε in the denominator"},
        {"train.grad_clip", "the global gradient norm is clipped to this; 0: no clipping"},
        {"train.log_every", "steps between logged training losses"},
        {"train.eval_every", "steps between held-out loss evaluations"},
        {"train.eval_windows", "held-out windows per source scored at each evaluation"},
        {"train.checkpoint_every", "steps between checkpoints that --resume continues from; 0: none"},
        // [eval]
        {"eval.model", "the model evaluated: a built-in name or a Hugging Face folder"},
        {"eval.tokenizer", "a tokenizer.json (or a folder holding one) other than the model folder's"},
        {"eval.tasks", "the tasks whose accuracy is measured: built-in names or labelled task files"},
        {"eval.template", "task files: the prompt, {text} for the example and one {a|b} slot for the label words"},
        {"eval.labels", "task files: the labels, in the order of the template's slot words"},
        {"eval.shots", "demonstrations put before each question (k-shot); 0: zero-shot"},
        {"eval.shots_from",
         "where demonstrations are drawn from: a file or NAME:train (default: the task's train split)"},
        {"eval.seed", "the seed that draws the demonstrations"},
        {"eval.limit", "examples scored per task; 0: all"},
        {"eval.text", "a text whose perplexity is measured"},
        {"eval.seq_len", "tokens per perplexity window"},
        {"eval.batch", "perplexity windows per forward pass"},
        {"eval.limit_windows", "perplexity windows scored; 0: all"},
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
