// The experiment database: migrations (an old schema upgraded with its data), a newer schema and
// foreign files refused, every kind of record round-tripped (NaN and infinities kept), two writer
// threads and a reader process at once without loss or SQLITE_BUSY, a writer killed with SIGKILL
// leaving an intact database with its run marked interrupted, and idempotent merging.

#include <QtTest/QtTest>

#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <functional>
#include <thread>

#include "common/error.h"
#include "common/sha256.h"
#include "store/run_filter.h"
#include "store/store.h"
#include "test_util.h"

using frugal::store::NewRun;
using frugal::store::RunStatus;
using frugal::store::Store;
using frugal::test::errorOf;
using frugal::test::TempDir;

namespace {

int64_t nowMs() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

// Runs SQL on a raw connection (no Store), returning the first column of the first row.
std::string rawQuery(const std::filesystem::path& file, const std::string& sql) {
    sqlite3* db = nullptr;
    sqlite3_open(file.c_str(), &db);
    sqlite3_busy_timeout(db, 10000);
    sqlite3_stmt* s = nullptr;
    std::string out;
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &s, nullptr) == SQLITE_OK) {
        if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_text(s, 0))
            out = reinterpret_cast<const char*>(sqlite3_column_text(s, 0));
    } else {
        out = std::string("error: ") + sqlite3_errmsg(db);
    }
    sqlite3_finalize(s);
    sqlite3_close(db);
    return out;
}

NewRun simpleRun(const std::string& name) {
    NewRun r;
    r.name = name;
    r.method = "mezo";
    r.config = "[train]\nlr = 1e-6\n";
    r.seed = 42;
    r.params = {{"train.lr", "1e-06"}, {"model", "frugal-tiny"}};
    return r;
}

int stressSeconds() {
    const QByteArray env = qgetenv("FRUGAL_STORE_STRESS_SECONDS");
    return env.isEmpty() ? 30 : env.toInt();
}

}  // namespace

class TestStore : public QObject {
    Q_OBJECT
private slots:
    void migratesAnOldSchemaWithItsData();
    void refusesNewerAndForeignFiles();
    void roundTripsEveryRecord();
    void twoWritersAndAReaderProcess();
    void killedWriterLeavesIntactDatabase();
    void mergeIsIdempotent();
    void sha256OfArtifacts();
    void connectionsOpeningANewDatabaseAtOnce();
    void rewrittenStepsStayUniqueAndOrdered();
    void filterErrorsNameTheirColumnAndTheNearestKey();
};

void TestStore::migratesAnOldSchemaWithItsData() {
    TempDir dir("store");
    const auto file = dir / "runs.db";
    int64_t run = 0;
    {
        Store v1(file, 1);  // the schema of version 1: no latest_metrics table
        run = v1.createRun(simpleRun("old"));
    }
    QCOMPARE(rawQuery(file, "PRAGMA user_version"), std::string("1"));
    QVERIFY(rawQuery(file, "SELECT count(*) FROM latest_metrics").rfind("error", 0) == 0);
    // metrics written by a version-1 build
    rawQuery(file, "INSERT INTO metric_keys(id, run_id, key) VALUES(7, " + std::to_string(run) +
                       ", 'loss')");
    rawQuery(file, "INSERT INTO metrics VALUES(7, 1, 100, 2.5), (7, 2, 200, 2.25), (7, 3, 300, NULL)");

    Store store(file);
    QCOMPARE(rawQuery(file, "PRAGMA user_version"), std::to_string(Store::schemaVersion()));
    const auto latest = store.latestMetrics(run);
    QCOMPARE(latest.size(), size_t{1});
    QCOMPARE(latest[0].key, std::string("loss"));
    QCOMPARE(latest[0].point.step, int64_t{3});
    QVERIFY(std::isnan(latest[0].point.value));  // NULL is NaN
    QCOMPARE(store.metric(run, "loss").size(), size_t{3});
    QCOMPARE(store.run(run)->name, std::string("old"));
}

