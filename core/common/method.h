#pragma once
// The method contract's plain types: what a method's reader
// gets (MethodRequest) and gives back (PreparedRun: the resolved config, the params to store and
// the body the runner executes), the key schema the form is built from (ConfigField), and what a
// fine-tuning config trains (TrainableSummary). Each method folder's <name>_method.cpp produces
// them; run/method_registry.cpp lists the methods. No torch, no toml++ in this header.
// See docs/ARCHITECTURE.md, "The method contract".

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/events.h"

namespace frugal {

namespace dist {
class World;
}

// What a method's body is handed when it runs: everything it reports to, obeys or shares work
// with comes in here, none of it is found through a global.
struct RunContext {
    EventSink& sink;
    const StopToken& stop;
    // The processes of a data-parallel run (dist/world.h); null when the run is one process.
    dist::World* world = nullptr;
};

// A method's body: runs on the runner's worker thread, reports to the context's sink, stops when
// its stop token asks.
using MethodBody = std::function<void(const RunContext& context)>;

// What a method's reader is given.
struct MethodRequest {
    std::filesystem::path file;          // names the config in messages (a file, "the form")
    std::string text;                    // the config's TOML
    std::vector<std::string> overrides;  // KEY=VALUE
    std::filesystem::path outDir;        // where outputs go; empty: the run's artifact folder
    bool resume = false;                 // continue from the run's last checkpoint
    // With no OUTDIR: write where the config says (pre-training's output.dir), not into the run's
    // artifact folder (`frugal pretrain`).
    bool configuredOutput = false;
    // Run even when the memory estimate exceeds the memory available (`frugal run --force`).
    bool force = false;
    // Read and validate the config only: no input file, model or tokenizer is opened and no
    // memory is estimated (the workbench's form on every edit); the PreparedRun has no body.
    bool checkOnly = false;
};

// A config read, validated and ready to run.
struct PreparedRun {
    std::string method;
    std::string resolvedConfig;                 // TOML after overrides
    std::map<std::string, std::string> params;  // flattened keys ("train.lr" -> "0.002")
    std::optional<int64_t> seed;
    MethodBody body;
};

// One problem of a config, at KEY (a full path: "zo.eps"; "" when it concerns no one key).
struct ConfigProblem {
    std::string key;
    std::string message;
};

// A condition on the other keys under which a key is read: KEY (a full path) holds one of VALUES
// (as the form shows a value; "" is an empty one), or, with NEGATE, none of them.
struct KeyCondition {
    std::string key;
    std::vector<std::string> values;
    bool negate = false;
};

// One key a method's config reads, as its reader declares it, once: its type, default, range,
// choices, meaning and when it is read. The workbench's form, its tooltips and the keys it folds
// away, and --print-config come from it (no hand-written form or key list per method).
struct ConfigField {
    enum class Kind { Integer, Number, Boolean, String, Path, List };
    std::string key;  // full path: "zo.lr", "peft.target"
    Kind kind = Kind::String;
    std::string defaultValue;  // as TOML would write it; "" for none
    double lo = 0, hi = 0;     // Integer and Number
    std::vector<std::string> choices;  // a String with a fixed set of values
    std::string help{};                // what the key changes in the experiment, in one line
    std::vector<KeyCondition> when{};  // read only when every condition holds (empty: always)
    bool unused = false;               // declared by a reader this method shares, never read by it

    // Whether the key is read under VALUES (full key -> the form's text); a key VALUES lacks or
    // leaves empty takes its default from SCHEMA.
    bool readUnder(const std::map<std::string, std::string>& values, const std::vector<ConfigField>& schema) const;
    // "used when zo.optimizer is adam or lion"; "" when always read.
    std::string whenText() const;
};

// What a fine-tuning config trains, counted from its model's config.json alone (no weights
// loaded): the workbench's form and `frugal params` show it before a run.
struct TrainableSummary {
    std::filesystem::path modelConfig;  // the config.json read
    int64_t trainable = 0, total = 0;
    std::vector<std::pair<std::string, int64_t>> parts;
    std::string detail;        // the target in words
    std::string memory;        // the run's memory estimate: "MeZO needs ≈ 14 GiB (weights 12.6, ...)"
    int64_t memoryBytes = 0;   // the same estimate in bytes (0: none made)
    std::string line() const;  // "6,144 of 4,212,992 parameters trainable (0.146%): ..."
};

// What a replay is given: a stored run's method and resolved config, its trajectory file, where
// to write the rebuilt model, and the last step to apply (< 0: all).
struct ReplayRequest {
    std::string method;
    std::string configText;
    std::filesystem::path trajectory, outDir;
    int64_t untilStep = -1;
    std::string device;  // where to replay ("cpu", "cuda", "cuda:N"); empty: the run's own device
};

}  // namespace frugal
