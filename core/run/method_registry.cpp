// The registry of methods: one row per method, each defined in its own folder's
// <name>_method.cpp (DESIGN.md "The method contract"). Adding a method is its file plus one row.

#include "run/method_registry.h"

#include <toml++/toml.h>

#include <algorithm>

#include "common/call_count.h"
#include "common/config_reader.h"
#include "common/error.h"
#include "common/files.h"
#include "analysis/landscape_method.h"
#include "analysis/live_landscape.h"
#include "analysis/probe_method.h"
#include "eval/eval_method.h"
#include "eval/fine_tune_config.h"
#include "fo/fo_method.h"
#include "pretrain/pretrain_method.h"
#include "prune/prune_method.h"
#include "search/sharpzo_method.h"
#include "zo/zo_method.h"

namespace frugal::run {

namespace {

struct MethodRow {
    const char* name;
    PreparedRun (*prepare)(const MethodRequest& request);
    // optional: what a config of this method trains, from its model's config.json alone
    std::optional<TrainableSummary> (*trainables)(const std::string& text, const std::string& source,
                                                  const std::vector<std::string>& overrides);
    // optional: a stored run's weights rebuilt from its trajectory
    int64_t (*replay)(const ReplayRequest& request);
    // what the workbench and `frugal list` show of its runs (common/method_view.h)
    MethodView (*view)();
};

const MethodRow kMethods[] = {
    {"pretrain", pretrain::preparePretrainMethod, nullptr, nullptr, pretrain::pretrainView},
    {"eval", eval::prepareEvalMethod, nullptr, nullptr, eval::evalView},
    // the fine-tuning methods get the [live_landscape] probe and its panels, which are analysis/'s,
    // from here
    {"mezo", [](const MethodRequest& r) { return zo::prepareMezoMethod(r, analysis::makeLiveLandscapeProbe); },
     zo::zoTrainables, zo::replayZoMethod, [] { return analysis::withLiveLandscape(zo::mezoView()); }},
    {"zo", [](const MethodRequest& r) { return zo::prepareZoMethod(r, analysis::makeLiveLandscapeProbe); },
     zo::zoTrainables, zo::replayZoMethod, [] { return analysis::withLiveLandscape(zo::zoView()); }},
    {"fo", [](const MethodRequest& r) { return fo::prepareFoMethod(r, analysis::makeLiveLandscapeProbe); },
     fo::foTrainables, nullptr, [] { return analysis::withLiveLandscape(fo::foView()); }},
    {"prune", prune::preparePruneMethod, nullptr, nullptr, prune::pruneView},
    {"sharpzo", search::prepareSharpZoMethod, nullptr, nullptr, search::sharpZoView},
    {"landscape", analysis::prepareLandscapeMethod, nullptr, nullptr, analysis::landscapeView},
    {"probe", analysis::prepareProbeMethod, nullptr, nullptr, analysis::probeView},
};

std::string namesOf() {
    std::string names;
    for (const auto& m : kMethods) names += (names.empty() ? "" : ", ") + std::string(m.name);
    return names;
}

const MethodRow* findRow(const std::string& name) {
    for (const auto& m : kMethods)
        if (name == m.name) return &m;
    return nullptr;
}

// The row of config ROOT's `method` key; SOURCE names the config in messages.
const MethodRow& rowOf(const toml::table& root, const std::string& source) {
    const toml::node* method = root.get("method");
    if (!method || !method->is_string())
        fail(source, ": needs a top-level method = \"...\" (methods: ", namesOf(), ")");
    const std::string name = *method->value<std::string>();
    if (const MethodRow* row = findRow(name)) return *row;
    fail(source, ": method is '", name, "', which is not a method (methods: ", namesOf(), ")");
}

}  // namespace

std::vector<std::string> methodNames() {
    std::vector<std::string> names;
    for (const auto& m : kMethods) names.emplace_back(m.name);
    return names;
}

int64_t replayRun(const std::string& method, const std::string& configText,
                  const std::filesystem::path& trajectory, const std::filesystem::path& outDir,
                  int64_t untilStep, const std::string& device) {
    const MethodRow* row = findRow(method);
    if (!row || !row->replay) {
        std::string replayable;
        for (const auto& m : kMethods)
            if (m.replay) replayable += (replayable.empty() ? "" : " or ") + std::string(m.name);
        fail("replay rebuilds zeroth-order runs (method ", replayable, "); this run's method is '",
             method, "'");
    }
    return row->replay({method, configText, trajectory, outDir, untilStep, device});
}

namespace {
// the median of scripts/bench-first-run on the 2-core machine (docs/BENCHMARKS.md, "The first run")
constexpr int kFirstRunSeconds = 80;
}  // namespace

const FirstRun& firstRun() {
    static const FirstRun run{"zo/mezo-full-sentiment.toml", "MeZO — full parameters", kFirstRunSeconds};
    return run;
}

std::string aboutTime(int seconds) {
    if (seconds < 60) return cat("about ", (seconds + 9) / 10 * 10, " seconds");
    const int halves = (seconds + 29) / 30;  // half minutes, rounded up
    const std::string minutes = halves % 2 ? cat(halves / 2, "½") : cat(halves / 2);
    return cat("about ", minutes, halves == 2 ? " minute" : " minutes");
}

PreparedRun prepareRun(const std::filesystem::path& file, const std::vector<std::string>& overrides,
                       const std::filesystem::path& outDir, bool resume, bool force) {
    return prepareRunText(readFile(file, "experiment config"), file.string(), overrides, outDir, resume, force);
}

PreparedRun prepareRunText(const std::string& text, const std::string& source,
                           const std::vector<std::string>& overrides,
                           const std::filesystem::path& outDir, bool resume, bool force) {
    MethodRequest request;
    request.file = source;
    request.text = text;
    request.overrides = overrides;
    request.outDir = outDir;
    request.resume = resume;
    request.force = force;
    return prepareRequest(request);
}

PreparedRun prepareRequest(const MethodRequest& request) {
    CallCount::hit("config reader");
    const std::string source = request.file.string();
    return rowOf(config::parseConfig(request.text, source), source).prepare(request);
}

std::vector<ConfigProblem> checkConfig(const std::string& text, const std::string& source,
                                       const std::vector<std::string>& overrides) {
    CallCount::hit("config reader");
    config::ErrorCollector collector;
    std::vector<ConfigProblem> thrown;
    try {
        const toml::table root = config::parseConfig(text, source, overrides);
        MethodRequest request;
        request.file = source;
        request.text = text;
        request.overrides = overrides;
        request.checkOnly = true;
        rowOf(root, source).prepare(request);
    } catch (const ConfigError& e) {
        thrown.push_back({e.key(), e.what()});
    } catch (const Error& e) {
        thrown.push_back({"", e.what()});
    }
    std::vector<ConfigProblem> problems = std::move(collector.problems);
    problems.insert(problems.end(), thrown.begin(), thrown.end());
    return problems;
}

std::optional<TrainableSummary> trainableSummary(const std::string& text, const std::string& source,
                                                 const std::vector<std::string>& overrides) {
    const auto method = config::parseConfig(text, source, overrides)["method"].value<std::string>();
    const MethodRow* row = method ? findRow(*method) : nullptr;
    if (!row || !row->trainables) return std::nullopt;
    return row->trainables(text, source, overrides);
}

MethodView methodView(const std::string& method) {
    if (const MethodRow* row = findRow(method)) return row->view();
    MethodView unknown;  // a run of a method this build does not have (another version's database)
    unknown.panels = {lossPanel(), evaluationPanel(), memoryPanel()};
    return unknown;
}

int metricSlot(const std::string& key) {
    for (const auto& m : kMethods)
        for (const auto& panel : m.view().panels)
            for (const auto& line : panel.match.lines)
                if (line.key == key) return line.slot;
    return -1;
}

std::vector<MethodPreset> methodPresets() {
    std::vector<MethodPreset> out;
    for (const auto& m : kMethods)
        for (const auto& p : m.view().presets) out.push_back({m.name, p});
    std::stable_sort(out.begin(), out.end(),
                     [](const MethodPreset& a, const MethodPreset& b) { return a.preset.order < b.preset.order; });
    return out;
}

ConfigSubject configSubject(const std::string& text) {
    ConfigSubject out;
    try {
        const toml::table root = toml::parse(text);
        root.for_each([&](const toml::key&, const toml::node& node) {
            const toml::table* t = node.as_table();
            if (!t) return;
            if (out.model.empty())
                if (const auto model = (*t)["model"].value<std::string>()) out.model = *model;
            if (out.task.empty()) {
                if (const auto task = (*t)["task"].value<std::string>()) out.task = *task;
                else if (const auto first = (*t)["tasks"][0].value<std::string>()) out.task = *first;
                else if (const auto train = (*t)["train_text"].value<std::string>())
                    out.task = std::filesystem::path(*train).stem().string();
            }
        });
    } catch (const toml::parse_error&) {
    }
    return out;
}

std::vector<ConfigField> configSchema(const std::string& method, const std::string& configText) {
    const MethodRow* row = findRow(method);
    if (!row) fail("no method '", method, "' (methods: ", namesOf(), ")");
    // Each reader declares a key as it reads it, before it checks what is required, so a refusal
    // (an evaluation without tasks) still leaves the keys read so far: the schema is what was
    // declared, whether or not the config is complete.
    config::SchemaCapture capture;
    try {
        MethodRequest request;
        request.file = "schema";
        request.text = configText.empty() ? cat("method = \"", method, "\"\n") : configText;
        request.checkOnly = true;  // the keys only: no input file, model or tokenizer opened
        row->prepare(request);
    } catch (const Error&) {
        if (configText.empty()) return capture.fields;
        return configSchema(method);
    }
    return capture.fields;
}

}  // namespace frugal::run