void TestStore::refusesNewerAndForeignFiles() {
    TempDir dir("store");
    { Store s(dir / "new.db"); }
    rawQuery(dir / "new.db", "PRAGMA user_version=99");
    QVERIFY(QString::fromStdString(errorOf([&] { Store s(dir / "new.db"); }))
                .contains("has schema version 99, written by a newer Frugal; this build reads "
                          "versions up to"));
    frugal::test::writeText(dir / "text.db", std::string(5000, 'x'));
    QVERIFY(QString::fromStdString(errorOf([&] { Store s(dir / "text.db"); }))
                .contains("text.db: not a Frugal experiment database"));
    rawQuery(dir / "other.db", "CREATE TABLE t(x)");
    QVERIFY(QString::fromStdString(errorOf([&] { Store s(dir / "other.db"); }))
                .contains("other.db: not a Frugal experiment database (it has tables but no "
                          "schema version)"));
}

void TestStore::roundTripsEveryRecord() {
    TempDir dir("store");
    Store store(dir / "runs.db");
    NewRun spec = simpleRun("a");
    spec.gitCommit = "abc123";
    spec.gitDirty = true;
    spec.commandLine = "frugal run x.toml";
    const int64_t parent = store.createRun(spec);
    spec.name = "b";
    spec.parentId = parent;
    spec.tags = {"sweep", "lr"};  // with the run from its start (frugal run --tag), not at its end
    const int64_t run = store.createRun(spec);
    QCOMPARE(store.run(run)->status, RunStatus::Running);
    QCOMPARE(store.run(run)->tags, (std::vector<std::string>{"lr", "sweep"}));

    const double inf = std::numeric_limits<double>::infinity();
    store.logMetric(run, "loss", 0, 3.5, 1000);
    store.logMetric(run, "loss", 1, std::nan(""), 1001);
    store.logMetric(run, "loss", 2, inf, 1002);
    store.logMetric(run, "loss", 3, -inf, 1003);
    store.logMetric(run, "loss", 1, 2.0, 1004);  // a step written again replaces the point
    store.logMetric(run, "acc", 5, 0.75, 1005);
    store.logVector(run, "sparsity", 10, {2, 3}, {0.f, 0.1f, 0.2f, 0.3f, 0.4f, 0.5f});
    store.log(run, "info", "hello");
    store.addArtifact(run, {"model", "/tmp/m", "deadbeef", 123});
    store.addTag(run, "baseline");
    store.addTag(run, "lr-sweep");
    store.setNote(run, "first try");
    QVERIFY(QString::fromStdString(errorOf([&] { store.logVector(run, "v", 0, {2, 2}, {1.f}); }))
                .contains("shape [2,2] holds 4 values but 1 were given"));
    store.setStatus(run, RunStatus::Finished);

    const auto loss = store.metric(run, "loss");
    QCOMPARE(loss.size(), size_t{4});
    QCOMPARE(loss[0].value, 3.5);
    QCOMPARE(loss[1].value, 2.0);
    QCOMPARE(loss[1].wallMs, int64_t{1004});
    QCOMPARE(loss[2].value, inf);
    QCOMPARE(loss[3].value, -inf);
    const auto latest = store.latestMetrics(run);
    QCOMPARE(latest.size(), size_t{2});
    QCOMPARE(latest[1].key, std::string("loss"));
    QCOMPARE(latest[1].point.step, int64_t{3});
    QCOMPARE(store.metricKeys(run), (std::vector<std::string>{"acc", "loss"}));
    QCOMPARE(store.metricPointCount(run, "loss"), int64_t{4});
    QCOMPARE(store.metricPointCount(run, "none"), int64_t{0});
    const auto vec = store.vectorSeries(run, "sparsity");
    QCOMPARE(vec.size(), size_t{1});
    QCOMPARE(vec[0].shape, (std::vector<int64_t>{2, 3}));
    QCOMPARE(vec[0].data[5], 0.5f);
    QCOMPARE(store.logs(run).at(0).text, std::string("hello"));
    QCOMPARE(store.artifacts(run).at(0).bytes, int64_t{123});
    QCOMPARE(store.params(run).at("train.lr"), std::string("1e-06"));

    const auto info = store.run(run);
    QVERIFY(info);
    QCOMPARE(info->status, RunStatus::Finished);
    QVERIFY(info->endMs >= info->startMs && info->startMs > 0);
    QCOMPARE(info->parentId.value_or(-1), parent);
    QCOMPARE(info->tags, (std::vector<std::string>{"baseline", "lr", "lr-sweep", "sweep"}));
    QCOMPARE(info->note, std::string("first try"));
    QCOMPARE(info->seed.value_or(0), int64_t{42});
    QVERIFY(info->gitDirty);
    QCOMPARE(info->pid, static_cast<int64_t>(getpid()));
    QCOMPARE(store.findRun("b")->id, run);
    QCOMPARE(store.findRun(std::to_string(parent))->id, parent);
    QVERIFY(!store.findRun("no-such-run"));
    store.createRun(simpleRun("b"));
    QVERIFY(QString::fromStdString(errorOf([&] { store.findRun("b"); }))
                .contains("run 'b' is ambiguous: it matches runs 3, 2; give the id"));
    QCOMPARE(store.findRun(info->uuid.substr(0, 8))->id, run);
    QCOMPARE(store.runs().size(), size_t{3});

    // a run still running in this process keeps its row; ended, it can go
    QVERIFY(QString::fromStdString(errorOf([&] { store.deleteRun(parent); }))
                .contains("is running in process"));
    QVERIFY(store.run(parent));
    store.setStatus(parent, RunStatus::Cancelled);
    store.deleteRun(parent);
    QVERIFY(!store.run(parent));
    QVERIFY(!store.run(run)->parentId);  // the chain link is cleared, the child kept
}

