// Runs through the command line: `frugal run` stores a run with its provenance and metrics;
// list / show / compare / export / rm / merge work on it; SIGTERM and SIGINT end a run as
// cancelled (exit 143 / 130) with its metrics kept; SIGKILL leaves a run that the next open marks
// interrupted; a terminal gets a live progress bar; bad input exits 2.

#include <QElapsedTimer>
#include <QtTest/QtTest>

#include <signal.h>

#include <fstream>
#include <map>
#include <set>

#include <nlohmann/json.hpp>

#include "common/method_view.h"
#include "run/jobs.h"
#include "run/workspace.h"
#include "store/store.h"
#include "test_util.h"

using frugal::store::RunStatus;
using frugal::store::Store;
using frugal::test::TempDir;

namespace {

const char* kText =
    "It is a truth universally acknowledged, that a single man in possession of a good fortune, "
    "must be in want of a wife. The food was great and the service was friendly; I would come "
    "again. The soup was cold and the bread was stale; I would not come again.\n\n";

struct Result {
    int exitCode;
    QString out, err;
};

QString bin() { return QString::fromStdString(frugal::test::envPath("FRUGAL_BIN").string()); }

Result cli(const TempDir& dir, const QStringList& args) {
    QProcess p;
    p.setWorkingDirectory(QString::fromStdString(dir.path().string()));
    p.start(bin(), QStringList{"--quiet", "--threads", "1"} + args);
    if (!p.waitForFinished(300000)) return {-1, {}, "timed out"};
    return {p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1,
            QString::fromUtf8(p.readAllStandardOutput()), QString::fromUtf8(p.readAllStandardError())};
}

void writeRecipe(const TempDir& dir) {
    std::string corpus;
    for (int i = 0; i < 40; ++i) corpus += kText;
    frugal::test::writeText(dir / "corpus.txt", corpus);
    frugal::test::writeText(dir / "held.txt", std::string(kText) + kText + kText);
    frugal::test::writeText(dir / "recipe.toml", R"(method = "pretrain"
[output]
dir = "unused"
[tokenizer]
vocab_size = 300
[model]
hidden_size = 16
num_layers = 1
num_heads = 2
max_position_embeddings = 32
[data]
holdout_fraction = 0.1
eval_text = "held.txt"
[[data.sources]]
name = "prose"
path = "corpus.txt"
[train]
steps = 20
batch_size = 2
seq_len = 16
lr = 1e-2
warmup_steps = 2
log_every = 5
eval_every = 10
eval_windows = 2
)");
}

// The first difference between run A's and run B's series KEYS (each must exist in A), compared
// bit for bit, not fuzzily; "" when they are the same.
QString differingSeries(Store& store, int64_t a, int64_t b, const QStringList& keys) {
    for (const QString& key : keys) {
        const auto x = store.metric(a, key.toStdString());
        const auto y = store.metric(b, key.toStdString());
        if (x.empty()) return key + QStringLiteral(": no points");
        if (x.size() != y.size()) return QStringLiteral("%1: %2 points vs %3").arg(key).arg(x.size()).arg(y.size());
        for (size_t i = 0; i < x.size(); ++i)
            if (x[i].step != y[i].step || !(x[i].value == y[i].value))
                return QStringLiteral("%1 step %2: %3 vs step %4: %5")
                    .arg(key).arg(x[i].step).arg(x[i].value, 0, 'g', 17).arg(y[i].step).arg(y[i].value, 0, 'g', 17);
    }
    return {};
}

// Starts a long run and waits until it has stored metrics.
std::unique_ptr<QProcess> startLongRun(const TempDir& dir, const QString& name) {
    auto p = std::make_unique<QProcess>();
    p->setWorkingDirectory(QString::fromStdString(dir.path().string()));
    p->start(bin(), {"--quiet", "--threads", "1", "run", "recipe.toml", "steps=1000000", "log_every=1",
                     "--db", "runs.db", "--name", name});
    p->waitForStarted();
    for (int i = 0; i < 600; ++i) {
        QTest::qWait(100);
        Store store(dir / "runs.db");
        const auto r = store.findRun(name.toStdString());
        if (r && !store.metric(r->id, "train/loss").empty()) break;
    }
    return p;
}

}  // namespace

class TestRuns : public QObject {
    Q_OBJECT
private slots:
    void runListShowCompareExportRm();
    void mergeImportsOnce();
    void signalsCancel_data();
    void signalsCancel();
    void sigkillMarksInterrupted();
    void killedZoRunReplaysFromItsGrowingTrajectory();
    void fullDiskKeepsTheCauseAndTheReads();
    void stopDuringAnyPhaseCancelsWithinASecond_data();
    void stopDuringAnyPhaseCancelsWithinASecond();
    void sweepRunsTheGrid();
    void evaluationRun();
    void resumeEqualsUninterrupted();
    void fineTuningResumeEqualsUninterrupted_data();
    void fineTuningResumeEqualsUninterrupted();
    void progressBarOnATerminal();
    void badInputExitsTwo();
    void fineTuningRunsAndReplay();
    void sharpZoAndLandscapeThroughTheCli();
    void liveLandscapeLeavesTrainingUnchanged();
    void experimentConfigsParse();
    void pruneThenRecoverAsLinkedRuns();
};

void TestRuns::runListShowCompareExportRm() {
    TempDir dir("runs");
    writeRecipe(dir);
    auto r = cli(dir, {"run", "recipe.toml", "--db", "runs.db", "--name", "base"});
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));
    r = cli(dir, {"run", "recipe.toml", "lr=3e-3", "--db", "runs.db", "--name", "slow", "--tag",
                     "sweep"});
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));

    {
        Store store(dir / "runs.db");
        const auto base = store.findRun("base");
        QVERIFY(base);
        QCOMPARE(base->status, RunStatus::Finished);
        QCOMPARE(base->seed.value_or(-1), int64_t{1});
        QVERIFY(base->commandLine.find("run recipe.toml --db runs.db --name base") != std::string::npos);
        QVERIFY(base->config.find("lr = 0.01") != std::string::npos);
        QCOMPARE(store.params(base->id).at("train.lr"), std::string("0.01"));
        QCOMPARE(store.metric(base->id, "train/loss").size(), size_t{20});
        QCOMPARE(store.artifacts(base->id).size(), size_t{4});
        QVERIFY(std::filesystem::exists(store.artifacts(base->id)[0].path));
        QCOMPARE(store.findRun("slow")->tags, std::vector<std::string>{"sweep"});
    }

    r = cli(dir, {"list", "--db", "runs.db", "--json"});
    QCOMPARE(r.exitCode, 0);
    auto list = nlohmann::json::parse(r.out.toStdString());
    QCOMPARE(list.size(), size_t{2});
    QCOMPARE(list[0]["name"].get<std::string>(), std::string("slow"));  // newest first
    // the table's result column is the pre-training row's headline result, as the runs table's
    {
        const auto latest = list[0]["latest"];
        const std::string ppl = frugal::resultNumber(latest["eval/perplexity"].get<double>());
        r = cli(dir, {"list", "--db", "runs.db"});
        QCOMPARE(r.exitCode, 0);
        QVERIFY2(r.out.contains("result") && r.out.contains(QString::fromStdString("ppl " + ppl)),
                 qPrintable(r.out));
    }
    r = cli(dir, {"list", "--db", "runs.db", "--json", "--filter", "lr<5e-3 and method=pretrain"});
    list = nlohmann::json::parse(r.out.toStdString());
    QCOMPARE(list.size(), size_t{1});
    QCOMPARE(list[0]["name"].get<std::string>(), std::string("slow"));
    r = cli(dir, {"list", "--db", "runs.db", "--json", "--filter", "tag=sweep"});
    QCOMPARE(nlohmann::json::parse(r.out.toStdString()).size(), size_t{1});
    r = cli(dir, {"list", "--db", "runs.db", "--json", "--status", "failed"});
    QCOMPARE(nlohmann::json::parse(r.out.toStdString()).size(), size_t{0});

    r = cli(dir, {"show", "base", "--db", "runs.db"});
    QCOMPARE(r.exitCode, 0);
    QVERIFY(r.out.contains("status      finished"));
    QVERIFY(r.out.contains("train/loss"));

    r = cli(dir, {"compare", "base", "slow", "--db", "runs.db"});
    QCOMPARE(r.exitCode, 0);
    QVERIFY(r.out.contains("train.lr"));
    QVERIFY(!r.out.contains("train.steps"));  // equal in both: not shown
    QVERIFY(r.out.contains("eval/perplexity"));

    r = cli(dir, {"export", "base", "slow", "--db", "runs.db", "--csv", "out"});
    QCOMPARE(r.exitCode, 0);
    const auto csvFiles = std::distance(std::filesystem::directory_iterator(dir / "out"),
                                        std::filesystem::directory_iterator{});
    QCOMPARE(csvFiles, 2);
    r = cli(dir, {"export", "base", "--db", "runs.db", "--json", "outj"});
    QCOMPARE(r.exitCode, 0);
    const auto jsonFile = std::filesystem::directory_iterator(dir / "outj")->path();
    const auto j = nlohmann::json::parse(frugal::test::readText(jsonFile));
    QCOMPARE(j["metrics"]["train/loss"].size(), size_t{20});  // every point, none sampled away
    QCOMPARE(j["params"]["train.steps"].get<std::string>(), std::string("20"));

    std::filesystem::path slowFolder;
    {
        Store before(dir / "runs.db", Store::Access::Read);
        slowFolder = frugal::run::runArtifactDir(before.path(), before.findRun("slow")->uuid);
    }
    QVERIFY(std::filesystem::exists(slowFolder));
    r = cli(dir, {"rm", "slow", "--db", "runs.db"});
    QCOMPARE(r.exitCode, 0);
    QVERIFY2(r.out.contains(QString::fromStdString("and its folder " + slowFolder.string())), qPrintable(r.out));
    QVERIFY(!std::filesystem::exists(slowFolder));  // its artifacts went with it
    Store store(dir / "runs.db");
    QCOMPARE(store.runs().size(), size_t{1});
    QVERIFY(std::filesystem::exists(frugal::run::runArtifactDir(store.path(), store.findRun("base")->uuid)));
}

