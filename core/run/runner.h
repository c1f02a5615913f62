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
#include "common/method.h"
#include "run/provenance.h"
#include "store/store.h"

namespace frugal::run {

// The contract's types live in common/ (methods below run/ use them); run/ and its callers name
// them as run:: too.
using frugal::Cancelled;
using frugal::ConfigField;
using frugal::ConfigProblem;
using frugal::EventSink;
using frugal::MethodBody;
using frugal::RunContext;
using frugal::PreparedRun;
using frugal::StopToken;
using frugal::TrainableSummary;

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
    // Every vector point (a live landscape's slice, per-layer figures), the same way.
    virtual void onVector(const std::string& key, int64_t step, const std::vector<int64_t>& shape,
                          const std::vector<float>& data) {
        (void)key, (void)step, (void)shape, (void)data;
    }
};

struct RunOutcome {
    int64_t runId = 0;
    store::RunStatus status = store::RunStatus::Failed;
    std::string error;
    bool badInput = false;  // failed on an InputError: the command exits 2
    bool statusStored = true;  // false: the database refused the final status (a full disk)
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

// The run to create for PREPARED: its method, resolved config, seed and params, with PROVENANCE.
store::NewRun newRunFor(const PreparedRun& prepared, const Provenance& provenance, const std::string& name,
                        const std::string& experiment);

}  // namespace frugal::run
