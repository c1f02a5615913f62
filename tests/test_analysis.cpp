// core/analysis and zo/sharpness.h: the Hutchinson estimate of a quadratic's Hessian trace within
// its standard error; the 1-D and 2-D slices of a quadratic are its parabola and paraboloid;
// filter normalisation gives each row the weight row's norm and 1-D tensors no component; the
// slice's centre is the model's loss on that batch exactly, and θ₀ comes back bit for bit; the
// landscape and SharpZO methods end to end on the built-in model.

#include <QtTest/QtTest>

#include <torch/types.h>

#include <cmath>

#include "analysis/landscape.h"
#include "common/files.h"
#include "data/builtin.h"
#include "data/task.h"
#include "eval/candidate_scoring.h"
#include "model/safetensors.h"
#include "eval/fine_tune_problem.h"
#include "run/method_registry.h"
#include "test_util.h"
#include "zo/sharpness.h"

class TestAnalysis : public QObject {
    Q_OBJECT
private slots:
    void hutchinsonMatchesTheTrace();
    void hutchinsonOnTrainables();
    void sliceOfAQuadraticIsTheParabola();
    void filterNormalisationGivesRowNorms();
    void gridHasAnExactCentre();
    void landscapeCentreIsTheBatchLoss();
    void landscapeRefusesBadConfigs();
    void sharpZoEndToEnd();
    void probeScoresAStoredRunsCheckpoints();
};

namespace {

using frugal::analysis::Trainable;

// A quadratic L(θ) = gᵀθ + ½θᵀHθ over one [4, 5] tensor (flattened), H symmetric.
struct Quadratic {
    torch::Tensor H, g;
    explicit Quadratic(int64_t n, uint64_t seed) {
        torch::manual_seed(static_cast<int64_t>(seed));
        const auto M = torch::randn({n, n}, torch::kFloat64);
        H = (M + M.t()) / 2 + 3 * torch::eye(n, torch::kFloat64);
        g = torch::randn({n}, torch::kFloat64);
    }
    double at(const torch::Tensor& theta) const {
        const auto x = theta.flatten().to(torch::kFloat64);
        return (g * x).sum().item<double>() + 0.5 * torch::dot(x, torch::mv(H, x)).item<double>();
    }
};

std::vector<Trainable> oneTensor(torch::Tensor t) {
    Trainable p;
    p.name = "w";
    p.tensor = std::move(t);
    p.index = 0;
    return {p};
}

}  // namespace

void TestAnalysis::hutchinsonMatchesTheTrace() {
    // vᵀHv by exact second differences of a quadratic, Rademacher v: E = tr(H), and the estimate
    // lies within 3 standard errors of tr(H) (here for 20 seeds of 32 probes, all of them).
    const int64_t n = 30;
    const Quadratic q(n, 1);
    const double trace = torch::trace(q.H).item<double>();
    int within = 0;
    for (uint64_t seed = 0; seed < 20; ++seed) {
        std::mt19937_64 rng(seed);
        std::vector<torch::Tensor> probes;
        for (int k = 0; k < 32; ++k) {
            auto v = torch::empty({n}, torch::kFloat64);
            for (int64_t i = 0; i < n; ++i) v[i] = (rng() & 1) ? 1.0 : -1.0;
            probes.push_back(v);
        }
        const torch::Tensor theta = torch::randn({n}, torch::kFloat64);
        const auto e = frugal::zo::hutchinsonTrace(
            [&](int64_t k, double h) { return q.at(theta + h * probes[static_cast<size_t>(k)]); }, 32, 1e-2);
        QCOMPARE(e.forwards, int64_t{65});
        QVERIFY(e.standardError > 0);
        if (std::abs(e.trace - trace) <= 3 * e.standardError) ++within;
    }
    QVERIFY2(within >= 19, qPrintable(QString("%1 of 20 within 3 standard errors").arg(within)));
    QVERIFY(frugal::test::errorOf([] { frugal::zo::hutchinsonTrace([](int64_t, double) { return 0.0; }, 1, 1e-3); })
                .find("at least 2 probes") != std::string::npos);
}