void TestRuns::mergeImportsOnce() {
    TempDir dir("runs");
    writeRecipe(dir);
    QCOMPARE(cli(dir, {"run", "recipe.toml", "--db", "node.db", "--name", "remote"}).exitCode, 0);
    QCOMPARE(cli(dir, {"run", "recipe.toml", "--db", "local.db", "--name", "here"}).exitCode, 0);
    auto r = cli(dir, {"merge", "node.db", "--db", "local.db"});
    QCOMPARE(r.exitCode, 0);
    QVERIFY(r.out.contains("merged 1 new run"));
    r = cli(dir, {"merge", "node.db", "--db", "local.db"});
    QVERIFY(r.out.contains("merged 0 new run"));
    Store store(dir / "local.db");
    QCOMPARE(store.runs().size(), size_t{2});
    QCOMPARE(store.metric(store.findRun("remote")->id, "train/loss").size(), size_t{20});
}

void TestRuns::signalsCancel_data() {
    QTest::addColumn<int>("signal");
    QTest::addColumn<int>("exitCode");
    QTest::newRow("SIGTERM") << int(SIGTERM) << 143;
    QTest::newRow("SIGINT") << int(SIGINT) << 130;
}

void TestRuns::signalsCancel() {
    QFETCH(int, signal);
    QFETCH(int, exitCode);
    TempDir dir("runs");
    writeRecipe(dir);
    auto p = startLongRun(dir, "long");
    ::kill(static_cast<pid_t>(p->processId()), signal);
    QVERIFY(p->waitForFinished(60000));
    QCOMPARE(p->exitCode(), exitCode);
    Store store(dir / "runs.db");
    const auto r = store.findRun("long");
    QCOMPARE(r->status, RunStatus::Cancelled);
    QVERIFY(r->error.find("stopped before step") != std::string::npos);
    QVERIFY(!store.metric(r->id, "train/loss").empty());
}

void TestRuns::stopDuringAnyPhaseCancelsWithinASecond_data() {
    QTest::addColumn<QStringList>("args");     // after `frugal --quiet --threads 1`; SRC: the source tree
    QTest::addColumn<QString>("trigger");      // a metric whose first point means the phase has begun
    QTest::addColumn<int>("delayMs");          // else: this long after the run is stored
    QTest::addColumn<QString>("notStored");    // the interrupted phase's result, never stored
    const QString zo = "SRC/experiments/zo/mezo-full-sentiment.toml";
    QTest::newRow("zo, the first dev evaluation")
        << QStringList{"run", zo, "zo.steps=4", "zo.eval_limit=0"} << "params/trainable" << 0 << "dev/accuracy";
    QTest::newRow("zo, the final dev and test evaluations")
        << QStringList{"run", zo, "zo.steps=3", "zo.eval_limit=0", "zo.eval_every=100"} << "train/loss" << 0
        << "test/accuracy";
    QTest::newRow("fo, the first dev evaluation")
        << QStringList{"run", "SRC/experiments/zo/fo-adamw-sentiment.toml", "fo.steps=4", "fo.eval_limit=0"}
        << "params/trainable" << 0 << "dev/accuracy";
    QTest::newRow("eval task, between examples")
        << QStringList{"eval", "task", "--task", "sentiment"} << "" << 900 << "eval/sentiment/accuracy";
    QTest::newRow("eval ppl, between windows")
        << QStringList{"eval", "ppl", "--text", "SRC/resources/data/text/moby-dick.txt", "--seq-len", "128"} << "" << 900
        << "eval/perplexity";
    QTest::newRow("prune, perplexity and blocks")
        << QStringList{"prune", "--method", "wanda", "--sparsity", "0.5"} << "" << 1500 << "prune/perplexity";
    QTest::newRow("sharpzo, stage 1 generations and evaluations")
        << QStringList{"run", "SRC/experiments/sharpzo/sharpzo-prompt-sentiment.toml", "sharpzo.eval_limit=0"} << ""
        << 1500 << "test/accuracy";
    QTest::newRow("landscape, between points")
        << QStringList{"run", "SRC/experiments/landscape/builtin-2d-sentiment.toml"} << "" << 1500
        << "landscape/centre_loss";
    QTest::newRow("pretrain, between steps")  // recipe.toml: writeRecipe's
        << QStringList{"pretrain", "recipe.toml", "--steps", "1000000", "--out", "lm"} << "train/loss" << 0
        << "eval/perplexity";
    // probe.toml (written by the test) scores a stored ZO run's checkpoints on the whole dev split
    QTest::newRow("probe, checkpoints and their evaluations")
        << QStringList{"run", "probe.toml"} << "" << 1500 << "probe/accuracy";
}

