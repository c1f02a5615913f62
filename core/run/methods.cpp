// The registry of methods `frugal run` can run from a TOML config: one row per method. Each row
// reads its config (with overrides), and returns the body the Runner executes.

#include <toml++/toml.h>

#include <cstdio>
#include <sstream>

#include "common/error.h"
#include "common/files.h"
#include "common/format.h"
#include "model/model_config.h"
#include "data/builtin.h"
#include "data/task.h"
#include "eval/candidate_scoring.h"
#include "eval/model_loading.h"
#include "eval/perplexity.h"
#include "run/runner.h"
#include "peft/param_set.h"
#include "run/toml_config.h"
#include "train/pretrain.h"
#include "train/first_order.h"
#include "prune/pipeline.h"
#include "zo/engine.h"

namespace frugal::run {

namespace {

void flatten(const toml::table& table, const std::string& prefix,
             std::map<std::string, std::string>& out) {
    for (const auto& [key, value] : table) {
        const std::string path =
            prefix.empty() ? std::string(key.str()) : prefix + "." + std::string(key.str());
        if (value.is_table()) {
            flatten(*value.as_table(), path, out);
        } else if (value.is_array_of_tables()) {
            size_t i = 0;
            for (const auto& element : *value.as_array())
                flatten(*element.as_table(), cat(path, "[", i++, "]"), out);
        } else if (const auto* s = value.as_string()) {
            out[path] = s->get();
        } else {
            std::ostringstream text;
            if (const auto* i = value.as_integer()) text << i->get();
            else if (const auto* f = value.as_floating_point()) text << f->get();
            else if (const auto* b = value.as_boolean()) text << (b->get() ? "true" : "false");
            else if (const auto* a = value.as_array()) text << toml::toml_formatter(*a);
            else text << "(" << value.type() << ")";
            out[path] = text.str();
        }
    }
}

std::string shortNumber(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.4g", v);
    return buf;
}

PreparedRun preparePretrain(const std::filesystem::path& file, const std::string& text,
                            const std::vector<std::string>& overrides,
                            const std::filesystem::path& outDir, bool resume) {
    train::PretrainConfig config = train::PretrainConfig::fromTomlText(text, file.string(), overrides);
    config.file = file;
    PreparedRun p;
    p.method = "pretrain";
    p.resolvedConfig = config.resolvedText;
    flatten(toml::parse(config.resolvedText, file.string()), "", p.params);
    p.seed = static_cast<int64_t>(config.seed);
    p.body = [config, outDir, resume](EventSink& sink, const StopToken& stop) {
        train::PretrainConfig c = config;
        c.outDir = outDir.empty() ? sink.artifactDir() / "model" : outDir;
        train::PretrainHooks hooks;
        hooks.log = [&](const std::string& line) { sink.log("info", line); };
        hooks.metric = [&](const std::string& key, int64_t step, double value) {
            sink.metric(key, step, value);
        };
        hooks.progress = [&](int64_t step, int64_t total, double loss) {
            sink.progress(step, total, "loss " + shortNumber(loss));
        };
        hooks.stopRequested = [&] { return stop.stopRequested(); };
        hooks.checkpointDir = sink.artifactDir() / "checkpoint";
        hooks.resume = resume;
        hooks.beforeCheckpoint = [&] { sink.flush(); };
        train::pretrain(c, hooks);
        sink.artifact("model", c.outDir / "model.safetensors");
        sink.artifact("tokenizer", c.outDir / "tokenizer.json");
        sink.artifact("summary", c.outDir / "training.json");
        sink.artifact("log", c.outDir / "training_log.csv");
    };
    return p;
}

// method = "eval": accuracy on tasks (built-in names or files) and perplexity on a text.
PreparedRun prepareEval(const std::filesystem::path& file, const std::string& text,
                        const std::vector<std::string>& overrides, const std::filesystem::path&,
                        bool resume) {
    using namespace frugal::config;
    if (resume) fail("an evaluation has no checkpoints to resume; run it again");
    const std::string source = file.string();
    const toml::table root = parseConfig(text, source, overrides);
    const toml::table empty;
    const Section top(root, "", source, {"method", "eval"});
    const Section e(tableOr(root, "eval", source, empty), "eval", source,
                    {"model", "tasks", "template", "labels", "shots", "seed", "limit", "text",
                     "seq_len", "batch"});
    struct Spec {
        std::string model = data::kBuiltinModel, templateText;
        std::vector<std::string> tasks, labels;
        int64_t shots = 0, seed = 0, limit = 0, seqLen = 256, batch = 8;
        std::filesystem::path text;
    } spec;
    e.string("model", spec.model);
    e.string("template", spec.templateText);
    e.integer("shots", spec.shots, 0, 64);
    e.integer("seed", spec.seed, 0, INT64_MAX);
    e.integer("limit", spec.limit, 0, INT64_MAX);
    e.integer("seq_len", spec.seqLen, 2, 1 << 20);
    e.integer("batch", spec.batch, 1, 4096);
    e.path("text", spec.text);
    for (const char* key : {"tasks", "labels"}) {
        e.declareList(key, "[]");
        const toml::node* n = e.find(key);
        if (!n) continue;
        const toml::array* list = n->as_array();
        if (!list) e.wrong(key, *n, "an array of strings");
        for (const auto& item : *list) {
            if (!item.is_string()) e.wrong(key, *n, "an array of strings");
            (std::string(key) == "tasks" ? spec.tasks : spec.labels).push_back(*item.value<std::string>());
        }
    }
    if (spec.tasks.empty() && spec.text.empty())
        fail(source, ": eval needs eval.tasks (e.g. [\"sentiment\", \"spam\"]) or eval.text");
    // Resolve every task now, so a bad name fails before the run starts.
    struct TaskRun {
        std::string name;
        std::filesystem::path file, pool;
        std::string templateText;
        std::vector<std::string> labels;
    };
    std::vector<TaskRun> tasks;
    for (const auto& t : spec.tasks) {
        TaskRun tr{t, t, {}, spec.templateText, spec.labels};
        if (const auto builtin = data::findBuiltinTask(t)) {
            tr.file = builtin->file;
            tr.pool = builtin->task.split("train");
            if (tr.templateText.empty()) tr.templateText = builtin->task.promptTemplate;
            if (tr.labels.empty()) tr.labels = builtin->task.labels;
        } else if (tr.templateText.empty() || tr.labels.empty()) {
            fail(source, ": eval.tasks: '", t, "' is not a built-in task (sentiment, spam); a task "
                 "file needs eval.template and eval.labels");
        }
        data::PromptTemplate::parse(tr.templateText, tr.labels);  // validates
        tasks.push_back(tr);
    }
    PreparedRun p;
    p.method = "eval";
    p.resolvedConfig = tomlText(root);
    flatten(root, "", p.params);
    p.seed = spec.seed;
    p.body = [spec, tasks](EventSink& sink, const StopToken& stop) {
        const auto loaded = eval::loadModelAndTokenizer(data::resolveModel(spec.model), {});
        const int64_t total = static_cast<int64_t>(tasks.size()) + (spec.text.empty() ? 0 : 1);
        int64_t done = 0;
        for (const auto& t : tasks) {
            if (stop.stopRequested()) throw Cancelled("evaluation stopped before task " + t.name);
            const data::Task task = data::Task::load(t.file, t.labels);
            const auto prompt = data::PromptTemplate::parse(t.templateText, t.labels);
            std::optional<data::Task> pool;
            eval::FewShot shots;
            if (spec.shots > 0) {
                if (t.pool.empty()) fail("eval.shots needs a built-in task (its train split) for ", t.name);
                pool = data::Task::load(t.pool, t.labels);
                shots = {&*pool, spec.shots, static_cast<uint64_t>(spec.seed), "\n\n"};
            }
            const auto r = eval::evaluateTask(loaded.model, loaded.tokenizer, task, prompt,
                                              spec.limit, shots);
            sink.metric("eval/" + t.name + "/accuracy", 0, r.accuracy);
            sink.metric("eval/" + t.name + "/accuracy_norm", 0, r.accuracyMean);
            sink.metric("eval/" + t.name + "/accuracy_calibrated", 0, r.accuracyCalibrated);
            sink.metric("eval/" + t.name + "/examples", 0, static_cast<double>(r.examples));
            sink.log("info", cat(t.name, ": accuracy ", r.accuracy, " (", r.examples, " examples, ",
                                 spec.shots, "-shot; length-normalised ", r.accuracyMean,
                                 "; calibrated ", r.accuracyCalibrated, ")"));
            sink.progress(++done, total, t.name);
        }
        if (!spec.text.empty()) {
            if (stop.stopRequested()) throw Cancelled("evaluation stopped before the perplexity");
            const auto ppl = eval::perplexityOfText(loaded.model, loaded.tokenizer, spec.text,
                                                    spec.seqLen, spec.batch);
            sink.metric("eval/perplexity", 0, ppl.perplexity);
            sink.log("info", cat("perplexity ", ppl.perplexity, " on ", spec.text.string(), " (",
                                 ppl.protocol(), ")"));
            sink.progress(++done, total, "perplexity");
        }
    };
    return p;
}

// The keys every fine-tuning method shares (in its own table) and the [peft] table.
const std::vector<std::string> kFineTuneKeys = {"model", "task", "train_file", "dev_file", "template",
                                                "labels", "objective", "steps", "batch_size",
                                                "lr", "lr_schedule", "weight_decay", "seed",
                                                "eval_every", "eval_limit", "save"};

std::vector<std::string> withKeys(std::vector<std::string> keys, const std::vector<std::string>& more) {
    keys.insert(keys.end(), more.begin(), more.end());
    return keys;
}

void readFineTune(const config::Section& m, const toml::table& root, const std::string& source,
                  train::FineTuneSpec& c, bool& save) {
    using namespace frugal::config;
    m.string("model", c.model);
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
                    {"target", "lora_rank", "lora_alpha", "lora_modules", "prefix_tokens",
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
    m.declareList("labels", "[]");
    if (const toml::node* n = m.find("labels")) {
        const toml::array* list = n->as_array();
        if (!list) m.wrong("labels", *n, "an array of strings");
        for (const auto& item : *list) {
            if (!item.is_string()) m.wrong("labels", *n, "an array of strings");
            c.labels.push_back(*item.value<std::string>());
        }
    }
    train::parseObjective(c.objective);
    train::parseLrSchedule(c.lrSchedule);
    const bool builtin = data::findBuiltinTask(c.task).has_value();
    if (!builtin && (c.trainFile.empty() || c.devFile.empty() || c.templateText.empty() || c.labels.empty()))
        fail(source, ": ", m.name("task"), " is '", c.task, "', not a built-in task (sentiment, spam); "
             "a task of one's own needs ", m.name("train_file"), ", ", m.name("dev_file"), ", ",
             m.name("template"), " and ", m.name("labels"));
    for (const auto& [key, file] : {std::pair<const char*, std::filesystem::path>{"train_file", c.trainFile},
                                    {"dev_file", c.devFile}})
        if (!file.empty() && !std::filesystem::exists(file))
            fail(source, ": ", m.name(key), ": no such file '", file.string(), "'");
    if (!c.templateText.empty())
        data::PromptTemplate::parse(c.templateText,
                                    c.labels.empty() ? data::findBuiltinTask(c.task)->task.labels : c.labels);
}

// A finished fine-tuning run's wall time, peak memory, summary line and saved model.
void reportFineTune(EventSink& sink, const train::FineTuneResult& r, const train::FineTuneSpec& spec,
                    const std::string& passes) {
    sink.metric("sys/peak_rss_mb", r.steps, static_cast<double>(r.peakRssBytes) / (1 << 20));
    sink.metric("sys/seconds", r.steps, r.seconds);
    sink.log("info", cat("dev accuracy ", r.startDevAccuracy, " at the start, ", r.finalDevAccuracy,
                         " at the end (best ", r.bestDevAccuracy, "); ", passes, " in ", r.seconds,
                         " s; peak RSS ", r.peakRssBytes >> 20, " MiB"));
    if (!spec.saveTo.empty()) sink.artifact("model", spec.saveTo / "model.safetensors");
}

template <typename Hooks>
Hooks hooksFor(EventSink& sink, const StopToken& stop) {
    Hooks hooks;
    hooks.log = [&sink](const std::string& line) { sink.log("info", line); };
    hooks.metric = [&sink](const std::string& key, int64_t step, double value) {
        sink.metric(key, step, value);
    };
    hooks.progress = [&sink](int64_t step, int64_t total, double loss) {
        sink.progress(step, total, "loss " + shortNumber(loss));
    };
    hooks.stopRequested = [&stop] { return stop.stopRequested(); };
    return hooks;
}

zo::ZoConfig readZo(const std::string& method, const toml::table& root, const std::string& source,
                    bool& save) {
    using namespace frugal::config;
    const toml::table empty;
    const Section top(root, "", source, {"method", method, "peft"});
    const Section m(tableOr(root, method, source, empty), method, source,
                    withKeys(kFineTuneKeys,
                             {"estimator", "direction", "eps", "optimizer", "sign", "momentum",
                              "beta1", "beta2", "adam_eps", "query_schedule", "queries",
                              "adazeta_alpha", "adazeta_num", "adazeta_beta", "q_max",
                              "divergence", "divergence_factor", "rollback_steps",
                              "max_rollbacks", "sparsity", "keep_zeros"}));
    zo::ZoConfig c;
    readFineTune(m, root, source, c.common, save);
    m.choice("estimator", c.estimator, {"central", "forward"});
    m.choice("direction", c.direction, {"gaussian", "rademacher", "sphere"});
    m.number("eps", c.eps, 1e-12, 10.0);
    m.choice("optimizer", c.optimizer, {"sgd", "momentum", "sign", "conservative", "adam"});
    m.choice("sign", c.signMode, {"elementwise", "scalar"});
    m.number("momentum", c.momentum, 0.0, 1.0);
    m.number("beta1", c.beta1, 0.0, 1.0);
    m.number("beta2", c.beta2, 0.0, 1.0);
    m.number("adam_eps", c.adamEps, 0.0, 1.0);
    m.choice("query_schedule", c.querySchedule, {"constant", "adazeta"});
    m.integer("queries", c.queries, 1, 4096);
    m.number("adazeta_alpha", c.adazetaAlpha, 1e-6, 1e6);
    m.number("adazeta_num", c.adazetaNum, 1.0, 1e6);
    m.number("adazeta_beta", c.adazetaBeta, 0.0, 10.0);
    m.integer("q_max", c.queriesMax, 1, 4096);
    m.choice("divergence", c.divergence, {"stop", "rollback", "off"});
    m.number("divergence_factor", c.divergenceFactor, 1.0, 1e12);
    m.integer("rollback_steps", c.rollbackSteps, 0, 1 << 30);
    m.integer("max_rollbacks", c.maxRollbacks, 0, 1000);
    m.number("sparsity", c.sparsity, 0.0, 0.999);
    m.boolean("keep_zeros", c.keepZeros);
    try {
        c.validate();
    } catch (const Error& e) {
        fail(source, ": ", e.what());
    }
    return c;
}

// method = "zo" (or its preset name "mezo"): zeroth-order fine-tuning on a built-in task
// (SPEC-ZO §1-§3); the [zo] (or [mezo]) table and [peft].
PreparedRun prepareZoNamed(const std::string& method, const std::filesystem::path& file,
                           const std::string& text, const std::vector<std::string>& overrides,
                           const std::filesystem::path& outDir, bool resume) {
    if (resume)
        fail("ZO runs are not resumed from checkpoints; `frugal replay RUN --out DIR` rebuilds "
             "their weights from the trajectory, and the same config and seed give the same run");
    const std::string source = file.string();
    const toml::table root = config::parseConfig(text, source, overrides);
    bool save = false;
    const zo::ZoConfig c = readZo(method, root, source, save);
    PreparedRun p;
    p.method = method;
    p.resolvedConfig = config::tomlText(root);
    flatten(root, "", p.params);
    p.seed = static_cast<int64_t>(c.common.seed);
    p.body = [c, save, outDir](EventSink& sink, const StopToken& stop) {
        zo::ZoConfig config = c;
        if (save) config.common.saveTo = outDir.empty() ? sink.artifactDir() / "model" : outDir;
        auto hooks = hooksFor<zo::ZoHooks>(sink, stop);
        hooks.trajectoryFile = sink.artifactDir() / "trajectory.csv";
        const auto finish = [&] { sink.artifact("trajectory", hooks.trajectoryFile); };
        zo::ZoResult r;
        try {
            r = zo::runZo(config, hooks);
        } catch (...) {
            if (std::filesystem::exists(hooks.trajectoryFile)) finish();
            throw;
        }
        finish();
        reportFineTune(sink, r, config.common, cat(r.forwardPasses, " forward passes"));
    };
    return p;
}

PreparedRun prepareZo(const std::filesystem::path& file, const std::string& text,
                      const std::vector<std::string>& overrides, const std::filesystem::path& outDir,
                      bool resume) {
    return prepareZoNamed("zo", file, text, overrides, outDir, resume);
}

PreparedRun prepareMezo(const std::filesystem::path& file, const std::string& text,
                        const std::vector<std::string>& overrides,
                        const std::filesystem::path& outDir, bool resume) {
    return prepareZoNamed("mezo", file, text, overrides, outDir, resume);
}

// method = "fo": first-order SGD / AdamW baselines on the same problem; [fo] and [peft].
PreparedRun prepareFo(const std::filesystem::path& file, const std::string& text,
                      const std::vector<std::string>& overrides, const std::filesystem::path& outDir,
                      bool resume) {
    using namespace frugal::config;
    if (resume) fail("first-order fine-tuning runs have no checkpoints; run again (same seed: same metrics)");
    const std::string source = file.string();
    const toml::table root = parseConfig(text, source, overrides);
    const toml::table empty;
    const Section top(root, "", source, {"method", "fo", "peft"});
    const Section m(tableOr(root, "fo", source, empty), "fo", source,
                    withKeys(kFineTuneKeys,
                             {"optimizer", "momentum", "beta1", "beta2", "adam_eps", "grad_clip"}));
    train::FoConfig c;
    bool save = false;
    readFineTune(m, root, source, c.common, save);
    m.choice("optimizer", c.optimizer, {"adamw", "sgd"});
    m.number("momentum", c.momentum, 0.0, 1.0);
    m.number("beta1", c.beta1, 0.0, 1.0);
    m.number("beta2", c.beta2, 0.0, 1.0);
    m.number("adam_eps", c.adamEps, 0.0, 1.0);
    m.number("grad_clip", c.gradClip, 0.0, 1e12);
    try {
        c.validate();
    } catch (const Error& e) {
        fail(source, ": ", e.what());
    }
    PreparedRun p;
    p.method = "fo";
    p.resolvedConfig = tomlText(root);
    flatten(root, "", p.params);
    p.seed = static_cast<int64_t>(c.common.seed);
    p.body = [c, save, outDir](EventSink& sink, const StopToken& stop) {
        train::FoConfig config = c;
        if (save) config.common.saveTo = outDir.empty() ? sink.artifactDir() / "model" : outDir;
        const auto r = train::runFirstOrder(config, hooksFor<train::FoHooks>(sink, stop));
        reportFineTune(sink, r, config.common,
                       cat(r.forwardPasses, " forward and ", r.backwardPasses, " backward passes"));
    };
    return p;
}

// method = "prune": post-training pruning of a model, block by block (SPEC-PRUNING); the [prune]
// table. Every open choice of the method is a key, logged with the run.
PreparedRun preparePrune(const std::filesystem::path& file, const std::string& text,
                         const std::vector<std::string>& overrides, const std::filesystem::path& outDir,
                         bool resume) {
    using namespace frugal::config;
    if (resume) fail("pruning runs have no checkpoints; run again (same seed and calibration: same masks)");
    const std::string source = file.string();
    const toml::table root = parseConfig(text, source, overrides);
    const toml::table empty;
    const Section top(root, "", source, {"method", "prune"});
    const Section m(tableOr(root, "prune", source, empty), "prune", source,
                    {"model", "method", "sparsity", "calib", "calib_samples", "calib_seq_len", "seed", "batch",
                     "alpha", "feature_norm", "ro", "ro_rounds", "ro_samples", "ro_lr", "ro_regradient",
                     "block_size", "percdamp", "masks", "eval_text", "eval_seq_len", "eval_windows", "save",
                     "memory_mib", "spill_dir"});
    prune::PruneSpec c;
    std::string methodName = prune::pruneMethodName(c.method), ro = prune::roModeName(c.ro);
    bool save = false;
    c.evalText = data::resourcesDir() / "data/text/moby-dick.txt";
    m.string("model", c.model);
    m.choice("method", methodName, {"magnitude", "wanda", "sparsegpt", "wandapp", "masks"});
    if (const toml::node* n = m.find("sparsity"); n && (n->is_floating_point() || n->is_integer())) {
        std::ostringstream ratio;  // sparsity = 0.5 as well as "0.5", "50%", "2:4"
        ratio << *n->value<double>();
        c.sparsity = ratio.str();
        m.declareText("sparsity", "0.5");
    } else {
        m.string("sparsity", c.sparsity);
    }
    m.path("calib", c.calibFile);
    m.integer("calib_samples", c.calibSamples, 1, 1 << 20);
    m.integer("calib_seq_len", c.calibSeqLen, 0, 1 << 20);
    m.integer("seed", c.seed, 0, INT64_MAX);
    m.integer("batch", c.batch, 1, 4096);
    m.number("alpha", c.alpha, 0.0, 1e12);
    m.choice("feature_norm", c.featureNorm, {"unnormalised", "per_sequence"});
    m.choice("ro", ro, {"off", "reselect", "fixed"});
    m.integer("ro_rounds", c.roRounds, 1, 1000);
    m.integer("ro_samples", c.roSamples, 1, 1 << 20);
    m.number("ro_lr", c.roLr, 0.0, 1.0);
    m.boolean("ro_regradient", c.roRegradient);
    m.integer("block_size", c.blockSize, 1, 1 << 20);
    m.number("percdamp", c.percdamp, 0.0, 10.0);
    m.path("masks", c.masksFile);
    m.path("eval_text", c.evalText);
    m.integer("eval_seq_len", c.evalSeqLen, 0, 1 << 20);
    m.integer("eval_windows", c.evalWindows, 0, 1 << 30);
    m.boolean("save", save);
    m.integer("memory_mib", c.memoryMib, 0, INT64_MAX);
    m.path("spill_dir", c.spillDir);
    try {
        c.method = prune::parsePruneMethod(methodName);
        c.ro = prune::parseRoMode(ro);
        c.validate();
    } catch (const Error& e) {
        fail(source, ": ", e.what());
    }
    // a relative path is taken from the working directory, else from the source tree (so the
    // committed configs work from anywhere, the workbench included)
    for (const auto& [key, path] : {std::pair<const char*, std::filesystem::path*>{"calib", &c.calibFile},
                                    {"masks", &c.masksFile}, {"eval_text", &c.evalText}}) {
        if (path->empty() || std::filesystem::exists(*path)) continue;
        if (path->is_relative()) {
            const auto inTree = data::resourcesDir().parent_path() / *path;
            if (std::filesystem::exists(inTree)) {
                *path = inTree;
                continue;
            }
        }
        fail(source, ": ", m.name(key), ": no such file '", path->string(), "'");
    }
    PreparedRun p;
    p.method = "prune";
    p.resolvedConfig = tomlText(root);
    flatten(root, "", p.params);
    p.seed = c.seed;
    p.body = [c, save, outDir](EventSink& sink, const StopToken& stop) {
        prune::PruneSpec spec = c;
        if (save) spec.outDir = outDir.empty() ? sink.artifactDir() / "model" : outDir;
        sink.log("info", cat("conventions: N:M prunes N of every M consecutive inputs of a row; unstructured "
                             "selection per output row (magnitude: per matrix), exactly floor(C_in * s) per row; "
                             "ties to the lower index; pruned weights are +0.0",
                             spec.method == prune::PruneMethod::WandaPlusPlus
                                 ? "; Wanda++: G = RMS over samples of d||block output||/dW (unsquared norm, fp32), "
                                   "||X_j|| " + spec.featureNorm + ", regional optimisation " +
                                       prune::roModeName(spec.ro) +
                                       " with one RMSprop step per drawn sample and gradients zeroed every step"
                                 : ""));
        prune::PruneHooks hooks;
        hooks.log = [&sink](const std::string& line) { sink.log("info", line); };
        hooks.metric = [&sink](const std::string& key, int64_t step, double value) { sink.metric(key, step, value); };
        hooks.vector = [&sink](const std::string& key, int64_t step, std::vector<int64_t> shape, std::vector<float> data) {
            sink.vector(key, step, std::move(shape), std::move(data));
        };
        hooks.progress = [&sink](int64_t done, int64_t total, const std::string& status) {
            sink.progress(done, total, status);
        };
        hooks.stopRequested = [&stop] { return stop.stopRequested(); };
        prune::runPrune(spec, hooks);
        if (!spec.outDir.empty()) {
            sink.artifact("model", spec.outDir / "model.safetensors");
            sink.artifact("masks", spec.outDir / "masks.safetensors");
            sink.artifact("calibration", spec.outDir / "calibration.safetensors");
        }
    };
    return p;
}

struct MethodRow {
    const char* name;
    PreparedRun (*prepare)(const std::filesystem::path& file, const std::string& text,
                           const std::vector<std::string>& overrides,
                           const std::filesystem::path& outDir, bool resume);
};

const MethodRow kMethods[] = {
    {"pretrain", preparePretrain},
    {"eval", prepareEval},
    {"mezo", prepareMezo},
    {"zo", prepareZo},
    {"fo", prepareFo},
    {"prune", preparePrune},
};

}  // namespace

int64_t replayZoRun(const std::string& method, const std::string& configText,
                    const std::filesystem::path& trajectory, const std::filesystem::path& outDir,
                    int64_t untilStep) {
    if (method != "zo" && method != "mezo")
        fail("replay rebuilds zeroth-order runs (method zo or mezo); this run's method is '",
             method, "'");
    bool save = false;
    const zo::ZoConfig c =
        readZo(method, config::parseConfig(configText, "the run's config"), "the run's config", save);
    auto steps = zo::readTrajectory(trajectory);
    if (untilStep >= 0) {
        while (!steps.empty() && steps.back().step > untilStep) steps.pop_back();
    }
    zo::replayZo(c, steps, outDir);
    return static_cast<int64_t>(steps.size());
}

std::vector<std::string> methodNames() {
    std::vector<std::string> names;
    for (const auto& m : kMethods) names.emplace_back(m.name);
    return names;
}

PreparedRun prepareRun(const std::filesystem::path& file, const std::vector<std::string>& overrides,
                       const std::filesystem::path& outDir, bool resume) {
    return prepareRunText(readFile(file, "experiment config"), file.string(), overrides, outDir, resume);
}

PreparedRun prepareRunText(const std::string& text, const std::string& source,
                           const std::vector<std::string>& overrides,
                           const std::filesystem::path& outDir, bool resume) {
    const toml::table root = config::parseConfig(text, source);
    std::string names;
    for (const auto& m : kMethods) names += (names.empty() ? "" : ", ") + std::string(m.name);
    const toml::node* method = root.get("method");
    if (!method || !method->is_string())
        fail(source, ": needs a top-level method = \"...\" (methods: ", names, ")");
    const std::string name = *method->value<std::string>();
    for (const auto& m : kMethods)
        if (name == m.name) return m.prepare(source, text, overrides, outDir, resume);
    fail(source, ": method is '", name, "', which is not a method (methods: ", names, ")");
}

std::string TrainableSummary::line() const {
    const double share = total > 0 ? 100.0 * static_cast<double>(trainable) / static_cast<double>(total) : 0;
    char percent[32];
    std::snprintf(percent, sizeof percent, share >= 1 ? "%.1f%%" : share >= 0.01 ? "%.3f%%" : "%.2g%%", share);
    return cat(withThousands(trainable), " of ", withThousands(total), " parameters trainable (",
               percent, "): ", detail);
}

std::optional<TrainableSummary> trainableSummary(const std::string& text, const std::string& source,
                                                 const std::vector<std::string>& overrides) {
    const toml::table root = config::parseConfig(text, source, overrides);
    const auto method = root["method"].value<std::string>();
    if (!method || (*method != "zo" && *method != "mezo" && *method != "fo")) return std::nullopt;
    const toml::table empty;
    const toml::table& table = config::tableOr(root, *method, source, empty);
    std::vector<std::string> keys;  // the method's own reader checks the keys; here all pass
    for (const auto& [key, value] : table) keys.emplace_back(key.str());
    const config::Section m(table, *method, source, keys);
    train::FineTuneSpec spec;
    bool save = false;
    readFineTune(m, root, source, spec, save);
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

std::vector<ConfigField> configSchema(const std::string& method, const std::string& configText) {
    const MethodRow* row = nullptr;
    for (const auto& m : kMethods)
        if (method == m.name) row = &m;
    if (!row) fail("no method '", method, "' (methods: ", [] {
        std::string names;
        for (const auto& m : kMethods) names += (names.empty() ? "" : ", ") + std::string(m.name);
        return names;
    }(), ")");
    // Each reader declares a key as it reads it, before it checks what is required, so a refusal
    // (an evaluation without tasks) still leaves the keys read so far: the schema is what was
    // declared, whether or not the config is complete.
    config::SchemaCapture capture;
    try {
        row->prepare("schema", configText.empty() ? cat("method = \"", method, "\"\n") : configText, {}, {},
                     false);
    } catch (const Error&) {
        if (configText.empty()) return capture.fields;
        return configSchema(method);
    }
    return capture.fields;
}

}  // namespace frugal::run
