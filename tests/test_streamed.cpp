// Streaming a model's decoder blocks from disk (model/block_store.h, zo/streamed.h): the streamed
// ZO step gives the in-memory engine's losses, projected gradients, choices and weights bit for
// bit, for every optimiser row, fp32 and bf16, one query and several, the central and forward
// estimators, full fine-tuning (a working copy written back) and adapters (the base read-only);
// the step's update is applied only when each block is next brought in; replay of a streamed run
// gives the same bytes; and the block store keeps its ring and says what it cannot do.

#include <QtTest/QtTest>

#include <cstring>
#include <map>
#include <random>

#include "data/builtin.h"
#include "eval/candidate_scoring.h"
#include "eval/fine_tune_problem.h"
#include "eval/model_loading.h"
#include "eval/streamed_scoring.h"
#include "model/block_store.h"
#include "peft/peft_options.h"
#include "test_util.h"
#include "zo/engine.h"
#include "zo/optimizers.h"
#include "zo/scheme.h"
#include "zo/streamed.h"

using namespace frugal;
using namespace frugal::zo;

class TestStreamed : public QObject {
    Q_OBJECT

private slots:
    void initTestCase();
    void streamedStepEqualsInMemoryBitForBit_data();
    void streamedStepEqualsInMemoryBitForBit();
    void theUpdateWaitsForTheNextVisit();
    void streamedReplayGivesTheSameBytes();
    void evaluationIsTheSameStreamed();
    void theEngineRunsStreamedAsInMemory_data();
    void theEngineRunsStreamedAsInMemory();
    void aStoppedStreamedRunResumes();
    void blockStoreCopiesReadsAndKeepsItsRing();
    void whatStreamingDoesNotDoIsRefused();
};

namespace {

ZoConfig baseConfig(const std::string& optimizer, const std::string& dtype, const std::string& target) {
    ZoConfig c;
    c.common.model = "frugal-tiny";
    c.common.task = "sentiment";
    c.common.dtype = dtype;
    c.common.batchSize = 4;
    c.common.lr = 1e-5;
    c.common.weightDecay = 0.01;
    c.common.peft.target = peft::parseTarget(target);
    c.common.peft.promptTokens = 3;
    c.optimizer = &findZoOptimizer(optimizer);
    c.eps = 1e-3;
    return c;
}

bool sameBits(double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; }

// Every tensor of PROBLEM's model as it stands (a streamed model's blocks read from its store).
std::map<std::string, torch::Tensor> weightsOf(eval::FineTuneProblem& problem) {
    std::map<std::string, torch::Tensor> out;
    model::Transformer& m = problem.model();
    for (const auto& [name, t] : m.parameters())
        if (!t.device().is_meta()) out[name] = t.clone();
    if (model::BlockStore* store = problem.blockStore()) {
        store->flush();
        for (int64_t b = 0; b < store->blocks(); ++b)
            for (const auto& [name, t] : store->read(b)) out[name] = t;
    }
    for (const auto& t : problem.params().trainables()) out[t.name] = t.tensor.defined() && !t.tensor.device().is_meta() ? t.tensor.clone() : out[t.name];
    return out;
}

// The first tensor of A and B that differs (or is missing), "" when every one is bitwise equal.
std::string firstDifference(const std::map<std::string, torch::Tensor>& a, const std::map<std::string, torch::Tensor>& b) {
    if (a.size() != b.size()) return "tensor counts " + std::to_string(a.size()) + " and " + std::to_string(b.size());
    for (const auto& [name, t] : a) {
        const auto it = b.find(name);
        if (it == b.end()) return name + " missing";
        if (t.scalar_type() != it->second.scalar_type() || !torch::equal(t, it->second)) return name;
    }
    return "";
}

struct Pair {
    std::unique_ptr<eval::FineTuneProblem> memory, streamed;
    std::unique_ptr<ZoStepper> a, b;
};

Pair makePair(const ZoConfig& c, ZoConfig& streamedConfig, const std::filesystem::path& dir, int64_t ring) {
    Pair p;
    p.memory = std::make_unique<eval::FineTuneProblem>(c.common);
    p.a = makeStepper(c, p.memory->params());
    streamedConfig = c;
    streamedConfig.common.streamBlocks = true;
    streamedConfig.common.workingCopy = dir / "blocks.bin";
    p.streamed = std::make_unique<eval::FineTuneProblem>(streamedConfig.common);
    p.streamed->blockStore()->setRing(ring);
    p.b = makeStreamedStepper(streamedConfig, *p.streamed, *p.streamed->blockStore());
    return p;
}

std::vector<StepRecord> records(int64_t n, int64_t q, uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::vector<StepRecord> out;
    for (int64_t s = 1; s <= n; ++s) {
        StepRecord r;
        r.step = s;
        r.lr = 1e-5 * (1.0 + 0.1 * static_cast<double>(s));
        for (int64_t j = 0; j < q; ++j) r.seeds.push_back(rng() >> 11);
        out.push_back(r);
    }
    return out;
}

// N steps of both steppers on the same batches and seeds; the streamed records returned. Every
// step's logged loss, projected gradients, choice and forward count compared bit for bit.
std::vector<StepRecord> stepBoth(Pair& p, int64_t n, int64_t q) {
    std::mt19937_64 ra(11), rb(11);
    std::vector<StepRecord> done;
    int64_t fa = 0, fb = 0;
    const std::function<double()> lossA = [&] { return p.memory->lossValue(); };
    const std::function<double()> unused = [] { return 0.0; };
    for (StepRecord rec : records(n, q, 5)) {
        p.memory->nextBatch(ra);
        p.streamed->nextBatch(rb);
        StepRecord recA = rec, recB = rec;
        const double la = p.a->step(recA, &lossA, fa);
        const double lb = p.b->step(recB, &unused, fb);
        if (!sameBits(la, lb)) throw std::runtime_error("step " + std::to_string(rec.step) + ": logged loss " + std::to_string(la) + " in memory, " + std::to_string(lb) + " streamed");
        for (size_t j = 0; j < recA.grads.size(); ++j)
            if (recB.grads.size() != recA.grads.size() || !sameBits(recA.grads[j], recB.grads[j]))
                throw std::runtime_error("step " + std::to_string(rec.step) + ": projected gradient " + std::to_string(j) + " differs");
        if (recA.choice != recB.choice) throw std::runtime_error("conservative choice differs");
        if (fa != fb) throw std::runtime_error("forward counts differ");
        done.push_back(recB);
    }
    return done;
}

}  // namespace

