// Data-parallel ZO on c10d (core/dist/): the launchers' variables; collectives between threads
// (weighted mean, counted bytes, refusal of a differing config); 2 and 4 processes equal to one
// process on the full batch; O(q) bytes a step; a killed or stopped process fails the run naming
// it, with everything before kept; `frugal launch` and processes started by hand.

#include <QtTest/QtTest>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmath>
#include <future>
#include <map>

#include <nlohmann/json.hpp>

#include "dist/world.h"
#include "store/store.h"
#include "test_util.h"

using frugal::dist::World;
using frugal::dist::WorldSpec;
using frugal::store::RunStatus;
using frugal::store::Store;
using frugal::test::TempDir;

namespace {

QString bin() { return QString::fromStdString(frugal::test::envPath("FRUGAL_BIN").string()); }

// A free port on 127.0.0.1 (bound, read, released).
int freePort() {
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    close(fd);
    return ntohs(addr.sin_port);
}

frugal::dist::GetEnv envOf(std::map<std::string, std::string> vars) {
    return [vars = std::move(vars)](const char* name) -> const char* {
        const auto it = vars.find(name);
        return it == vars.end() ? nullptr : it->second.c_str();
    };
}

QString zoConfig(int steps, int queries, int batch) {
    return QStringLiteral(R"(method = "zo"
[zo]
model = "frugal-tiny"
task = "sentiment"
steps = %1
queries = %2
batch_size = %3
lr = 1e-4
eps = 1e-3
eval_every = 1000000
eval_limit = 8
save = true
[peft]
target = "full"
)").arg(steps).arg(queries).arg(batch);
}

struct Exit {
    int code = -1;
    QString out, err;
};

Exit wait(QProcess& p, int ms = 600000) {
    if (!p.waitForFinished(ms)) return {-1, {}, "timed out"};
    return {p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1, QString::fromUtf8(p.readAllStandardOutput()),
            QString::fromUtf8(p.readAllStandardError())};
}

// `frugal ARGS` in DIR with extra environment ENV, started.
std::unique_ptr<QProcess> start(const TempDir& dir, const QStringList& args, const QMap<QString, QString>& env = {}) {
    auto p = std::make_unique<QProcess>();
    p->setWorkingDirectory(QString::fromStdString(dir.path().string()));
    QProcessEnvironment e = QProcessEnvironment::systemEnvironment();
    for (auto it = env.begin(); it != env.end(); ++it) e.insert(it.key(), it.value());
    p->setProcessEnvironment(e);
    p->start(bin(), args);
    p->waitForStarted();
    return p;
}

// Processes 0..N-1 of `frugal run` with RANK/WORLD_SIZE set by hand (EXTRA[r]: rank r's overrides).
std::vector<std::unique_ptr<QProcess>> byHand(const TempDir& dir, int n, const QStringList& runArgs,
                                              const QMap<QString, QString>& env = {},
                                              std::map<int, QStringList> extra = {}) {
    const int port = freePort();
    std::vector<std::unique_ptr<QProcess>> ps;
    for (int r = 0; r < n; ++r) {
        QMap<QString, QString> e = env;
        e["RANK"] = QString::number(r);
        e["WORLD_SIZE"] = QString::number(n);
        e["MASTER_ADDR"] = "127.0.0.1";
        e["MASTER_PORT"] = QString::number(port);
        ps.push_back(start(dir, QStringList{"--quiet", "--threads", "1", "run"} + runArgs + extra[r], e));
    }
    return ps;
}

nlohmann::json hardwareOf(Store& store, int64_t run) { return nlohmann::json::parse(store.run(run)->hardware); }

bool logged(Store& store, int64_t run, const std::string& text) {
    for (const auto& l : store.logs(run))
        if (l.text.find(text) != std::string::npos) return true;
    return false;
}

}  // namespace

class TestDist : public QObject {
    Q_OBJECT
private slots:
    void worldFromTheEnvironment();
    void collectivesBetweenThreads();
    void startUpFailuresNameTheRankOrVariable();
    void backendFollowsTheDevice();
    void dataParallelEqualsOneProcess_data();
    void dataParallelEqualsOneProcess();
    void landscapeGridSharedOut_data();
    void landscapeGridSharedOut();
    void differingConfigRefused();
    void rankZeroFailureNamedByTheOthers();
    void lostRankFailsTheRun_data();
    void lostRankFailsTheRun();
};

