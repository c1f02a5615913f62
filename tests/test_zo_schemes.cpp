// The ZO schemes beyond MeZO (zo/scheme.h), each against the property that defines it:
//   FZOO   the step is normalised SGD along the batch's estimate (the formula, computed here, and
//          free of the loss's scale);
//   LeZO   only the drawn blocks (and the tensors outside the blocks) are perturbed and move; a
//          draw of every block is MeZO's step bit for bit;
//   LOZO   the perturbation of a matrix is U Vᵀ of rank r, V kept within its period, and the mean of
//          the estimate g·U Vᵀ is the gradient projected on V's columns, ∇L·V Vᵀ (a quadratic);
//   HiZOO  its diagonal Hessian estimate converges to a quadratic's diagonal (within standard
//          errors measured here) and its preconditioned step needs fewer steps than ZO-SGD;
// and every scheme replays bit for bit, alone and through the engine (runZo / replayZo).

#include <QtTest/QtTest>

#include <cmath>
#include <map>
#include <set>

#include "test_util.h"
#include "zo/directions.h"
#include "zo/engine.h"
#include "zo/perturb.h"
#include "zo/scheme.h"
#include "zo/zo_method.h"

using namespace frugal::zo;

class TestZoSchemes : public QObject {
    Q_OBJECT

private slots:
    void theTableNamesItsRows();
    void fzooStepIsNormalisedSgdAlongTheEstimate();
    void fzooBatchesTheSoftPromptsAsPerturbMakesThem();
    void lezoPerturbsOnlyTheDrawnBlocks();
    void lozoPerturbationHasRankRAndProjectsTheGradient();
    void hizooEstimatesTheDiagonalHessianAndBeatsZoSgd();
    void svrgLowersTheVarianceOfTheStepEstimate();
    void eachSchemeShowsItsOwnPanel();
    void schemesReplayBitForBit_data();
    void schemesReplayBitForBit();
    void schemesRunThroughTheEngine_data();
    void schemesRunThroughTheEngine();
};

namespace {

ZoConfig schemeConfig(const char* name) {
    ZoConfig c;
    c.scheme = &findZoScheme(name);
    c.eps = 1e-3;
    return c;
}

// A loss of the weights' current values, counting its calls.
struct Quadratic {
    torch::Tensor a;  // [d] the diagonal of the Hessian (or empty: identity)
    torch::Tensor target;
    const torch::Tensor* theta = nullptr;
    double scale = 1;
    double operator()() const {
        const torch::Tensor x = theta->to(torch::kFloat64).flatten() - target;
        const torch::Tensor h = a.defined() ? a : torch::ones_like(x);
        return scale * 0.5 * (h * x * x).sum().item<double>();
    }
};

std::vector<StepRecord> steps(int64_t n, uint64_t first, int64_t directions = 1) {
    std::vector<StepRecord> out;
    std::mt19937_64 rng(first);
    for (int64_t s = 1; s <= n; ++s) {
        StepRecord r;
        r.step = s;
        r.lr = 1e-2;
        for (int64_t j = 0; j < directions; ++j) r.seeds.push_back(rng() >> 11);
        out.push_back(r);
    }
    return out;
}

}  // namespace

void TestZoSchemes::theTableNamesItsRows() {
    const auto names = zoSchemeNames();
    QCOMPARE(names, (std::vector<std::string>{"mezo", "fzoo", "lezo", "lozo", "hizoo", "svrg"}));
    const QString message = QString::fromStdString(frugal::test::errorOf([] { findZoScheme("zo-svrg"); }));
    QVERIFY2(message.contains("zo.scheme: unknown scheme 'zo-svrg'") && message.contains("hizoo"), qPrintable(message));
    QCOMPARE(zoSchemesReading("lozo_nu"), (std::vector<std::string>{"lozo"}));
    QCOMPARE(decoderBlockOf("model.layers.12.self_attn.q_proj.lora_A.weight"), int64_t{12});
    QCOMPARE(decoderBlockOf("model.decoder.layers.3.fc1.weight"), int64_t{3});
    QCOMPARE(decoderBlockOf("transformer.h.7.attn.c_attn.weight"), int64_t{7});
    QCOMPARE(decoderBlockOf("model.embed_tokens.weight"), int64_t{-1});
    QCOMPARE(decoderBlockOf("model.norm.weight"), int64_t{-1});
}

