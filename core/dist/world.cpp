#include "dist/world.h"

#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#include <torch/cuda.h>
#include <torch/types.h>
#ifdef USE_C10D_NCCL
#include <c10/cuda/CUDAFunctions.h>
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <csignal>
#include <cstdlib>
#include <mutex>
#include <thread>

#include "common/format.h"
#include "common/weighted_mean.h"

namespace frugal::dist {

namespace {

// The first line of a c10d error (the rest is LibTorch's stack trace).
std::string firstLine(const std::exception& e) {
    std::string line = e.what();
    if (const auto nl = line.find('\n'); nl != std::string::npos) line.resize(nl);
    return line;
}

constexpr auto kBeatPeriod = std::chrono::milliseconds(500);
// A rank whose heartbeat has not moved in this long is taken as gone (five periods: a loaded
// machine may delay one beat, not five).
constexpr auto kSilence = std::chrono::milliseconds(2500);

std::optional<long> number(const GetEnv& getenv, const char* name) {
    const char* v = getenv(name);
    if (!v || !*v) return std::nullopt;
    char* end = nullptr;
    const long n = std::strtol(v, &end, 10);
    if (*end != '\0') fail("the environment variable ", name, " is '", v, "'; expected a whole number");
    return n;
}

std::string text(const std::vector<uint8_t>& bytes) { return {bytes.begin(), bytes.end()}; }
std::vector<uint8_t> bytes(const std::string& s) { return {s.begin(), s.end()}; }

bool loopback(const std::string& addr) { return addr == "localhost" || addr.rfind("127.", 0) == 0; }

}  // namespace

std::optional<WorldSpec> specFromEnvironment(const GetEnv& getenv) {
    // (rank, size, local rank) variables of each launcher, torchrun's first
    struct Names {
        const char *rank, *size, *local, *source;
        bool sizeMarks = false;  // only the size says the process is a rank (Slurm's PROCID is 0 in a batch script)
    };
    const Names launchers[] = {
        {"RANK", "WORLD_SIZE", "LOCAL_RANK", "RANK/WORLD_SIZE"},
        {"OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE", "OMPI_COMM_WORLD_LOCAL_RANK", "Open MPI's OMPI_COMM_WORLD_*"},
        // a step's task count, not the allocation's: the batch script itself is no rank
        {"SLURM_PROCID", "SLURM_STEP_NUM_TASKS", "SLURM_LOCALID", "Slurm's SLURM_PROCID/SLURM_STEP_NUM_TASKS", true},
    };
    for (const Names& n : launchers) {
        const auto rank = number(getenv, n.rank);
        const auto size = number(getenv, n.size);
        if ((!rank && !size) || (n.sizeMarks && !size)) continue;
        if (!size) fail("the environment sets ", n.rank, " but not ", n.size, "; a distributed run needs both");
        if (*size < 1) fail("the environment variable ", n.size, " is ", *size, "; expected 1 or more processes");
        if (!rank) fail("the environment sets ", n.size, " but not ", n.rank, "; a distributed run needs both");
        if (*rank < 0 || *rank >= *size)
            fail("the environment variable ", n.rank, " is ", *rank, "; expected 0 to ", *size - 1, " (", n.size,
                 " is ", *size, ")");
        if (*size == 1) return std::nullopt;
        WorldSpec s;
        s.rank = static_cast<int>(*rank);
        s.size = static_cast<int>(*size);
        s.localRank = static_cast<int>(number(getenv, n.local).value_or(*rank));
        if (const char* addr = getenv("MASTER_ADDR"); addr && *addr) s.masterAddr = addr;
        if (const auto port = number(getenv, "MASTER_PORT")) {
            if (*port < 1 || *port > 65535)
                fail("the environment variable MASTER_PORT is ", *port, "; expected a TCP port, 1 to 65535");
            s.masterPort = static_cast<int>(*port);
        } else {
            s.portFromEnvironment = false;
        }
        // another launcher's variables in the same environment must say the same
        for (const Names& other : launchers) {
            if (&other == &n) continue;
            const auto otherRank = number(getenv, other.rank);
            const auto otherSize = number(getenv, other.size);
            if (!otherRank || !otherSize) continue;
            if (*otherRank != *rank || *otherSize != *size)
                fail("the environment's launchers disagree: ", n.rank, "=", *rank, " and ", n.size, "=", *size, ", but ",
                     other.rank, "=", *otherRank, " and ", other.size, "=", *otherSize,
                     "; set one launcher's variables (", n.source, " are read first)");
        }
        if (const char* t = getenv("FRUGAL_DIST_TIMEOUT"); t && *t) {
            char* end = nullptr;
            s.timeoutSeconds = std::strtod(t, &end);
            if (*end != '\0' || !(s.timeoutSeconds > 0))
                fail("the environment variable FRUGAL_DIST_TIMEOUT is '", t, "'; expected seconds, more than 0");
        }
        s.source = n.source;
        return s;
    }
    return std::nullopt;
}

std::optional<WorldSpec> specFromEnvironment() {
    return specFromEnvironment([](const char* name) { return std::getenv(name); });
}

std::string backendFor(const std::string& device) {
    if (device == "cpu") return "gloo";
    if (device == "cuda" || device.rfind("cuda:", 0) == 0) {
#ifdef USE_C10D_NCCL
        return "nccl";
#else
        fail("the world's device '", device, "' needs NCCL, and this LibTorch was built without it");
#endif
    }
    fail("the world's device '", device, "' is not one a process group carries: expected cpu (Gloo) or cuda[:N] (NCCL)");
}

struct World::Impl {
    WorldSpec spec;
    at::Device device{at::kCPU};  // where the collectives' tensors live
    std::chrono::milliseconds timeout{0};
    c10::intrusive_ptr<c10d::TCPStore> store;     // the main thread's client (rank 0: also the server)
    c10::intrusive_ptr<c10d::TCPStore> beatStore;  // the heartbeat thread's own connection
    c10::intrusive_ptr<c10d::Backend> group;  // ProcessGroupGloo or ProcessGroupNCCL (c10d Backends)
    std::string backend;
    Traffic traffic;
    std::atomic<int64_t> calls{0};
    int64_t agreements = 0;
    std::thread beat;
    std::mutex beatMutex;
    std::condition_variable beatWake;
    bool beatStop = false;