void TestStore::twoWritersAndAReaderProcess() {
    TempDir dir("store");
    const auto file = dir / "runs.db";
    { Store init(file); }
    const int seconds = stressSeconds();

    // The reader: another process, reading all the time; it exits non-zero on any error or on a
    // count that goes backwards (a torn or lost commit).
    const pid_t reader = fork();
    if (reader == 0) {
        int code = 0;
        try {
            Store store(file);
            int64_t last = 0;
            const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(seconds + 2);
            while (std::chrono::steady_clock::now() < end) {
                int64_t total = 0;
                for (const auto& r : store.runs())
                    for (const auto& key : store.metricKeys(r.id))
                        total += static_cast<int64_t>(store.metric(r.id, key).size());
                if (total < last) {
                    code = 3;
                    break;
                }
                last = total;
            }
        } catch (const std::exception& e) {
            std::fprintf(stderr, "reader: %s\n", e.what());
            code = 2;
        }
        _exit(code);
    }

    std::atomic<int64_t> written[2] = {{0}, {0}};
    std::string errors[2];
    {
        Store store(file);
        const int64_t runs[2] = {store.createRun(simpleRun("w0")), store.createRun(simpleRun("w1"))};
        const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
        std::vector<std::thread> writers;
        for (int w = 0; w < 2; ++w) {
            writers.emplace_back([&, w] {
                try {
                    int64_t step = 0;
                    while (std::chrono::steady_clock::now() < end) {
                        for (int i = 0; i < 100; ++i, ++step) {
                            store.logMetric(runs[w], "loss", step, 1.0 / double(step + 1));
                            store.logMetric(runs[w], "aux", step, double(step));
                        }
                        written[w] += 200;
                        if (step % 10000 == 0) store.flush();
                        std::this_thread::sleep_for(std::chrono::milliseconds(1));
                    }
                } catch (const std::exception& e) {
                    errors[w] = e.what();
                }
            });
        }
        for (auto& t : writers) t.join();
        store.flush();
        for (int w = 0; w < 2; ++w) {
            QVERIFY2(errors[w].empty(), errors[w].c_str());
            const auto n = static_cast<int64_t>(store.metric(runs[w], "loss").size() +
                                                store.metric(runs[w], "aux").size());
            QCOMPARE(n, written[w].load());
        }
        qInfo("%lld + %lld points in %d s", static_cast<long long>(written[0].load()),
              static_cast<long long>(written[1].load()), seconds);
    }
    int status = 0;
    waitpid(reader, &status, 0);
    QVERIFY(WIFEXITED(status));
    QCOMPARE(WEXITSTATUS(status), 0);
}