void TestDist::worldFromTheEnvironment() {
    using frugal::dist::specFromEnvironment;
    QVERIFY(!specFromEnvironment(envOf({})));
    QVERIFY(!specFromEnvironment(envOf({{"RANK", "0"}, {"WORLD_SIZE", "1"}})));  // one process: no world
    auto s = specFromEnvironment(envOf({{"RANK", "3"}, {"WORLD_SIZE", "4"}, {"LOCAL_RANK", "1"},
                                        {"MASTER_ADDR", "node7"}, {"MASTER_PORT", "29511"},
                                        {"FRUGAL_DIST_TIMEOUT", "12.5"}}));
    QVERIFY(s);
    QCOMPARE(s->rank, 3);
    QCOMPARE(s->size, 4);
    QCOMPARE(s->localRank, 1);
    QCOMPARE(s->masterAddr, std::string("node7"));
    QCOMPARE(s->masterPort, 29511);
    QCOMPARE(s->timeoutSeconds, 12.5);
    s = specFromEnvironment(envOf({{"OMPI_COMM_WORLD_RANK", "1"}, {"OMPI_COMM_WORLD_SIZE", "2"},
                                   {"OMPI_COMM_WORLD_LOCAL_RANK", "0"}}));
    QVERIFY(s);
    QCOMPARE(s->rank, 1);
    QCOMPARE(s->size, 2);
    QCOMPARE(s->localRank, 0);
    QCOMPARE(s->masterAddr, std::string("127.0.0.1"));
    QCOMPARE(s->masterPort, 29500);
    s = specFromEnvironment(envOf({{"SLURM_PROCID", "5"}, {"SLURM_STEP_NUM_TASKS", "8"}, {"SLURM_LOCALID", "1"}}));
    QVERIFY(s);
    QCOMPARE(s->rank, 5);
    QCOMPARE(s->size, 8);
    QCOMPARE(s->localRank, 1);
    // a batch script inside an allocation of 8 tasks is not a rank
    QVERIFY(!specFromEnvironment(envOf({{"SLURM_PROCID", "0"}, {"SLURM_NTASKS", "8"}})));
    const auto refused = [](std::map<std::string, std::string> vars, const char* expected) {
        try {
            frugal::dist::specFromEnvironment(envOf(std::move(vars)));
        } catch (const std::exception& e) {
            return QString(e.what()).contains(expected);
        }
        return false;
    };
    QVERIFY(refused({{"RANK", "0"}}, "sets RANK but not WORLD_SIZE"));
    QVERIFY(refused({{"RANK", "2"}, {"WORLD_SIZE", "2"}}, "RANK is 2; expected 0 to 1"));
    QVERIFY(refused({{"RANK", "x"}, {"WORLD_SIZE", "2"}}, "RANK is 'x'"));
    QVERIFY(refused({{"RANK", "0"}, {"WORLD_SIZE", "2"}, {"MASTER_PORT", "70000"}}, "MASTER_PORT is 70000"));
    QVERIFY(refused({{"RANK", "0"}, {"WORLD_SIZE", "2"}, {"FRUGAL_DIST_TIMEOUT", "-1"}}, "FRUGAL_DIST_TIMEOUT"));
}

