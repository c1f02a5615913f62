#pragma once
// Running a method as a stored run: the method body runs on a worker thread with an EventSink
// (metrics, vectors, logs, progress) and a StopToken; the run's status goes to the store as it
// changes (running -> finished / failed / cancelled), with the error message of a failed run. No
// torch in this header.

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/error.h"
#include "run/provenance.h"
#include "store/store.h"

namespace frugal::run {

class StopToken {
public:
    void requestStop(int signal = 0) {
        m_signal = signal;
        m_stop = true;
    }
    bool stopRequested() const { return m_stop; }
    int signal() const { return m_signal; }

private:
    std::atomic<bool> m_stop{false};
    std::atomic<int> m_signal{0};
};

// Thrown by a method that saw the stop token: the run ends as cancelled, not failed.
class Cancelled : public Error {
public:
    using Error::Error;
};

class EventSink {
public:
    virtual ~EventSink() = default;
    virtual void metric(const std::string& key, int64_t step, double value) = 0;
    virtual void vector(const std::string& key, int64_t step, std::vector<int64_t> shape,
                        std::vector<float> data) = 0;
    virtual void log(const std::string& level, const std::string& text) = 0;
    // STEP of TOTAL done; STATUS a short text such as "loss 4.21".
    virtual void progress(int64_t step, int64_t total, const std::string& status) = 0;
    // The folder for this run's files (created on first use).
    virtual std::filesystem::path artifactDir() = 0;
    // Records a file the run wrote, with its size and SHA-256.
    virtual void artifact(const std::string& kind, const std::filesystem::path& path) = 0;
    // Commits everything reported so far (before a checkpoint: a resumed run must find every
    // metric up to its checkpoint stored).
    virtual void flush() = 0;
};

// Receives what the run reports, for display (the CLI's progress bar, the GUI bridge).
class Observer {
public:
    virtual ~Observer() = default;
    virtual void onLog(const std::string& level, const std::string& text) = 0;
    virtual void onProgress(int64_t step, int64_t total, const std::string& status) = 0;
    // Every metric point as the run reports it (on the worker thread; the GUI bridge buffers
    // them for its live charts). The store has them too.
    virtual void onMetric(const std::string& key, int64_t step, double value) {
        (void)key, (void)step, (void)value;
    }
};

using MethodBody = std::function<void(EventSink& sink, const StopToken& stop)>;

struct RunOutcome {
    int64_t runId = 0;
    store::RunStatus status = store::RunStatus::Failed;
    std::string error;
};

// Creates the run in STORE, runs BODY on a worker thread and waits for it. Everything the body
// logged is committed before the final status is written. Artifacts go under
// ARTIFACTROOT/<run uuid>/.
RunOutcome runMethod(store::Store& store, const store::NewRun& spec, const MethodBody& body,
                     StopToken& stop, Observer* observer,
                     const std::filesystem::path& artifactRoot);
// The same for an existing run taken over with Store::resumeRun (same artifact folder).
RunOutcome continueMethod(store::Store& store, int64_t runId, const MethodBody& body,
                          StopToken& stop, Observer* observer,
                          const std::filesystem::path& artifactRoot);

// The methods `frugal run` knows, each from its TOML config (the `method` key) and overrides.
struct PreparedRun {
    std::string method;
    std::string resolvedConfig;                 // TOML after overrides
    std::map<std::string, std::string> params;  // flattened keys ("train.lr" -> "0.002")
    std::optional<int64_t> seed;
    MethodBody body;
};
std::vector<std::string> methodNames();
// Rebuilds a zeroth-order run's fine-tuned model from its base model, its resolved config and
// its trajectory file, and saves it to OUTDIR (bit-identical to the run's own weights); with
// UNTILSTEP >= 0, the weights after that step instead (any step is a checkpoint). Returns the
// number of steps applied.
int64_t replayZoRun(const std::string& method, const std::string& configText,
                    const std::filesystem::path& trajectory, const std::filesystem::path& outDir,
                    int64_t untilStep = -1);
// OUTDIR: where the method writes its outputs; empty: the run's artifact folder.
// RESUME: the body continues from the run's last checkpoint (in its artifact folder).
PreparedRun prepareRun(const std::filesystem::path& config, const std::vector<std::string>& overrides,
                       const std::filesystem::path& outDir, bool resume = false);
// The run to create for PREPARED: its method, resolved config, seed and params, with PROVENANCE.
store::NewRun newRunFor(const PreparedRun& prepared, const Provenance& provenance, const std::string& name,
                        const std::string& experiment);
// The same for config TEXT; SOURCE names it in messages (a file name, "the form").
PreparedRun prepareRunText(const std::string& text, const std::string& source,
                           const std::vector<std::string>& overrides,
                           const std::filesystem::path& outDir, bool resume = false);

// What a fine-tuning config (method zo, mezo or fo) trains, counted from its model's
// config.json alone (no weights loaded): the workbench's form and `frugal params` show it before
// a run. Empty for methods that train no subset (pretrain, eval, prune). Throws on a bad config.
struct TrainableSummary {
    std::filesystem::path modelConfig;  // the config.json read
    int64_t trainable = 0, total = 0;
    std::vector<std::pair<std::string, int64_t>> parts;
    std::string detail;  // the target in words
    std::string line() const;  // "6,144 of 4,212,992 parameters trainable (0.146%): ..."
};
std::optional<TrainableSummary> trainableSummary(const std::string& text, const std::string& source,
                                                 const std::vector<std::string>& overrides = {});

// One key a method's config reads, as its reader declares it: what the workbench's form is built
// from (no hand-written form per method).
struct ConfigField {
    enum class Kind { Integer, Number, Boolean, String, Path, List };
    std::string key;  // full path: "zo.lr", "peft.target"
    Kind kind = Kind::String;
    std::string defaultValue;  // as TOML would write it; "" for none
    double lo = 0, hi = 0;     // Integer and Number
    std::vector<std::string> choices;  // a String with a fixed set of values
};
// Every key METHOD's config reads, in reading order, with defaults, ranges and choices; with
// CONFIGTEXT (a config of that method), also the keys of the tables it has (pre-training's
// data sources).
std::vector<ConfigField> configSchema(const std::string& method, const std::string& configText = {});

}  // namespace frugal::run
