#include "run/data_parallel.h"

#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "common/error.h"
#include "common/format.h"
#include "common/sha256.h"
#include "dist/world.h"
#include "run/provenance.h"

namespace frugal::run {

namespace {

// What a process other than 0 reports: its warnings and errors, with its rank; metrics and info
// lines are process 0's to store. Its files go to a folder of its own, removed at the end.
class FollowerSink : public EventSink {
public:
    explicit FollowerSink(int rank)
        : m_rank(rank),
          m_dir(std::filesystem::temp_directory_path() / cat("frugal-rank", rank, "-", getpid())) {}
    ~FollowerSink() override {
        std::error_code ignored;
        std::filesystem::remove_all(m_dir, ignored);
    }
    void metric(const std::string&, int64_t, double) override {}
    void vector(const std::string&, int64_t, std::vector<int64_t>, std::vector<float>) override {}
    void log(const std::string& level, const std::string& text) override {
        if (level == "warning" || level == "error")
            std::fprintf(stderr, "rank %d: %s: %s\n", m_rank, level.c_str(), text.c_str());
    }
    void progress(int64_t, int64_t, const std::string&) override {}
    std::filesystem::path artifactDir() override {
        std::filesystem::create_directories(m_dir);
        return m_dir;
    }
    void artifact(const std::string&, const std::filesystem::path&) override {}
    void flush() override {}

private:
    int m_rank;
    std::filesystem::path m_dir;
};

}  // namespace

struct DataParallel::Impl {
    std::unique_ptr<dist::World> world;
};

DataParallel::DataParallel() : m(std::make_unique<Impl>()) {}

DataParallel::~DataParallel() = default;

bool DataParallel::requested() { return dist::specFromEnvironment().has_value(); }

std::unique_ptr<DataParallel> DataParallel::join(const PreparedRun& prepared, const std::string& gitCommit,
                                                 bool gitDirty) {
    auto spec = dist::specFromEnvironment();
    if (!spec) fail("data parallel: the environment names no world of more than one process");
    spec->say = [](const std::string& line) { std::fprintf(stderr, "%s\n", line.c_str()); };
    if (prepared.method != "zo" && prepared.method != "mezo" && prepared.method != "landscape")
        fail("method '", prepared.method, "' does not run data parallel (", spec->source, " ask for ", spec->size,
             " processes); zo, mezo (the batch shared out) and landscape (the grid shared out) do; run it as one "
             "process");
    spec->device = runDevice(prepared.params);  // NCCL for a run on CUDA, Gloo on the CPU
    std::unique_ptr<DataParallel> d(new DataParallel());
    d->m->world = dist::World::join(*spec);
    dist::World& w = *d->m->world;
    w.agree("config (sha256 of the resolved TOML)", sha256Hex(prepared.resolvedConfig).substr(0, 16));
    w.agree("program (sha256 of the executable)", sha256OfFile("/proc/self/exe").substr(0, 16));
    w.agree("source (git commit)", gitCommit + (gitDirty ? " with changes" : ""));
    return d;
}

int DataParallel::rank() const { return m->world->rank(); }
int DataParallel::size() const { return m->world->size(); }

void DataParallel::annotate(store::NewRun& run) const {
    const dist::WorldSpec& s = m->world->spec();
    auto hardware = nlohmann::ordered_json::parse(run.hardware.empty() ? "{}" : run.hardware);
    hardware["world_size"] = s.size;
    hardware["dist_backend"] = m->world->backend();
    hardware["dist_launch"] = s.source;
    hardware["dist_master"] = cat(s.masterAddr, ":", s.masterPort);
    hardware["dist_timeout_s"] = s.timeoutSeconds;
    run.hardware = hardware.dump();
    run.params["dist.world_size"] = std::to_string(s.size);
}

int DataParallel::follow(const MethodBody& body, StopToken& stop) {
    dist::World& w = *m->world;
    FollowerSink sink(w.rank());
    std::fprintf(stderr, "rank %d of %d: joined %s:%d (%s); process 0 stores the run\n", w.rank(), w.size(),
                 w.spec().masterAddr.c_str(), w.spec().masterPort, w.backend().c_str());
    int code = 0;
    try {
        try {
            body(RunContext{sink, stop, &w});
        } catch (const Cancelled&) {
            code = stop.signal() == SIGINT ? 130 : 143;  // 143 also when another process was stopped
        }
        w.finish();
    } catch (const std::exception& e) {
        w.reportFailure(e.what());
        std::fprintf(stderr, "rank %d: %s\n", w.rank(), e.what());
        return 1;
    }
    if (code == 0) std::fprintf(stderr, "rank %d of %d: finished\n", w.rank(), w.size());
    return code;
}

MethodBody DataParallel::lead(MethodBody body) const {
    dist::World* world = m->world.get();
    return [world, body = std::move(body)](const RunContext& context) {
        body(RunContext{context.sink, context.stop, world});
    };
}

std::string DataParallel::finish(bool failed, const std::string& error) {
    if (failed) {
        m->world->reportFailure(error);
        return {};
    }
    try {
        m->world->finish();
    } catch (const std::exception& e) {
        return e.what();
    }
    return {};
}

}  // namespace frugal::run
