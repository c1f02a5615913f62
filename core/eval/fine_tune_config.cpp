#include "eval/fine_tune_config.h"

#include <utility>

#include "common/error.h"
#include "common/files.h"
#include "data/task.h"
#include "data/builtin.h"
#include "model/model_config.h"
#include "peft/peft_options.h"
#include "common/metric_keys.h"
#include "model/device.h"

namespace frugal::eval {

void readDevice(const config::Section& m, const std::string& source, std::string& device) {
    m.choice("device", device, {"cpu", "cuda"},
             {"where the model, its trainables and the batches live: cpu, cuda (the first GPU) or cuda:N"});
    if (const std::string problem = model::deviceNameProblem(device); !problem.empty())
        config::refuse(m.name("device"), cat(source, ": ", m.name("device"), ": ", problem));
}

namespace {
void readPeft(const toml::table& root, const std::string& source, peft::PeftOptions& o,
              const config::KeyDocs& retold);
void checkTask(const config::Section& m, const std::string& source, FineTuneSpec& c);
}  // namespace

void readFineTuneSpec(const config::Section& m, const toml::table& root, const std::string& source,
                      FineTuneSpec& c, bool& save, const config::KeyDocs& retold) {
    using namespace frugal::config;
    m.retell(retold);
    // a labelled task's keys, or plain text's (train_text set)
    const KeyCondition onTask = m.when("train_text", {""}), onText = m.unless("train_text", {""});
    m.string("model", c.model, {"the model fine-tuned: a built-in name or a Hugging Face folder"});
    m.choice("dtype", c.dtype, {"auto", "fp32", "bf16", "fp16"},
             {"the dtype the model's weights are held in while it trains; auto: the checkpoint's own where the device "
              "computes in it (bf16 anywhere, fp16 on CUDA; an fp16 checkpoint becomes bf16 on the CPU)"});
    readDevice(m, source, c.device);
    m.string("task", c.task,
             {"the task trained on and evaluated: a built-in name, or a name of one's own with its files", {onTask}});
    m.named("objective", c.objective, kObjectives,
             {"the loss: cross-entropy over the labels, the gold label's LM loss, or −accuracy (ZO only)"});
    m.integer("steps", c.steps, 1, 1 << 30, {"optimisation steps, one batch each"});
    m.integer("batch_size", c.batchSize, 1, 4096, {"training examples per step"});
    m.number("lr", c.lr, 0.0, 10.0, {"the learning rate η"});
    m.named("lr_schedule", c.lrSchedule, kLrSchedules,
             {"how the learning rate changes over the run: constant, or linear or cosine decay to 0"});
    m.number("weight_decay", c.weightDecay, 0.0, 10.0,
             {"decoupled weight decay λ: θ ← θ·(1 − η·λ) − η·u (none on biases and norms)"});
    int64_t seed = 0;
    m.integer("seed", seed, 0, INT64_MAX, {"the seed of the run's random draws: batches and perturbation directions"});
    c.seed = static_cast<uint64_t>(seed);
    m.integer("eval_every", c.evalEvery, 1, 1 << 30, {"steps between dev evaluations (also at the first and last step)"});
    m.integer("eval_limit", c.evalLimit, 0, 1 << 30, {"dev examples scored at each evaluation; 0: all"});
    m.boolean("save", save,
              {"write the fine-tuned model (LoRA merged, other adapters beside it) into the run's artifacts"});
    readPeft(root, source, c.peft, retold);
    m.path("train_file", c.trainFile,
           {"a task of one's own: its labelled training examples (.jsonl, .csv or .tsv)", {onTask}});
    m.path("dev_file", c.devFile, {"a task of one's own: its dev examples, scored at each evaluation", {onTask}});
    m.string("template", c.templateText,
             {"a task of one's own: the prompt, {text} for the example and one {a|b} slot for the labels", {onTask}});
    stringList(m, "labels", c.labels, "[]",
               {"a task of one's own: its labels, in the order of the template's slot words", {onTask}});
    m.path("train_text", c.trainText,
           {"language modelling on plain text: the UTF-8 text trained on, in windows of seq_len tokens (instead of a task)"});
    m.path("dev_text", c.devText,
           {"language modelling on plain text: the text whose perplexity is the dev metric", {onText}});
    m.integer("seq_len", c.seqLen, 2, 1 << 20,
              {"language modelling on plain text: tokens a window (non-overlapping windows, every token after the "
               "first scored)",
               {onText}});
    checkTask(m, source, c);
}

namespace {

void readPeft(const toml::table& root, const std::string& source, peft::PeftOptions& o,
              const config::KeyDocs& retold) {
    using namespace frugal::config;
    const toml::table empty;
    const Section p(tableOr(root, "peft", source, empty), "peft", source);
    p.retell(retold);
    std::string target = peft::targetName(o.target);
    p.choice("target", target, {"full", "bitfit", "norms", "head", "lora", "prefix", "prompt", "loretta_adp", "loretta_rep"},
             {"what is trained: every weight, biases, norms, the head, LoRA, a prefix, a prompt or TT adapters"});
    o.target = peft::parseTarget(target);
    const KeyCondition lora = p.when("target", {"lora"}), tt = p.when("target", {"loretta_adp", "loretta_rep"});
    const KeyCondition adapter = p.when("target", {"lora", "prefix", "prompt", "loretta_adp", "loretta_rep"});
    p.integer("lora_rank", o.loraRank, 1, 1 << 16,
              {"LoRA's rank r: each adapted matrix gets a trained update B·A of rank r (also loretta_rep's)", {lora}});
    p.number("lora_alpha", o.loraAlpha, 0.0, 1e6, {"LoRA's scale: the update B·A is multiplied by alpha / r", {lora}});
    p.integer("prefix_tokens", o.prefixTokens, 1, 1 << 12,
              {"prefix tuning: trained key/value positions put before every layer's attention", {p.when("target", {"prefix"})}});
    p.integer("prompt_tokens", o.promptTokens, 1, 1 << 12,
              {"prompt tuning: trained input embeddings put before the text", {p.when("target", {"prompt"})}});
    p.integer("tt_rank", o.ttRank, 1, 1 << 10,
              {"LoRETTA: the tensor-train rank of the adapters' cores (fewer parameters when smaller)", {tt}});
    p.integer("tt_bottleneck", o.ttBottleneck, 1, 1 << 16,
              {"LoRETTA_adp: each adapter's bottleneck width (hidden -> bottleneck -> hidden)", {tt}});
    p.choice("tt_activation", o.ttActivation, {"relu", "tanh"},
             {"LoRETTA_adp: the non-linearity inside each bottleneck adapter", {tt}});
    p.number("tt_scaling", o.ttScaling, 0.0, 1e6, {"LoRETTA_adp: the factor s on each adapter's output, h -> h + s·adapter(h)", {tt}});
    p.choice("tt_init", o.ttInit, {"gaussian", "identity"},
             {"LoRETTA: random cores, or a last core of zeros so the adapted model starts exactly as the base", {tt}});
    p.choice("tt_forward", o.ttForward, {"auto", "dense", "contract"},
             {"LoRETTA: rebuild the dense matrix or contract the cores with the input (auto: the cheaper)", {tt}});
    p.boolean("train_norms", o.trainNorms, {"adapter targets: train the norm weights (and biases) too", {adapter}});
    p.boolean("lora_keep_zeros", o.loraKeepZeros,
              {"LoRA on a pruned model: the update B·A is masked by the base weights' non-zeros, so they stay pruned", {lora}});
    if (o.loraKeepZeros && o.target != peft::Target::Lora)
        failAt(p.name("lora_keep_zeros"), source, ": ", p.name("lora_keep_zeros"), " masks LoRA's update by the base weights' non-zeros; peft.target is ",
             peft::targetName(o.target), ", not lora");
    p.boolean("tt_head", o.ttHead,
              {"adapter targets: also train a tensor-train hidden×hidden map ahead of the LM head", {adapter}});
    int64_t peftSeed = 0;
    p.integer("seed", peftSeed, 0, INT64_MAX, {"the seed of the adapters' initial values (apart from the run's seed)", {adapter}});
    o.seed = static_cast<uint64_t>(peftSeed);
    {
        std::string modules;
        for (const auto& name : o.loraModules) modules += (modules.empty() ? "\"" : ", \"") + name + "\"";
        p.declareList("lora_modules", "[" + modules + "]",
                      {"the projections LoRA (and loretta_rep) adapt, by name: q, k, v, o, qkv, gate, up, down", {lora}});
    }
    if (const toml::node* n = p.find("lora_modules")) {
        const toml::array* list = n->as_array();
        if (!list) p.wrong("lora_modules", *n, "an array of strings such as [\"q\", \"v\"]");
        o.loraModules.clear();
        for (const auto& item : *list) {
            if (!item.is_string()) p.wrong("lora_modules", *n, "an array of strings");
            o.loraModules.push_back(*item.value<std::string>());
        }
    }
    p.done();
}

void checkTask(const config::Section& m, const std::string& source, FineTuneSpec& c) {
    if (!c.trainText.empty() || !c.devText.empty()) {  // language modelling on plain text
        if (c.trainText.empty() || c.devText.empty())
            failAt(m.name(c.trainText.empty() ? "train_text" : "dev_text"), source, ": ", m.name(c.trainText.empty() ? "dev_text" : "train_text"), " is set but ",
                 m.name(c.trainText.empty() ? "train_text" : "dev_text"),
                 " is not; plain-text language modelling needs both (the training text and the text whose perplexity is the dev metric)");
        for (const char* key : {"task", "train_file", "dev_file", "template", "labels"})
            if (m.find(key))
                failAt(m.name(key), source, ": ", m.name(key), " names a labelled task, but ", m.name("train_text"),
                     " trains a language model on plain text; give one or the other");
        if (!m.find("objective")) c.objective = Objective::Lm;
        if (c.objective != Objective::Lm)
            failAt(m.name("objective"), source, ": ", m.name("objective"), " is '", objectiveName(c.objective), "', but ", m.name("train_text"),
                 " trains a language model: the objective is lm (or leave it out)");
        c.task = "text";
        return;
    }
    const bool builtin = data::findBuiltinTask(c.task).has_value();
    if (!builtin && (c.trainFile.empty() || c.devFile.empty() || c.templateText.empty() || c.labels.empty()))
        failAt(m.name("task"), source, ": ", m.name("task"), " is '", c.task, "', not a built-in task (", data::builtinTaskNames(),
             "); a task of one's own needs ", m.name("train_file"), ", ", m.name("dev_file"), ", ",
             m.name("template"), " and ", m.name("labels"));
}

}  // namespace

void readLiveLandscape(const toml::table& root, const std::string& source, FineTuneSpec& c, bool gradients) {
    using namespace frugal::config;
    const toml::table empty;
    const Section s(tableOr(root, "live_landscape", source, empty), "live_landscape", source);
    LiveLandscapeSpec& l = c.liveLandscape;
    const KeyCondition on = s.unless("every", {"0"});  // probes taken
    s.integer("every", l.every, 0, 1 << 30,
              {"steps between loss-landscape probes (also at the first and last step); 0: none"});
    s.integer("dims", l.dims, 1, 2, {"each probe: 1, a loss line along one direction; 2, a surface over two", {on}});
    s.integer("points", l.points, 2, 201, {"points per axis of each probe's slice", {on}});
    s.number("lo", l.lo, -1e6, 1e6, {"where each axis starts, in units of the filter-normalised direction", {on}});
    s.number("hi", l.hi, -1e6, 1e6, {"where each axis ends, in units of the filter-normalised direction", {on}});
    s.integer("batch_size", l.batchSize, 0, 4096,
              {"examples in the probes' own batch, drawn once; 0: the run's batch_size", {on}});
    s.integer("seed", l.seed, -1, INT64_MAX, {"the seed of the probes' directions and batch; -1: the run's seed", {on}});
    s.integer("sharpness_probes", l.sharpnessProbes, 0, 1 << 12,
              {"Hutchinson probes and ε-ball samples of each sharpness estimate; 0: none", {on}});
    s.number("sharpness_h", l.sharpnessH, 1e-9, 10.0, {"the second-difference step of the Hutchinson trace estimate", {on}});
    s.number("sharpness_rho", l.sharpnessRho, 1e-9, 1e3, {"the radius ρ of the ε-ball maximum and of SAM's step", {on}});
    KeyDoc sam{"also SAM's one-step sharpness L(θ + ρ∇L/‖∇L‖) − L(θ) (runs with gradients: fo)", {on}};
    sam.unused = !gradients;
    s.boolean("sam", l.sam, sam);
    s.done();
    if (!(l.lo < l.hi)) failAt("live_landscape.hi", source, ": live_landscape.lo must be below live_landscape.hi, got ", l.lo, " and ", l.hi);
    if (l.dims == 2 && l.points > 101)
        failAt("live_landscape.points", source, ": live_landscape.points = ", l.points, " with dims = 2 is ", l.points * l.points,
             " forwards a probe; at most 101 per axis");
    if (l.sharpnessProbes == 1)
        failAt("live_landscape.sharpness_probes", source, ": live_landscape.sharpness_probes must be 0 (off) or at least 2, got 1");
    if (l.every > 0 && model::isCudaName(c.device))
        failAt("live_landscape.every", source, ": live_landscape.every = ", l.every, " with device = \"", c.device,
               "\": the live probes move the weights with CPU loops over them (analysis/landscape.cpp), so they "
               "run on the CPU only; set live_landscape.every = 0 on CUDA, or probe the stored run afterwards "
               "(frugal probe replays it on the CPU)");
}

void checkFineTuneInputs(const FineTuneSpec& c, const std::string& table, const std::string& source) {
    for (const auto& [key, file] : {std::pair<const char*, std::filesystem::path>{"train_file", c.trainFile},
                                    {"dev_file", c.devFile}, {"train_text", c.trainText}, {"dev_text", c.devText}}) {
        if (file.empty()) continue;
        try {
            requireFile(file, std::string(key).find("text") != std::string::npos ? "a UTF-8 text file"
                                                                                 : "a labelled task file: .jsonl, .csv or .tsv");
        } catch (const Error& e) {
            failAt(cat(table, ".", key), source, ": ", cat(table, ".", key), ": ", e.what());
        }
    }
    atKey(cat(table, ".model"), [&] { data::requireModel(c.model, source + ": " + cat(table, ".model")); });
    if (c.textMode()) return;
    if (!c.templateText.empty() || data::findBuiltinTask(c.task)) {
        const data::ResolvedTask task = atKey(cat(table, ".task"), [&] {
            return data::resolveTask(c.task, c.templateText, c.labels, source + ": " + cat(table, ".task"),
                                     "a task of one's own needs its template and labels");
        });
        // the training split read now (it is small beside a model): a batch larger than it is
        // refused before anything loads
        const std::filesystem::path train = c.trainFile.empty() ? task.train : c.trainFile;
        const auto examples = static_cast<int64_t>(data::Task::load(train, task.labels).examples().size());
        if (c.batchSize > examples)
            failAt(cat(table, ".batch_size"), source, ": ", cat(table, ".batch_size"), " = ", c.batchSize, " is larger than the training split (",
                 examples, " examples in ", train.string(), "); at most ", examples);
    }
}

std::optional<TrainableSummary> fineTuneTrainables(const std::string& text, const std::string& source,
                                                   const std::vector<std::string>& overrides) {
    const toml::table root = config::parseConfig(text, source, overrides);
    const auto method = root["method"].value<std::string>();
    if (!method || (*method != "zo" && *method != "mezo" && *method != "fo")) return std::nullopt;
    const toml::table empty;
    const toml::table& table = config::tableOr(root, *method, source, empty);
    std::vector<std::string> keys;  // the method's own reader checks the keys; here all pass
    for (const auto& [key, value] : table) keys.emplace_back(key.str());
    const config::Section m(table, *method, source, keys);
    FineTuneSpec spec;
    bool save = false;
    readFineTuneSpec(m, root, source, spec, save);
    TrainableSummary s;
    s.modelConfig = data::resolveModel(spec.model) / "config.json";
    const auto count = peft::countTrainable(model::ModelConfig::fromFile(s.modelConfig), spec.peft);
    s.trainable = count.trainable;
    s.total = count.total;
    s.parts = count.parts;
    s.detail = count.detail;
    if (spec.peft.trainNorms && peft::isAdapter(spec.peft.target)) s.detail += " + norms";
    if (spec.peft.ttHead && peft::isAdapter(spec.peft.target)) s.detail += " + TT head";
    return s;
}

void reportFineTune(EventSink& sink, const FineTuneResult& r, const FineTuneSpec& spec,
                    const std::string& passes) {
    sink.metric(frugal::metrics::kPeakRssMb, r.steps, static_cast<double>(r.peakRssBytes) / (1 << 20));
    sink.metric(frugal::metrics::kSeconds, r.steps, r.seconds);
    const std::string dev =
        spec.textMode() ? cat("dev perplexity ", r.startDevPerplexity, " at the start, ", r.finalDevPerplexity, " at the end")
                        : cat("dev accuracy ", r.startDevAccuracy, " at the start, ", r.finalDevAccuracy,
                              " at the end (best ", r.bestDevAccuracy, ")");
    sink.info(cat(dev, "; ", passes, " in ", r.seconds, " s; peak RSS ", r.peakRssBytes >> 20, " MiB"));
    if (!spec.saveTo.empty()) sink.artifact("model", spec.saveTo / "model.safetensors");
}

}  // namespace frugal::eval