void TestAnalysis::hutchinsonOnTrainables() {
    // The same through analysis::sharpness, which perturbs a (fp32) tensor in place; θ₀ restored.
    const Quadratic q(20, 2);
    torch::Tensor w = torch::randn({4, 5});
    const torch::Tensor w0 = w.clone();
    frugal::analysis::Mover mover(oneTensor(w));
    frugal::analysis::SharpnessSettings s;
    s.probes = 200;
    s.h = 3e-2;
    s.rho = 0.1;
    const auto r = frugal::analysis::sharpness(mover, [&] { return q.at(w); }, s);
    const double trace = torch::trace(q.H).item<double>();
    qInfo("trace %.4f, estimate %.4f +- %.4f", trace, r.trace, r.traceError);
    QVERIFY2(std::abs(r.trace - trace) <= 3 * r.traceError,
             qPrintable(QString("estimate %1 +- %2, trace %3").arg(r.trace).arg(r.traceError).arg(trace)));
    QVERIFY(torch::equal(w, w0));
    // ε-ball: the rise is at most the quadratic's bound ρ‖∇L‖ + ½ρ²λ_max, and positive
    const auto grad = q.g + torch::mv(q.H, w0.flatten().to(torch::kFloat64));
    const double lmax = torch::linalg_eigvalsh(q.H).max().item<double>();
    const double bound = 0.1 * grad.norm().item<double>() + 0.5 * 0.01 * lmax;
    QVERIFY2(r.epsBall > 0 && r.epsBall <= bound * (1 + 1e-4),
             qPrintable(QString("eps-ball %1, bound %2").arg(r.epsBall).arg(bound)));
}

void TestAnalysis::sliceOfAQuadraticIsTheParabola() {
    const Quadratic q(20, 3);
    torch::Tensor w = torch::randn({4, 5});
    const torch::Tensor w0 = w.clone();
    const auto params = oneTensor(w);
    const auto d1 = frugal::analysis::filterNormalised(params, 11);
    const auto d2 = frugal::analysis::filterNormalised(params, 12);
    const auto v1 = frugal::analysis::materialise(d1, params, 0).to(torch::kFloat64);
    const auto v2 = frugal::analysis::materialise(d2, params, 0).to(torch::kFloat64);
    const auto x0 = w0.flatten().to(torch::kFloat64);
    const double l0 = q.at(w0);
    const auto grad = q.g + torch::mv(q.H, x0);
    frugal::analysis::Mover mover(params);
    const auto s1 = frugal::analysis::slice1d(mover, d1, [&] { return q.at(w); }, {51, -1, 1}, frugal::test::noStop());
    QCOMPARE(s1.loss.size(), size_t{51});
    for (size_t i = 0; i < s1.loss.size(); ++i) {
        const double a = s1.axis[i];
        const double parabola = l0 + a * torch::dot(grad, v1).item<double>() +
                                0.5 * a * a * torch::dot(v1, torch::mv(q.H, v1)).item<double>();
        QVERIFY2(std::abs(s1.loss[i] - parabola) < 1e-4 * (1 + std::abs(parabola)),
                 qPrintable(QString("alpha %1: %2 vs %3").arg(a).arg(s1.loss[i]).arg(parabola)));
    }
    QCOMPARE(s1.centre, l0);
    QVERIFY(torch::equal(w, w0));
    const auto s2 = frugal::analysis::slice2d(mover, d1, d2, [&] { return q.at(w); }, {5, -1, 1}, frugal::test::noStop());
    QCOMPARE(s2.loss.size(), size_t{25});
    for (int64_t row = 0; row < 5; ++row)
        for (int64_t col = 0; col < 5; ++col) {
            const double a = s2.axis[static_cast<size_t>(col)], b = s2.axis[static_cast<size_t>(row)];
            const auto x = x0 + a * v1 + b * v2;
            const double expected = (q.g * x).sum().item<double>() + 0.5 * torch::dot(x, torch::mv(q.H, x)).item<double>();
            QVERIFY(std::abs(s2.loss[static_cast<size_t>(row * 5 + col)] - expected) < 1e-4 * (1 + std::abs(expected)));
        }
    QCOMPARE(s2.centre, l0);
}