// What goes wrong at start-up is named: a rank that never joins (with progress while the others
// wait), a rank given twice, rank 0 twice on one port, launchers' variables that disagree.
void TestDist::startUpFailuresNameTheRankOrVariable() {
    const auto specFor = [](int rank, int size, int port, double timeout, std::vector<std::string>* said) {
        WorldSpec spec;
        spec.rank = rank;
        spec.size = size;
        spec.masterPort = port;
        spec.timeoutSeconds = timeout;
        spec.source = "the test";
        if (said) spec.say = [said](const std::string& line) { said->push_back(line); };
        return spec;
    };
    const auto failure = [](const WorldSpec& spec) -> std::string {
        try {
            World::join(spec)->finish();
        } catch (const std::exception& e) {
            return e.what();
        }
        return "";
    };
    {  // ranks 0 and 2 of 3 come, rank 1 never does: both name it, and say they wait for it
        const int port = freePort();
        std::vector<std::string> said0, said2;
        auto r0 = std::async(std::launch::async, [&] { return failure(specFor(0, 3, port, 2.0, &said0)); });
        auto r2 = std::async(std::launch::async, [&] { return failure(specFor(2, 3, port, 2.0, &said2)); });
        for (const std::string& e : {r0.get(), r2.get()})
            QVERIFY2(QString::fromStdString(e).contains("rank 1 never joined the rendezvous at 127.0.0.1:" +
                                                        QString::number(port)),
                     e.c_str());
        QVERIFY(!said0.empty());
        QVERIFY2(QString::fromStdString(said0.front()).contains("rank 0 of 3: waiting for rank 1 of 3 at"),
                 said0.front().c_str());
        QVERIFY2(QString::fromStdString(said0.back()).contains(" s of 2 s"), said0.back().c_str());
    }
    {  // rank 1 without rank 0: it says it waits for rank 0, then names it
        std::vector<std::string> said;
        const std::string e = failure(specFor(1, 2, freePort(), 1.5, &said));
        QVERIFY2(QString::fromStdString(e).contains("rank 1 of 2: rank 0 never answered at 127.0.0.1:"), e.c_str());
        QVERIFY(!said.empty() && QString::fromStdString(said.front()).contains("waiting for rank 0"));
    }
    {  // rank 1 given twice (and rank 2 missing): the second rank 1 is named at once
        const int port = freePort();
        std::vector<std::future<std::string>> ranks;
        for (int r : {0, 1, 1}) ranks.push_back(std::async(std::launch::async, [&, r] { return failure(specFor(r, 3, port, 3.0, nullptr)); }));
        int duplicates = 0;
        for (auto& f : ranks)
            duplicates += QString::fromStdString(f.get()).contains(
                              "another process already joined the rendezvous at 127.0.0.1:" + QString::number(port) +
                              " as rank 1: two processes were given the same rank")
                              ? 1
                              : 0;
        QCOMPARE(duplicates, 1);
    }
    {  // rank 0 twice: the second cannot take the port and says why
        const int port = freePort();
        auto first = std::async(std::launch::async, [&] { return failure(specFor(0, 2, port, 2.0, nullptr)); });
        QTest::qWait(300);
        const std::string e = failure(specFor(0, 2, port, 2.0, nullptr));
        QVERIFY2(QString::fromStdString(e).contains("another process holds the port: a second rank 0"), e.c_str());
        first.get();
    }
    // launchers that disagree, and an unset MASTER_PORT named where the default is used
    try {
        frugal::dist::specFromEnvironment(
            envOf({{"RANK", "1"}, {"WORLD_SIZE", "2"}, {"OMPI_COMM_WORLD_RANK", "0"}, {"OMPI_COMM_WORLD_SIZE", "4"}}));
        QFAIL("disagreeing launchers were accepted");
    } catch (const std::exception& e) {
        QVERIFY2(QString(e.what()).contains("the environment's launchers disagree: RANK=1 and WORLD_SIZE=2, but "
                                            "OMPI_COMM_WORLD_RANK=0 and OMPI_COMM_WORLD_SIZE=4"),
                 e.what());
    }
    const auto spec = frugal::dist::specFromEnvironment(envOf({{"RANK", "1"}, {"WORLD_SIZE", "2"}}));
    QVERIFY(spec && !spec->portFromEnvironment);
}