void TestStore::killedWriterLeavesIntactDatabase() {
    TempDir dir("store");
    const auto file = dir / "runs.db";
    { Store init(file); }
    const pid_t child = fork();
    if (child == 0) {
        try {
            Store store(file);
            const int64_t run = store.createRun(simpleRun("doomed"));
            for (int64_t step = 0;; ++step) {
                store.logMetric(run, "loss", step, 1.0, nowMs());
                std::this_thread::sleep_for(std::chrono::microseconds(200));
            }
        } catch (...) {
        }
        _exit(1);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2500));
    const int64_t killedAt = nowMs();
    kill(child, SIGKILL);
    int status = 0;
    waitpid(child, &status, 0);
    QVERIFY(WIFSIGNALED(status));

    QCOMPARE(rawQuery(file, "PRAGMA integrity_check"), std::string("ok"));
    Store store(file);  // opening marks the dead run
    const auto runs = store.runs();
    QCOMPARE(runs.size(), size_t{1});
    QCOMPARE(runs[0].status, RunStatus::Interrupted);
    QVERIFY(runs[0].error.find("killed, crashed or power lost") != std::string::npos);
    const auto points = store.metric(runs[0].id, "loss");
    QVERIFY(!points.empty());
    for (size_t i = 0; i < points.size(); ++i)
        QCOMPARE(points[i].step, static_cast<int64_t>(i));  // a prefix, no holes
    // every point logged more than a second before the kill was committed
    QVERIFY2(points.back().wallMs >= killedAt - 1000,
             qPrintable(QString("last stored point %1 ms before the kill")
                            .arg(killedAt - points.back().wallMs)));
}

void TestStore::mergeIsIdempotent() {
    TempDir dir("store");
    int64_t remoteRun = 0;
    {
        Store node(dir / "node.db");
        remoteRun = node.createRun(simpleRun("on-node"));
        node.logMetric(remoteRun, "loss", 0, 1.5);
        node.logMetric(remoteRun, "loss", 1, 1.25);
        node.addTag(remoteRun, "cluster");
        const int64_t child = [&] {
            NewRun r = simpleRun("recover");
            r.parentId = remoteRun;
            return node.createRun(r);
        }();
        node.setStatus(child, RunStatus::Finished);
        node.setStatus(remoteRun, RunStatus::Finished);
    }
    Store local(dir / "local.db");
    local.createRun(simpleRun("here"));
    QCOMPARE(local.merge(dir / "node.db"), int64_t{2});
    QCOMPARE(local.merge(dir / "node.db"), int64_t{0});  // again: nothing new
    QCOMPARE(local.runs().size(), size_t{3});
    const auto merged = local.findRun("on-node");
    QVERIFY(merged);
    QCOMPARE(local.metric(merged->id, "loss").size(), size_t{2});
    QCOMPARE(local.latestMetrics(merged->id).at(0).point.value, 1.25);
    QCOMPARE(merged->tags, std::vector<std::string>{"cluster"});
    QCOMPARE(local.findRun("recover")->parentId.value_or(-1), merged->id);
}

// Points are stored in chunks; steps logged again (a resumed run) replace the old points, across
// chunk boundaries, and a series always reads back unique and ordered by step.
void TestStore::rewrittenStepsStayUniqueAndOrdered() {
    TempDir dir("store");
    Store store(dir / "runs.db");
    const int64_t run = store.createRun(simpleRun("r"));
    for (int64_t step = 0; step < 10000; ++step) store.logMetric(run, "loss", step, double(step), 0);
    store.flush();
    for (int64_t step = 4090; step < 4100; ++step) store.logMetric(run, "loss", step, -1.0, 1);
    store.logMetric(run, "loss", 12000, 5.0, 2);  // and one beyond the end, in the same batch
    store.flush();
    for (int64_t step = 9000; step < 9003; ++step) store.logMetric(run, "loss", step, -2.0, 3);
    store.flush();
    const auto points = store.metric(run, "loss");
    QCOMPARE(points.size(), size_t{10001});
    for (size_t i = 1; i < points.size(); ++i) QVERIFY(points[i - 1].step < points[i].step);
    for (const auto& p : points) {
        if (p.step >= 4090 && p.step < 4100) QCOMPARE(p.value, -1.0);
        else if (p.step >= 9000 && p.step < 9003) QCOMPARE(p.value, -2.0);
        else QCOMPARE(p.value, p.step == 12000 ? 5.0 : double(p.step));
    }
    QCOMPARE(store.latestMetrics(run).at(0).point.step, int64_t{12000});
}