// A stop (SIGTERM) is honoured at the next example, window, block, point, generation or step of
// whatever phase a method is in, evaluation included: the process ends within a second, the run
// is cancelled, and the interrupted phase stores no result.
void TestRuns::stopDuringAnyPhaseCancelsWithinASecond() {
    QFETCH(QStringList, args);
    QFETCH(QString, trigger);
    QFETCH(int, delayMs);
    QFETCH(QString, notStored);
    TempDir dir("stop");
    const QString source = QString::fromStdString(frugal::test::envPath("FRUGAL_SOURCE_DIR").string());
    for (QString& a : args) a.replace("SRC", source);
    if (args.contains("recipe.toml")) writeRecipe(dir);
    if (args.contains("probe.toml")) {  // a stored ZO run to probe, each checkpoint on all of dev
        frugal::test::writeText(dir / "zo.toml", "method = \"zo\"\n[zo]\nsteps = 20\neval_every = 20\neval_limit = 4\n"
                                                 "batch_size = 2\nlr = 1e-5\n");
        const auto r = cli(dir, {"run", "zo.toml", "--db", "base.db", "--name", "base"});
        QVERIFY2(r.exitCode == 0, qPrintable(r.err));
        Store store(dir / "base.db");
        const auto base = store.findRun("base");
        const auto trajectory = frugal::run::runArtifactDir(dir / "base.db", base->uuid) / "trajectory.csv";
        frugal::test::writeText(dir / "probe.toml", "method = \"probe\"\n[probe]\nconfig = \"zo.toml\"\ntrajectory = \"" +
                                                        trajectory.string() + "\"\ntask = \"sentiment\"\nevery = 5\nlimit = 0\n");
    }
    QProcess p;
    p.setWorkingDirectory(QString::fromStdString(dir.path().string()));
    p.start(bin(), QStringList{"--quiet", "--threads", "1"} + args + QStringList{"--db", "runs.db", "--name", "stopped"});
    QVERIFY(p.waitForStarted());
    QElapsedTimer since;
    bool stored = false, began = false;
    for (int i = 0; i < 6000 && !began; ++i) {
        QTest::qWait(10);
        if (p.state() != QProcess::Running) break;
        if (!std::filesystem::exists(dir / "runs.db")) continue;
        Store store(dir / "runs.db", Store::Access::Read);
        const auto run = store.findRun("stopped");
        if (!run) continue;
        if (!stored) stored = true, since.start();
        began = trigger.isEmpty() ? since.elapsed() >= delayMs : !store.metric(run->id, trigger.toStdString()).empty();
    }
    QVERIFY2(began, qPrintable(QString::fromUtf8(p.readAllStandardError())));
    QElapsedTimer stop;
    stop.start();
    ::kill(static_cast<pid_t>(p.processId()), SIGTERM);
    QVERIFY(p.waitForFinished(60000));
    const qint64 ms = stop.elapsed();
    qInfo("%s: ended %lld ms after the stop", QTest::currentDataTag(), static_cast<long long>(ms));
    QCOMPARE(p.exitCode(), 143);
    Store store(dir / "runs.db");
    const auto run = store.findRun("stopped");
    QCOMPARE(run->status, RunStatus::Cancelled);
    QVERIFY2(store.metric(run->id, notStored.toStdString()).empty(), qPrintable(notStored));
    QVERIFY2(ms < 1000, qPrintable(QString("%1 ms").arg(ms)));
}

// A ZO run killed before its first resume point (and before it registered its trajectory) is
// replayable: its trajectory grows as its steps are stored.
void TestRuns::killedZoRunReplaysFromItsGrowingTrajectory() {
    TempDir dir("replay-killed");
    frugal::test::writeText(dir / "zo.toml", R"(method = "zo"
[zo]
steps = 100000
eval_every = 100000
eval_limit = 4
batch_size = 2
lr = 1e-5
)");
    QProcess p;
    p.setWorkingDirectory(QString::fromStdString(dir.path().string()));
    p.start(bin(), {"--quiet", "--threads", "1", "run", "zo.toml", "--db", "runs.db", "--name", "killed"});
    QVERIFY(p.waitForStarted());
    size_t stored = 0;
    for (int i = 0; i < 6000 && stored < 6; ++i) {
        QTest::qWait(10);
        if (!std::filesystem::exists(dir / "runs.db")) continue;
        Store store(dir / "runs.db", Store::Access::Read);
        if (const auto run = store.findRun("killed")) stored = store.metric(run->id, "train/loss").size();
    }
    QVERIFY(stored >= 6);
    p.kill();
    QVERIFY(p.waitForFinished(60000));
    {
        Store store(dir / "runs.db");
        const auto run = store.findRun("killed");
        QCOMPARE(run->status, RunStatus::Interrupted);
        stored = store.metric(run->id, "train/loss").size();
        for (const auto& a : store.artifacts(run->id)) QVERIFY(a.kind != "trajectory");  // never registered
    }
    auto r = cli(dir, {"replay", "killed", "--db", "runs.db", "--out", "rebuilt"});
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));
    const QRegularExpression after("after (\\d+) steps");
    const auto m = after.match(r.out);
    QVERIFY2(m.hasMatch() && m.captured(1).toULongLong() >= stored, qPrintable(r.out));
    QVERIFY(std::filesystem::exists(dir / "rebuilt" / "model.safetensors"));
    r = cli(dir, {"replay", "killed", "--db", "runs.db", "--out", "at3", "--step", "3"});
    QVERIFY2(r.exitCode == 0 && r.out.contains("after 3 steps"), qPrintable(r.out + r.err));
}

// A disk that fills during a run: the WAL stays small, the run ends `failed` with the cause
// stored (the database's reserve of free space given back for it), one true line is printed,
// and the read commands work while the disk is still full. A small tmpfs is the full disk.
void TestRuns::fullDiskKeepsTheCauseAndTheReads() {
    TempDir dir("full-disk");
    const auto disk = dir / "disk";
    std::filesystem::create_directories(disk);
    if (QProcess::execute("mount", {"-t", "tmpfs", "-o", "size=4m", "tmpfs", QString::fromStdString(disk.string())}) != 0)
        QSKIP("needs a small tmpfs (mount as root) to play the full disk");
    struct Unmount {
        std::filesystem::path at;
        ~Unmount() { QProcess::execute("umount", {QString::fromStdString(at.string())}); }
    } unmount{disk};
    const QString db = QString::fromStdString((disk / "runs.db").string());
    QProcess p;
    p.setWorkingDirectory(QString::fromStdString(dir.path().string()));
    const QString source = QString::fromStdString(frugal::test::envPath("FRUGAL_SOURCE_DIR").string());
    p.start(bin(), {"--quiet", "--threads", "1", "run", source + "/experiments/zo/mezo-full-sentiment.toml",
                    "zo.steps=100000", "zo.eval_every=100000", "zo.eval_limit=4", "--db", db, "--name", "filled"});
    QVERIFY(p.waitForStarted());
    // ten seconds of steps (about 1 MB of WAL with SQLite's defaults): the WAL stays small
    size_t stored = 0;
    uintmax_t widestWal = 0;
    QElapsedTimer running;
    running.start();
    while (running.elapsed() < 10000 && p.state() == QProcess::Running) {
        QTest::qWait(50);
        std::error_code ec;
        const auto wal = std::filesystem::file_size(disk / "runs.db-wal", ec);
        if (!ec) widestWal = std::max(widestWal, wal);
        if (!std::filesystem::exists(disk / "runs.db")) continue;
        Store store(disk / "runs.db", Store::Access::Read);
        if (const auto run = store.findRun("filled")) stored = store.metric(run->id, "train/loss").size();
    }
    QVERIFY2(stored >= 20, qPrintable(QString::fromUtf8(p.readAllStandardError())));
    qInfo("%llu steps stored; the WAL reached %llu bytes", static_cast<unsigned long long>(stored),
          static_cast<unsigned long long>(widestWal));
    // the 512 KiB limit and one batch; SQLite's default let it pass 700 KB here in the same 10 s
    QVERIFY2(widestWal > 0 && widestWal < 640 * 1024, qPrintable(QString::number(widestWal)));
    {  // the disk fills up
        std::ofstream filler(disk / "filler", std::ios::binary);
        const std::string block(64 * 1024, 'x');
        while (filler.write(block.data(), static_cast<std::streamsize>(block.size())) && filler.flush()) {
        }
    }
    QVERIFY(p.waitForFinished(120000));
    const QString err = QString::fromUtf8(p.readAllStandardError());
    QCOMPARE(p.exitCode(), 1);
    QVERIFY2(err.contains("failed") && err.contains("disk full") && !err.contains("could not be stored"), qPrintable(err));
    // reads while the disk is still full
    auto r = cli(dir, {"list", "--db", db});
    QVERIFY2(r.exitCode == 0 && r.out.contains("failed"), qPrintable(r.out + r.err));
    r = cli(dir, {"show", "filled", "--db", db});
    QVERIFY2(r.exitCode == 0 && r.out.contains("disk full"), qPrintable(r.out + r.err));
    // space freed: the stored error still says why
    std::filesystem::remove(disk / "filler");
    Store store(disk / "runs.db");
    const auto run = store.findRun("filled");
    QCOMPARE(run->status, RunStatus::Failed);
    QVERIFY2(run->error.find("disk full") != std::string::npos, run->error.c_str());
}