// θ' = θ − lr·(1/n)·Σ_i (l_i − l_0)/σ · z_i with σ the population deviation of l_1..l_n, computed
// here in double from the losses at θ + εz_i; the same step for the loss scaled by 1000.
void TestZoSchemes::fzooStepIsNormalisedSgdAlongTheEstimate() {
    const int64_t d = 64, n = 8;
    torch::manual_seed(2);
    ZoConfig c = schemeConfig("fzoo");
    c.fzooBatch = n;
    Quadratic q{torch::rand({d}, torch::kFloat64) * 4 + 0.5, torch::randn({d}, torch::kFloat64)};
    const torch::Tensor theta0 = torch::randn({d});
    torch::Tensor theta = theta0.clone();
    q.theta = &theta;
    const std::vector<Trainable> params = {Trainable{"w", theta, 0, true}};
    auto stepper = c.scheme->make(c, params);
    StepRecord rec = steps(1, 9, n)[0];
    rec.lr = 0.05;
    const std::function<double()> loss = q;
    int64_t forwards = 0;
    const double logged = stepper->step(rec, &loss, forwards);
    QCOMPARE(forwards, n + 1);
    // the expected step, from the losses computed here
    const auto lossAt = [&](const torch::Tensor& t) {
        const torch::Tensor x = t.to(torch::kFloat64) - q.target;
        return 0.5 * (q.a * x * x).sum().item<double>();
    };
    const double l0 = lossAt(theta0);
    QCOMPARE(logged, l0);
    std::vector<torch::Tensor> z;
    std::vector<double> l;
    for (int64_t i = 0; i < n; ++i) {
        std::vector<float> zi(d);
        directionRange(rec.seeds[static_cast<size_t>(i)], 0, 0, d, DirectionLaw::Rademacher, zi.data());
        z.push_back(torch::from_blob(zi.data(), {d}).clone().to(torch::kFloat64));
        l.push_back(lossAt((theta0.to(torch::kFloat64) + c.eps * z.back()).to(torch::kFloat32)));
    }
    double mean = 0, var = 0;
    for (double v : l) mean += v / n;
    for (double v : l) var += (v - mean) * (v - mean) / n;
    const double sigma = std::sqrt(var);
    torch::Tensor expected = theta0.to(torch::kFloat64);
    for (int64_t i = 0; i < n; ++i) expected -= rec.lr / n * (l[static_cast<size_t>(i)] - l0) / sigma * z[static_cast<size_t>(i)];
    const double err = (theta.to(torch::kFloat64) - expected).abs().max().item<double>();
    const double moved = (expected - theta0.to(torch::kFloat64)).abs().max().item<double>();
    QVERIFY2(err < 1e-3 * moved, qPrintable(QString("off by %1 of a step of %2").arg(err).arg(moved)));
    for (size_t i = 0; i < l.size(); ++i)
        QVERIFY(std::abs(rec.grads[i] - (l[i] - l0) / sigma) < 1e-3 * (1 + std::abs(rec.grads[i])));
    // normalised: the loss ×1000 takes the same step
    torch::Tensor scaled = theta0.clone();
    Quadratic big = q;
    big.theta = &scaled;
    big.scale = 1000;
    const std::vector<Trainable> bigParams = {Trainable{"w", scaled, 0, true}};
    auto bigStepper = c.scheme->make(c, bigParams);
    StepRecord again = steps(1, 9, n)[0];
    again.lr = rec.lr;
    const std::function<double()> bigLoss = big;
    bigStepper->step(again, &bigLoss, forwards);
    const double scaleErr = (scaled - theta).abs().max().item<double>();
    QVERIFY2(scaleErr < 1e-3 * moved, qPrintable(QString("the step moved by %1 with the loss ×1000").arg(scaleErr)));
    QCOMPARE(stepper->series().front().first, std::string("fzoo/loss_std"));
}

