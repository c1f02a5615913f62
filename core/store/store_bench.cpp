#include "store/store_bench.h"

#include <chrono>

#include "common/error.h"
#include "store/store.h"

namespace frugal::store {

namespace {
using Clock = std::chrono::steady_clock;
double since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }
}  // namespace

StoreBenchResult benchStore(const StoreBenchOptions& o) {
    if (std::filesystem::exists(o.file))
        fail(o.file.string(), ": exists; bench store writes a fresh database of its own");
    StoreBenchResult r;
    Store store(o.file);
    NewRun spec;
    spec.method = "bench";
    spec.config = "";
    const int64_t run = store.createRun(spec);

    auto t = Clock::now();
    for (int64_t step = 0; step < o.points; ++step)
        store.logMetric(run, "loss", step, 1.0 / static_cast<double>(step + 1), step);
    store.flush();
    r.points = o.points;
    r.insertSeconds = since(t);
    r.pointsPerSecond = static_cast<double>(o.points) / r.insertSeconds;

    t = Clock::now();
    const auto series = store.metric(run, "loss");
    r.readSeconds = since(t);
    if (static_cast<int64_t>(series.size()) != o.points)
        fail("bench store: read back ", series.size(), " points, wrote ", o.points);

    t = Clock::now();
    for (int64_t i = 1; i < o.runs; ++i) {
        NewRun small;
        small.method = i % 2 ? "mezo" : "zo-adam";
        small.config = "[train]\nlr = 1e-6\n";
        small.params = {{"train.lr", "1e-06"}};
        small.status = RunStatus::Finished;
        const int64_t id = store.createRun(small);
        store.logMetric(id, "loss", 100, 0.5, 0);
    }
    store.flush();
    r.createRunsSeconds = since(t);

    t = Clock::now();
    const auto all = store.runs();
    r.listSeconds = since(t);
    r.runs = static_cast<int64_t>(all.size());
    t = Clock::now();
    for (const auto& info : all) (void)store.latestMetrics(info.id);
    r.latestSeconds = since(t);
    r.fileBytes = static_cast<int64_t>(std::filesystem::file_size(o.file));
    return r;
}

}  // namespace frugal::store