void TestRuns::sigkillMarksInterrupted() {
    TempDir dir("runs");
    writeRecipe(dir);
    auto p = startLongRun(dir, "doomed");
    p->kill();
    QVERIFY(p->waitForFinished(60000));
    Store store(dir / "runs.db");
    const auto r = store.findRun("doomed");
    QCOMPARE(r->status, RunStatus::Interrupted);
    QVERIFY(!store.metric(r->id, "train/loss").empty());
    // and `frugal list` shows it so
    const auto out = cli(dir, {"list", "--db", "runs.db"});
    QVERIFY(out.out.contains("interrupted"));
}

void TestRuns::sweepRunsTheGrid() {
    TempDir dir("runs");
    writeRecipe(dir);
    auto r = cli(dir, {"run", "-m", "recipe.toml", "lr=1e-2,3e-3", "steps=4,6", "--jobs", "2",
                       "--db", "runs.db"});
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));
    {
        Store store(dir / "runs.db");
        const auto runs = store.runs();
        QCOMPARE(runs.size(), size_t{4});
        std::set<std::pair<std::string, std::string>> grid;
        for (const auto& run : runs) {
            QCOMPARE(run.status, RunStatus::Finished);
            const auto params = store.params(run.id);
            grid.insert({params.at("train.lr"), params.at("train.steps")});
            QCOMPARE(store.metric(run.id, "train/loss").size(),
                     size_t(std::stoi(params.at("train.steps"))));
        }
        QCOMPARE(grid.size(), size_t{4});
        // named by what differs, the config as the experiment
        std::set<std::string> names;
        for (const auto& run : runs) {
            names.insert(run.name);
            QCOMPARE(run.experiment, std::string("recipe"));
        }
        QCOMPARE(names, (std::set<std::string>{"lr=1e-2 steps=4", "lr=1e-2 steps=6", "lr=3e-3 steps=4", "lr=3e-3 steps=6"}));
    }
    // a key set to one value is the same for every run: not in the names; --name leads them
    QCOMPARE(frugal::run::sweepName({"zo.lr=1e-3", "zo.seed=1"}, {{"zo.lr=1e-3", "zo.seed=1"}, {"zo.lr=1e-4", "zo.seed=1"}},
                                    "probe"),
             std::string("probe lr=1e-3"));
    QCOMPARE(frugal::run::sweepName({"zo.seed=1", "peft.seed=2"},
                                    {{"zo.seed=1", "peft.seed=2"}, {"zo.seed=2", "peft.seed=3"}}, ""),
             std::string("zo.seed=1 peft.seed=2"));
    // one bad value in the grid: nothing runs
    r = cli(dir, {"run", "-m", "recipe.toml", "lr=1e-2,-3", "--db", "runs.db"});
    QCOMPARE(r.exitCode, 2);
    QVERIFY2(r.err.contains("train.lr is -3, expected a number in [0, 10]"), qPrintable(r.err));
    Store store(dir / "runs.db");
    QCOMPARE(store.runs().size(), size_t{4});
}

// method = "eval" through the Runner: the same figures as `frugal eval task` / `eval ppl`, which
// are stored runs themselves, as is `frugal pretrain` (#14): in `frugal list` with their metrics
// and log; eval prints its figures, the run id in --json and on stderr; a failed one is a failed
// run, not a lost one.
void TestRuns::evaluationRun() {
    TempDir dir("runs");
    writeRecipe(dir);
    auto r = cli(dir, {"pretrain", "recipe.toml", "--db", "runs.db", "--out", "model", "--name", "lm"});
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));
    QVERIFY(!std::filesystem::exists(dir / "unused"));  // --out, not the config's output.dir
    const std::string modelDir = (dir / "model").string();
    QVERIFY(std::filesystem::exists(dir / "model" / "model.safetensors"));
    frugal::test::writeText(dir / "eval.toml", "method = \"eval\"\n[eval]\nmodel = \"" + modelDir +
                                                   "\"\ntasks = [\"sentiment\"]\nlimit = 8\n"
                                                   "text = \"held.txt\"\nseq_len = 16\n");
    r = cli(dir, {"run", "eval.toml", "--db", "runs.db", "--name", "ev"});
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));
    const auto task = cli(dir, {"eval", "task", "--model", QString::fromStdString(modelDir),
                                "--task", "sentiment", "--limit", "8", "--json", "--db", "runs.db"});
    QVERIFY2(task.exitCode == 0, qPrintable(task.err));
    const auto taskJson = nlohmann::json::parse(task.out.toStdString());
    const int64_t taskRun = taskJson["run"].get<int64_t>();
    QVERIFY2(task.err.contains(QString("run %1 ").arg(taskRun)), qPrintable(task.err));
    const auto ppl = cli(dir, {"eval", "ppl", "--model", QString::fromStdString(modelDir),
                               "--text", "held.txt", "--seq-len", "16", "--batch", "8", "--json",
                               "--db", "runs.db"});
    QVERIFY2(ppl.exitCode == 0, qPrintable(ppl.err));
    r = cli(dir, {"eval", "task", "--model", QString::fromStdString(modelDir), "--task", "sentiment",
                  "--tokenizer", "no-such-tokenizer", "--db", "runs.db"});
    QCOMPARE(r.exitCode, 2);  // refused before a run: a missing tokenizer is checked first
    QVERIFY2(r.err.contains("eval.tokenizer: no such file or folder 'no-such-tokenizer'"), qPrintable(r.err));
    QVERIFY(r.out.isEmpty());
    // a tokenizer file that is no tokenizer fails once the run has started: a failed run, exit 2
    r = cli(dir, {"eval", "task", "--model", QString::fromStdString(modelDir), "--task", "sentiment",
                  "--tokenizer", "held.txt", "--db", "runs.db"});
    QCOMPARE(r.exitCode, 2);
    QVERIFY(r.out.isEmpty());
    Store store(dir / "runs.db");
    const auto ev = store.findRun("ev");
    QCOMPARE(ev->method, std::string("eval"));
    const auto accuracy = store.metric(ev->id, "eval/sentiment/accuracy");
    QCOMPARE(accuracy.size(), size_t{1});
    QCOMPARE(accuracy[0].value, taskJson["accuracy"].get<double>());
    QCOMPARE(store.metric(taskRun, "eval/sentiment/accuracy").at(0).value, accuracy[0].value);
    const auto runs = store.runs();  // newest first: the failed eval, ppl, task, ev, lm
    QCOMPARE(runs.size(), size_t{5});
    QCOMPARE(runs[4].method, std::string("pretrain"));
    QCOMPARE(runs[4].name, std::string("lm"));
    for (size_t i = 0; i < 4; ++i) QCOMPARE(runs[i].method, std::string("eval"));
    QVERIFY(runs[0].status == frugal::store::RunStatus::Failed);
    QCOMPARE(store.metric(ev->id, "eval/perplexity").at(0).value,
             nlohmann::json::parse(ppl.out.toStdString())["perplexity"].get<double>());
    QCOMPARE(store.metric(runs[1].id, "eval/perplexity").at(0).value,
             store.metric(ev->id, "eval/perplexity").at(0).value);
    QCOMPARE(store.metric(store.findRun("lm")->id, "train/loss").size(), size_t{20});
    bool runtimeLogged = false;  // the numeric runtime is in every run's stored log
    for (const auto& line : store.logs(taskRun)) runtimeLogged |= line.text.find("BLAS: ") != std::string::npos;
    QVERIFY(runtimeLogged);
    r = cli(dir, {"list", "--db", "runs.db", "--json", "--filter", "method=pretrain"});
    QCOMPARE(nlohmann::json::parse(r.out.toStdString()).size(), size_t{1});
    r = cli(dir, {"list", "--db", "runs.db", "--json", "--filter", "method=eval"});
    QCOMPARE(nlohmann::json::parse(r.out.toStdString()).size(), size_t{4});
    // a task name that is neither built in nor given a template: refused before running
    frugal::test::writeText(dir / "bad.toml",
                            "method = \"eval\"\n[eval]\ntasks = [\"nli\"]\n");
    r = cli(dir, {"run", "bad.toml", "--db", "runs.db"});
    QCOMPARE(r.exitCode, 2);
    QVERIFY(r.err.contains("eval.tasks: 'nli' is not a built-in task"));
}