void TestStreamed::initTestCase() { frugal::test::useSourceResources(); }

void TestStreamed::streamedStepEqualsInMemoryBitForBit_data() {
    QTest::addColumn<QString>("optimizer");
    QTest::addColumn<QString>("dtype");
    QTest::addColumn<QString>("target");
    QTest::addColumn<int>("queries");
    QTest::addColumn<QString>("estimator");
    QTest::addColumn<int>("microBatch");
    QTest::newRow("sgd fp32 full q1 (fused)") << "sgd" << "fp32" << "full" << 1 << "central" << 0;
    QTest::newRow("sgd bf16 full q1 (fused)") << "sgd" << "bf16" << "full" << 1 << "central" << 0;
    QTest::newRow("sgd bf16 full q3") << "sgd" << "bf16" << "full" << 3 << "central" << 0;
    QTest::newRow("sgd bf16 full forward estimator") << "sgd" << "bf16" << "full" << 1 << "forward" << 0;
    QTest::newRow("sgd fp32 full q2 forward estimator") << "sgd" << "fp32" << "full" << 2 << "forward" << 0;
    QTest::newRow("sgd bf16 lora pieces of 2") << "sgd" << "bf16" << "lora" << 1 << "central" << 2;
    QTest::newRow("sgd fp32 prompt") << "sgd" << "fp32" << "prompt" << 1 << "central" << 0;
    QTest::newRow("momentum fp32 full") << "momentum" << "fp32" << "full" << 1 << "central" << 0;
    QTest::newRow("momentum bf16 lora q2") << "momentum" << "bf16" << "lora" << 2 << "central" << 0;
    QTest::newRow("nesterov bf16 full") << "nesterov" << "bf16" << "full" << 1 << "central" << 0;
    QTest::newRow("sign bf16 full q2") << "sign" << "bf16" << "full" << 2 << "central" << 0;
    QTest::newRow("conservative fp32 full") << "conservative" << "fp32" << "full" << 1 << "central" << 0;
    QTest::newRow("conservative bf16 lora forward") << "conservative" << "bf16" << "lora" << 1 << "forward" << 0;
    QTest::newRow("adam bf16 full") << "adam" << "bf16" << "full" << 1 << "central" << 0;
    QTest::newRow("adam fp32 loretta_adp q2") << "adam" << "fp32" << "loretta_adp" << 2 << "central" << 0;
    QTest::newRow("lion bf16 full") << "lion" << "bf16" << "full" << 1 << "central" << 0;
}

