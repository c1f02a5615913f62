#include "eval/fine_tune_config.h"

#include "common/error.h"
#include "common/files.h"
#include "data/task.h"
#include "data/builtin.h"
#include "model/model_config.h"
#include "peft/peft_options.h"

namespace frugal::eval {

std::vector<std::string> fineTuneKeys(const std::vector<std::string>& more) {
    std::vector<std::string> keys = {"model",   "dtype", "task",       "train_file",  "dev_file",
                                     "template", "labels",    "objective",   "steps",
                                     "batch_size", "lr",      "lr_schedule", "weight_decay",
                                     "seed",    "eval_every", "eval_limit",  "save",
                                     "train_text", "dev_text", "seq_len"};
    keys.insert(keys.end(), more.begin(), more.end());
    return keys;
}

void readFineTuneSpec(const config::Section& m, const toml::table& root, const std::string& source,
                      FineTuneSpec& c, bool& save) {
    using namespace frugal::config;
    m.string("model", c.model);
    m.choice("dtype", c.dtype, {"fp32", "bf16", "fp16"});
    m.string("task", c.task);
    m.choice("objective", c.objective, {"classification", "lm", "neg_accuracy"});
    m.integer("steps", c.steps, 1, 1 << 30);
    m.integer("batch_size", c.batchSize, 1, 4096);
    m.number("lr", c.lr, 0.0, 10.0);
    m.choice("lr_schedule", c.lrSchedule, {"constant", "linear", "cosine"});
    m.number("weight_decay", c.weightDecay, 0.0, 10.0);
    int64_t seed = 0;
    m.integer("seed", seed, 0, INT64_MAX);
    c.seed = static_cast<uint64_t>(seed);
    m.integer("eval_every", c.evalEvery, 1, 1 << 30);
    m.integer("eval_limit", c.evalLimit, 0, 1 << 30);
    m.boolean("save", save);
    const toml::table empty;
    const Section p(tableOr(root, "peft", source, empty), "peft", source,
                    {"target", "lora_rank", "lora_alpha", "lora_modules", "lora_keep_zeros", "prefix_tokens",
                     "prompt_tokens", "tt_rank", "tt_bottleneck", "tt_activation", "tt_scaling",
                     "tt_init", "tt_forward", "train_norms", "tt_head", "seed"});
    std::string target = peft::targetName(c.peft.target);
    p.choice("target", target, {"full", "bitfit", "norms", "head", "lora", "prefix", "prompt",
                                "loretta_adp", "loretta_rep"});
    c.peft.target = peft::parseTarget(target);
    p.integer("lora_rank", c.peft.loraRank, 1, 1 << 16);
    p.number("lora_alpha", c.peft.loraAlpha, 0.0, 1e6);
    p.integer("prefix_tokens", c.peft.prefixTokens, 1, 1 << 12);
    p.integer("prompt_tokens", c.peft.promptTokens, 1, 1 << 12);
    p.integer("tt_rank", c.peft.ttRank, 1, 1 << 10);
    p.integer("tt_bottleneck", c.peft.ttBottleneck, 1, 1 << 16);
    p.choice("tt_activation", c.peft.ttActivation, {"relu", "tanh"});
    p.number("tt_scaling", c.peft.ttScaling, 0.0, 1e6);
    p.choice("tt_init", c.peft.ttInit, {"gaussian", "identity"});
    p.choice("tt_forward", c.peft.ttForward, {"auto", "dense", "contract"});
    p.boolean("train_norms", c.peft.trainNorms);
    p.boolean("lora_keep_zeros", c.peft.loraKeepZeros);
    if (c.peft.loraKeepZeros && c.peft.target != peft::Target::Lora)
        fail(source, ": ", p.name("lora_keep_zeros"), " masks LoRA's update by the base weights' non-zeros; peft.target is ",
             peft::targetName(c.peft.target), ", not lora");
    p.boolean("tt_head", c.peft.ttHead);
    int64_t peftSeed = 0;
    p.integer("seed", peftSeed, 0, INT64_MAX);
    c.peft.seed = static_cast<uint64_t>(peftSeed);
    {
        std::string modules;
        for (const auto& name : c.peft.loraModules) modules += (modules.empty() ? "\"" : ", \"") + name + "\"";
        p.declareList("lora_modules", "[" + modules + "]");
    }
    if (const toml::node* n = p.find("lora_modules")) {
        const toml::array* list = n->as_array();
        if (!list) p.wrong("lora_modules", *n, "an array of strings such as [\"q\", \"v\"]");
        c.peft.loraModules.clear();
        for (const auto& item : *list) {
            if (!item.is_string()) p.wrong("lora_modules", *n, "an array of strings");
            c.peft.loraModules.push_back(*item.value<std::string>());
        }
    }
    m.path("train_file", c.trainFile);
    m.path("dev_file", c.devFile);
    m.string("template", c.templateText);
    stringList(m, "labels", c.labels);
    m.path("train_text", c.trainText);
    m.path("dev_text", c.devText);
    m.integer("seq_len", c.seqLen, 2, 1 << 20);
    parseObjective(c.objective);
    parseLrSchedule(c.lrSchedule);
    if (!c.trainText.empty() || !c.devText.empty()) {  // language modelling on plain text
        if (c.trainText.empty() || c.devText.empty())
            fail(source, ": ", m.name(c.trainText.empty() ? "dev_text" : "train_text"), " is set but ",
                 m.name(c.trainText.empty() ? "train_text" : "dev_text"),
                 " is not; plain-text language modelling needs both (the training text and the text whose perplexity is the dev metric)");
        for (const char* key : {"task", "train_file", "dev_file", "template", "labels"})
            if (m.find(key))
                fail(source, ": ", m.name(key), " names a labelled task, but ", m.name("train_text"),
                     " trains a language model on plain text; give one or the other");
        if (!m.find("objective")) c.objective = "lm";
        if (c.objective != "lm")
            fail(source, ": ", m.name("objective"), " is '", c.objective, "', but ", m.name("train_text"),
                 " trains a language model: the objective is lm (or leave it out)");
        c.task = "text";
        return;
    }
    const bool builtin = data::findBuiltinTask(c.task).has_value();
    if (!builtin && (c.trainFile.empty() || c.devFile.empty() || c.templateText.empty() || c.labels.empty()))
        fail(source, ": ", m.name("task"), " is '", c.task, "', not a built-in task (", data::builtinTaskNames(),
             "); a task of one's own needs ", m.name("train_file"), ", ", m.name("dev_file"), ", ",
             m.name("template"), " and ", m.name("labels"));
}

void readLiveLandscape(const toml::table& root, const std::string& source, FineTuneSpec& c) {
    using namespace frugal::config;
    const toml::table empty;
    const Section s(tableOr(root, "live_landscape", source, empty), "live_landscape", source,
                    {"every", "dims", "points", "lo", "hi", "batch_size", "seed", "sharpness_probes",
                     "sharpness_h", "sharpness_rho", "sam"});
    LiveLandscapeSpec& l = c.liveLandscape;
    s.integer("every", l.every, 0, 1 << 30);
    s.integer("dims", l.dims, 1, 2);
    s.integer("points", l.points, 2, 201);
    s.number("lo", l.lo, -1e6, 1e6);
    s.number("hi", l.hi, -1e6, 1e6);
    s.integer("batch_size", l.batchSize, 0, 4096);
    s.integer("seed", l.seed, -1, INT64_MAX);
    s.integer("sharpness_probes", l.sharpnessProbes, 0, 1 << 12);
    s.number("sharpness_h", l.sharpnessH, 1e-9, 10.0);
    s.number("sharpness_rho", l.sharpnessRho, 1e-9, 1e3);
    s.boolean("sam", l.sam);
    if (!(l.lo < l.hi)) fail(source, ": live_landscape.lo must be below live_landscape.hi, got ", l.lo, " and ", l.hi);
    if (l.dims == 2 && l.points > 101)
        fail(source, ": live_landscape.points = ", l.points, " with dims = 2 is ", l.points * l.points,
             " forwards a probe; at most 101 per axis");
    if (l.sharpnessProbes == 1)
        fail(source, ": live_landscape.sharpness_probes must be 0 (off) or at least 2, got 1");
}

void checkFineTuneInputs(const FineTuneSpec& c, const std::string& table, const std::string& source) {
    for (const auto& [key, file] : {std::pair<const char*, std::filesystem::path>{"train_file", c.trainFile},
                                    {"dev_file", c.devFile}, {"train_text", c.trainText}, {"dev_text", c.devText}}) {
        if (file.empty()) continue;
        try {
            requireFile(file, std::string(key).find("text") != std::string::npos ? "a UTF-8 text file"
                                                                                 : "a labelled task file: .jsonl, .csv or .tsv");
        } catch (const Error& e) {
            fail(source, ": ", cat(table, ".", key), ": ", e.what());
        }
    }
    data::requireModel(c.model, source + ": " + cat(table, ".model"));
    if (c.textMode()) return;
    if (!c.templateText.empty() || data::findBuiltinTask(c.task)) {
        const data::ResolvedTask task =
            data::resolveTask(c.task, c.templateText, c.labels, source + ": " + cat(table, ".task"),
                              "a task of one's own needs its template and labels");
        // the training split read now (it is small beside a model): a batch larger than it is
        // refused before anything loads
        const std::filesystem::path train = c.trainFile.empty() ? task.train : c.trainFile;
        const auto examples = static_cast<int64_t>(data::Task::load(train, task.labels).examples().size());
        if (c.batchSize > examples)
            fail(source, ": ", cat(table, ".batch_size"), " = ", c.batchSize, " is larger than the training split (",
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
    sink.metric("sys/peak_rss_mb", r.steps, static_cast<double>(r.peakRssBytes) / (1 << 20));
    sink.metric("sys/seconds", r.steps, r.seconds);
    const std::string dev =
        spec.textMode() ? cat("dev perplexity ", r.startDevPerplexity, " at the start, ", r.finalDevPerplexity, " at the end")
                        : cat("dev accuracy ", r.startDevAccuracy, " at the start, ", r.finalDevAccuracy,
                              " at the end (best ", r.bestDevAccuracy, ")");
    sink.info(cat(dev, "; ", passes, " in ", r.seconds, " s; peak RSS ", r.peakRssBytes >> 20, " MiB"));
    if (!spec.saveTo.empty()) sink.artifact("model", spec.saveTo / "model.safetensors");
}

}  // namespace frugal::eval