void TestAnalysis::filterNormalisationGivesRowNorms() {
    std::vector<Trainable> params(3);
    params[0] = {"a.weight", torch::randn({6, 7}) * 3, 0, true};
    params[1] = {"a.bias", torch::randn({6}), 1, false};
    params[2] = {"b.weight", torch::randn({3, 2, 4}), 2, true};  // rows over the flattened trailing dims
    const auto d = frugal::analysis::filterNormalised(params, 5);
    const auto v0 = frugal::analysis::materialise(d, params, 0).view({6, 7});
    const auto rowsW = params[0].tensor.norm(2, {1}), rowsD = v0.norm(2, {1});
    QVERIFY2(torch::allclose(rowsD, rowsW, 1e-5, 1e-6), "a.weight rows");
    QVERIFY(torch::equal(frugal::analysis::materialise(d, params, 1), torch::zeros({6})));
    const auto v2 = frugal::analysis::materialise(d, params, 2).view({3, 8});
    QVERIFY(torch::allclose(v2.norm(2, {1}), params[2].tensor.reshape({3, 8}).norm(2, {1}), 1e-5, 1e-6));
    // the direction is a function of the seed alone (regenerated, not stored)
    const auto again = frugal::analysis::filterNormalised(params, 5);
    QVERIFY(torch::equal(frugal::analysis::materialise(again, params, 0), v0.flatten()));
    QVERIFY(!torch::equal(frugal::analysis::materialise(frugal::analysis::filterNormalised(params, 6), params, 0),
                          v0.flatten()));
    const double total = std::sqrt(rowsW.pow(2).sum().item<double>() +
                                   params[2].tensor.pow(2).sum().item<double>());
    QVERIFY(std::abs(d.norm - total) < 1e-4 * total);
}

void TestAnalysis::gridHasAnExactCentre() {
    QCOMPARE(frugal::analysis::gridPoint(-1, 1, 25, 51), 0.0);
    QCOMPARE(frugal::analysis::gridPoint(-1, 1, 0, 51), -1.0);
    QCOMPARE(frugal::analysis::gridPoint(-1, 1, 50, 51), 1.0);
    QCOMPARE(frugal::analysis::gridPoint(-0.3, 0.3, 10, 21), 0.0);
}