// A run killed with SIGKILL after its first checkpoints and resumed gives the same metrics, bit
// for bit, as the run that was never interrupted.
void TestRuns::resumeEqualsUninterrupted() {
    TempDir dir("runs");
    writeRecipe(dir);
    const QStringList common = {"run", "recipe.toml", "steps=400", "train.checkpoint_every=20",
                                "train.log_every=5", "--db", "runs.db"};
    QCOMPARE(cli(dir, common + QStringList{"--name", "whole"}).exitCode, 0);

    QProcess p;
    p.setWorkingDirectory(QString::fromStdString(dir.path().string()));
    p.start(bin(), QStringList{"--quiet", "--threads", "1"} + common + QStringList{"--name", "cut"});
    QVERIFY(p.waitForStarted());
    bool checkpointed = false;
    for (int i = 0; i < 3000 && !checkpointed; ++i) {
        QTest::qWait(20);
        Store store(dir / "runs.db");
        const auto r = store.findRun("cut");
        checkpointed = r && store.metric(r->id, "train/loss").size() >= 50;
    }
    QVERIFY(checkpointed);
    p.kill();
    QVERIFY(p.waitForFinished(60000));
    {
        Store store(dir / "runs.db");
        const auto r = store.findRun("cut");
        QCOMPARE(r->status, RunStatus::Interrupted);
        QVERIFY(store.metric(r->id, "train/loss").size() < 400);
    }
    const auto resumed = cli(dir, {"run", "--resume", "cut", "--db", "runs.db"});
    QVERIFY2(resumed.exitCode == 0, qPrintable(resumed.err));
    QVERIFY(resumed.out.contains("resumed from the checkpoint at step"));

    Store store(dir / "runs.db");
    const auto whole = store.findRun("whole");
    const auto cut = store.findRun("cut");
    QCOMPARE(cut->status, RunStatus::Finished);
    QCOMPARE(differingSeries(store, whole->id, cut->id,
                             {"train/loss", "train/lr", "train/grad_norm", "held_out/mean", "eval/perplexity"}),
             QString());
    // the saved models are the same bytes
    QCOMPARE(store.artifacts(whole->id)[0].sha256, store.artifacts(cut->id)[0].sha256);
    // a finished run cannot be resumed
    const auto again = cli(dir, {"run", "--resume", "cut", "--db", "runs.db"});
    QCOMPARE(again.exitCode, 2);
    QVERIFY(again.err.contains("finished; there is nothing to resume"));
}

void TestRuns::fineTuningResumeEqualsUninterrupted_data() {
    QTest::addColumn<QString>("config");
    QTest::addColumn<int>("signal");  // SIGTERM: stopped (resume point at the stop); SIGKILL: killed
    QTest::addColumn<QStringList>("keys");
    const QString zo = QStringLiteral(R"(method = "zo"
[zo]
steps = 150
batch_size = 2
lr = 1e-3
eps = 1e-2
eval_every = 10
eval_limit = 4
save = true
)");
    const QStringList zoKeys = {"train/loss", "zo/projected_grad", "zo/seed", "zo/forward_passes",
                                "zo/lr", "dev/accuracy", "dev/loss", "test/accuracy", "test/loss"};
    QTest::newRow("zo sgd full, stopped")
        << QString(zo).replace("lr = 1e-3", "lr = 1e-5") + "[peft]\ntarget = \"full\"\n" << int(SIGTERM)
        << zoKeys;
    QTest::newRow("zo adam lora, q=2, killed")
        << zo + "optimizer = \"adam\"\nqueries = 2\n[peft]\ntarget = \"lora\"\nlora_rank = 2\n"
        << int(SIGKILL) << zoKeys;
    const QString fo = QStringLiteral(R"(method = "fo"
[fo]
steps = 150
batch_size = 2
lr = 1e-3
eval_every = 10
eval_limit = 4
save = true
)");
    const QStringList foKeys = {"train/loss", "train/grad_norm", "train/lr", "dev/accuracy",
                                "dev/loss", "test/accuracy", "test/loss"};
    QTest::newRow("fo adamw lora, killed")
        << fo + "[peft]\ntarget = \"lora\"\nlora_rank = 2\n" << int(SIGKILL) << foKeys;
    QTest::newRow("fo sgd prefix, stopped")
        << fo + "optimizer = \"sgd\"\n[peft]\ntarget = \"prefix\"\n" << int(SIGTERM) << foKeys;
}

// The resume point of run "cut" in DIR proves itself before it is used: each field of its
// state.json edited, the file it stands on changed, or its folder gone, `--resume` refuses with
// exit 2 naming what disagrees, and stores nothing (the run keeps its status and its steps).
void checkResumePointProvesItself(const TempDir& dir) {
    std::filesystem::path artifacts;
    RunStatus status{};
    size_t stored = 0;
    {
        Store store(dir / "runs.db");
        const auto run = store.findRun("cut");
        artifacts = frugal::run::runArtifactDir(dir / "runs.db", run->uuid);
        status = run->status;
        stored = store.metric(run->id, "train/loss").size();
    }
    const auto state = artifacts / "resume" / "state.json";
    const std::string original = frugal::test::readText(state);
    const nlohmann::json intact = nlohmann::json::parse(original);
    const auto refused = [&](const QString& what, const QString& says) {
        const auto r = cli(dir, {"run", "--resume", "cut", "--db", "runs.db"});
        QVERIFY2(r.exitCode == 2 && r.err.contains(says), qPrintable(what + ": " + r.err));
        Store store(dir / "runs.db");
        const auto run = store.findRun("cut");
        QCOMPARE(run->status, status);
        QCOMPARE(store.metric(run->id, "train/loss").size(), stored);
    };
    // every field, one at a time (a number moved by one, a string by one character)
    std::vector<nlohmann::json::json_pointer> fields;
    for (const auto& [key, value] : intact.items()) {
        if (value.is_object() || value.is_array()) continue;
        fields.emplace_back("/" + key);
    }
    for (const auto& [key, value] : intact["counters"].items()) fields.emplace_back("/counters/" + key);
    for (size_t i = 0; i < intact["refers"].size(); ++i)
        for (const char* key : {"path", "lines", "sha256"})
            fields.emplace_back("/refers/" + std::to_string(i) + "/" + key);
    QVERIFY(fields.size() >= 12);
    for (const auto& field : fields) {
        nlohmann::json edited = intact;
        nlohmann::json& v = edited[field];
        if (v.is_number_integer()) v = v.get<int64_t>() + 1;
        else if (v.is_number()) v = v.get<double>() + 0.125;
        else if (v.is_string()) {
            std::string text = v.get<std::string>();
            text.back() = text.back() == '1' ? '2' : '1';
            v = text;
        }
        frugal::test::writeText(state, edited.dump(1) + "\n");
        refused(QString::fromStdString(field.to_string()), "state.json");
    }
    frugal::test::writeText(state, original);
    // what it stands on: a byte of the referred file changed
    const auto referred = artifacts / intact["refers"][0]["path"].get<std::string>();
    const std::string bytes = frugal::test::readText(referred);
    std::string changed = bytes;
    changed[changed.size() / 2] ^= 1;
    frugal::test::writeText(referred, changed);
    refused("the referred file", "which changed since the point was written");
    frugal::test::writeText(referred, bytes);
    // its folder deleted
    std::filesystem::rename(artifacts / "resume", artifacts / "resume.away");
    refused("the folder", "is missing");
    std::filesystem::rename(artifacts / "resume.away", artifacts / "resume");
}