// FZOO's batched forward on a soft prompt: prompt i of the batch is, bit for bit, the prompt that
// perturb() makes in place for seed i (fp32 and bf16); the losses of the batched forward are those
// of one forward a prompt (TestSearch::populationAsOneBatchedForward).
void TestZoSchemes::fzooBatchesTheSoftPromptsAsPerturbMakesThem() {
    for (const auto dtype : {torch::kFloat32, torch::kBFloat16}) {
        torch::manual_seed(4);
        const torch::Tensor p0 = torch::randn({5, 24}).to(dtype);
        const Trainable prompt{"prompt_embeddings", p0.clone(), 0, true};
        const std::vector<uint64_t> seeds = {11, 12, 13, 14};
        const torch::Tensor batch = fzooPrompts(prompt, seeds, 1e-2);
        QVERIFY(torch::equal(prompt.tensor, p0));
        for (size_t i = 0; i < seeds.size(); ++i) {
            torch::Tensor alone = p0.clone();
            perturb({Trainable{"prompt_embeddings", alone, 0, true}}, seeds[i], 1e-2, DirectionLaw::Rademacher);
            QVERIFY(torch::equal(batch[static_cast<int64_t>(i)], alone));
            QVERIFY(!torch::equal(alone, p0));
        }
    }
}

// 8 blocks, a quarter drawn: the first forward sees exactly 2 blocks and the embedding perturbed,
// and only those move; with every block drawn the step is MeZO's (perturb, −2, +, the update).
void TestZoSchemes::lezoPerturbsOnlyTheDrawnBlocks() {
    torch::manual_seed(3);
    std::vector<Trainable> params;
    std::vector<torch::Tensor> start;
    for (uint32_t b = 0; b < 8; ++b) {
        params.push_back({frugal::cat("model.layers.", b, ".mlp.w"), torch::randn({4, 4}), b, true});
        start.push_back(params.back().tensor.clone());
    }
    params.push_back({"model.embed_tokens.weight", torch::randn({4}), 8, true});
    start.push_back(params.back().tensor.clone());
    ZoConfig c = schemeConfig("lezo");
    c.lezoFraction = 0.25;
    auto stepper = c.scheme->make(c, params);
    std::vector<bool> perturbedAtFirst;
    int calls = 0;
    const std::function<double()> loss = [&] {
        if (calls++ == 0)
            for (size_t i = 0; i < params.size(); ++i) perturbedAtFirst.push_back(!torch::equal(params[i].tensor, start[i]));
        double s = 0;
        for (const auto& p : params) s += p.tensor.square().sum().item<double>();
        return s;
    };
    StepRecord rec = steps(1, 4)[0];
    int64_t forwards = 0;
    stepper->step(rec, &loss, forwards);
    QCOMPARE(forwards, int64_t{2});
    int blocks = 0;
    for (size_t i = 0; i < 8; ++i) {
        blocks += perturbedAtFirst[i];
        QCOMPARE(!torch::equal(params[i].tensor, start[i]), bool(perturbedAtFirst[i]));
    }
    QCOMPARE(blocks, 2);
    QVERIFY(perturbedAtFirst[8]);
    const auto series = stepper->series();
    QCOMPARE(series[0].first, std::string("lezo/perturbed_fraction"));
    QCOMPARE(series[0].second, (2.0 * 16 + 4) / (8.0 * 16 + 4));
    // every block drawn: MeZO's three passes and update, bit for bit
    c.lezoFraction = 1.0;
    std::vector<Trainable> all, mezo;
    for (size_t i = 0; i < params.size(); ++i) {
        all.push_back({params[i].name, start[i].clone(), params[i].index, true});
        mezo.push_back({params[i].name, start[i].clone(), params[i].index, true});
    }
    auto full = c.scheme->make(c, all);
    StepRecord r2 = steps(1, 5)[0];
    r2.grads = {0.37};
    full->step(r2, nullptr, forwards);  // replay: the recorded gradient
    perturb(mezo, r2.seeds[0], +c.eps, DirectionLaw::Gaussian);
    perturb(mezo, r2.seeds[0], -2 * c.eps, DirectionLaw::Gaussian);
    perturb(mezo, r2.seeds[0], +c.eps, DirectionLaw::Gaussian);
    OptimizerState none;
    applyUpdate(mezo, {{r2.seeds[0], 0.37}}, DirectionLaw::Gaussian, ruleOf(c, zoSgd(), r2.lr), none);
    for (size_t i = 0; i < all.size(); ++i) QVERIFY(torch::equal(all[i].tensor, mezo[i].tensor));
}

