// method = "eval": accuracy on tasks and perplexity on a text. The one definition of the
// evaluation config — reader, validation, schema — and its body.

#include "eval/eval_method.h"

#include <nlohmann/json.hpp>

#include <optional>

#include "common/config_reader.h"
#include "common/error.h"
#include "common/files.h"
#include "data/builtin.h"
#include "data/task.h"
#include "eval/candidate_scoring.h"
#include "eval/fine_tune_config.h"
#include "eval/model_loading.h"
#include "eval/perplexity.h"
#include "model/model_config.h"
#include "common/metric_keys.h"

namespace frugal::eval {

namespace {

struct EvalSpec {
    std::string model = data::kBuiltinModel, templateText;
    std::vector<std::string> tasks, labels;
    int64_t shots = 0, seed = 0, limit = 0, seqLen = 256, batch = 8, limitWindows = 0;
    std::filesystem::path text, tokenizer;
    std::string shotsFrom;  // a file or NAME:train; empty: a built-in task's train split
    std::string device = "cpu";
};

struct TaskRun {
    std::string name;  // as given
    data::ResolvedTask task;
    std::filesystem::path pool;  // demonstrations (few-shot); empty: none
};

}  // namespace

PreparedRun prepareEvalMethod(const MethodRequest& request) {
    using namespace frugal::config;
    if (request.resume) fail("an evaluation has no checkpoints to resume; run it again");
    const std::string source = request.file.string();
    const toml::table root = parseConfig(request.text, source, request.overrides);
    const toml::table empty;
    const Section top(root, "", source, {"method", "eval"});
    const Section e(tableOr(root, "eval", source, empty), "eval", source);
    EvalSpec spec;
    e.string("model", spec.model, {"the model evaluated: a built-in name or a Hugging Face folder"});
    readDevice(e, source, spec.device);
    e.path("tokenizer", spec.tokenizer, {"a tokenizer.json (or a folder holding one) other than the model folder's"});
    e.string("template", spec.templateText, {"task files: the prompt, {text} for the example and one {a|b} slot for the label words"});
    e.integer("shots", spec.shots, 0, 64, {"demonstrations put before each question (k-shot); 0: zero-shot"});
    e.string("shots_from", spec.shotsFrom, {"where demonstrations are drawn from: a file or NAME:train (default: the task's train split)"});
    e.integer("seed", spec.seed, 0, INT64_MAX, {"the seed that draws the demonstrations"});
    e.integer("limit", spec.limit, 0, INT64_MAX, {"examples scored per task; 0: all"});
    e.path("text", spec.text, {"a text whose perplexity is measured"});
    e.integer("seq_len", spec.seqLen, 2, 1 << 20, {"tokens per perplexity window"});
    e.integer("batch", spec.batch, 1, 4096, {"perplexity windows per forward pass"});
    e.integer("limit_windows", spec.limitWindows, 0, INT64_MAX, {"perplexity windows scored; 0: all"});
    stringList(e, "tasks", spec.tasks, "[]", {"the tasks whose accuracy is measured: built-in names or labelled task files"});
    stringList(e, "labels", spec.labels, "[]", {"task files: the labels, in the order of the template's slot words"});
    e.done();
    if (spec.tasks.empty() && spec.text.empty())
        failAt("eval.tasks", source, ": eval needs eval.tasks (e.g. [\"sentiment\", \"spam\"]) or eval.text");
    if (request.checkOnly) return preparedFrom("eval", root, spec.seed);
    // every task resolved now, so a bad name fails before the run starts
    std::vector<TaskRun> tasks;
    for (const auto& name : spec.tasks) {
        TaskRun t{name, data::resolveTask(name, spec.templateText, spec.labels, source + ": eval.tasks",
                                          "a task file needs eval.template and eval.labels"),
                  {}};
        if (spec.shots > 0) {
            if (!spec.shotsFrom.empty()) {
                const auto pool = data::findBuiltinTask(spec.shotsFrom);
                t.pool = pool ? pool->file : std::filesystem::path(spec.shotsFrom);
            } else if (t.task.builtin) {
                t.pool = t.task.train;
            } else {
                failAt("eval.shots", source, ": eval.shots = ", spec.shots, " needs eval.shots_from (a file or NAME:train, "
                     "the examples to draw demonstrations from) for the task file '", name, "'");
            }
        }
        tasks.push_back(t);
    }
    spec.text = data::findInputFile(spec.text);  // from the working directory, else the source tree
    // every input checked before the model loads: the folder, the text (whole: a bad byte at the
    // end must not cost a perplexity pass), the window against the model's context
    const std::filesystem::path checkedModel = data::requireModel(spec.model, source + ": eval.model");
    if (!spec.tokenizer.empty() && !std::filesystem::exists(spec.tokenizer))
        failAt("eval.tokenizer", source, ": eval.tokenizer: no such file or folder '", spec.tokenizer.string(),
             "' (expected a tokenizer.json or a folder holding one)");
    if (!spec.text.empty()) {
        try {
            requireFile(spec.text, "a UTF-8 text file");
            const std::string text = readFile(spec.text, "text");
            if (text.empty()) fail(spec.text.string(), ": file is empty (expected a UTF-8 text file)");
            requireUtf8(text, spec.text.string());
        } catch (const Error& err) {
            failAt("eval.text", source, ": eval.text: ", err.what());
        }
        const model::ModelConfig config = model::ModelConfig::fromFile(checkedModel / "config.json");
        if (config.maxPositions > 0 && spec.seqLen > config.maxPositions)
            failAt("eval.seq_len", source, ": eval.seq_len = ", spec.seqLen, " is longer than the model's context: ",
                 (checkedModel / "config.json").string(), " gives ", config.maxPositions,
                 " positions; at most ", config.maxPositions);
    }
    PreparedRun p = preparedFrom("eval", root, spec.seed);
    p.body = [spec, tasks](const RunContext& context) {
        EventSink& sink = context.sink;
        const StopToken& stop = context.stop;
        const std::filesystem::path modelDir = data::resolveModel(spec.model);
        const auto loaded = [&] {
            try {
                return loadModelAndTokenizer(modelDir, spec.tokenizer, torch::kFloat32, spec.device);
            } catch (const Error& err) {  // the weights, the tokenizer or their sizes: the input
                throw InputError(err.what());
            }
        }();
        const int64_t total = static_cast<int64_t>(tasks.size()) + (spec.text.empty() ? 0 : 1);
        int64_t done = 0;
        nlohmann::json results = {{"model", modelDir.string()}, {"tasks", nlohmann::json::array()}};
        for (const auto& t : tasks) {
            if (stop.stopRequested()) throw Cancelled("evaluation stopped before task " + t.name);
            const data::Task task = data::Task::load(t.task.file, t.task.labels);
            const auto prompt = data::PromptTemplate::parse(t.task.templateText, t.task.labels);
            std::optional<data::Task> pool;
            FewShot shots;
            if (spec.shots > 0) {
                pool = data::Task::load(t.pool, t.task.labels);
                shots = {&*pool, spec.shots, static_cast<uint64_t>(spec.seed), "\n\n"};
            }
            const auto r = evaluateTask(loaded.model, loaded.tokenizer, task, prompt, spec.limit, shots, &stop);
            sink.metric("eval/" + t.name + "/accuracy", 0, r.accuracy);
            sink.metric("eval/" + t.name + "/accuracy_norm", 0, r.accuracyMean);
            sink.metric("eval/" + t.name + "/accuracy_calibrated", 0, r.accuracyCalibrated);
            sink.metric("eval/" + t.name + "/examples", 0, static_cast<double>(r.examples));
            sink.info(cat(t.name, ": accuracy ", r.accuracy, " (", r.examples, " examples, ", spec.shots,
                          "-shot; length-normalised ", r.accuracyMean, "; calibrated ",
                          r.accuracyCalibrated, ")"));
            results["tasks"].push_back({{"task", t.name},
                                        {"file", t.task.file.string()},
                                        {"accuracy", r.accuracy},
                                        {"accuracy_length_normalised", r.accuracyMean},
                                        {"accuracy_calibrated", r.accuracyCalibrated},
                                        {"examples", r.examples},
                                        {"shots", spec.shots},
                                        {"shots_from", t.pool.string()},
                                        {"seed", spec.seed},
                                        {"template", prompt.text()},
                                        {"labels", t.task.labels}});
            sink.progress(++done, total, t.name);
        }
        if (!spec.text.empty()) {
            if (stop.stopRequested()) throw Cancelled("evaluation stopped before the perplexity");
            const auto ppl = perplexityOfText(loaded.model, loaded.tokenizer, spec.text, spec.seqLen,
                                              spec.batch, spec.limitWindows, &stop);
            sink.metric(frugal::metrics::kEvalPerplexity, 0, ppl.perplexity);
            sink.info(cat("perplexity ", ppl.perplexity, " on ", spec.text.string(), " (", ppl.protocol(), ")"));
            results["perplexity"] = {{"perplexity", ppl.perplexity},
                                     {"mean_loss_nats", ppl.meanLoss},
                                     {"seq_len", ppl.seqLen},
                                     {"windows", ppl.windows},
                                     {"tokens_total", ppl.tokensTotal},
                                     {"tokens_scored", ppl.tokensScored},
                                     {"tokens_dropped", ppl.tokensDropped},
                                     {"windows_available", ppl.windowsAvailable},
                                     {"text", spec.text.string()},
                                     {"protocol", ppl.protocol()}};
            sink.progress(++done, total, "perplexity");
        }
        const auto file = sink.artifactDir() / "results.json";
        writeTextFile(file, results.dump(2) + "\n");
        sink.artifact("results", file);
    };
    return p;
}

// An evaluation: its accuracies and perplexity, memory.
MethodView evalView() {
    MethodView v;
    v.panels = {evaluationPanel(), memoryPanel()};
    v.result = {{"{} acc ", "eval/*/accuracy", true}, {"ppl ", metrics::kEvalPerplexity, true}};
    v.presets = {{"Evaluation — zero-shot and few-shot, perplexity", "eval-smollm2.toml", 3},
                 {"Evaluation", "eval-tiny.toml", 23}};
    return v;
}

}  // namespace frugal::eval