// A ZO or FO run stopped (SIGTERM) or killed (SIGKILL) part-way and resumed with `frugal run
// --resume` gives the same metrics, bit for bit, and the same saved model as the run that was
// never interrupted: the ZO state replayed from the trajectory, the FO state from its checkpoint,
// the data and seed generator and the dev figures from the resume point.
void TestRuns::fineTuningResumeEqualsUninterrupted() {
    QFETCH(QString, config);
    QFETCH(int, signal);
    QFETCH(QStringList, keys);
    TempDir dir("ft-resume");
    frugal::test::writeText(dir / "ft.toml", config.toStdString());
    auto r = cli(dir, {"run", "ft.toml", "--db", "runs.db", "--name", "whole"});
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));

    QProcess p;
    p.setWorkingDirectory(QString::fromStdString(dir.path().string()));
    p.start(bin(), {"--quiet", "--threads", "1", "run", "ft.toml", "--db", "runs.db", "--name", "cut"});
    QVERIFY(p.waitForStarted());
    bool far = false;
    for (int i = 0; i < 6000 && !far; ++i) {
        QTest::qWait(10);
        Store store(dir / "runs.db");
        const auto run = store.findRun("cut");
        far = run && store.metric(run->id, "train/loss").size() >= 25;  // past the step-20 evaluation
    }
    QVERIFY(far);
    ::kill(static_cast<pid_t>(p.processId()), signal);
    QVERIFY(p.waitForFinished(60000));
    int64_t estimateWall = 0;  // the memory estimate the first attempt stored at step 0
    {
        Store store(dir / "runs.db");
        const auto run = store.findRun("cut");
        QCOMPARE(run->status, signal == SIGKILL ? RunStatus::Interrupted : RunStatus::Cancelled);
        QVERIFY(store.metric(run->id, "train/loss").size() < 150);
        const auto estimate = store.metric(run->id, "mem/estimate_mb");
        QVERIFY(!estimate.empty() && estimate.front().step == 0);
        estimateWall = estimate.front().wallMs;
    }
    if (signal == SIGTERM) checkResumePointProvesItself(dir);
    r = cli(dir, {"run", "--resume", "cut", "--db", "runs.db"});
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));
    QVERIFY2(r.out.contains("resumed at step"), qPrintable(r.out));

    Store store(dir / "runs.db");
    const auto whole = store.findRun("whole");
    const auto cut = store.findRun("cut");
    QCOMPARE(cut->status, RunStatus::Finished);
    QCOMPARE(differingSeries(store, whole->id, cut->id, keys), QString());
    // the resume is marked where it happened, and step 0's estimate is the first attempt's (a
    // resumed run writes none again)
    const auto resumedAt = store.metric(cut->id, "run/resumed_at");
    QCOMPARE(resumedAt.size(), size_t{1});
    QVERIFY(resumedAt.front().step > 0 && resumedAt.front().step < 150);
    QCOMPARE(store.metric(cut->id, "mem/estimate_mb").front().wallMs, estimateWall);
    QVERIFY(store.metric(whole->id, "run/resumed_at").empty());
    // the saved models (and a ZO run's trajectories) are the same bytes
    std::map<std::string, std::string> wholeFiles, cutFiles;
    for (const auto& a : store.artifacts(whole->id)) wholeFiles[a.kind] = a.sha256;
    for (const auto& a : store.artifacts(cut->id)) cutFiles[a.kind] = a.sha256;
    QVERIFY(wholeFiles.count("model"));
    QVERIFY(wholeFiles == cutFiles);
}

void TestRuns::progressBarOnATerminal() {
    TempDir dir("runs");
    writeRecipe(dir);
    // `script` gives the command a pseudo-terminal, as an interactive shell does
    QProcess p;
    p.setWorkingDirectory(QString::fromStdString(dir.path().string()));
    p.start("script", {"-qec", bin() + " --quiet --threads 1 run recipe.toml steps=200 --db runs.db",
                       "/dev/null"});
    QVERIFY(p.waitForFinished(300000));
    const QString out = QString::fromUtf8(p.readAllStandardOutput());
    QCOMPARE(p.exitCode(), 0);
    QVERIFY2(out.contains("200/200") && out.contains("it/s") && out.contains("ETA") &&
                 out.contains("\r"),
             qPrintable(out.right(400)));
    // without a terminal: plain lines, no bar
    const auto plain = cli(dir, {"run", "recipe.toml", "--db", "runs.db"});
    QVERIFY(!plain.out.contains("it/s"));
    QVERIFY(plain.out.contains("step     20/20"));
}

void TestRuns::badInputExitsTwo() {
    TempDir dir("runs");
    writeRecipe(dir);
    auto r = cli(dir, {"run", "recipe.toml", "stepz=3", "--db", "runs.db"});
    QCOMPARE(r.exitCode, 2);
    QVERIFY(r.err.contains("did you mean 'train.steps'?"));
    r = cli(dir, {"show", "nope", "--db", "runs.db"});
    QCOMPARE(r.exitCode, 2);
    QVERIFY2(r.err.contains("runs.db: no experiment database here"), qPrintable(r.err));  // not created
    Store store(dir / "runs.db");
    QCOMPARE(store.runs().size(), size_t{0});  // nothing was started
}

// SharpZO through `frugal run` into the database (its stage series and the recorded departures
// from the reference code); `frugal landscape RUN --step N` slices a ZO run's rebuilt weights
// along step N's own direction as a child run; runs it cannot slice are refused, exit 2.
void TestRuns::sharpZoAndLandscapeThroughTheCli() {
    TempDir dir("landscape");
    frugal::test::writeText(dir / "sharpzo.toml", R"(method = "sharpzo"
[sharpzo]
batch_size = 2
eval_limit = 4
eval_every = 2
steps = 2
dim = 4
popsize = 4
generations = 2
patience = 0
sharpness_probes = 0
)");
    auto r = cli(dir, {"run", "sharpzo.toml", "--db", "runs.db", "--name", "sharp"});
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));
    frugal::test::writeText(dir / "zo.toml", R"(method = "zo"
[zo]
steps = 3
batch_size = 2
eval_every = 3
eval_limit = 4
[peft]
target = "full"
)");
    r = cli(dir, {"run", "zo.toml", "--db", "runs.db", "--name", "zo"});
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));
    r = cli(dir, {"landscape", "zo", "--step", "2", "--points", "3", "batch_size=2", "sharpness_probes=0",
                  "timing_forwards=0", "--db", "runs.db", "--name", "slice"});
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));
    QVERIFY2(r.err.contains("after step 1 rebuilt from its trajectory"), qPrintable(r.err));
    {
        Store store(dir / "runs.db");
        const auto sharp = store.findRun("sharp");
        QVERIFY(sharp && sharp->status == RunStatus::Finished);
        QCOMPARE(store.metric(sharp->id, "cma/sigma").size(), size_t{2});
        QCOMPARE(store.metric(sharp->id, "sharpzo/stage").size(), size_t{4});
        QVERIFY(store.params(sharp->id).count("choice.sharpzo.shift_norm") == 1);
        const auto zo = store.findRun("zo");
        const auto slice = store.findRun("slice");
        QVERIFY(slice && slice->status == RunStatus::Finished && slice->method == "landscape");
        QCOMPARE(slice->parentId.value_or(-1), zo->id);
        const auto seeds = store.metric(zo->id, "zo/seed");
        QCOMPARE(store.params(slice->id).at("landscape.zo_seed"), std::to_string(static_cast<int64_t>(seeds.at(1).value)));
        QCOMPARE(store.params(slice->id).at("landscape.directions"), std::string("zo_step"));
        QCOMPARE(store.metric(slice->id, "landscape/centre_loss").size(), size_t{1});
    }
    r = cli(dir, {"landscape", "zo", "--step", "9", "--db", "runs.db"});
    QCOMPARE(r.exitCode, 2);
    QVERIFY2(r.err.contains("--step 9 is not a step of run"), qPrintable(r.err));
    r = cli(dir, {"landscape", "sharp", "--db", "runs.db"});
    QCOMPARE(r.exitCode, 2);
    QVERIFY2(r.err.contains("trains a soft prompt"), qPrintable(r.err));
}