void TestDist::collectivesBetweenThreads() {
    const int port = freePort();
    const int n = 3;
    struct Seen {
        double mean = 0;
        bool anyTrue = false, anyFalse = true;
        std::vector<double> gathered;
        World::Traffic traffic;
        std::string refusal;
    };
    std::vector<std::future<Seen>> ranks;
    for (int r = 0; r < n; ++r)
        ranks.push_back(std::async(std::launch::async, [r, port] {
            WorldSpec spec;
            spec.rank = r;
            spec.size = n;
            spec.masterPort = port;
            spec.timeoutSeconds = 30;
            spec.source = "the test";
            auto world = World::join(spec);
            Seen seen;
            // rank r's shard: mean 1 + r over r + 1 examples
            seen.mean = world->weightedMean(1.0 + r, 1.0 + r);
            seen.anyTrue = world->any(r == 2);
            seen.anyFalse = world->any(false);
            seen.gathered = world->allgather({double(r), 10.0 * r});
            seen.traffic = world->traffic();
            world->agree("config", "same");
            try {
                world->agree("config", r == 1 ? "other" : "same");
            } catch (const std::exception& e) {
                seen.refusal = e.what();
            }
            world->finish();
            return seen;
        }));
    const double expected = (1.0 * 1 + 2.0 * 2 + 3.0 * 3) / (1 + 2 + 3);
    for (int r = 0; r < n; ++r) {
        const Seen s = ranks[static_cast<size_t>(r)].get();
        QCOMPARE(s.mean, expected);
        QVERIFY(s.anyTrue);
        QVERIFY(!s.anyFalse);
        QCOMPARE(s.gathered, (std::vector<double>{0, 0, 1, 10, 2, 20}));
        // bytes handed to the group: 16 (value, weight) + 8 + 8 + 16
        QCOMPARE(s.traffic.bytes, int64_t{48});
        QCOMPARE(s.traffic.calls, int64_t{4});
        QVERIFY2(QString::fromStdString(s.refusal).contains("rank 1 of 3 has another config than rank 0"),
                 s.refusal.c_str());
    }
}

// Gloo for CPU tensors, NCCL (compiled in: PyPI's LibTorch has it) for CUDA tensors. Without a GPU
// an NCCL world says so before its rendezvous; with one, a one-process NCCL world runs a
// collective on the GPU.
void TestDist::backendFollowsTheDevice() {
    using frugal::dist::backendFor;
    QCOMPARE(backendFor("cpu"), std::string("gloo"));
    QCOMPARE(backendFor("cuda"), std::string("nccl"));
    QCOMPARE(backendFor("cuda:1"), std::string("nccl"));
    try {
        backendFor("mps");
        QFAIL("backendFor(\"mps\") did not throw");
    } catch (const std::exception& e) {
        QVERIFY2(QString(e.what()).contains("'mps' is not one a process group carries"), e.what());
    }
    WorldSpec spec;
    spec.size = 1;
    spec.masterPort = freePort();
    spec.timeoutSeconds = 30;
    spec.source = "the test";
    spec.device = "cuda:0";
    if (!torch::cuda::is_available()) {
        try {
            World::join(spec);
            QFAIL("an NCCL world joined without a GPU");
        } catch (const std::exception& e) {
            QVERIFY2(QString(e.what()).contains("the world's device 'cuda:0' (NCCL) needs CUDA device 0, and this "
                                                "process sees 0"),
                     e.what());
        }
        return;
    }
    auto world = World::join(spec);
    QCOMPARE(world->backend(), std::string("nccl"));
    QCOMPARE(world->weightedMean(3.0, 2.0), 3.0);
    QCOMPARE(world->allgather({1.0, 2.0}), (std::vector<double>{1.0, 2.0}));
    world->finish();
}

void TestDist::dataParallelEqualsOneProcess_data() {
    QTest::addColumn<int>("processes");
    QTest::addColumn<int>("queries");
    QTest::addColumn<bool>("launcher");  // frugal launch, or processes started by hand
    QTest::newRow("2 processes, q=1, launch") << 2 << 1 << true;
    QTest::newRow("4 processes, q=1, launch") << 4 << 1 << true;
    QTest::newRow("2 processes, q=3, by hand") << 2 << 3 << false;
}