// W [12, 10], r = 2: the perturbation seen by the first forward is U Vᵀ (rank 2, the factors
// regenerated here); over 4000 steps of one V period at lr 0 the mean of g·U Vᵀ is G V Vᵀ for the
// quadratic ½‖W − A‖² (G = W − A), within 4.5 standard errors in every element.
void TestZoSchemes::lozoPerturbationHasRankRAndProjectsTheGradient() {
    const int64_t m = 12, n = 10, r = 2, samples = 4000;
    torch::manual_seed(8);
    ZoConfig c = schemeConfig("lozo");
    c.lozoRank = r;
    c.lozoNu = samples + 1;
    c.eps = 1e-2;
    torch::Tensor w = torch::randn({m, n});
    const torch::Tensor w0 = w.clone();
    Quadratic q{torch::Tensor(), torch::randn({m * n}, torch::kFloat64)};
    q.theta = &w;
    const std::vector<Trainable> params = {Trainable{"model.layers.0.w", w, 0, true}};
    auto stepper = c.scheme->make(c, params);
    torch::Tensor z, before = w0.clone();
    int calls = 0;
    const std::function<double()> loss = [&] {
        if (calls++ % 2 == 0) z = (w - before).to(torch::kFloat64) / c.eps;
        return q();
    };
    auto records = steps(samples, 12);
    torch::Tensor sum = torch::zeros({m, n}, torch::kFloat64), sumSq = torch::zeros({m, n}, torch::kFloat64);
    int64_t forwards = 0;
    for (auto& rec : records) {
        rec.lr = 0;
        before = w.clone();
        stepper->step(rec, &loss, forwards);
        if (rec.step == 1) {
            const torch::Tensor s = at::linalg_svdvals(z);
            QVERIFY2(s[r - 1].item<double>() > 1e-2 * s[0].item<double>() && s[r].item<double>() < 1e-4 * s[0].item<double>(),
                     qPrintable(QString::fromStdString(frugal::cat(s))));
            const torch::Tensor u = lozoFactor(rec.seeds[0], 0, m, r);
            const torch::Tensor v = lozoFactor(lozoVSeed(rec.seeds[0]), 0, n, r);
            QVERIFY(torch::allclose(z, u.matmul(v.t()).to(torch::kFloat64), 1e-3, 1e-3));
        }
        const torch::Tensor e = rec.grads[0] * z;
        sum += e;
        sumSq += e * e;
    }
    QVERIFY(torch::allclose(w, w0, 0, 1e-4));  // lr 0: back where it began, to the passes' rounding
    const torch::Tensor v = lozoFactor(lozoVSeed(records[0].seeds[0]), 0, n, r).to(torch::kFloat64);
    const torch::Tensor g = (w0.to(torch::kFloat64).flatten() - q.target).view({m, n});
    const torch::Tensor expected = g.matmul(v).matmul(v.t());
    const torch::Tensor mean = sum / samples;
    const torch::Tensor se = ((sumSq / samples - mean * mean) / samples).sqrt();
    const double worst = ((mean - expected).abs() / se).max().item<double>();
    QVERIFY2(worst < 4.5, qPrintable(QString("largest deviation %1 standard errors").arg(worst)));
    // and not the full gradient (the projection is a real one)
    QVERIFY(((mean - g).abs() / se).max().item<double>() > 10);
}

