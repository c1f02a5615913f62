#pragma once
// Throughput of the experiment database on this machine: metric points inserted per second
// through the batched writer, the time to read back one long series, and the time to list many
// runs. Writes into a fresh database file of its own. No torch in this header.

#include <cstdint>
#include <filesystem>

namespace frugal::store {

struct StoreBenchOptions {
    std::filesystem::path file;  // created; must not exist
    int64_t points = 1'000'000;  // in one series
    int64_t runs = 10'000;
};

struct StoreBenchResult {
    int64_t points = 0;
    double insertSeconds = 0;      // logMetric x points, then flush (committed)
    double pointsPerSecond = 0;
    double readSeconds = 0;        // metric(run, key): all points, ordered by step
    int64_t runs = 0;
    double createRunsSeconds = 0;
    double listSeconds = 0;        // runs(): every run with its experiment and tags
    double latestSeconds = 0;      // latestMetrics() of every listed run
    int64_t fileBytes = 0;
};

StoreBenchResult benchStore(const StoreBenchOptions& options);

}  // namespace frugal::store