void TestDist::dataParallelEqualsOneProcess() {
    QFETCH(int, processes);
    QFETCH(int, queries);
    QFETCH(bool, launcher);
    const int steps = 50, batch = 8;
    TempDir dir("dist");
    frugal::test::writeText(dir / "zo.toml", zoConfig(steps, queries, batch).toStdString());
    // One process computing each batch in the pieces the processes hold (micro_batch = batch / N):
    // the same forwards on the same shapes, combined by weight in the same order, so the same bits
    // on any machine. (Against one forward over the whole batch the loss differs by fp32 rounding
    // of other GEMM shapes, which the chaotic ZO trajectory amplifies by a machine-dependent amount:
    // 8.8e-6 relative after 50 steps on one machine, 1.04e-5 on another; test_zo checks that
    // pieces and the whole batch agree to rounding on one step.)
    auto one = start(dir, {"--quiet", "--threads", "1", "run", "zo.toml", "zo.micro_batch=" + QString::number(batch / processes),
                           "--db", "runs.db", "--name", "one"});
    Exit e = wait(*one);
    QVERIFY2(e.code == 0, qPrintable(e.err));
    const QStringList runArgs{"zo.toml", "--db", "runs.db", "--name", "many"};
    if (launcher) {
        auto p = start(dir, QStringList{"--quiet", "launch", "-n", QString::number(processes), "--threads", "1", "run"} + runArgs);
        e = wait(*p);
        QVERIFY2(e.code == 0, qPrintable(e.out + e.err));
        QVERIFY2(e.out.contains("[0] ") || e.err.contains("[0] "), qPrintable(e.err));  // output prefixed by rank
    } else {
        auto ps = byHand(dir, processes, runArgs);
        for (int r = processes - 1; r >= 0; --r) {
            e = wait(*ps[static_cast<size_t>(r)]);
            QVERIFY2(e.code == 0, qPrintable(QStringLiteral("rank %1: ").arg(r) + e.err));
        }
    }
    Store store(dir / "runs.db");
    QCOMPARE(store.runs().size(), size_t{2});  // process 0 alone stores
    const auto a = store.findRun("one"), b = store.findRun("many");
    QVERIFY(a && b);
    QCOMPARE(b->status, RunStatus::Finished);
    QCOMPARE(hardwareOf(store, b->id)["world_size"].get<int>(), processes);
    QCOMPARE(store.params(b->id).at("dist.world_size"), std::to_string(processes));
    // every process ended with the same weights, bit for bit (the run checks the digests)
    QVERIFY(logged(store, b->id, "the final trainable weights are the same on all " + std::to_string(processes)));
    // the loss curve of one process on the same pieces, bit for bit at every step
    const auto x = store.metric(a->id, "train/loss"), y = store.metric(b->id, "train/loss");
    QCOMPARE(x.size(), size_t(steps));
    QCOMPARE(y.size(), size_t(steps));
    for (size_t i = 0; i < x.size(); ++i)
        QVERIFY2(x[i].value == y[i].value, qPrintable(QStringLiteral("step %1: one process %2, %3 processes %4")
                                                          .arg(x[i].step).arg(x[i].value, 0, 'g', 17).arg(processes)
                                                          .arg(y[i].value, 0, 'g', 17)));
    QVERIFY(logged(store, a->id, "in pieces of " + std::to_string(batch / processes)));
    // dev evaluation shared out over the processes: at step 0 (the same weights) the same bits
    for (const char* key : {"dev/accuracy", "dev/accuracy_calibrated", "dev/loss"}) {
        const auto single = store.metric(a->id, key), many = store.metric(b->id, key);
        QVERIFY2(!single.empty() && !many.empty() && single[0].step == 0 && many[0].step == 0, key);
        QVERIFY2(single[0].value == many[0].value, qPrintable(QStringLiteral("%1 at step 0: %2 vs %3").arg(key)
                                                              .arg(single[0].value, 0, 'g', 17).arg(many[0].value, 0, 'g', 17)));
    }
    QVERIFY(logged(store, b->id, "step 0: dev accuracy"));
    QVERIFY(!store.metric(b->id, "test/accuracy").empty());
    // bytes a step: (value, weight) per loss evaluation (2q) and the stop flag, O(q), not O(d)
    const auto bytes = store.metric(b->id, "dist/bytes_per_step");
    QCOMPARE(bytes.size(), size_t(steps));
    for (const auto& point : bytes) QCOMPARE(point.value, double(16 * 2 * queries + 8));
    // `frugal replay` of the run gives the weights process 0 saved (and every process held)
    const auto replayed = start(dir, {"--quiet", "replay", "many", "--db", "runs.db", "--out", "replayed"});
    e = wait(*replayed);
    QVERIFY2(e.code == 0, qPrintable(e.err));
    std::filesystem::path saved = store.artifacts(b->id).empty() ? dir.path() : std::filesystem::path(store.artifacts(b->id)[0].path).parent_path() / "model";
    QVERIFY2(std::filesystem::exists(saved / "model.safetensors"), saved.string().c_str());
    QCOMPARE(frugal::test::readText(dir / "replayed" / "model.safetensors"), frugal::test::readText(saved / "model.safetensors"));
    // and the weights one process saved: the same bytes
    const std::filesystem::path single = std::filesystem::path(store.artifacts(a->id)[0].path).parent_path() / "model";
    QCOMPARE(frugal::test::readText(single / "model.safetensors"), frugal::test::readText(saved / "model.safetensors"));
}