void TestStreamed::streamedStepEqualsInMemoryBitForBit() {
    QFETCH(QString, optimizer);
    QFETCH(QString, dtype);
    QFETCH(QString, target);
    QFETCH(int, queries);
    QFETCH(QString, estimator);
    QFETCH(int, microBatch);
    frugal::test::TempDir dir("streamed");
    ZoConfig c = baseConfig(optimizer.toStdString(), dtype.toStdString(), target.toStdString());
    c.estimator = estimator == "forward" ? Estimator::Forward : Estimator::Central;
    c.common.microBatch = microBatch;
    ZoConfig cs;
    Pair p = makePair(c, cs, dir.path(), 2);
    const auto before = weightsOf(*p.memory);
    QCOMPARE(QString::fromStdString(firstDifference(before, weightsOf(*p.streamed))), QString());
    try {
        stepBoth(p, 4, queries);
    } catch (const std::exception& e) {
        QFAIL(e.what());
    }
    p.a->settle();
    p.b->settle();
    const auto after = weightsOf(*p.memory);
    QVERIFY2(!firstDifference(before, after).empty(), "the steps moved no weight");
    QCOMPARE(QString::fromStdString(firstDifference(after, weightsOf(*p.streamed))), QString());
    if (target != "full") {  // the base was only read
        QCOMPARE(p.streamed->blockStore()->traffic().written, int64_t{0});
    }
}

// Each block is read once and written once a step (full fine-tuning, one query): the update is not
// a pass of its own. Until the next step (or settle) brings a block in, the working copy holds the
// block as the step's last perturbation left it; settle() makes the update.
void TestStreamed::theUpdateWaitsForTheNextVisit() {
    frugal::test::TempDir dir("streamed-visit");
    ZoConfig c = baseConfig("sgd", "bf16", "full");
    ZoConfig cs;
    Pair p = makePair(c, cs, dir.path(), 3);
    model::BlockStore& store = *p.streamed->blockStore();
    const int64_t blockBytes = store.blockBytes(0) * store.blocks();
    const auto start = store.traffic();
    stepBoth(p, 3, 1);
    store.flush();
    const auto traffic = store.traffic();
    QCOMPARE(traffic.read - start.read, 3 * blockBytes);
    QCOMPARE(traffic.written - start.written, 3 * blockBytes);
    p.a->settle();
    const auto settled = weightsOf(*p.memory);
    const auto pending = weightsOf(*p.streamed);
    QVERIFY2(!firstDifference(settled, pending).empty(), "the last update was made before the next visit");
    const auto beforeSettle = store.traffic();
    p.b->settle();
    store.flush();
    QCOMPARE(store.traffic().read - beforeSettle.read, blockBytes);  // settle: one sweep
    QCOMPARE(store.traffic().written - beforeSettle.written, blockBytes);
    QCOMPARE(QString::fromStdString(firstDifference(settled, weightsOf(*p.streamed))), QString());
}

// A streamed run's trajectory replayed onto a fresh streamed model (all steps' operations in one
// sweep) and onto the in-memory engine gives the trained weights' bytes; without its last step it
// does not.
void TestStreamed::streamedReplayGivesTheSameBytes() {
    frugal::test::TempDir dir("streamed-replay");
    ZoConfig c = baseConfig("adam", "bf16", "full");
    c.common.weightDecay = 0.1;
    ZoConfig cs;
    Pair p = makePair(c, cs, dir.path(), 2);
    const std::vector<StepRecord> trajectory = stepBoth(p, 4, 2);
    p.b->settle();
    const auto trained = weightsOf(*p.streamed);

    ZoConfig replayConfig = cs;
    replayConfig.common.workingCopy = dir / "replay.bin";
    eval::FineTuneProblem fresh(replayConfig.common);
    auto replayer = makeStreamedStepper(replayConfig, fresh, *fresh.blockStore());
    int64_t unused = 0;
    for (StepRecord r : trajectory) replayer->step(r, nullptr, unused);
    fresh.blockStore()->flush();
    const auto readsBefore = fresh.blockStore()->traffic().read;
    replayer->settle();
    fresh.blockStore()->flush();
    QCOMPARE(fresh.blockStore()->traffic().read - readsBefore, fresh.blockStore()->blockBytes(0) * fresh.blockStore()->blocks());
    QCOMPARE(QString::fromStdString(firstDifference(trained, weightsOf(fresh))), QString());

    eval::FineTuneProblem memory(c.common);
    auto inMemory = makeStepper(c, memory.params());
    auto shorter = trajectory;
    shorter.pop_back();
    for (StepRecord r : shorter) inMemory->step(r, nullptr, unused);
    inMemory->settle();
    QVERIFY(!firstDifference(trained, weightsOf(memory)).empty());
}