// [live_landscape] in a ZO and an FO run: slices and sharpness at step 0, every N steps and the
// last step, as vector series and metrics; the training is the same as without the probes (loss
// series and trajectory identical); bad keys named.
void TestRuns::liveLandscapeLeavesTrainingUnchanged() {
    TempDir dir("live-landscape");
    const std::string zo = R"(method = "zo"
[zo]
steps = 5
batch_size = 2
lr = 1e-4
eps = 1e-3
eval_every = 5
eval_limit = 4
[peft]
target = "full"
)";
    const std::string probe = R"(
[live_landscape]
every = 3
points = 5
batch_size = 3
sharpness_probes = 2
sharpness_h = 1e-2
)";
    frugal::test::writeText(dir / "zo.toml", zo);
    frugal::test::writeText(dir / "zo-live.toml", zo + probe);
    const std::string fo = R"(method = "fo"
[fo]
steps = 4
batch_size = 2
lr = 1e-3
eval_every = 4
eval_limit = 4
[peft]
target = "norms"
)";
    frugal::test::writeText(dir / "fo.toml", fo);
    frugal::test::writeText(dir / "fo-live.toml", fo + R"(
[live_landscape]
every = 2
dims = 2
points = 3
sharpness_probes = 2
)");
    for (const char* name : {"zo", "zo-live", "fo", "fo-live"}) {
        const auto r = cli(dir, {"run", QString(name) + ".toml", "--db", "runs.db", "--name", name});
        QVERIFY2(r.exitCode == 0, qPrintable(r.err));
    }
    Store store(dir / "runs.db");
    const auto values = [&](const std::string& run, const std::string& key) {
        std::vector<std::pair<int64_t, double>> out;
        for (const auto& p : store.metric(store.findRun(run)->id, key)) out.emplace_back(p.step, p.value);
        return out;
    };
    const auto steps = [&](const std::string& run, const std::string& key) {
        std::vector<int64_t> out;
        for (const auto& v : store.vectorSeries(store.findRun(run)->id, key)) out.push_back(v.step);
        return out;
    };
    // the training is untouched: the same losses, dev figures and ZO trajectory bit for bit
    for (const std::string key : {"train/loss", "dev/loss", "test/loss"}) {
        QVERIFY2(!values("zo", key).empty(), key.c_str());
        QVERIFY2(values("zo", key) == values("zo-live", key), key.c_str());
        QVERIFY2(values("fo", key) == values("fo-live", key), key.c_str());
    }
    QVERIFY(values("zo", "zo/projected_grad") == values("zo-live", "zo/projected_grad"));
    const auto trajectory = [&](const std::string& run) {
        for (const auto& a : store.artifacts(store.findRun(run)->id))
            if (a.kind == "trajectory") return frugal::test::readText(a.path);
        return std::string();
    };
    QVERIFY(!trajectory("zo").empty());
    QCOMPARE(trajectory("zo-live"), trajectory("zo"));
    QCOMPARE(values("zo", "landscape/centre_loss").size(), size_t{0});
    // probes at step 0, every N steps and the last step
    QCOMPARE(steps("zo-live", "landscape/slice1d"), (std::vector<int64_t>{0, 3, 5}));
    QCOMPARE(steps("fo-live", "landscape/slice2d"), (std::vector<int64_t>{0, 2, 4}));
    const auto slices = store.vectorSeries(store.findRun("zo-live")->id, "landscape/slice1d");
    QCOMPARE(slices[0].shape, std::vector<int64_t>{5});
    QCOMPARE(store.vectorSeries(store.findRun("fo-live")->id, "landscape/slice2d")[0].shape,
             (std::vector<int64_t>{3, 3}));
    const auto axis = store.vectorSeries(store.findRun("zo-live")->id, "landscape/axis");
    QCOMPARE(axis.size(), size_t{1});
    QCOMPARE(axis[0].data, (std::vector<float>{-1.f, -0.5f, 0.f, 0.5f, 1.f}));
    const auto centre = values("zo-live", "landscape/centre_loss");
    QCOMPARE(centre.size(), size_t{3});
    for (size_t i = 0; i < 3; ++i) {
        QCOMPARE(static_cast<float>(centre[i].second), slices[i].data[2]);  // α = 0 is the weights themselves
        QVERIFY(std::isfinite(slices[i].data[0]) && slices[i].data[0] != slices[i].data[2]);
    }
    QVERIFY(centre[0].second != centre[2].second);  // the weights moved between probes
    QCOMPARE(values("zo-live", "sharpness/hutchinson_trace").size(), size_t{3});
    QCOMPARE(values("zo-live", "sharpness/eps_ball").size(), size_t{3});
    QCOMPARE(values("zo-live", "sharpness/sam").size(), size_t{0});  // forward-only: no gradients
    const auto sam = values("fo-live", "sharpness/sam");
    QCOMPARE(sam.size(), size_t{3});
    for (const auto& [step, v] : sam) QVERIFY2(std::isfinite(v) && v > 0, qPrintable(QString::number(v)));

    auto r = cli(dir, {"run", "zo.toml", "live_landscape.evry=3", "--db", "runs.db"});
    QCOMPARE(r.exitCode, 2);
    QVERIFY2(r.err.contains("live_landscape.evry") && r.err.contains("did you mean 'live_landscape.every'"),
             qPrintable(r.err));
    r = cli(dir, {"run", "zo.toml", "live_landscape.every=2", "live_landscape.lo=1", "--db", "runs.db"});
    QCOMPARE(r.exitCode, 2);
    QVERIFY2(r.err.contains("live_landscape.lo must be below live_landscape.hi"), qPrintable(r.err));
}