    std::string where() const {
        return cat(spec.masterAddr, ":", spec.masterPort, spec.portFromEnvironment ? "" : " (MASTER_PORT unset: the default)");
    }
    std::string who() const { return cat("rank ", spec.rank, " of ", spec.size); }
    void say(const std::string& line) const {
        if (spec.say) spec.say(line);
    }
    // How often a waiting rank says so: a tenth of the timeout, between 0.5 and 10 s.
    std::chrono::milliseconds sayEvery() const {
        return std::clamp(timeout / 10, std::chrono::milliseconds(500), std::chrono::milliseconds(10000));
    }

    // The store (rank 0 serves it), then every rank registered under its own number: a rank that
    // never comes, a rank given twice, a port in use are each named, and the wait says how long.
    void rendezvous() {
        const auto start = std::chrono::steady_clock::now();
        const auto elapsed = [&] {
            return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        };
        connect(start, elapsed);
        const int64_t holders = store->add(cat("frugal/rank/", spec.rank), 1);
        if (holders > 1)
            fail(who(), ": another process already joined the rendezvous at ", where(), " as rank ", spec.rank,
                 ": two processes were given the same rank (", spec.source, "); give each its own");
        auto next = std::chrono::steady_clock::now() + sayEvery();
        std::vector<int> missing;
        const auto named = [&] {
            std::string names;
            for (int r : missing) names += (names.empty() ? "" : ", ") + std::to_string(r);
            return cat(missing.size() == 1 ? "rank " : "ranks ", names);
        };
        for (;;) {
            try {
                std::vector<int> now;
                for (int r = 0; r < spec.size; ++r)
                    if (!store->check({cat("frugal/rank/", r)})) now.push_back(r);
                missing = now;
            } catch (const std::exception& e) {  // rank 0 (the store) gave up or died meanwhile
                fail(who(), ": ", named(), " never joined the rendezvous at ", where(), "; rank 0 stopped waiting (",
                     firstLine(e), ")");
            }
            if (missing.empty()) return;
            const std::string names = named();
            const bool late = elapsed() > spec.timeoutSeconds;
            if (late || std::chrono::steady_clock::now() >= next) {  // said at least once before the end
                say(cat(who(), ": waiting for ", names, " of ", spec.size, " at ", where(), ": ",
                        static_cast<int>(elapsed()), " s of ", spec.timeoutSeconds, " s"));
                next += sayEvery();
            }
            if (late)
                fail(who(), ": ", names, " never joined the rendezvous at ", where(), " within ",
                     spec.timeoutSeconds, " s (FRUGAL_DIST_TIMEOUT); did every rank start, with the same MASTER_ADDR and "
                     "MASTER_PORT?");
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
    }

    // The store's client (rank 0: its server too), retried in short tries so that a rank waiting
    // for rank 0 says so.
    template <class Elapsed>
    void connect(std::chrono::steady_clock::time_point start, const Elapsed& elapsed) {
        c10d::TCPStoreOptions o;
        o.port = static_cast<uint16_t>(spec.masterPort);
        o.isServer = spec.rank == 0;
        o.numWorkers = static_cast<size_t>(spec.size);
        o.waitWorkers = false;  // the registration below waits, and says for whom
        const auto deadline = start + timeout;
        for (;;) {
            o.timeout = std::max(std::chrono::milliseconds(100),
                                 std::min(sayEvery(), std::chrono::duration_cast<std::chrono::milliseconds>(
                                                          deadline - std::chrono::steady_clock::now())));
            try {
                store = c10::make_intrusive<c10d::TCPStore>(spec.masterAddr, o);
                store->setTimeout(timeout);
                return;
            } catch (const std::exception& e) {
                const std::string first = firstLine(e);
                if (spec.rank == 0) {
                    const std::string all = e.what();
                    const bool inUse = all.find("in use") != std::string::npos ||
                                       all.find("EADDRINUSE") != std::string::npos;
                    fail(who(), ": the rendezvous at ", where(), " could not start: ", first,
                         inUse ? "; another process holds the port: a second rank 0 (the same rank given twice?) or "
                                 "another job; choose another MASTER_PORT"
                               : "");
                }
                // said after every failed try, the last included: a slow machine's one long try still says why
                say(cat(who(), ": waiting for rank 0 at ", where(), ": ", static_cast<int>(elapsed()), " s of ",
                        spec.timeoutSeconds, " s"));
                if (std::chrono::steady_clock::now() >= deadline)
                    fail(who(), ": rank 0 never answered at ", where(), " within ", spec.timeoutSeconds,
                         " s (", spec.source, ", MASTER_ADDR, MASTER_PORT): ", first,
                         "; is rank 0 running, with the same MASTER_ADDR and MASTER_PORT?");
            }
        }
    }

    void startHeartbeat() {
        c10d::TCPStoreOptions o;
        o.port = static_cast<uint16_t>(spec.masterPort);
        o.isServer = false;
        o.waitWorkers = false;
        // short: a stopped or vanished rank 0 must not hold up this process's end
        o.timeout = std::min(timeout, std::chrono::milliseconds(5000));
        beatStore = c10::make_intrusive<c10d::TCPStore>(spec.masterAddr, o);
        beat = std::thread([this] {
            const std::string beatKey = cat("beat/", spec.rank), callsKey = cat("calls/", spec.rank);
            std::unique_lock<std::mutex> lock(beatMutex);
            while (!beatStop) {
                lock.unlock();  // the store calls may block; stopHeartbeat must not wait on them
                try {
                    beatStore->add(beatKey, 1);
                    beatStore->set(callsKey, bytes(std::to_string(calls.load())));
                } catch (const std::exception&) {
                    // a missed beat (the store busy or gone): the next period tries again; a
                    // collective or a wait names what happened
                }
                lock.lock();
                beatWake.wait_for(lock, kBeatPeriod, [this] { return beatStop; });
            }
        });
    }

    void stopHeartbeat() {
        {
            std::lock_guard<std::mutex> lock(beatMutex);
            beatStop = true;
        }
        beatWake.notify_all();
        if (beat.joinable()) beat.join();
    }

    // The rank whose failure made a collective fail, and why, from the store.
    std::string diagnose(const std::string& what) {
        try {
            const auto postedError = [&]() -> std::string {
                for (int r = 0; r < spec.size; ++r)
                    if (r != spec.rank && store->check({cat("error/", r)}))
                        return cat("rank ", r, " of ", spec.size, " failed: ", text(store->get(cat("error/", r))));
                return {};
            };
            if (auto e = postedError(); !e.empty()) return e;
            std::vector<int64_t> before(static_cast<size_t>(spec.size));
            for (int r = 0; r < spec.size; ++r) before[static_cast<size_t>(r)] = store->add(cat("beat/", r), 0);
            std::this_thread::sleep_for(kSilence);
            if (auto e = postedError(); !e.empty()) return e;
            for (int r = 0; r < spec.size; ++r)
                if (r != spec.rank && store->add(cat("beat/", r), 0) == before[static_cast<size_t>(r)])
                    return cat("rank ", r, " of ", spec.size, " stopped answering (no heartbeat for ",
                               kSilence.count() / 1000.0, " s: killed, crashed or stopped); ", what);
            const int64_t mine = calls.load();
            for (int r = 0; r < spec.size; ++r) {
                if (r == spec.rank || !store->check({cat("calls/", r)})) continue;
                const int64_t theirs = std::stoll(text(store->get(cat("calls/", r))));
                if (theirs < mine)
                    return cat("rank ", r, " of ", spec.size, " is alive but has not reached collective #",
                               mine + 1, " (it completed ", theirs, ") within the timeout of ", spec.timeoutSeconds,
                               " s (FRUGAL_DIST_TIMEOUT); ", what);
            }
            return cat("a collective failed on rank ", spec.rank, " of ", spec.size, ": ", what);
        } catch (const std::exception&) {
            return cat("rank 0's rendezvous store at ", where(),
                       " is unreachable (rank 0 killed or crashed); ", what);
        }
    }

    // Waits until READY() (store reads), watching the other ranks meanwhile: a rank that posted
    // an error or whose heartbeat stopped ends the wait at once with its name; else the timeout.
    void waitUntil(const std::function<bool()>& ready, const std::string& what) {
        const auto startWait = std::chrono::steady_clock::now();
        std::vector<int64_t> beats(static_cast<size_t>(spec.size), -1);
        auto lastMove = std::vector<std::chrono::steady_clock::time_point>(static_cast<size_t>(spec.size), startWait);
        for (int64_t polls = 0;; ++polls) {
            if (ready()) return;
            const auto now = std::chrono::steady_clock::now();
            if (polls % 10 == 0) {  // every 0.2 s
                for (int r = 0; r < spec.size; ++r) {
                    if (r == spec.rank) continue;
                    if (store->check({cat("error/", r)}))
                        throw PeerFailure(cat("rank ", r, " of ", spec.size, " failed: ",
                                              text(store->get(cat("error/", r))), " (while ", what, ")"));
                    if (store->check({cat("done/", r)})) continue;  // ended normally: no more beats
                    const int64_t beats_r = store->add(cat("beat/", r), 0);
                    if (beats_r != beats[static_cast<size_t>(r)]) {
                        beats[static_cast<size_t>(r)] = beats_r;
                        lastMove[static_cast<size_t>(r)] = now;
                    } else if (now - lastMove[static_cast<size_t>(r)] > kSilence) {
                        throw PeerFailure(cat("rank ", r, " of ", spec.size, " stopped answering (no heartbeat for ",
                                              kSilence.count() / 1000.0, " s: killed, crashed or stopped) while ", what));
                    }
                }
            }
            if (now - startWait > timeout)
                throw PeerFailure(cat("not every rank arrived within the timeout of ", spec.timeoutSeconds,
                                      " s (FRUGAL_DIST_TIMEOUT) while ", what));
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
    }

    // Runs one call on the group: counted, timed, and a failure diagnosed.
    void call(int64_t payloadBytes, const std::function<c10::intrusive_ptr<c10d::Work>()>& start) {
        const auto t0 = std::chrono::steady_clock::now();
        try {
            start()->wait();
        } catch (const std::exception& e) {
            const std::string first = firstLine(e);
            throw PeerFailure(diagnose(first));
        }
        traffic.seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        traffic.bytes += payloadBytes;
        ++traffic.calls;
        ++calls;
    }
};

World::World() : m(std::make_unique<Impl>()) {}

World::~World() {
    m->stopHeartbeat();
}

std::unique_ptr<World> World::join(const WorldSpec& spec) {
    // A write to a peer that has died must fail with EPIPE (diagnosed, the run ended cleanly),
    // not kill this process with SIGPIPE: Gloo's transport writes without MSG_NOSIGNAL.
    std::signal(SIGPIPE, SIG_IGN);
    std::unique_ptr<World> w(new World());
    Impl& m = *w->m;
    m.spec = spec;
    m.timeout = std::chrono::milliseconds(static_cast<int64_t>(spec.timeoutSeconds * 1000));
    m.backend = backendFor(spec.device);
    if (m.backend == "nccl") {
        // before the rendezvous: a rank without its GPU says so at once instead of holding up the others
        const int64_t gpus = torch::cuda::device_count();
        // "cuda": the rank's own GPU, the only one it sees where the launcher gave each rank one
        // (frugal launch sets CUDA_VISIBLE_DEVICES), else its LOCAL_RANK-th
        const int64_t index = spec.device != "cuda" ? std::atoll(spec.device.c_str() + 5) : gpus == 1 ? 0 : spec.localRank;
        if (index >= gpus)
            fail("rank ", spec.rank, " of ", spec.size, ": the world's device '", spec.device, "' (NCCL) needs CUDA device ",
                 index, ", and this process sees ", gpus, " (no GPU, or CUDA_VISIBLE_DEVICES hides it)");
        m.device = at::Device(at::kCUDA, static_cast<c10::DeviceIndex>(index));
    }
    m.rendezvous();
    if (m.backend == "nccl") {
#ifdef USE_C10D_NCCL
        c10::cuda::set_device(m.device.index());
        auto options = c10d::ProcessGroupNCCL::Options::create();
        options->timeout = m.timeout;
        try {
            m.group = c10::make_intrusive<c10d::ProcessGroupNCCL>(
                c10::make_intrusive<c10d::PrefixStore>("nccl", m.store), spec.rank, spec.size, options);
        } catch (const std::exception& e) {
            const std::string first = firstLine(e);
            fail("rank ", spec.rank, " of ", spec.size, ": the NCCL process group could not start on ", spec.device, ": ",
                 first);
        }
#endif
    } else {
        auto options = c10d::ProcessGroupGloo::Options::create(m.timeout);
        if (const char* ifname = std::getenv("GLOO_SOCKET_IFNAME"); ifname && *ifname)
            options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForInterface(ifname));
        else if (loopback(spec.masterAddr))
            options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1"));
        else
            options->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
        options->threads = 1;  // a few scalars per step: one thread is plenty
        try {
            m.group = c10::make_intrusive<c10d::ProcessGroupGloo>(
                c10::make_intrusive<c10d::PrefixStore>("gloo", m.store), spec.rank, spec.size, options);
        } catch (const std::exception& e) {
            const std::string first = firstLine(e);
            fail("rank ", spec.rank, " of ", spec.size, ": the Gloo process group could not connect: ", first);
        }
    }
    m.startHeartbeat();
    return w;
}

int World::rank() const { return m->spec.rank; }
int World::size() const { return m->spec.size; }
const WorldSpec& World::spec() const { return m->spec; }
std::string World::backend() const { return m->backend; }

std::vector<double> World::allgather(const std::vector<double>& values) {
    const auto n = static_cast<int64_t>(values.size());
    const auto options = torch::TensorOptions().dtype(torch::kDouble).device(m->device);
    std::vector<at::Tensor> in{torch::tensor(values, torch::kDouble).to(m->device)};
    std::vector<std::vector<at::Tensor>> out(1);
    for (int r = 0; r < m->spec.size; ++r) out[0].push_back(torch::empty({n}, options));
    m->call(n * 8, [&] { return m->group->allgather(out, in); });
    std::vector<double> all;
    all.reserve(static_cast<size_t>(n * m->spec.size));
    for (const auto& gathered : out[0]) {
        const at::Tensor t = gathered.cpu();
        const double* p = t.data_ptr<double>();
        all.insert(all.end(), p, p + n);
    }
    return all;
}

double World::weightedMean(double value, double weight) {
    return frugal::weightedMean(allgather({value * weight, weight}));
}

bool World::any(bool mine) {
    for (double v : allgather({mine ? 1.0 : 0.0}))
        if (v != 0) return true;
    return false;
}

void World::barrier() {
    m->call(0, [&] { return m->group->barrier(); });
}

void World::agree(const std::string& what, const std::string& value) {
    const std::string prefix = cat("agree/", m->agreements++, "/");
    m->store->set(prefix + std::to_string(m->spec.rank), bytes(value));
    std::vector<std::string> keys;
    for (int r = 0; r < m->spec.size; ++r) keys.push_back(prefix + std::to_string(r));
    try {
        m->waitUntil([&] { return m->store->check(keys); }, cat("waiting for every rank's ", what));
    } catch (const PeerFailure&) {
        throw;
    } catch (const std::exception& e) {
        throw PeerFailure(m->diagnose(cat("waiting for every rank's ", what, ": ", e.what())));
    }
    std::vector<std::string> texts;
    for (const auto& key : keys) texts.push_back(text(m->store->get(key)));
    // rank 0 hosts the store: it goes on (or exits on a refusal) only once every rank has read
    m->store->add(prefix + "read", 1);
    if (m->spec.rank == 0)
        m->waitUntil([&] { return m->store->add(prefix + "read", 0) >= m->spec.size; },
                     cat("waiting for every rank to read the ", what));
    for (int r = 1; r < m->spec.size; ++r)
        if (texts[static_cast<size_t>(r)] != texts[0])
            fail("rank ", r, " of ", m->spec.size, " has another ", what, " than rank 0 (", texts[static_cast<size_t>(r)],
                 " vs ", texts[0], "); every rank must run the same config, model and code");
}

void World::reportFailure(const std::string& message) {
    try {
        m->store->set(cat("error/", m->spec.rank), bytes(message));
        m->store->set(cat("done/", m->spec.rank), bytes("failed"));
    } catch (const std::exception&) {
        return;  // the store is gone with rank 0; the others learn of it from the closed connections
    }
    if (m->spec.rank != 0) return;
    // Rank 0 hosts the store: it stays until the others have read its error. Its connections are
    // closed first, so that a rank waiting in a collective fails at once and reads the error.
    m->group.reset();
    const auto deadline = std::chrono::steady_clock::now() + m->timeout;
    std::vector<int64_t> beats(static_cast<size_t>(m->spec.size), -1);
    auto lastMove = std::vector<std::chrono::steady_clock::time_point>(beats.size(), std::chrono::steady_clock::now());
    try {
        for (;;) {
            bool waiting = false;
            const auto now = std::chrono::steady_clock::now();
            for (int r = 1; r < m->spec.size; ++r) {
                if (m->store->check({cat("done/", r)})) continue;
                const int64_t b = m->store->add(cat("beat/", r), 0);
                if (b != beats[static_cast<size_t>(r)]) beats[static_cast<size_t>(r)] = b, lastMove[static_cast<size_t>(r)] = now;
                if (now - lastMove[static_cast<size_t>(r)] <= kSilence) waiting = true;  // alive: let it read
            }
            if (!waiting || now > deadline) return;
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
    } catch (const std::exception&) {
    }
}

void World::finish() {
    m->store->add("finished", 1);
    m->store->set(cat("done/", m->spec.rank), bytes("finished"));
    if (m->spec.rank != 0) return;
    m->waitUntil([&] { return m->store->add("finished", 0) >= m->spec.size; }, "waiting for every rank to finish");
}

World::Traffic World::traffic() const { return m->traffic; }

}  // namespace frugal::dist
