#pragma once
// What every long operation reports to and listens to, whatever runs it: an EventSink receives
// metrics, vector series, log lines, progress and artifacts (the runner's sink stores them; a
// test's collects them); a StopToken asks it to stop, and it ends by throwing Cancelled. Both are
// used on the operation's own (worker) thread; StopToken alone is shared across threads. No
// store, no torch in this header.
// Where the events go: docs/ARCHITECTURE.md, "How a config becomes a stored run".

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "common/error.h"

namespace frugal {

// A request to stop, set from any thread (a signal handler, the GUI) and polled by the worker.
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

// Thrown by an operation that saw its stop token: the run ends as cancelled, not failed.
class Cancelled : public Error {
public:
    using Error::Error;
};

// Receives what an operation reports, on the operation's thread (not thread-safe unless an
// implementation says so).
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

    void info(const std::string& text) { log("info", text); }
};

// An EventSink that keeps everything in memory: for callers with no store (tests, benchmarks).
// Its artifact folder is the one it is given. Not thread-safe.
class MemorySink : public EventSink {
public:
    struct Point {
        std::string key;
        int64_t step = 0;
        double value = 0;
    };
    struct Vector {
        std::string key;
        int64_t step = 0;
        std::vector<int64_t> shape;
        std::vector<float> data;
    };
    explicit MemorySink(std::filesystem::path dir = {}) : m_dir(std::move(dir)) {}

    void metric(const std::string& key, int64_t step, double value) override {
        points.push_back({key, step, value});
    }
    void vector(const std::string& key, int64_t step, std::vector<int64_t> shape,
                std::vector<float> data) override {
        vectors.push_back({key, step, std::move(shape), std::move(data)});
    }
    void log(const std::string& level, const std::string& text) override {
        logs.push_back(level == "info" ? text : level + ": " + text);
    }
    void progress(int64_t step, int64_t total, const std::string& status) override {
        lastStep = step, lastTotal = total, lastStatus = status;
        progressLog.push_back({step, total, status});
    }
    std::filesystem::path artifactDir() override {
        if (m_dir.empty()) fail("this operation writes files, but its sink has no artifact folder");
        std::filesystem::create_directories(m_dir);
        return m_dir;
    }
    void artifact(const std::string& kind, const std::filesystem::path& path) override {
        artifacts.emplace_back(kind, path);
    }
    void flush() override { ++flushes; }

    // The values of KEY in the order reported.
    std::vector<double> values(const std::string& key) const {
        std::vector<double> out;
        for (const auto& p : points)
            if (p.key == key) out.push_back(p.value);
        return out;
    }

    struct Progress {
        int64_t step, total;
        std::string status;
    };
    std::vector<Progress> progressLog;  // every progress report, in order
    std::vector<Point> points;
    std::vector<Vector> vectors;
    std::vector<std::string> logs;
    std::vector<std::pair<std::string, std::filesystem::path>> artifacts;
    int64_t lastStep = 0, lastTotal = 0, flushes = 0;
    std::string lastStatus;

private:
    std::filesystem::path m_dir;
};

}  // namespace frugal