// ZO and FO fine-tuning through `frugal run` on the built-in model: series, artifacts, test-split
// accuracy; `frugal replay` rebuilds the ZO run's saved weights byte for byte; bad configs exit 2
// naming the key.
void TestRuns::fineTuningRunsAndReplay() {
    TempDir dir("finetune");
    frugal::test::writeText(dir / "zo.toml", R"(method = "zo"
[zo]
steps = 4
batch_size = 2
lr = 1e-3
eps = 1e-2
optimizer = "adam"
queries = 2
eval_every = 2
eval_limit = 4
save = true
[peft]
target = "lora"
lora_rank = 2
)");
    auto r = cli(dir, {"run", "zo.toml", "--db", "runs.db", "--name", "zo"});
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));
    frugal::test::writeText(dir / "fo.toml", R"(method = "fo"
[fo]
steps = 3
batch_size = 2
lr = 1e-3
eval_every = 3
eval_limit = 4
[peft]
target = "prefix"
)");
    r = cli(dir, {"run", "fo.toml", "--db", "runs.db", "--name", "fo"});
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));
    std::string saved;
    {
        Store store(dir / "runs.db");
        const auto zo = store.findRun("zo");
        QVERIFY(zo && zo->status == RunStatus::Finished);
        QCOMPARE(store.metric(zo->id, "train/loss").size(), size_t{4});
        QCOMPARE(store.metric(zo->id, "zo/queries").back().value, 2.0);
        QCOMPARE(store.metric(zo->id, "zo/forward_passes").back().value, 16.0);
        QCOMPARE(store.metric(zo->id, "dev/accuracy").size(), size_t{3});  // steps 0, 2, 4
        QCOMPARE(store.metric(zo->id, "test/accuracy").size(), size_t{1});
        QCOMPARE(store.metric(zo->id, "params/trainable").back().value, 4.0 * 2 * (2 * 256 + 2 * 256));
        QVERIFY(store.metric(zo->id, "sys/peak_rss_mb").back().value > 10);
        std::set<std::string> kinds;
        for (const auto& a : store.artifacts(zo->id)) {
            kinds.insert(a.kind);
            if (a.kind == "model") saved = a.path;
        }
        QCOMPARE(kinds, (std::set<std::string>{"model", "trajectory"}));
        const auto fo = store.findRun("fo");
        QVERIFY(fo && fo->status == RunStatus::Finished);
        QCOMPARE(store.metric(fo->id, "train/grad_norm").size(), size_t{3});
        QCOMPARE(store.metric(fo->id, "params/trainable").back().value, 4.0 * 2 * 5 * 256);
    }
    r = cli(dir, {"replay", "zo", "--db", "runs.db", "--out", "replayed"});
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));
    QVERIFY(frugal::test::readText(dir / "replayed" / "model.safetensors") == frugal::test::readText(saved));
    r = cli(dir, {"replay", "zo", "--db", "runs.db", "--out", "half", "--step", "2"});
    QVERIFY2(r.exitCode == 0 && r.out.contains("after 2 steps"), qPrintable(r.err + r.out));
    QVERIFY(frugal::test::readText(dir / "half" / "model.safetensors") != frugal::test::readText(saved));
    r = cli(dir, {"eval", "task", "--model", "half", "--task", "sentiment:dev", "--limit", "4"});
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));
    r = cli(dir, {"replay", "fo", "--db", "runs.db", "--out", "nope"});
    QCOMPARE(r.exitCode, 2);
    QVERIFY2(r.err.contains("no trajectory artifact"), qPrintable(r.err));
    r = cli(dir, {"run", "zo.toml", "zo.optimizer=adamm", "--db", "runs.db"});
    QCOMPARE(r.exitCode, 2);
    QVERIFY2(r.err.contains("zo.optimizer: unknown optimizer 'adamm'"), qPrintable(r.err));
    r = cli(dir, {"run", "zo.toml", "peft.target=lorra", "--db", "runs.db"});
    QCOMPARE(r.exitCode, 2);
    QVERIFY2(r.err.contains("unknown trainable target 'lorra'"), qPrintable(r.err));
    r = cli(dir, {"run", "fo.toml", "fo.objective=neg_accuracy", "--db", "runs.db"});
    QCOMPARE(r.exitCode, 2);
    QVERIFY2(r.err.contains("not differentiable"), qPrintable(r.err));
    r = cli(dir, {"run", "zo.toml", "zo.task=mine", "--db", "runs.db"});
    QCOMPARE(r.exitCode, 2);
    QVERIFY2(r.err.contains("needs zo.train_file, zo.dev_file, zo.template and zo.labels"), qPrintable(r.err));
}

// Every committed config resolves (keys, types, ranges, names); the paper-scale ones get as far as
// their data files, which only their users have.
void TestRuns::experimentConfigsParse() {
    TempDir dir("configs");
    const auto root = frugal::test::envPath("FRUGAL_SOURCE_DIR");
    int checked = 0;
    for (const auto& entry : std::filesystem::recursive_directory_iterator(root / "experiments")) {
        if (entry.path().extension() != ".toml") continue;
        QProcess p;
        p.setWorkingDirectory(QString::fromStdString(root.string()));
        p.start(bin(), {"--quiet", "run", QString::fromStdString(entry.path().string()), "--print-config"});
        QVERIFY(p.waitForFinished(60000));
        const QString err = QString::fromUtf8(p.readAllStandardError());
        const bool paper = entry.path().parent_path().filename() == "paper";
        // configs that train on the pre-training corpus, which `scripts/fetch-data --corpus` builds
        // (make pretrain), not `make data`: refused naming the file until it is built
        const bool corpusUnbuilt = !std::filesystem::exists(root / ".cache/corpus") && err.contains(".cache/corpus/");
        if (corpusUnbuilt) {
            QVERIFY2(p.exitCode() == 2 && err.contains(": no such file (expected a UTF-8 text file)"),
                     qPrintable(QString::fromStdString(entry.path().string()) + ": " + err));
        } else if (paper) {
            // the paper's configs name the user's weights and data, which are not here
            QVERIFY2(p.exitCode() == 2 && (err.contains("train_file: ") || err.contains("calib: ")) &&
                         err.contains(": no such file (expected"),
                     qPrintable(QString::fromStdString(entry.path().string()) + ": " + err));
        } else {
            QVERIFY2(p.exitCode() == 0, qPrintable(QString::fromStdString(entry.path().string()) + ": " + err));
        }
        ++checked;
    }
    QVERIFY(checked >= 18);
}

// #7: frugal prune stores a run with its masks, calibration ids and per-matrix sparsity; the
// recovery run names it as its parent
void TestRuns::pruneThenRecoverAsLinkedRuns() {
    TempDir dir("prune-runs");
    const auto root = frugal::test::envPath("FRUGAL_SOURCE_DIR");
    auto r = cli(dir, {"prune", "--method", "wanda", "--sparsity", "2:4", "--out", "pruned", "calib_samples=4",
                       "calib_seq_len=32", "eval_windows=2", "eval_seq_len=64", "--db", "runs.db", "--name", "w24"});
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));
    r = cli(dir, {"run", QString::fromStdString((root / "experiments/prune/recover-zo.toml").string()),
                  "zo.model=pruned", "zo.steps=2", "zo.batch_size=2", "zo.eval_limit=4", "zo.save=false",
                  "--db", "runs.db", "--parent", "w24", "--name", "rec"});
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));
    Store store(dir / "runs.db");
    const auto pruned = store.findRun("w24");
    QCOMPARE(pruned->method, std::string("prune"));
    QCOMPARE(store.params(pruned->id).at("prune.sparsity"), std::string("2:4"));
    std::vector<std::string> kinds;
    for (const auto& a : store.artifacts(pruned->id)) kinds.push_back(a.kind);
    QCOMPARE(kinds, (std::vector<std::string>{"model", "masks", "calibration"}));
    const auto grid = store.vectorSeries(pruned->id, "prune/sparsity_per_matrix");
    QCOMPARE(grid.size(), size_t{1});
    QCOMPARE(grid[0].shape, (std::vector<int64_t>{4, 7}));
    QCOMPARE(store.metric(pruned->id, "prune/sparsity").back().value, 0.5);
    QVERIFY(store.metric(pruned->id, "prune/perplexity").back().value > 1);
    QCOMPARE(store.findRun("rec")->parentId.value_or(-1), pruned->id);
    // bad input through the CLI: one message, exit 2, nothing stored
    r = cli(dir, {"prune", "--method", "wanda", "--sparsity", "0", "--db", "runs.db"});
    QCOMPARE(r.exitCode, 2);
    QVERIFY2(r.err.contains("sparsity 0 is outside (0, 1)"), qPrintable(r.err));
    QCOMPARE(store.runs().size(), size_t{2});
}

QTEST_APPLESS_MAIN(TestRuns)
#include "test_runs.moc"