// L = ½ Σ a_i θ_i², a from 0.5 to 64: at lr 0 the estimate h, averaged over the last 20000 of
// 30000 steps (α = 0.002), is a within 4.5 standard errors (from 10 batch means); and with the
// best of five learning rates each, HiZOO (α = 0.01) reaches L < L0/100 in fewer steps than the
// same scheme at α = 0 (h = 1: ZO-SGD with one more forward).
void TestZoSchemes::hizooEstimatesTheDiagonalHessianAndBeatsZoSgd() {
    const int64_t d = 8;
    const torch::Tensor a = torch::tensor({0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0}, torch::kFloat64);
    {
        ZoConfig c = schemeConfig("hizoo");
        c.hizooAlpha = 0.002;
        torch::Tensor theta = torch::ones({d});
        Quadratic q{a, torch::zeros({d}, torch::kFloat64)};
        q.theta = &theta;
        const std::vector<Trainable> params = {Trainable{"w", theta, 0, true}};
        auto stepper = c.scheme->make(c, params);
        const std::function<double()> loss = q;
        int64_t forwards = 0;
        std::vector<torch::Tensor> batches;
        for (int b = 0; b < 10; ++b) batches.push_back(torch::zeros({d}, torch::kFloat64));
        int64_t t = 0;
        for (auto& rec : steps(30000, 21)) {
            rec.lr = 0;
            stepper->step(rec, &loss, forwards);
            if (++t > 10000) batches[static_cast<size_t>((t - 10001) / 2000)] += hizooHessian(*stepper, 0).to(torch::kFloat64) / 2000;
        }
        QCOMPARE(forwards, int64_t{90000});
        const torch::Tensor all = torch::stack(batches);
        const torch::Tensor mean = all.mean(0), se = all.std(0) / std::sqrt(10.0);
        const double worst = ((mean - a).abs() / se).max().item<double>();
        QVERIFY2(worst < 4.5, qPrintable(QString::fromStdString(frugal::cat("h ", mean, " se ", se, ": ", worst, " se"))));
        QVERIFY(((mean - a).abs() / a).max().item<double>() < 0.25);
    }
    const auto stepsTo = [&](double alpha, double lr) {
        ZoConfig c = schemeConfig("hizoo");
        c.hizooAlpha = alpha;
        torch::Tensor theta = torch::ones({d});
        Quadratic q{a, torch::zeros({d}, torch::kFloat64)};
        q.theta = &theta;
        const std::vector<Trainable> params = {Trainable{"w", theta, 0, true}};
        auto stepper = c.scheme->make(c, params);
        const std::function<double()> loss = q;
        const double l0 = q();
        int64_t forwards = 0;
        for (auto& rec : steps(20000, 33)) {
            rec.lr = lr;
            try {
                stepper->step(rec, &loss, forwards);
            } catch (const Diverged&) {
                return int64_t{1} << 40;
            }
            const double l = q();
            if (!std::isfinite(l) || l > 1e6 * l0) return int64_t{1} << 40;
            if (l < l0 / 10000) return rec.step;
        }
        return int64_t{1} << 40;
    };
    int64_t sgd = int64_t{1} << 40, hizoo = int64_t{1} << 40;
    for (double lr : {1e-3, 2e-3, 5e-3, 1e-2, 2e-2}) sgd = std::min(sgd, stepsTo(0, lr));
    for (double lr : {1e-2, 2e-2, 5e-2, 1e-1, 2e-1}) hizoo = std::min(hizoo, stepsTo(0.002, lr));
    qInfo("steps to L0/10000: ZO-SGD %lld, HiZOO %lld", static_cast<long long>(sgd), static_cast<long long>(hizoo));
    QVERIFY2(hizoo < sgd / 2, qPrintable(QString("HiZOO %1 steps, ZO-SGD %2").arg(hizoo).arg(sgd)));
}