// Dev and test figures of a streamed model are the in-memory ones exactly; scored in rounds of a
// few requests (each round a sweep) too; each block read once a round.
void TestStreamed::evaluationIsTheSameStreamed() {
    eval::FineTuneSpec spec;
    spec.model = "frugal-tiny";
    spec.task = "sentiment";
    spec.dtype = "bf16";
    spec.peft.target = peft::Target::Lora;
    spec.evalLimit = 12;
    eval::FineTuneProblem memory(spec);
    spec.streamBlocks = true;
    eval::FineTuneProblem streamed(spec);
    const auto same = [](const eval::DevMetrics& a, const eval::DevMetrics& b) {
        return sameBits(a.accuracy, b.accuracy) && sameBits(a.accuracyCalibrated, b.accuracyCalibrated) &&
               sameBits(a.loss, b.loss) && a.examples == b.examples;
    };
    model::BlockStore& store = *streamed.blockStore();
    const auto reads = store.traffic().read;
    QVERIFY(same(memory.evaluateDev(), streamed.evaluateDev()));
    QCOMPARE(store.traffic().read - reads, store.blockBytes(0) * store.blocks());
    const auto test = streamed.evaluateTest();
    QVERIFY(test && same(*memory.evaluateTest(), *test));
    // rounds of one request (the least a round holds): the same scores, one sweep a round
    const data::ResolvedTask task = data::resolveTask("sentiment", "", {}, "task", "");
    const data::Task dev = data::Task::load(task.dev, task.labels);
    const data::PromptTemplate prompt = data::PromptTemplate::parse(task.templateText, task.labels);
    const eval::ModelAndTokenizer loaded = eval::loadModelAndTokenizer(data::resolveModel("frugal-tiny"), {}, torch::kBFloat16);
    const auto want = eval::evaluateTask(loaded.model, loaded.tokenizer, dev, prompt, 7);
    eval::FineTuneSpec base = spec;
    base.peft.target = peft::Target::Head;  // no adapter: the model as loaded
    base.peft.trainNorms = false;
    eval::FineTuneProblem plain(base);
    plain.blockStore()->setRing(2);
    const auto before = plain.blockStore()->traffic().read;
    const auto got = eval::evaluateTaskWith(
        eval::streamedScorer(plain.model(), *plain.blockStore(), loaded.tokenizer, nullptr, /*roundBytes=*/1), dev, prompt, 7);
    QCOMPARE(got.examples, want.examples);
    for (size_t e = 0; e < want.scores.size(); ++e)
        for (size_t c = 0; c < want.scores[e].size(); ++c) QVERIFY(sameBits(got.scores[e][c].sumLogProb, want.scores[e][c].sumLogProb));
    const int64_t sweeps = (plain.blockStore()->traffic().read - before) / (plain.blockStore()->blockBytes(0) * plain.blockStore()->blocks());
    QCOMPARE(sweeps, int64_t{8});  // 7 examples and the content-free baseline
}

void TestStreamed::theEngineRunsStreamedAsInMemory_data() {
    QTest::addColumn<QString>("optimizer");
    QTest::addColumn<QString>("target");
    QTest::addColumn<int>("queries");
    QTest::newRow("sgd full bf16 (fused)") << "sgd" << "full" << 1;
    QTest::newRow("adam lora bf16 q2") << "adam" << "lora" << 2;
}