void TestAnalysis::landscapeCentreIsTheBatchLoss() {
    frugal::test::useSourceResources();
    const std::string text = R"(method = "landscape"
[landscape]
model = "frugal-tiny"
task = "sentiment"
batch_size = 4
seed = 3
dims = 2
points = 5
timing_forwards = 2
sharpness_probes = 2
)";
    const auto p = frugal::run::prepareRunText(text, "test.toml", {}, {});
    QTemporaryDir dir;
    frugal::MemorySink& sink = frugal::test::sink(dir.path().toStdString());
    p.body(frugal::RunContext{sink, frugal::test::noStop()});
    // the same batch from an independent problem
    frugal::eval::FineTuneSpec spec;
    spec.batchSize = 4;
    spec.seed = 3;
    frugal::eval::FineTuneProblem problem(spec);
    std::mt19937_64 rng(3);
    problem.nextBatch(rng);
    const double loss = problem.lossValue();
    QCOMPARE(sink.values("landscape/centre_loss").at(0), loss);
    QCOMPARE(sink.values("landscape/batch_loss").at(0), loss);
    // progress from the start: the directions and the timing forwards at 0 of 25, then the rows
    QVERIFY(sink.progressLog.size() >= 3);
    QCOMPARE(sink.progressLog[0].step, int64_t{0});
    QCOMPARE(sink.progressLog[0].total, int64_t{25});
    QVERIFY2(sink.progressLog[0].status.rfind("the directions", 0) == 0, sink.progressLog[0].status.c_str());
    QVERIFY2(sink.progressLog[1].status.find("timing forwards") != std::string::npos, sink.progressLog[1].status.c_str());
    QCOMPARE(sink.progressLog.back().step, int64_t{25});
    bool found = false;
    for (const auto& v : sink.vectors)
        if (v.key == "landscape/slice2d") {
            found = true;
            QCOMPARE(v.shape, (std::vector<int64_t>{5, 5}));
            QCOMPARE(static_cast<double>(v.data[12]), static_cast<double>(static_cast<float>(loss)));
            double spread = 0;
            for (float x : v.data) spread = std::max(spread, std::abs(static_cast<double>(x) - loss));
            QVERIFY(spread > 1e-3);  // the corners are elsewhere on the surface
        }
    QVERIFY(found);
    QVERIFY(std::isfinite(sink.values("sharpness/hutchinson_trace").at(0)));
    QVERIFY(std::isfinite(sink.values("sharpness/sam").at(0)));
    QVERIFY(sink.values("landscape/overhead_ratio").at(0) > 0);
    bool surface = false;
    for (const auto& [kind, path] : sink.artifacts)
        if (kind == "surface") {
            surface = true;
            const std::string csv = frugal::test::readText(path);
            QVERIFY(csv.find("seed=3") != std::string::npos && csv.find("points=5") != std::string::npos);
            QCOMPARE(static_cast<int>(std::count(csv.begin(), csv.end(), '\n')), 2 + 25);
        }
    QVERIFY(surface);
}

void TestAnalysis::landscapeRefusesBadConfigs() {
    frugal::test::useSourceResources();
    const auto error = [](const std::string& extra) {
        return frugal::test::errorOf([&] {
            frugal::run::prepareRunText("method = \"landscape\"\n[landscape]\n" + extra, "bad.toml", {}, {});
        });
    };
    QVERIFY(error("directions = \"between\"\ndims = 1\n").find("model_b") != std::string::npos);
    QVERIFY(error("lo = 1.0\nhi = -1.0\n").find("landscape.lo must be below") != std::string::npos);
    QVERIFY(error("points = 1\n").find("points") != std::string::npos);
    QVERIFY(error("pionts = 5\n").find("did you mean 'landscape.points'") != std::string::npos);
}