// Least squares over 256 examples (d = 8, noisy targets), the snapshot θ̃ at the least-squares
// solution and θ a small step from it: over 3000 minibatches of 4, the mean squared distance of
// MeZO-SVRG's step (θ − θ')/lr, θ put back after each, from the full gradient at θ is below a tenth
// of ZO-SGD's g·z on the same minibatches and directions.
void TestZoSchemes::svrgLowersTheVarianceOfTheStepEstimate() {
    const int64_t d = 8, n = 256, b = 4, samples = 3000;
    torch::manual_seed(13);
    const torch::Tensor a = torch::randn({n, d}, torch::kFloat64);
    const torch::Tensor y = a.matmul(torch::randn({d}, torch::kFloat64)) + torch::randn({n}, torch::kFloat64);
    const torch::Tensor solution = std::get<0>(at::linalg_lstsq(a, y.unsqueeze(1))).squeeze(1);
    torch::Tensor theta = torch::zeros({d});  // the stepper is made here; the snapshot is taken below
    const auto lossOn = [&](const torch::Tensor& rows) {
        const torch::Tensor r = a.index_select(0, rows).matmul(theta.to(torch::kFloat64)) - y.index_select(0, rows);
        return 0.5 * r.square().mean().item<double>();
    };
    const torch::Tensor all = torch::arange(n);
    ZoConfig c = schemeConfig("svrg");
    c.svrgQ = 1 << 30;
    c.svrgBatch = n;
    c.common.batchSize = b;
    const std::vector<Trainable> params = {Trainable{"w", theta, 0, true}};
    auto stepper = c.scheme->make(c, params);
    stepper->setLargeBatch([&](int64_t) -> std::function<double()> { return [&] { return lossOn(all); }; });
    std::mt19937_64 rng(3);
    torch::Tensor batch;
    const std::function<double()> loss = [&] { return lossOn(batch); };
    auto records = steps(samples + 1, 77);
    int64_t forwards = 0;
    theta.copy_(solution.to(torch::kFloat32));
    records[0].lr = 0;
    stepper->step(records[0], &loss, forwards);  // the snapshot at the solution
    QCOMPARE(forwards, 2 * (n / b));
    theta.add_(torch::randn({d}) * 0.01f);  // θ a small step away from θ̃
    const torch::Tensor thetaD = theta.to(torch::kFloat64);
    const torch::Tensor grad = a.t().matmul(a.matmul(thetaD) - y) / n;
    const auto direction = [&](uint64_t seed) {
        std::vector<float> z(d);
        directionRange(seed, 0, 0, d, DirectionLaw::Gaussian, z.data());
        return torch::from_blob(z.data(), {d}).clone().to(torch::kFloat64);
    };
    double svrg = 0, sgd = 0;
    const torch::Tensor held = theta.clone();
    const double lr = 1e-3;
    for (int64_t t = 1; t <= samples; ++t) {
        auto& rec = records[static_cast<size_t>(t)];
        rec.lr = lr;
        batch = torch::randint(n, {b}, torch::kLong);
        stepper->step(rec, &loss, forwards);
        const torch::Tensor z = direction(rec.seeds[0]);
        const torch::Tensor e = (held.to(torch::kFloat64) - theta.to(torch::kFloat64)) / lr;  // the step it made
        theta.copy_(held);
        svrg += (e - grad).square().sum().item<double>() / samples;
        sgd += (rec.grads[0] * z - grad).square().sum().item<double>() / samples;
    }
    qInfo("mean squared distance from the gradient: MeZO-SVRG %g, ZO-SGD %g", svrg, sgd);
    QVERIFY2(svrg < 0.1 * sgd, qPrintable(QString("MeZO-SVRG %1, ZO-SGD %2").arg(svrg).arg(sgd)));
    QCOMPARE(forwards, 2 * (n / b) + 4 * samples);
}

