// method = "probe": a stored zeroth-order run's checkpoints scored on a task. Every step of a ZO
// run is a checkpoint (its trajectory rebuilds the weights after any step, bit for bit, as
// `frugal replay --step N` does); the probe rebuilds them at step 0, every `every` steps and the
// last step, and scores each on a task, usually one the run did not train on: how fine-tuning on
// one task moved another (transfer, forgetting). The [probe] table is the whole config.

#include "analysis/probe_method.h"

#include <toml++/toml.h>

#include "common/config_reader.h"
#include "common/error.h"
#include "common/files.h"
#include "data/builtin.h"
#include "data/task.h"
#include "eval/candidate_scoring.h"
#include "eval/model_loading.h"
#include "zo/engine.h"
#include "zo/zo_method.h"
#include "analysis/analysis_metrics.h"

namespace frugal::analysis {

namespace {

struct ProbeConfig {
    std::filesystem::path config, trajectory;  // the stored run's resolved config and trajectory
    std::string task = "spam";
    std::string templateText;
    std::vector<std::string> labels;
    int64_t every = 100;
    int64_t limit = 0;  // examples scored per checkpoint; 0: all of the task's split
};

ProbeConfig readProbe(const toml::table& root, const std::string& source) {
    using namespace frugal::config;
    const toml::table empty;
    const Section top(root, "", source, {"method", "probe"});
    const Section m(tableOr(root, "probe", source, empty), "probe", source);
    ProbeConfig c;
    m.path("config", c.config,
           {"the stored zo or mezo run's resolved config (as frugal show RUN prints it, or the file it ran)"});
    m.path("trajectory", c.trajectory, {"the stored run's trajectory.csv (in its artifact folder)"});
    m.string("task", c.task, {"the task each checkpoint is scored on: a built-in name (NAME:SPLIT) or a task file"});
    m.string("template", c.templateText,
             {"a task file: the prompt, {text} for the example and one {a|b} slot for the labels"});
    stringList(m, "labels", c.labels, "[]", {"a task file: its labels, in the order of the template's slot words"});
    m.integer("every", c.every, 1, 1 << 30, {"steps between checkpoints (also step 0 and the last step)"});
    config::cpuOnlyDevice(m, source, "where the checkpoints are replayed and scored: the CPU",
                          "a probe replays the run's trajectory and scores its checkpoints on the CPU, whatever device "
                          "the run used (z is the same function of seed and offset there, so a CUDA run's checkpoints "
                          "are the same bytes)");
    m.integer("limit", c.limit, 0, 1 << 30, {"examples scored per checkpoint; 0: all"});
    m.done();
    if (c.config.empty()) failAt("probe.config", source, ": probe.config is missing (the stored run's config)");
    if (c.trajectory.empty()) failAt("probe.trajectory", source, ": probe.trajectory is missing (its trajectory.csv)");
    return c;
}

// The checkpoints: step 0, every EVERY steps and the last.
std::vector<int64_t> checkpointsOf(const std::vector<zo::StepRecord>& steps, int64_t every) {
    const int64_t last = steps.empty() ? 0 : steps.back().step;
    std::vector<int64_t> out;
    for (int64_t s = 0; s < last; s += every) out.push_back(s);
    out.push_back(last);
    return out;
}

// The mean log-probability (nats) of each scored example's gold label word: the continuous score
// beside the accuracies, which moves with any change of the weights.
double goldLogProb(const eval::TaskResult& r, const data::Task& task) {
    const auto& labels = task.labels();
    double sum = 0;
    for (size_t i = 0; i < r.scores.size(); ++i) {
        const std::string& gold = task.examples()[i].label;
        for (size_t k = 0; k < labels.size(); ++k)
            if (labels[k] == gold) sum += r.scores[i][k].sumLogProb;
    }
    return r.scores.empty() ? 0.0 : sum / static_cast<double>(r.scores.size());
}

}  // namespace

PreparedRun prepareProbeMethod(const MethodRequest& request) {
    if (request.resume) fail("a probe is not resumed; the same config gives the same scores");
    const std::string source = request.file.string();
    const toml::table root = config::parseConfig(request.text, source, request.overrides);
    const ProbeConfig c = readProbe(root, source);
    if (request.checkOnly) return config::preparedFrom("probe", root, std::nullopt);
    const std::string runConfig = atKey("probe.config", [&] { return readFile(c.config, "the stored run's config"); });
    const toml::table runRoot =
        atKey("probe.config", [&] { return config::parseConfig(runConfig, c.config.string()); });
    const std::string method = runRoot["method"].value_or(std::string());
    if (method != "zo" && method != "mezo")
        failAt("probe.config", source, ": probe.config: ", c.config.string(), " is a '", method,
               "' run; a probe rebuilds a zeroth-order run's checkpoints (method zo or mezo)");
    const std::vector<zo::StepRecord> steps = atKey("probe.trajectory", [&] { return zo::readTrajectory(c.trajectory); });
    const data::ResolvedTask task =
        atKey("probe.task", [&] {
            return data::resolveTask(c.task, c.templateText, c.labels, source + ": probe.task",
                                     "a task file needs probe.template and probe.labels");
        });
    PreparedRun p = config::preparedFrom("probe", root, std::nullopt);
    p.body = [c, method, runConfig, steps, task](const RunContext& context) {
        EventSink& sink = context.sink;
        const data::Task examples = data::Task::load(task.file, task.labels);
        const auto prompt = data::PromptTemplate::parse(task.templateText, task.labels);
        const std::vector<int64_t> checkpoints = checkpointsOf(steps, c.every);
        sink.info(cat("probe: ", checkpoints.size(), " checkpoints of ", c.config.string(), " (", steps.size(),
                      " steps) on ", task.name, " (", task.file.string(), ")"));
        const std::filesystem::path weights = sink.artifactDir() / "checkpoint";
        int64_t done = 0;
        for (const int64_t step : checkpoints) {
            if (context.stop.stopRequested()) throw Cancelled(cat("probe stopped before step ", step));
            std::filesystem::remove_all(weights);
            // on the CPU whatever device the probed run used: z is the same function of seed and
            // offset everywhere, so a CUDA run's checkpoints replay here to the same bytes
            zo::replayZoMethod({method, runConfig, c.trajectory, weights, step, "cpu"});
            const eval::ModelAndTokenizer loaded = eval::loadModelAndTokenizer(weights, {});
            const eval::TaskResult r =
                eval::evaluateTask(loaded.model, loaded.tokenizer, examples, prompt, c.limit, {}, &context.stop);
            sink.metric(analysis::metrics::kProbeAccuracy, step, r.accuracy);
            sink.metric(analysis::metrics::kProbeAccuracyNorm, step, r.accuracyMean);
            sink.metric(analysis::metrics::kProbeAccuracyCalibrated, step, r.accuracyCalibrated);
            sink.metric(analysis::metrics::kProbeGoldLogprob, step, goldLogProb(r, examples));
            sink.info(cat("step ", step, ": accuracy ", r.accuracy, " on ", r.examples, " examples of ", task.name));
            sink.progress(++done, static_cast<int64_t>(checkpoints.size()), cat("step ", step));
        }
        std::filesystem::remove_all(weights);
    };
    return p;
}

// A probe run: its scores per checkpoint of the probed run.
MethodView probeView() {
    MethodView v;
    PanelView scores{"Probe", "accuracy",
                     {{{metrics::kProbeAccuracy, 0}, {metrics::kProbeAccuracyNorm, 1}, {metrics::kProbeAccuracyCalibrated, 2}}}};
    PanelView gold{"Gold log-probability", "mean log p(gold)", {{{metrics::kProbeGoldLogprob, 0}}}};
    v.panels = {scores, gold, memoryPanel()};
    v.result = {{"probe acc ", metrics::kProbeAccuracy, true}};
    return v;
}

}  // namespace frugal::analysis
