#include "run/runner.h"

#include <chrono>
#include <cmath>
#include <deque>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "common/runtime_info.h"
#include "common/sha256.h"
#include "common/metric_keys.h"

namespace frugal::run {

namespace {

class StoreSink : public EventSink {
public:
    StoreSink(store::Store& store, int64_t run, Observer* observer, std::filesystem::path dir)
        : m_store(store), m_run(run), m_observer(observer), m_dir(std::move(dir)) {}
    std::filesystem::path artifactDir() override {
        std::filesystem::create_directories(m_dir);
        return m_dir;
    }
    void artifact(const std::string& kind, const std::filesystem::path& path) override {
        store::Artifact a;
        a.kind = kind;
        a.path = std::filesystem::absolute(path).string();
        a.sha256 = sha256OfFile(path);
        a.bytes = static_cast<int64_t>(std::filesystem::file_size(path));
        m_store.addArtifact(m_run, a);
    }
    void metric(const std::string& key, int64_t step, double value) override {
        m_store.logMetric(m_run, key, step, value);
        if (m_observer) m_observer->onMetric(key, step, value);
    }
    void vector(const std::string& key, int64_t step, std::vector<int64_t> shape,
                std::vector<float> data) override {
        if (m_observer) m_observer->onVector(key, step, shape, data);
        m_store.logVector(m_run, key, step, std::move(shape), std::move(data));
    }
    void log(const std::string& level, const std::string& text) override {
        m_store.log(m_run, level, text);
        if (m_observer) m_observer->onLog(level, text);
    }
    void flush() override { m_store.flush(); }
    void progress(int64_t step, int64_t total, const std::string& status) override {
        {
            std::lock_guard<std::mutex> lock(m_timesMutex);
            if (!m_times.empty() && step <= m_times.back().first) m_times.clear();  // resumed, rolled back
            m_times.emplace_back(step, std::chrono::steady_clock::now());
            while (m_times.size() > kThroughputWindow + 1) m_times.pop_front();
        }
        m_step = step;
        if (m_observer) m_observer->onProgress(step, total, status);
    }
    int64_t lastStep() const { return m_step; }
    // Steps a second over the last kThroughputWindow steps (fewer at the start), from the times
    // the steps were reported, not from whole seconds of wall time: NaN before two steps.
    double throughput() const {
        std::lock_guard<std::mutex> lock(m_timesMutex);
        if (m_times.size() < 2) return NAN;
        const double seconds = std::chrono::duration<double>(m_times.back().second - m_times.front().second).count();
        if (seconds <= 0) return NAN;
        return static_cast<double>(m_times.back().first - m_times.front().first) / seconds;
    }
    static constexpr size_t kThroughputWindow = 20;

private:
    store::Store& m_store;
    int64_t m_run;
    Observer* m_observer;
    std::filesystem::path m_dir;
    std::atomic<int64_t> m_step{0};
    mutable std::mutex m_timesMutex;
    std::deque<std::pair<int64_t, std::chrono::steady_clock::time_point>> m_times;
};

// While a run's body works: once a second, the process's resident memory (sys/rss_mb) and, when
// a step was reported since the last sample, the steps a second over the last 20 steps
// (sys/steps_per_s, StoreSink::throughput), at the last reported step.
class ResourceMonitor {
public:
    explicit ResourceMonitor(StoreSink& sink) : m_sink(sink), m_thread([this] { loop(); }) {}
    ~ResourceMonitor() {
        {
            std::lock_guard<std::mutex> lock(m_mutex);
            m_done = true;
        }
        m_wake.notify_all();
        m_thread.join();
    }

private:
    void loop() {
        int64_t lastStep = m_sink.lastStep();
        std::unique_lock<std::mutex> lock(m_mutex);
        while (!m_wake.wait_for(lock, std::chrono::seconds(1), [this] { return m_done; })) {
            const int64_t step = m_sink.lastStep();
            try {
                m_sink.metric(frugal::metrics::kRssMb, step, static_cast<double>(currentRssBytes()) / (1 << 20));
                const double rate = m_sink.throughput();
                if (step != lastStep && std::isfinite(rate)) m_sink.metric(frugal::metrics::kStepsPerSecond, step, rate);
            } catch (const std::exception&) {
                return;  // the store refuses writes (a full disk): the run's body meets it too
            }
            lastStep = step;
        }
    }