// Artifact checksums: the FIPS 180-4 test vectors, and a file equal to its bytes.
void TestStore::sha256OfArtifacts() {
    QCOMPARE(frugal::sha256Hex(""),
             std::string("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"));
    QCOMPARE(frugal::sha256Hex("abc"),
             std::string("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
    QCOMPARE(frugal::sha256Hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
             std::string("248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"));
    const std::string million(1000000, 'a');
    QCOMPARE(frugal::sha256Hex(million),
             std::string("cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"));
    TempDir dir("sha");
    frugal::test::writeText(dir / "a.bin", million);
    QCOMPARE(frugal::sha256OfFile(dir / "a.bin"), frugal::sha256Hex(million));
}

// The workbench opens a new database from two threads at once (its store service and the run
// worker): both connections must open, whichever creates the schema.
void TestStore::connectionsOpeningANewDatabaseAtOnce() {
    QTemporaryDir dir;
    for (int round = 0; round < 60; ++round) {
        const std::filesystem::path file =
            dir.filePath(QStringLiteral("race-%1.db").arg(round)).toStdString();
        std::vector<std::string> errors(4);
        std::vector<std::thread> threads;
        for (size_t t = 0; t < errors.size(); ++t)
            threads.emplace_back([&, t] {
                try {
                    Store db(file);
                    NewRun r;
                    r.method = "race";
                    db.setStatus(db.createRun(r), RunStatus::Finished);
                } catch (const std::exception& e) {
                    errors[t] = e.what();
                }
            });
        for (auto& t : threads) t.join();
        for (const auto& e : errors) QVERIFY2(e.empty(), e.c_str());
        QCOMPARE(Store(file).runs().size(), errors.size());
    }
}

// A filter that does not parse says at which column; a key given by its last part ("perplexity")
// is pointed to the keys it ends ("prune/perplexity") before the nearest by spelling.
void TestStore::filterErrorsNameTheirColumnAndTheNearestKey() {
    const auto error = [](const std::function<void()>& f) {
        try {
            f();
        } catch (const frugal::Error& e) {
            return std::string(e.what());
        }
        return std::string();
    };
    QCOMPARE(frugal::store::parseFilter("method=mezo and lr<1e-3").size(), size_t{2});
    QCOMPARE(frugal::store::parseFilter("  ").size(), size_t{0});
    QVERIFY(error([] { frugal::store::parseFilter("lr<<2"); }).find("column 4:") != std::string::npos);
    QVERIFY(error([] { frugal::store::parseFilter("and method=zo"); }).find("column 1: a term KEY OP VALUE is missing before 'and'") !=
            std::string::npos);
    QVERIFY(error([] { frugal::store::parseFilter("lr <"); }).find("column 4: no value after '<'") != std::string::npos);
    QVERIFY(error([] { frugal::store::parseFilter("=3"); }).find("column 1: no key before '='") != std::string::npos);
    TempDir dir("filter");
    Store db((dir / "runs.db").string());
    const int64_t run = db.createRun(simpleRun("pruned"));
    db.logMetric(run, "prune/perplexity", 7, 31.5, 1000);
    db.flush();
    const auto terms = frugal::store::parseFilter("perplexity>1");
    const std::string said = error([&] { frugal::store::checkFilterKeys(db, db.runs(), terms); });
    QVERIFY2(said.find("(nearest: 'prune/perplexity'") != std::string::npos, said.c_str());
}

QTEST_APPLESS_MAIN(TestStore)
#include "test_store.moc"