// The workbench draws a scheme's series through the method's view: the panel of each scheme is
// shown for its runs only (zo and mezo configs alike).
void TestZoSchemes::eachSchemeShowsItsOwnPanel() {
    const std::map<std::string, std::string> series = {
        {"fzoo", "fzoo/loss_std"}, {"lezo", "lezo/perturbed_fraction"}, {"lozo", "lozo/rank"},
        {"hizoo", "hizoo/hessian_mean"}, {"svrg", "svrg/full_grad"}};
    for (const auto& [table, view] : {std::pair{"zo", zoView()}, std::pair{"mezo", mezoView()}})
        for (const auto& [scheme, key] : series) {
            std::set<std::string> shown;
            for (const auto& p : view.panelsUnder({{frugal::cat(table, ".scheme"), scheme}}))
                for (const auto& line : p.match.lines) shown.insert(line.key);
            for (const auto& [other, otherKey] : series)
                QVERIFY2(shown.count(otherKey) == (other == scheme ? 1u : 0u), qPrintable(QString::fromStdString(
                    frugal::cat(table, ".scheme = ", scheme, ": ", otherKey))));
        }
}

void TestZoSchemes::schemesReplayBitForBit_data() {
    QTest::addColumn<QString>("scheme");
    QTest::addColumn<QString>("dtype");
    QTest::addColumn<double>("momentum");
    for (const char* s : {"fzoo", "lezo", "lozo", "hizoo", "svrg"})
        for (const char* dtype : {"fp32", "bf16"})
            QTest::newRow(frugal::cat(s, " ", dtype).c_str()) << s << dtype << 0.0;
    QTest::newRow("lozo-m fp32, V drawn again") << "lozo" << "fp32" << 0.9;
    QTest::newRow("lozo-m bf16, V drawn again") << "lozo" << "bf16" << 0.9;
}

// Seven steps with a loss, then the records replayed onto a copy of the start: the same bits.
void TestZoSchemes::schemesReplayBitForBit() {
    QFETCH(QString, scheme);
    QFETCH(QString, dtype);
    QFETCH(double, momentum);
    const auto type = dtype == "bf16" ? torch::kBFloat16 : torch::kFloat32;
    ZoConfig c = schemeConfig(scheme.toLatin1().constData());
    c.lozoNu = 3;
    c.lozoMomentum = momentum;
    c.hizooAlpha = 0.05;
    c.lezoFraction = 0.5;
    c.common.weightDecay = 0.01;
    torch::manual_seed(6);
    std::vector<Trainable> run, replayed;
    for (uint32_t b = 0; b < 4; ++b) {
        const torch::Tensor t = torch::randn({b == 3 ? 40 : 20, 30}).to(type);
        run.push_back({frugal::cat("model.layers.", b, ".w"), t.clone(), b, b != 3});
        replayed.push_back({run.back().name, t.clone(), b, b != 3});
    }
    const torch::Tensor initial = run[0].tensor.clone();
    run.push_back({"model.norm.weight", torch::ones({30}).to(type), 4, false});
    replayed.push_back({"model.norm.weight", torch::ones({30}).to(type), 4, false});
    c.svrgQ = 3;
    const auto first = c.scheme->make(c, run);
    const auto second = c.scheme->make(c, replayed);
    const std::function<double()> loss = [&] {  // the mean square: steps of a sane size at lr 1e-2
        double s = 0;
        int64_t n = 0;
        for (const auto& p : run) {
            s += (p.tensor.to(torch::kFloat64) - 0.3).square().sum().item<double>();
            n += p.tensor.numel();
        }
        return s / static_cast<double>(n);
    };
    first->setLargeBatch([&](int64_t) { return loss; });
    const int64_t directions = c.scheme->directions ? c.scheme->directions(c) : 1;
    auto records = steps(7, 40, directions);
    int64_t forwards = 0;
    for (auto& rec : records) first->step(rec, &loss, forwards);
    for (auto rec : records) second->step(rec, nullptr, forwards);
    for (size_t i = 0; i < run.size(); ++i) {
        QVERIFY2(torch::isfinite(run[i].tensor).all().item<bool>(), run[i].name.c_str());
        QVERIFY2(torch::equal(run[i].tensor, replayed[i].tensor), run[i].name.c_str());
    }
    // not vacuous: the weights moved
    QVERIFY(!torch::equal(run[0].tensor, initial));
}

