#pragma once
// The experiment database: SQLite (C API) in WAL mode. Runs with their resolved config, seed,
// provenance and status; flattened params for filtering; every metric point (NaN and infinities
// kept); vector series; artifacts; logs; tags and notes.
//
// Concurrency: one Store per process writes; any number of other connections (the GUI, a second
// CLI, another process) read at the same time without blocking it (WAL). Writes from any thread go
// through one queue that a background thread commits in batched transactions at least once a
// second (flush() commits now). Readers see whole transactions only.
//
// Crash safety: a run records its pid, host and process start time and a heartbeat; opening the
// database marks runs whose process is gone as interrupted. No torch in this header.

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace frugal::store {

// The SQLite library's version ("3.40.1"), for a run's provenance.
std::string sqliteVersion();

enum class RunStatus { Queued, Running, Finished, Failed, Cancelled, Interrupted };
std::string statusName(RunStatus status);
RunStatus parseStatus(const std::string& name);  // throws naming the valid names

// A run as created: everything needed to reproduce it.
struct NewRun {
    std::string name;
    std::string experiment = "default";
    std::string method;
    std::string config;  // resolved config text (TOML)
    std::optional<int64_t> seed;
    std::string gitCommit;
    bool gitDirty = false;
    std::string libraries;    // JSON object of library versions
    std::string hardware;     // JSON object: cpu, cores, memory, gpu
    std::string commandLine;
    std::optional<int64_t> parentId;  // e.g. prune -> recover
    std::map<std::string, std::string> params;  // flattened config keys
    std::vector<std::string> tags;              // stored with the run, visible from its start
    RunStatus status = RunStatus::Running;
};

struct RunInfo {
    int64_t id = 0;
    std::string uuid, name, experiment, method;
    RunStatus status = RunStatus::Queued;
    int64_t createdMs = 0, startMs = 0, endMs = 0;  // 0: not yet
    std::string config;
    std::optional<int64_t> seed;
    std::string gitCommit;
    bool gitDirty = false;
    std::string libraries, hardware, commandLine, error, note;
    std::optional<int64_t> parentId;
    int64_t pid = 0;
    std::string host;
    int64_t heartbeatMs = 0;
    std::vector<std::string> tags;
};

struct MetricPoint {
    int64_t step = 0;
    int64_t wallMs = 0;
    double value = 0;  // may be NaN or infinite
};

struct LatestMetric {
    std::string key;
    MetricPoint point;
};

struct VectorPoint {
    int64_t step = 0;
    std::vector<int64_t> shape;
    std::vector<float> data;
};

struct Artifact {
    std::string kind, path, sha256;
    int64_t bytes = 0;
};

struct LogLine {
    int64_t timeMs = 0;
    std::string level, text;
};

class Store {
public:
    // $XDG_DATA_HOME/frugal/runs.db, else ~/.local/share/frugal/runs.db.
    static std::filesystem::path defaultPath();
    // The schema version this build writes.
    static int schemaVersion();

    // Opens (creating it and its folder if needed), checks integrity, migrates an older schema,
    // refuses a newer one, and marks runs whose process is gone as interrupted.
    explicit Store(const std::filesystem::path& file);
    // For commands that only read: a database that cannot be written (a read-only file or
    // medium) is opened read-only (no migration, no marking of dead runs; a write names the
    // file as read-only); a writable one opens as above. A missing file is an error, not created.
    enum class Access { Write, Read };
    Store(const std::filesystem::path& file, Access access);
    // For migration tests: stops migrating at schema version MIGRATEUPTO; below the current
    // version there is no writer thread and the store is only for inspection.
    Store(const std::filesystem::path& file, int migrateUpTo);
    ~Store();  // flushes
    Store(const Store&) = delete;
    Store& operator=(const Store&) = delete;

    const std::filesystem::path& path() const;
    bool readOnly() const;

    // -- runs (these commit at once)
    int64_t createRun(const NewRun& run);
    void setStatus(int64_t run, RunStatus status, const std::string& error = {});
    // Takes over an ended run (interrupted, cancelled or failed) in this process to resume it:
    // status running, this pid/host, error cleared. A finished or live run is refused.
    void resumeRun(int64_t run);
    void heartbeat(int64_t run);
    void setNote(int64_t run, const std::string& note);
    // A run's new NAME (trimmed); refused when empty or when it has a line break.
    void renameRun(int64_t run, const std::string& name);
    void addTag(int64_t run, const std::string& tag);
    void removeTag(int64_t run, const std::string& tag);
    void deleteRun(int64_t run);
    void addArtifact(int64_t run, const Artifact& artifact);

    // -- streamed data (queued; committed by the writer thread within a second, or by flush())
    void logMetric(int64_t run, const std::string& key, int64_t step, double value,
                   int64_t wallMs = -1);  // -1: now
    void logVector(int64_t run, const std::string& key, int64_t step,
                   std::vector<int64_t> shape, std::vector<float> data);
    void log(int64_t run, const std::string& level, const std::string& text);
    void flush();

    // -- reading (on this connection; other processes open their own Store or a Reader)
    std::optional<RunInfo> run(int64_t id) const;
    // By id, whole uuid, name, or uuid prefix (>= 4 characters), in that order; several runs of
    // one name or prefix are an error listing their ids.
    std::optional<RunInfo> findRun(const std::string& idOrUuidOrName) const;
    std::vector<RunInfo> runs() const;  // newest first
    std::map<std::string, std::string> params(int64_t run) const;
    std::vector<std::string> metricKeys(int64_t run) const;
    // Every param key and metric key of any run, sorted, once each (two indexed scans).
    std::vector<std::string> keysOfAllRuns() const;
    std::vector<MetricPoint> metric(int64_t run, const std::string& key) const;
    int64_t metricPointCount(int64_t run, const std::string& key) const;  // without reading them
    std::vector<LatestMetric> latestMetrics(int64_t run) const;
    std::vector<VectorPoint> vectorSeries(int64_t run, const std::string& key) const;
    std::vector<std::string> vectorKeys(int64_t run) const;
    std::vector<Artifact> artifacts(int64_t run) const;
    std::vector<LogLine> logs(int64_t run) const;

    // Imports every run of OTHER (by uuid; runs already here are skipped). Returns runs added.
    int64_t merge(const std::filesystem::path& other);

    struct Impl;

private:
    std::unique_ptr<Impl> m_impl;
};

}  // namespace frugal::store