void TestAnalysis::sharpZoEndToEnd() {
    // Two generations of sharpness-aware CMA-ES on a 6-dimensional w, then 4 sparse ZO steps:
    // the stages, the forward count (2d + λ + 1 per generation, 2d for each mask, 2 per step),
    // the prompt moved, and the same seed giving the same metrics.
    frugal::test::useSourceResources();
    const std::string text = R"(method = "sharpzo"
[sharpzo]
batch_size = 4
eval_limit = 8
eval_every = 2
steps = 4
lr = 1e-2
dim = 6
popsize = 5
sigma0 = 0.5
rho = 0.1
generations = 2
patience = 0
mask_every = 3
prune_ratio = 0.5
sharpness_probes = 2
seed = 1
)";
    const auto p0 = frugal::run::prepareRunText(text, "sharpzo.toml", {}, {});
    QCOMPARE(p0.params.at("choice.sharpzo.shift_norm").substr(0, 11), std::string("rho exactly"));
    const auto once = [&]() -> frugal::MemorySink {
        const auto p = frugal::run::prepareRunText(text, "sharpzo.toml", {}, {});
        frugal::MemorySink& sink = frugal::test::sink();
        p.body(frugal::RunContext{sink, frugal::test::noStop()});
        return sink;
    };
    const frugal::MemorySink a = once();
    const auto stage = a.values("sharpzo/stage");
    QCOMPARE(stage, (std::vector<double>{1, 1, 2, 2, 2, 2}));
    const auto forwards = a.values("train/forwards");
    const int64_t perGen = 2 * 6 + 5 + 1;
    QCOMPARE(forwards.at(0), static_cast<double>(perGen));
    QCOMPARE(forwards.at(1), static_cast<double>(2 * perGen));
    QCOMPARE(forwards.at(2), static_cast<double>(2 * perGen + 12 + 2));  // mask at stage-2 step 1
    QCOMPARE(forwards.at(5), static_cast<double>(2 * perGen + 12 + 2 + 2 + 2 + 12 + 2));  // and at step 4
    QVERIFY(std::abs(a.values("cma/shift_norm").at(0) - 0.1) < 1e-12);
    QCOMPARE(a.values("sharpzo/mask_density").at(0), 0.5);
    QVERIFY(a.values("sharpzo/w_norm").at(0) > 0);
    QVERIFY(a.values("sharpzo/prompt_shift_norm").at(0) > 0);
    QVERIFY(std::isfinite(a.values("sharpness/hutchinson_trace").at(0)));
    QCOMPARE(a.values("dev/accuracy").size(), size_t{2 + 1 + 2});  // start, 2 generations, steps 2 and 4
    const frugal::MemorySink b = once();
    QCOMPARE(a.values("train/loss"), b.values("train/loss"));
    QCOMPARE(a.values("dev/accuracy"), b.values("dev/accuracy"));

    // any other small trainable set through the same projection: the norms (2,304 values)
    const std::string norms = text + "[peft]\ntarget = \"norms\"\n";
    const auto pn = frugal::run::prepareRunText(norms, "sharpzo.toml", {}, {});
    frugal::MemorySink& n = frugal::test::sink();
    pn.body(frugal::RunContext{n, frugal::test::noStop()});
    QCOMPARE(n.values("train/forwards"), forwards);  // the same stages and counts
    QVERIFY(n.values("sharpzo/shift_norm").at(0) > 0);
    QVERIFY(n.values("sharpzo/prompt_shift_norm").empty());
    bool named = false;
    for (const auto& line : n.logs) named |= line.find("the 2304 trainable values of peft.target = \"norms\"") != std::string::npos;
    QVERIFY(named);
    QVERIFY(n.values("train/loss") != a.values("train/loss"));
    // refused: a projection too large to keep, a batched population of anything but a soft prompt
    const auto refusal = [&](const std::string& config) {
        return frugal::test::errorOf([&] {
            const auto p = frugal::run::prepareRunText(config, "sharpzo.toml", {}, {});
            p.body(frugal::RunContext{frugal::test::sink(), frugal::test::noStop()});
        });
    };
    std::string wide = text + "[peft]\ntarget = \"full\"\n";
    wide.replace(wide.find("dim = 6\n"), 8, "dim = 16\n");
    const std::string full = refusal(wide);
    QVERIFY2(full.find("sharpzo.dim = 16 over the 4212992 trainable values needs a 4212992 x 16 projection") !=
                 std::string::npos, full.c_str());
    std::string batchedNorms = norms;
    batchedNorms.replace(batchedNorms.find("seed = 1\n"), 9, "seed = 1\npopulation_batch = 4\n");
    const std::string batched = refusal(batchedNorms);
    QVERIFY2(batched.find("sharpzo.population_batch = 4 batches soft prompts") != std::string::npos, batched.c_str());
}