void TestDist::landscapeGridSharedOut_data() {
    QTest::addColumn<int>("dims");
    QTest::addColumn<int>("processes");
    QTest::newRow("2-D, 2 processes") << 2 << 2;  // 5 rows: the last round has one row
    QTest::newRow("1-D, 3 processes") << 1 << 3;
}

// The grid of a landscape shared out over processes is the surface one process computes, bit for bit.
void TestDist::landscapeGridSharedOut() {
    QFETCH(int, dims);
    QFETCH(int, processes);
    TempDir dir("dist-landscape");
    frugal::test::writeText(dir / "land.toml", QStringLiteral(R"(method = "landscape"
[landscape]
model = "frugal-tiny"
task = "sentiment"
batch_size = 4
dims = %1
points = 5
lo = -0.5
hi = 0.5
timing_forwards = 0
sharpness_probes = 0
[peft]
target = "full"
)").arg(dims).toStdString());
    auto one = start(dir, {"--quiet", "--threads", "1", "run", "land.toml", "--db", "runs.db", "--name", "one"});
    Exit e = wait(*one);
    QVERIFY2(e.code == 0, qPrintable(e.err));
    auto p = start(dir, {"--quiet", "launch", "-n", QString::number(processes), "run", "land.toml", "--db", "runs.db",
                         "--name", "many"});
    e = wait(*p);
    QVERIFY2(e.code == 0, qPrintable(e.out + e.err));
    Store store(dir / "runs.db");
    const auto a = store.findRun("one"), b = store.findRun("many");
    QVERIFY(a && b);
    QCOMPARE(b->status, RunStatus::Finished);
    QCOMPARE(hardwareOf(store, b->id)["world_size"].get<int>(), processes);
    const std::string key = dims == 1 ? "landscape/slice1d" : "landscape/slice2d";
    const auto x = store.vectorSeries(a->id, key), y = store.vectorSeries(b->id, key);
    QCOMPARE(x.size(), size_t{1});
    QCOMPARE(y.size(), size_t{1});
    QCOMPARE(y[0].shape, x[0].shape);
    QCOMPARE(x[0].data.size(), size_t(dims == 1 ? 5 : 25));
    for (size_t i = 0; i < x[0].data.size(); ++i) {
        QVERIFY(std::isfinite(x[0].data[i]));
        QVERIFY2(x[0].data[i] == y[0].data[i], qPrintable(QStringLiteral("point %1: %2 vs %3").arg(i)
                                                              .arg(x[0].data[i], 0, 'g', 9).arg(y[0].data[i], 0, 'g', 9)));
    }
    // each process computed its share of the points
    const auto forwards = store.metric(b->id, "landscape/forwards");
    QCOMPARE(forwards.size(), size_t{1});
    const int rows = 5, perRow = dims == 1 ? 1 : 5;
    QCOMPARE(forwards[0].value, double(((rows + processes - 1) / processes) * perRow));
}

void TestDist::differingConfigRefused() {
    TempDir dir("dist-refused");
    frugal::test::writeText(dir / "zo.toml", zoConfig(20, 1, 4).toStdString());
    auto ps = byHand(dir, 2, {"zo.toml", "--db", "runs.db"}, {{"FRUGAL_DIST_TIMEOUT", "60"}}, {{1, {"lr=2e-4"}}});
    for (int r = 0; r < 2; ++r) {
        const Exit e = wait(*ps[static_cast<size_t>(r)], 120000);
        QVERIFY2(e.code == 2, qPrintable(QStringLiteral("rank %1: exit %2: ").arg(r).arg(e.code) + e.err));
        QVERIFY2(e.err.contains("rank 1 of 2 has another config"), qPrintable(e.err));
    }
    QVERIFY(!std::filesystem::exists(dir / "runs.db") || Store(dir / "runs.db").runs().empty());
}

// Rank 0 fails before its run starts (a --parent that does not exist): the other process names it
// and ends, not left waiting in a collective or told only that the store is gone.
void TestDist::rankZeroFailureNamedByTheOthers() {
    TempDir dir("dist-rank0");
    frugal::test::writeText(dir / "zo.toml", zoConfig(20, 1, 4).toStdString());
    auto ps = byHand(dir, 2, {"zo.toml", "--db", "runs.db"}, {{"FRUGAL_DIST_TIMEOUT", "60"}},
                     {{0, {"--parent", "no-such-run"}}});
    QElapsedTimer clock;
    clock.start();
    const Exit zero = wait(*ps[0], 120000), one = wait(*ps[1], 120000);
    QVERIFY2(zero.code == 2, qPrintable(zero.err));
    QVERIFY2(one.code == 1, qPrintable(QStringLiteral("exit %1: ").arg(one.code) + one.err));
    QVERIFY2(one.err.contains("rank 0 of 2 failed: rank 0 of 2:") && one.err.contains("no-such-run"), qPrintable(one.err));
    QVERIFY2(clock.elapsed() < 50000, "the processes waited out the timeout");
}

void TestDist::lostRankFailsTheRun_data() {
    QTest::addColumn<int>("signal");
    QTest::addColumn<QString>("expected");
    QTest::newRow("SIGKILL") << int(SIGKILL) << "rank 1 of 2 stopped answering";
    QTest::newRow("SIGSTOP (hangs past the timeout)") << int(SIGSTOP) << "rank 1 of 2 stopped answering";
}

void TestDist::lostRankFailsTheRun() {
    QFETCH(int, signal);
    QFETCH(QString, expected);
    TempDir dir("dist-lost");
    frugal::test::writeText(dir / "zo.toml", zoConfig(1000000, 1, 4).toStdString());
    const double timeout = 8;
    auto ps = byHand(dir, 2, {"zo.toml", "--db", "runs.db", "--name", "lost"},
                     {{"FRUGAL_DIST_TIMEOUT", QString::number(timeout)}});
    int64_t before = 0;
    for (int i = 0; i < 1200 && before < 5; ++i) {
        QTest::qWait(100);
        if (!std::filesystem::exists(dir / "runs.db")) continue;
        Store store(dir / "runs.db");
        if (const auto r = store.findRun("lost")) before = static_cast<int64_t>(store.metric(r->id, "train/loss").size());
    }
    QVERIFY2(before >= 5, "the run never reached step 5");
    QElapsedTimer clock;
    clock.start();
    ::kill(static_cast<pid_t>(ps[1]->processId()), signal);
    const Exit e = wait(*ps[0], 120000);
    const double seconds = clock.elapsed() / 1000.0;
    ::kill(static_cast<pid_t>(ps[1]->processId()), SIGKILL);
    ps[1]->waitForFinished(10000);
    QVERIFY2(e.code == 1, qPrintable(QStringLiteral("exit %1 (-1: crashed or timed out): ").arg(e.code) + e.err));
    QVERIFY2(e.err.contains(expected), qPrintable(e.err));
    qInfo("process 0 ended %.1f s after the signal (timeout %g s)", seconds, timeout);
    QVERIFY2(seconds < timeout + 10, qPrintable(QString::number(seconds)));
    Store store(dir / "runs.db");
    const auto r = store.findRun("lost");
    QVERIFY(r);
    QCOMPARE(r->status, RunStatus::Failed);
    QVERIFY2(QString::fromStdString(r->error).contains(expected), r->error.c_str());
    // everything up to the failed step is kept: steps 1..N-1 with no gap, N named in the error
    const auto loss = store.metric(r->id, "train/loss");
    QVERIFY(static_cast<int64_t>(loss.size()) >= before);
    for (size_t i = 0; i < loss.size(); ++i) QCOMPARE(loss[i].step, int64_t(i + 1));
    QVERIFY2(QString::fromStdString(r->error).contains(QStringLiteral("step %1 ").arg(loss.size() + 1)), r->error.c_str());
}

QTEST_GUILESS_MAIN(TestDist)
#include "test_dist.moc"