void TestZoSchemes::schemesRunThroughTheEngine_data() {
    QTest::addColumn<QString>("scheme");
    QTest::addColumn<QString>("target");
    QTest::addColumn<QString>("series");
    QTest::newRow("fzoo, LoRA") << "fzoo" << "lora" << "fzoo/loss_std";
    QTest::newRow("fzoo, soft prompt in one batched forward") << "fzoo" << "prompt" << "fzoo/loss_std";
    QTest::newRow("lezo, full") << "lezo" << "full" << "lezo/perturbed_fraction";
    QTest::newRow("lozo, full") << "lozo" << "full" << "lozo/rank";
    QTest::newRow("hizoo, norms") << "hizoo" << "norms" << "hizoo/hessian_mean";
    QTest::newRow("svrg, LoRA") << "svrg" << "lora" << "svrg/full_grad";
}

// A short run of the built-in model through runZo: the scheme's series is stored at each step
// taken (a step that rolls back is not retried), and
// replay of the trajectory (a rollback forced by a divergence factor of 1 included) gives the
// saved weights' bytes.
void TestZoSchemes::schemesRunThroughTheEngine() {
    QFETCH(QString, scheme);
    QFETCH(QString, target);
    QFETCH(QString, series);
    frugal::test::useSourceResources();
    frugal::test::TempDir dir("schemes");
    ZoConfig c;
    c.scheme = &findZoScheme(scheme.toStdString());
    c.common.peft.target = frugal::peft::parseTarget(target.toStdString());
    c.common.steps = 4;
    c.common.batchSize = 2;
    c.common.lr = 1e-3;
    c.common.evalEvery = 100;
    c.common.evalLimit = 4;
    c.common.seed = 5;
    c.common.saveTo = dir / "run";
    c.fzooBatch = 3;
    c.fzooBatched = true;  // read on a soft prompt only
    c.svrgBatch = 4;
    c.divergence = Divergence::Rollback;
    c.divergenceFactor = 1.0;
    c.rollbackSteps = 0;
    c.maxRollbacks = 100;
    ZoRunOptions options;
    options.trajectoryFile = dir / "trajectory.csv";
    frugal::MemorySink& sink = frugal::test::sink();
    sink.points.clear();
    const auto result = runZo(c, sink, frugal::test::noStop(), options);
    int points = 0;
    for (const auto& p : sink.points) {
        points += p.key == series.toStdString();
        if (p.key == "zo/queries") QCOMPARE(p.value, scheme == "fzoo" ? 3.0 : 1.0);  // directions, not rows
    }
    QVERIFY2(points >= 1 && points + result.rollbacks >= 4, qPrintable(QString("%1: %2 points, %3 rollbacks").arg(series).arg(points).arg(result.rollbacks)));
    const auto trajectory = readTrajectory(options.trajectoryFile);
    QVERIFY2(!trajectory.empty(), "every step rolled back");
    replayZo(c, trajectory, dir / "replayed");
    const char* file = target == "prompt" ? "adapter.safetensors" : "model.safetensors";  // LoRA: merged
    QVERIFY(frugal::test::readText(dir / "run" / file) == frugal::test::readText(dir / "replayed" / file));
    auto shorter = trajectory;
    shorter.pop_back();
    replayZo(c, shorter, dir / "shorter");
    QVERIFY(frugal::test::readText(dir / "run" / file) != frugal::test::readText(dir / "shorter" / file));
}

QTEST_APPLESS_MAIN(TestZoSchemes)
#include "test_zo_schemes.moc"
