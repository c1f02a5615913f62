#pragma once
// The registry of methods: one row per method in
// run/method_registry.cpp — its name, reader (config -> PreparedRun), and optionally a trainable
// summary and a replay. Everything that works on a config by its `method` key goes through it:
// `frugal run`, the workbench's form (schema, validation, trainable count), replay. No torch, no
// toml++ in this header.
// See docs/ARCHITECTURE.md, "The method contract".

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "common/method.h"
#include "common/method_view.h"

namespace frugal::run {

// The methods `frugal run` knows (run/method_registry.cpp), each from its TOML config (the
// `method` key) and overrides.
std::vector<std::string> methodNames();
// Rebuilds a run's fine-tuned model from its base model, its resolved config and its trajectory
// file with its method's replay (zeroth-order runs: bit-identical to the run's own weights), and
// saves it to OUTDIR; with UNTILSTEP >= 0, the weights after that step instead (any step is a
// checkpoint). DEVICE: where to replay ("cpu", "cuda", "cuda:N"; empty: the run's own). Returns
// the number of steps applied. A method without replay is refused.
int64_t replayRun(const std::string& method, const std::string& configText,
                  const std::filesystem::path& trajectory, const std::filesystem::path& outDir,
                  int64_t untilStep = -1, const std::string& device = "");
// OUTDIR: where the method writes its outputs; empty: the run's artifact folder.
// RESUME: the body continues from the run's last checkpoint (in its artifact folder).
// FORCE: run even when the memory guard's estimate exceeds the memory available.
PreparedRun prepareRun(const std::filesystem::path& config, const std::vector<std::string>& overrides,
                       const std::filesystem::path& outDir, bool resume = false, bool force = false);
// The same for config TEXT; SOURCE names it in messages (a file name, "the form").
PreparedRun prepareRunText(const std::string& text, const std::string& source,
                           const std::vector<std::string>& overrides,
                           const std::filesystem::path& outDir, bool resume = false, bool force = false);

// The same for a whole request (configuredOutput: pre-training writes to its output.dir).
PreparedRun prepareRequest(const MethodRequest& request);

// Every problem of config TEXT that one reading finds, without opening its input files, models or
// tokenizers (MethodRequest::checkOnly): every unknown key and every value of the wrong type or
// out of range, then the first problem its reader finds across keys; each with its key ("" when
// it has none). Empty: the config reads. The workbench's form calls it once per edit.
std::vector<ConfigProblem> checkConfig(const std::string& text, const std::string& source,
                                       const std::vector<std::string>& overrides = {});

// What a fine-tuning config (method zo, mezo or fo) trains, from its model's config.json alone.
// Empty for methods that train no subset (pretrain, eval, prune). Throws on a bad config.
std::optional<TrainableSummary> trainableSummary(const std::string& text, const std::string& source,
                                                 const std::vector<std::string>& overrides = {});

// What the workbench and `frugal list` show of a run of METHOD: its chart panels, vector panels,
// headline result (common/method_view.h). A method this build lacks gets loss, evaluation, memory.
MethodView methodView(const std::string& method);
// The palette slot a method's view gives metric KEY, -1 when none names it.
int metricSlot(const std::string& key);

// The presets of every method, in their order (the form offers them).
struct MethodPreset {
    std::string method;
    PresetView preset;
};
std::vector<MethodPreset> methodPresets();

// The run the workbench recommends to a first-time user (the empty Runs view) and the README's
// first command: a preset chosen from the measured tables, with its measured wall time. MeZO on
// every weight of the built-in model at lr 1e-4 is the ZO row of docs/RESULTS.md's grid on the
// sentiment task that leaves chance in 500 steps without diverging (MeZO-LoRA at 3e-3 flips the
// label bias by step 200); SECONDS is the median of `scripts/bench-first-run` (docs/BENCHMARKS.md,
// "The first run"), rounded up.
struct FirstRun {
    const char* file;   // under experiments/
    const char* label;  // as the preset list names it
    int seconds;
};
const FirstRun& firstRun();
// "about 4 minutes": SECONDS in the words of a promise, rounded to the next half minute above one.
std::string aboutTime(int seconds);

// What a config trains or evaluates, read from its tables (a preset's label): the first `model`
// and the first of `task`, `tasks[0]` or `train_text`'s file stem; empty when it names none or
// does not parse.
struct ConfigSubject {
    std::string model, task;
};
ConfigSubject configSubject(const std::string& text);

// Every key METHOD's config reads, in reading order, with defaults, ranges and choices; with
// CONFIGTEXT (a config of that method), also the keys of the tables it has (pre-training's
// data sources).
std::vector<ConfigField> configSchema(const std::string& method, const std::string& configText = {});

}  // namespace frugal::run