// method = "probe": a stored ZO run's checkpoints (step 0, every N steps, the last) scored on
// another task. Step 0 is the base model's score and the last step the score of the model the run
// saved, each evaluated here apart; a config of another method and a missing trajectory are
// refused at their keys.
void TestAnalysis::probeScoresAStoredRunsCheckpoints() {
    frugal::test::useSourceResources();
    QTemporaryDir dir;
    const std::filesystem::path runDir = dir.filePath("run").toStdString();
    const std::string runConfig = R"(method = "zo"
[zo]
model = "frugal-tiny"
task = "sentiment"
steps = 5
batch_size = 4
lr = 0.0005
eps = 0.001
eval_every = 5
eval_limit = 8
save = true
seed = 7
[peft]
target = "full"
)";
    const auto run = frugal::run::prepareRunText(runConfig, "run.toml", {}, {});
    run.body(frugal::RunContext{frugal::test::sink(runDir), frugal::test::noStop()});
    frugal::model::writeTextAtomically(runDir / "config.toml", runConfig);
    const std::string probe = "method = \"probe\"\n[probe]\nconfig = \"" + (runDir / "config.toml").string() +
                              "\"\ntrajectory = \"" + (runDir / "trajectory.csv").string() +
                              "\"\ntask = \"spam\"\nevery = 2\nlimit = 24\n";
    const auto p = frugal::run::prepareRunText(probe, "probe.toml", {}, {});
    QTemporaryDir out;
    frugal::MemorySink& sink = frugal::test::sink(out.path().toStdString());
    p.body(frugal::RunContext{sink, frugal::test::noStop()});
    std::vector<int64_t> steps;
    for (const auto& point : sink.points)
        if (point.key == "probe/accuracy") steps.push_back(point.step);
    QCOMPARE(steps, (std::vector<int64_t>{0, 2, 4, 5}));
    const std::vector<double> accuracy = sink.values("probe/accuracy");
    // the same task scored apart on the base model and on the model the run saved
    const auto spam = frugal::data::resolveTask("spam", "", {}, "test", "");
    const frugal::data::Task task = frugal::data::Task::load(spam.file, spam.labels);
    const auto prompt = frugal::data::PromptTemplate::parse(spam.templateText, spam.labels);
    const double base = frugal::eval::evaluateTaskInFolder(frugal::data::resolveModel("frugal-tiny").string(), "",
                                                           task, prompt, 24).accuracy;
    const double saved = frugal::eval::evaluateTaskInFolder((runDir / "model").string(), "", task, prompt, 24).accuracy;
    QCOMPARE(accuracy.front(), base);
    QCOMPARE(accuracy.back(), saved);
    // the gold labels' log-probability: the base model's at step 0, the saved model's at the end
    // (bit for bit: the replay rebuilds the run's weights exactly), and it moved in between
    const auto goldOf = [&](const std::string& folder) {
        const frugal::eval::TaskResult r = frugal::eval::evaluateTaskInFolder(folder, "", task, prompt, 24);
        double sum = 0;
        for (size_t i = 0; i < r.scores.size(); ++i)
            for (size_t k = 0; k < spam.labels.size(); ++k)
                if (spam.labels[k] == task.examples()[i].label) sum += r.scores[i][k].sumLogProb;
        return sum / static_cast<double>(r.scores.size());
    };
    const std::vector<double> gold = sink.values("probe/gold_logprob");
    QCOMPARE(gold.size(), size_t{4});
    QCOMPARE(gold.front(), goldOf(frugal::data::resolveModel("frugal-tiny").string()));
    QCOMPARE(gold.back(), goldOf((runDir / "model").string()));
    QVERIFY2(gold.front() != gold.back(), qPrintable(QString::number(gold.front(), 'g', 17)));
    // refused at their keys: a run of another method, a trajectory that is not there
    frugal::model::writeTextAtomically(runDir / "prune.toml", "method = \"prune\"\n");
    QString e = QString::fromStdString(frugal::test::errorOf([&] {
        frugal::run::prepareRunText(probe, "probe.toml", {"probe.config=\"" + (runDir / "prune.toml").string() + "\""}, {});
    }));
    QVERIFY2(e.contains("probe.config") && e.contains("'prune' run"), qPrintable(e));
    const auto problems = frugal::run::checkConfig(probe, "probe.toml", {"probe.every=0"});
    QVERIFY(!problems.empty());
    QCOMPARE(QString::fromStdString(problems.front().key), QStringLiteral("probe.every"));
    e = QString::fromStdString(frugal::test::errorOf([&] {
        frugal::run::prepareRunText(probe, "probe.toml", {"probe.trajectory=\"/no/such/trajectory.csv\""}, {});
    }));
    QVERIFY2(e.contains("/no/such/trajectory.csv"), qPrintable(e));
}

QTEST_APPLESS_MAIN(TestAnalysis)
#include "test_analysis.moc"