    StoreSink& m_sink;
    std::mutex m_mutex;
    std::condition_variable m_wake;
    bool m_done = false;
    std::thread m_thread;
};

}  // namespace

store::NewRun newRunFor(const PreparedRun& prepared, const Provenance& provenance, const std::string& name,
                        const std::string& experiment) {
    store::NewRun spec;
    spec.name = name;
    spec.experiment = experiment;
    spec.method = prepared.method;
    spec.config = prepared.resolvedConfig;
    spec.seed = prepared.seed;
    spec.params = prepared.params;
    spec.gitCommit = provenance.gitCommit;
    spec.gitDirty = provenance.gitDirty;
    spec.libraries = provenance.libraries;
    spec.hardware = withDevice(provenance.hardware, runDevice(prepared.params));
    spec.commandLine = provenance.commandLine;
    return spec;
}

RunOutcome runMethod(store::Store& store, const store::NewRun& spec, const MethodBody& body,
                     StopToken& stop, Observer* observer,
                     const std::filesystem::path& artifactRoot) {
    // recorded as queued first, so that a process killed from here on leaves its run behind
    // (marked interrupted by the next open); running once the worker starts the body
    store::NewRun queued = spec;
    queued.status = store::RunStatus::Queued;
    return continueMethod(store, store.createRun(queued), body, stop, observer, artifactRoot);
}

RunOutcome continueMethod(store::Store& store, int64_t runId, const MethodBody& body,
                          StopToken& stop, Observer* observer,
                          const std::filesystem::path& artifactRoot) {
    RunOutcome outcome;
    outcome.runId = runId;
    if (const auto info = store.run(runId); info && info->status == store::RunStatus::Queued)
        store.setStatus(runId, store::RunStatus::Running);
    StoreSink sink(store, outcome.runId, observer, artifactRoot / store.run(outcome.runId)->uuid);
    std::thread worker([&] {
        // The worker entry: the one place a method's error becomes a run status.
        ResourceMonitor monitor(sink);
        try {
            // the numeric runtime, for diagnosis: in every run's stored log (the CLI prints it
            // only with --verbose, or when it warns; observers show debug lines when asked)
            sink.log("debug", runtimeLine(queryRuntime()));
            body(RunContext{sink, stop});
            outcome.status = store::RunStatus::Finished;
        } catch (const Cancelled& e) {
            outcome.status = store::RunStatus::Cancelled;
            outcome.error = e.what();
        } catch (const InputError& e) {
            outcome.status = store::RunStatus::Failed;
            outcome.error = e.what();
            outcome.badInput = true;
        } catch (const std::exception& e) {  // a failure, even while a stop was pending
            outcome.status = store::RunStatus::Failed;
            outcome.error = e.what();
        }
    });
    worker.join();
    try {
        if (!outcome.error.empty())
            store.log(outcome.runId, outcome.status == store::RunStatus::Failed ? "error" : "warn",
                      outcome.error);
    } catch (const std::exception&) {  // the store refuses writes (a full disk): the status says it
    }
    try {
        store.setStatus(outcome.runId, outcome.status, outcome.error);  // flushes first
        if (outcome.status == store::RunStatus::Finished)
            if (const auto info = store.run(outcome.runId); info && info->status == store::RunStatus::Failed) {
                outcome.status = store::RunStatus::Failed;  // its last points could not be stored
                outcome.error = info->error;
            }
    } catch (const std::exception& e) {
        outcome.status = store::RunStatus::Failed;
        outcome.statusStored = false;
        outcome.error = (outcome.error.empty() ? std::string() : outcome.error + "; ") +
                        "the run's status could not be stored either (" + e.what() +
                        "); the next open of the database marks it interrupted";
    }
    return outcome;
}

}  // namespace frugal::run