// runZo on the streamed model: every metric the in-memory run reports (losses, projected
// gradients, dev and test figures at each evaluation) with the same bits, the same trajectory
// file and the same saved model.
void TestStreamed::theEngineRunsStreamedAsInMemory() {
    QFETCH(QString, optimizer);
    QFETCH(QString, target);
    QFETCH(int, queries);
    frugal::test::TempDir dir("streamed-engine");
    ZoConfig c = baseConfig(optimizer.toStdString(), "bf16", target.toStdString());
    c.queries = queries;
    c.common.lr = 1e-4;
    c.common.steps = 4;
    c.common.evalEvery = 2;
    c.common.evalLimit = 8;
    c.common.seed = 3;
    const auto run = [&](bool streamed, const std::string& name) {
        ZoConfig rc = c;
        rc.common.streamBlocks = streamed;
        rc.common.workingCopy = dir / (name + ".bin");
        rc.common.saveTo = dir / name;
        ZoRunOptions options;
        options.trajectoryFile = dir / (name + ".csv");
        MemorySink& sink = frugal::test::sink();
        runZo(rc, sink, frugal::test::noStop(), options);
        std::map<std::string, std::vector<std::pair<int64_t, double>>> series;
        for (const auto& p : sink.points)
            if (p.key.rfind("sys/", 0) != 0 && p.key.rfind("mem/", 0) != 0 && p.key.rfind("stream/", 0) != 0 &&
                p.key.find("seconds") == std::string::npos)
                series[p.key].emplace_back(p.step, p.value);
        return series;
    };
    const auto inMemory = run(false, "memory");
    const auto streamed = run(true, "streamed");
    QVERIFY(inMemory.count("train/loss") && inMemory.count("dev/loss") && inMemory.count("test/accuracy"));
    QCOMPARE(streamed.size(), inMemory.size());
    for (const auto& [key, points] : inMemory) {
        QVERIFY2(streamed.count(key), key.c_str());
        const auto& other = streamed.at(key);
        QCOMPARE(other.size(), points.size());
        for (size_t i = 0; i < points.size(); ++i)
            QVERIFY2(other[i].first == points[i].first && sameBits(other[i].second, points[i].second),
                     qPrintable(QString("%1 at step %2: %3 streamed, %4 in memory").arg(key.c_str()).arg(points[i].first)
                                    .arg(other[i].second, 0, 'g', 17).arg(points[i].second, 0, 'g', 17)));
    }
    QVERIFY(frugal::test::readText(dir / "memory.csv") == frugal::test::readText(dir / "streamed.csv"));
    // the saved model (LoRA merged into the weights) byte for byte, and replayed streamed
    QVERIFY(frugal::test::readText(dir / "memory" / "model.safetensors") == frugal::test::readText(dir / "streamed" / "model.safetensors"));
    ZoConfig replay = c;
    replay.common.streamBlocks = true;
    replay.common.workingCopy = dir / "replay.bin";
    replayZo(replay, readTrajectory(dir / "streamed.csv"), dir / "replayed");
    QVERIFY(frugal::test::readText(dir / "memory" / "model.safetensors") == frugal::test::readText(dir / "replayed" / "model.safetensors"));
}

namespace {

// A sink that asks its run to stop once step STOPAT has been reported.
class StopAfter : public MemorySink {
public:
    StopAfter(std::filesystem::path dir, StopToken& stop, int64_t stopAt) : MemorySink(std::move(dir)), m_stop(stop), m_at(stopAt) {}
    void progress(int64_t step, int64_t total, const std::string& status) override {
        MemorySink::progress(step, total, status);
        if (step == m_at) m_stop.requestStop();
    }

private:
    StopToken& m_stop;
    int64_t m_at;
};

}  // namespace

// A streamed run stopped after step 4 of 6 and resumed (the trajectory replayed in one sweep onto
// a fresh working copy) ends with the uninterrupted run's trajectory, dev and test figures.
void TestStreamed::aStoppedStreamedRunResumes() {
    frugal::test::TempDir dir("streamed-resume");
    ZoConfig c = baseConfig("momentum", "bf16", "full");
    c.common.lr = 1e-4;
    c.common.steps = 6;
    c.common.evalEvery = 3;
    c.common.evalLimit = 6;
    c.common.seed = 9;
    c.common.streamBlocks = true;
    const auto options = [&](const std::string& name, bool resume) {
        ZoRunOptions o;
        o.trajectoryFile = dir / name / "trajectory.csv";
        o.resume = resume;
        return o;
    };
    ZoConfig whole = c;
    whole.common.workingCopy = dir / "whole.bin";
    MemorySink wholeSink(dir / "whole");
    runZo(whole, wholeSink, frugal::test::noStop(), options("whole", false));

    ZoConfig parts = c;
    parts.common.workingCopy = dir / "parts.bin";
    StopToken stop;
    StopAfter first(dir / "parts", stop, 4);
    const std::string stopped = frugal::test::errorOf([&] { runZo(parts, first, stop, options("parts", false)); });
    QVERIFY2(stopped.find("stopped before step 5") != std::string::npos, stopped.c_str());
    MemorySink second(dir / "parts");
    runZo(parts, second, frugal::test::noStop(), options("parts", true));
    QVERIFY(frugal::test::readText(dir / "whole" / "trajectory.csv") == frugal::test::readText(dir / "parts" / "trajectory.csv"));
    for (const char* key : {"dev/loss", "dev/accuracy", "test/loss", "test/accuracy"}) {
        const auto want = wholeSink.values(key), got = second.values(key);
        QVERIFY2(!want.empty() && !got.empty() && sameBits(want.back(), got.back()), key);
    }
}

void TestStreamed::blockStoreCopiesReadsAndKeepsItsRing() {
    frugal::test::TempDir dir("block-store");
    eval::FineTuneSpec spec;
    spec.model = "frugal-tiny";
    spec.task = "sentiment";
    spec.dtype = "bf16";
    spec.peft.target = peft::Target::Lora;
    spec.streamBlocks = true;
    eval::FineTuneProblem lora(spec);
    model::BlockStore& store = *lora.blockStore();
    QVERIFY(!store.writable());
    eval::FineTuneSpec inMemory = spec;
    inMemory.streamBlocks = false;
    eval::FineTuneProblem reference(inMemory);
    std::map<std::string, torch::Tensor> want;
    for (const auto& [name, t] : reference.model().parameters()) want[name] = t;
    for (int64_t b = 0; b < store.blocks(); ++b)
        for (const auto& [name, t] : store.read(b)) {
            QVERIFY2(want.count(name), name.c_str());
            QVERIFY2(t.scalar_type() == torch::kBFloat16 && torch::equal(t, want[name]), name.c_str());
        }
    // a block fetched is in the model; evicted, its placeholders are back and hold no memory
    store.fetch(0);
    bool resident = true;
    lora.model().forEachBlockWeight(0, [&](const std::string&, torch::Tensor& t) { resident = resident && !t.device().is_meta(); });
    QVERIFY(resident);
    QVERIFY(frugal::test::errorOf([&] { store.evict(0, true); }).find("read-only") != std::string::npos);
    store.evict(0, false);
    lora.model().forEachBlockWeight(0, [&](const std::string&, torch::Tensor& t) { QVERIFY(t.device().is_meta()); });
    // the ring: with two blocks held, no read ahead beyond them
    store.setRing(2);
    store.fetch(0);
    store.prefetch(1);
    store.prefetch(2);  // refused: block 0 resident and block 1 read ahead fill the ring
    store.fetch(1);
    QCOMPARE(store.traffic().read, store.blockBytes(0) * (store.blocks() + 3));
    store.evict(0, false);
    store.evict(1, false);
    // a working copy cut short is named in one message
    eval::FineTuneSpec full = spec;
    full.peft.target = peft::Target::Full;
    full.workingCopy = dir / "copy.bin";
    eval::FineTuneProblem fullProblem(full);
    std::filesystem::resize_file(full.workingCopy, 100);
    const std::string message = frugal::test::errorOf([&] { fullProblem.blockStore()->fetch(1); });
    QVERIFY2(message.find("copy.bin") != std::string::npos && message.find("cannot read the working copy") != std::string::npos, message.c_str());
    // full fine-tuning without a working copy is refused before anything is read
    full.workingCopy.clear();
    const std::string noCopy = frugal::test::errorOf([&] { eval::FineTuneProblem again(full); });
    QVERIFY2(noCopy.find("needs a working copy") != std::string::npos, noCopy.c_str());
}

void TestStreamed::whatStreamingDoesNotDoIsRefused() {
    const auto refused = [](const std::function<void(ZoConfig&)>& set) {
        ZoConfig c = baseConfig("sgd", "fp32", "lora");
        set(c);
        return frugal::test::errorOf([&] { checkStreamable(c); });
    };
    QVERIFY(refused([](ZoConfig& c) { c.scheme = &findZoScheme("hizoo"); }).find("zo.scheme") != std::string::npos);
    QVERIFY(refused([](ZoConfig& c) { c.sparsity = 0.5; }).find("zo.sparsity") != std::string::npos);
    QVERIFY(refused([](ZoConfig& c) { c.direction = DirectionLaw::Sphere; }).find("zo.direction") != std::string::npos);
    QVERIFY(refused([](ZoConfig& c) { c.common.peft.target = peft::Target::Prefix; }).find("peft.target") != std::string::npos);
    QCOMPARE(QString::fromStdString(refused([](ZoConfig&) {})), QString("<no error>"));
}

QTEST_APPLESS_MAIN(TestStreamed)
#include "test_streamed.moc"
