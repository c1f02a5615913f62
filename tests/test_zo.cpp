// The ZO perturbation engine: Philox known answers; directions as pure functions of (seed, tensor,
// element), whatever the thread count or chunking; E[zz^T] = I for each law; restore to within a
// few ulp in fp32; the fused restore-and-update formula; and the two-point estimate on a quadratic
// (SPEC-ZO §10): the scalar is z^T grad to rounding and its mean over seeds is the gradient.

#include <QtTest/QtTest>

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Parallel.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <map>
#include <random>

#include "data/builtin.h"
#include "data/corpus.h"
#include "data/task.h"
#include "common/files.h"
#include "eval/candidate_scoring.h"
#include "eval/model_loading.h"
#include "eval/fine_tune_problem.h"
#include "model/safetensors.h"
#include "model/transformer.h"
#include "peft/param_set.h"
#include "test_util.h"
#include "zo/directions.h"
#include "zo/optimizers.h"
#include "zo/engine.h"
#include "zo/query_schedule.h"
#include "zo/perturb.h"

using namespace frugal::zo;

namespace {

std::vector<Trainable> oneTensor(torch::Tensor t, bool decay = true) {
    return {Trainable{"w", std::move(t), 0, decay}};
}

}  // namespace

class TestZo : public QObject {
    Q_OBJECT
private slots:
    void philoxKnownAnswers();
    void directionsArePureFunctions();
    void threadCountDoesNotMatter();
    void secondMomentIsIdentity_data();
    void secondMomentIsIdentity();
    void restoreWithinUlps();
    void fusedUpdateFollowsTheFormula();
    void twoPassStepEqualsThreePasses_data();
    void twoPassStepEqualsThreePasses();
    void halfPrecisionRestoreDrift();
    void bf16PassRoundsAsTorch();
    void quadraticOracle();
    void adazetaScheduleMatchesTheSpec();
    void updateRulesFollowTheirFormulas();
    void sparseMaskMovesOnlySmallWeights();
    void zoRunIsSeededAndTouchesOnlyItsTarget();
    void replayIsBitIdentical_data();
    void replayIsBitIdentical();
    void divergenceStopsAtItsStep();
    void trajectoryHasAVersionLine();
};

// Random123's kat_vectors for philox4x32-10.
void TestZo::philoxKnownAnswers() {
    QCOMPARE(philox4x32({0, 0}, {0, 0, 0, 0}),
             (std::array<uint32_t, 4>{0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8}));
    QCOMPARE(philox4x32({0xffffffff, 0xffffffff}, {0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff}),
             (std::array<uint32_t, 4>{0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd}));
    QCOMPARE(philox4x32({0xa4093822, 0x299f31d0}, {0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344}),
             (std::array<uint32_t, 4>{0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1}));
}

void TestZo::directionsArePureFunctions() {
    // every instruction-set kernel gives the same bits (no FMA contraction, IEEE operations only)
    const auto kernels = directionKernels();
    qInfo("direction kernels on this CPU: %zu", kernels.size());
    for (auto law : {DirectionLaw::Gaussian, DirectionLaw::Rademacher}) {
        std::vector<float> reference(1 << 20), other(1 << 20);
        directionRangeWith("generic", 99, 2, 3, reference.size(), law, reference.data());
        for (const auto& k : kernels) {
            directionRangeWith(k, 99, 2, 3, other.size(), law, other.data());
            QVERIFY2(std::memcmp(reference.data(), other.data(), reference.size() * 4) == 0, k.c_str());
        }
    }
    // the batched (vectorised) generator is the KAT-checked Philox: element 4096 B + 1024 k + b
    // of a Rademacher direction is the sign bit of word k of
    // philox4x32(key = seed, counter = (1024 B + b, tensor, 0x5A0))
    const uint64_t seed = 0x0123456789abcdefull;
    std::vector<float> values(4096);
    directionRange(seed, 7, 2 * 4096, 4096, DirectionLaw::Rademacher, values.data());
    for (uint64_t b : {0ull, 1ull, 700ull, 1023ull}) {
        const uint64_t block = 2 * 1024 + b;
        const auto w = philox4x32({static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32)},
                                  {static_cast<uint32_t>(block), 0, 7, 0x5A0u});
        for (int k = 0; k < 4; ++k)
            QCOMPARE(values[static_cast<size_t>(k) * 1024 + b], (w[k] >> 31) ? 1.0f : -1.0f);
    }
    for (auto law : {DirectionLaw::Gaussian, DirectionLaw::Rademacher}) {
        float range[11];
        directionRange(42, 3, 5, 11, law, range);
        for (int i = 0; i < 11; ++i) QCOMPARE(range[i], directionAt(42, 3, 5 + i, law));
        QVERIFY(directionAt(42, 3, 0, law) != directionAt(42, 4, 0, law) ||
                directionAt(42, 3, 1, law) != directionAt(42, 4, 1, law));
    }
    // perturbing zeros by s gives s*z exactly, element by element
    torch::Tensor t = torch::zeros({3, 5000});
    perturb(oneTensor(t), 7, 0.5, DirectionLaw::Gaussian);
    for (int64_t i : {0L, 1L, 4095L, 4096L, 9999L, 14999L})
        QCOMPARE(t.view({-1})[i].item<float>(), 0.5f * directionAt(7, 0, i, DirectionLaw::Gaussian));
}

// The passes spread chunks over threads in whatever order the threads take them; the weights
// (several tensors, an odd size, an update with two queries and Adam state) are the same bits for
// 1, 2 and 5 threads.
void TestZo::threadCountDoesNotMatter() {
    torch::manual_seed(1);
    const torch::Tensor start = torch::randn({100003}), start2 = torch::randn({7, 5001});
    std::vector<torch::Tensor> results;
    for (int threads : {1, 2, 5}) {
        const PassThreads scope(threads);
        torch::Tensor a = start.clone(), b = start2.clone();
        const std::vector<Trainable> params = {{"a", a, 0, true}, {"b", b, 1, false}};
        perturb(params, 11, 1e-3, DirectionLaw::Gaussian);
        restoreAndUpdate(params, 11, 1e-3, 1e-2, 0.7, 0.1, DirectionLaw::Gaussian);
        const ZoOptimizer& adam = findZoOptimizer("adam");
        OptimizerState state = OptimizerState::forRule(adam, params);
        UpdateRule rule;
        rule.optimizer = &adam;
        rule.lr = 1e-3;
        applyUpdate(params, {{12, 0.3}, {13, -0.2}}, DirectionLaw::Gaussian, rule, state);
        results.push_back(torch::cat({a, b.flatten()}));
    }
    QVERIFY(!torch::equal(results[0], torch::cat({start, start2.flatten()})));
    QVERIFY(torch::equal(results[0], results[1]));  // bit for bit
    QVERIFY(torch::equal(results[0], results[2]));
}

void TestZo::secondMomentIsIdentity_data() {
    QTest::addColumn<QString>("law");
    QTest::newRow("gaussian") << "gaussian";
    QTest::newRow("rademacher") << "rademacher";
    QTest::newRow("sphere") << "sphere";
}

void TestZo::secondMomentIsIdentity() {
    QFETCH(QString, law);
    const DirectionLaw l = parseLaw(law.toStdString());
    const int d = 6, samples = 20000;
    torch::Tensor sum = torch::zeros({d, d}, torch::kFloat64);
    for (int s = 0; s < samples; ++s) {
        torch::Tensor z = torch::zeros({d});
        perturb(oneTensor(z), static_cast<uint64_t>(s) + 1000, 1.0, l);
        const torch::Tensor zd = z.to(torch::kFloat64);
        sum += torch::outer(zd, zd);
    }
    const torch::Tensor m = sum / samples;
    const double err = (m - torch::eye(d, torch::kFloat64)).abs().max().item<double>();
    // Monte-Carlo error of an entry of a mean of 20,000 outer products: about 0.01 (0.02 for the
    // Gaussian diagonal); 0.06 is beyond 4 standard errors
    QVERIFY2(err < 0.06, qPrintable(QString("max |E[zz^T] - I| = %1").arg(err)));
    if (l == DirectionLaw::Rademacher) QVERIFY(torch::equal(m.diag(), torch::ones({d}, torch::kFloat64)));
    if (l == DirectionLaw::Sphere) {  // every sample has ||z||^2 = d exactly (to rounding)
        torch::Tensor z = torch::zeros({d});
        perturb(oneTensor(z), 5, 1.0, l);
        QVERIFY(std::abs(z.pow(2).sum().item<double>() - d) < 1e-4);
    }
}

void TestZo::restoreWithinUlps() {
    torch::manual_seed(2);
    const torch::Tensor start = torch::randn({50000});
    torch::Tensor w = start.clone();
    const double eps = 1e-3;
    perturb(oneTensor(w), 99, +eps, DirectionLaw::Gaussian);
    perturb(oneTensor(w), 99, -2 * eps, DirectionLaw::Gaussian);
    restoreAndUpdate(oneTensor(w), 99, eps, /*lr=*/0, 0, 0, DirectionLaw::Gaussian);
    // each pass rounds once: a few ulp of max(|w|, eps·|z|)
    const torch::Tensor bound = (start.abs() + 4 * eps) * 4 * std::numeric_limits<float>::epsilon();
    QVERIFY(((w - start).abs() <= bound).all().item<bool>());
    QVERIFY(!torch::equal(w, start + 1));  // (the check above is not vacuous)
}

void TestZo::fusedUpdateFollowsTheFormula() {
    torch::manual_seed(3);
    const torch::Tensor start = torch::randn({9000});
    const double eps = 1e-3, lr = 0.05, g = -1.7, wd = 0.1;
    for (bool decay : {true, false}) {
        torch::Tensor w = start.clone();
        perturb(oneTensor(w, decay), 5, -eps, DirectionLaw::Rademacher);  // as after the minus pass
        restoreAndUpdate(oneTensor(w, decay), 5, eps, lr, g, wd, DirectionLaw::Rademacher);
        for (int64_t i : {0L, 17L, 4096L, 8999L}) {
            const double z = directionAt(5, 0, static_cast<uint64_t>(i), DirectionLaw::Rademacher);
            const double theta = start[i].item<double>();
            const double expected = theta - lr * (g * z + (decay ? wd : 0.0) * theta);
            QVERIFY2(std::abs(w[i].item<double>() - expected) < 1e-6,
                     qPrintable(QString("%1 vs %2").arg(w[i].item<double>()).arg(expected)));
        }
    }
}

void TestZo::twoPassStepEqualsThreePasses_data() {
    QTest::addColumn<int>("dtype");
    QTest::addColumn<double>("sparsity");
    QTest::addColumn<int>("law");
    QTest::newRow("fp32") << int(torch::kFloat32) << 0.0 << int(DirectionLaw::Gaussian);
    QTest::newRow("bf16") << int(torch::kBFloat16) << 0.0 << int(DirectionLaw::Gaussian);
    QTest::newRow("fp16, rademacher") << int(torch::kHalf) << 0.0 << int(DirectionLaw::Rademacher);
    QTest::newRow("bf16, Sparse-MeZO 0.7") << int(torch::kBFloat16) << 0.7 << int(DirectionLaw::Gaussian);
    QTest::newRow("fp32, sphere") << int(torch::kFloat32) << 0.0 << int(DirectionLaw::Sphere);
}

// The fused pass (restore and update step t, perturb for step t+1) gives the same bits as the
// two passes it replaces, in every dtype and with a refreshed mask: replay may fuse or not.
void TestZo::twoPassStepEqualsThreePasses() {
    QFETCH(int, dtype);
    QFETCH(double, sparsity);
    QFETCH(int, law);
    const auto type = static_cast<torch::ScalarType>(dtype);
    const auto l = static_cast<DirectionLaw>(law);
    torch::manual_seed(4);
    const torch::Tensor start = (torch::randn({2, 20000}) * 0.02).to(type);
    const double eps = 1e-3, lr = 0.05, g = 0.8, wd = 0.01;
    torch::Tensor a = start.clone(), b = start.clone();
    auto maskA = sparsity > 0 ? std::make_unique<SparseMask>(SparseMask::fromWeights(oneTensor(a), sparsity)) : nullptr;
    auto maskB = sparsity > 0 ? std::make_unique<SparseMask>(SparseMask::fromWeights(oneTensor(b), sparsity)) : nullptr;
    for (torch::Tensor* t : {&a, &b}) {  // step t up to its −εz pass
        SparseMask* m = t == &a ? maskA.get() : maskB.get();
        perturb(oneTensor(*t), 11, +eps, l, m, true);
        perturb(oneTensor(*t), 11, -2 * eps, l, m);
    }
    restoreAndUpdate(oneTensor(a), 11, eps, lr, g, wd, l, maskA.get());
    perturb(oneTensor(a), 12, +eps, l, maskA.get(), /*refresh=*/true);
    restoreUpdateAndPerturb(oneTensor(b), 11, eps, lr, g, wd, l, maskB.get(), 12, +eps);
    QVERIFY(torch::equal(a, b));
    if (sparsity > 0) QVERIFY(maskA->bits == maskB->bits);
    QVERIFY(!torch::equal(a, start));  // the passes moved the weights
}

// In-place ±εz in half precision does not restore exactly: each pass rounds every element to
// bf16. After 1,000 steps at lr 0 (3,000 rounded passes) fp32 weights are back within a few ulp
// while bf16 weights have drifted by a random walk of roundings; the figure is printed (and
// recorded in docs/BENCHMARKS.md) and bounded by that walk: sqrt(passes)·(ulp/√12) per element.
void TestZo::halfPrecisionRestoreDrift() {
    torch::manual_seed(5);
    const torch::Tensor start = torch::randn({20000}) * 0.02;
    const double eps = 1e-3;
    std::map<int, double> drift;
    for (auto type : {torch::kFloat32, torch::kBFloat16}) {
        torch::Tensor w = start.to(type);
        const torch::Tensor w0 = w.to(torch::kFloat32);
        for (uint64_t step = 0; step < 1000; ++step) {
            perturb(oneTensor(w), 100 + step, +eps, DirectionLaw::Gaussian);
            perturb(oneTensor(w), 100 + step, -2 * eps, DirectionLaw::Gaussian);
            restoreAndUpdate(oneTensor(w), 100 + step, eps, /*lr=*/0, 0.7, 0, DirectionLaw::Gaussian);
        }
        drift[int(type)] = ((w.to(torch::kFloat32) - w0).norm() / w0.norm()).item<double>();
    }
    const double fp32 = drift[int(torch::kFloat32)], bf16 = drift[int(torch::kBFloat16)];
    qInfo("relative drift ||θ_1000 − θ|| / ||θ|| after 1,000 steps at lr 0, eps 1e-3, |θ| ~ 0.02: fp32 %.3g, bf16 %.3g",
          fp32, bf16);
    QVERIFY2(fp32 < 1e-5, qPrintable(QString::number(fp32)));
    // bf16 keeps 8 significant bits: an element's ulp is at most 2^-7 of its magnitude; 3,000
    // roundings of up to ±ulp/2 (uniform: ulp/√12 each) walk about sqrt(3000)·2^-7/√12 ≈ 12%
    const double walk = std::sqrt(3000.0) * std::ldexp(1.0, -7) / std::sqrt(12.0);
    QVERIFY2(bf16 > fp32 && bf16 < 2 * walk, qPrintable(QString("bf16 %1, walk %2").arg(bf16).arg(walk)));
}

// A pass over bf16 weights computes in fp32 and stores as torch's own conversion does (round to
// nearest even), whatever the conversion code.
void TestZo::bf16PassRoundsAsTorch() {
    torch::manual_seed(6);
    const torch::Tensor start = (torch::randn({30000}) * 0.02).to(torch::kBFloat16);
    torch::Tensor w = start.clone();
    const double eps = 1e-3;
    perturb(oneTensor(w), 21, eps, DirectionLaw::Gaussian);
    std::vector<float> z(30000);
    directionRange(21, 0, 0, 30000, DirectionLaw::Gaussian, z.data());
    const torch::Tensor expected =
        (start.to(torch::kFloat32) + static_cast<float>(eps) * torch::from_blob(z.data(), {30000})).to(torch::kBFloat16);
    QVERIFY(torch::equal(w, expected));
    QVERIFY(!torch::equal(w, start));
}

// L(θ) = ½ θᵀAθ + bᵀθ: [L(θ+εz) − L(θ−εz)]/(2ε) = zᵀ(Aθ + b) exactly in exact arithmetic, and
// the mean of ĝ = that scalar · z over seeds is the gradient.
void TestZo::quadraticOracle() {
    const int d = 8;
    torch::manual_seed(4);
    const torch::Tensor m = torch::randn({d, d}, torch::kFloat64);
    const torch::Tensor a = m.matmul(m.t()) / d + torch::eye(d, torch::kFloat64);
    const torch::Tensor b = torch::randn({d}, torch::kFloat64);
    torch::Tensor theta = torch::randn({d});  // fp32 weights
    const auto loss = [&](const torch::Tensor& t) {
        const torch::Tensor x = t.to(torch::kFloat64);
        return (0.5 * x.dot(a.matmul(x)) + b.dot(x)).item<double>();
    };
    const torch::Tensor grad = a.matmul(theta.to(torch::kFloat64)) + b;
    const double eps = 1e-2;
    const int samples = 4000;
    torch::Tensor mean = torch::zeros({d}, torch::kFloat64);
    torch::Tensor meanSq = torch::zeros({d}, torch::kFloat64);
    const torch::Tensor theta0 = theta.clone();
    for (int s = 0; s < samples; ++s) {
        const auto seed = static_cast<uint64_t>(s) + 77;
        perturb(oneTensor(theta), seed, +eps, DirectionLaw::Gaussian);
        const double plus = loss(theta);
        perturb(oneTensor(theta), seed, -2 * eps, DirectionLaw::Gaussian);
        const double minus = loss(theta);
        restoreAndUpdate(oneTensor(theta), seed, eps, 0, 0, 0, DirectionLaw::Gaussian);
        const double g = (plus - minus) / (2 * eps);
        torch::Tensor z = torch::zeros({d});
        perturb(oneTensor(z), seed, 1.0, DirectionLaw::Gaussian);
        const torch::Tensor zd = z.to(torch::kFloat64);
        // the scalar is zᵀ∇L, up to the fp32 rounding of the perturbed weights
        QVERIFY2(std::abs(g - zd.dot(grad).item<double>()) < 1e-3 * (1 + std::abs(g)),
                 qPrintable(QString("%1 vs %2").arg(g).arg(zd.dot(grad).item<double>())));
        mean += g * zd;
        meanSq += (g * zd).pow(2);
    }
    QVERIFY(torch::allclose(theta, theta0, 0, 1e-5));
    mean /= samples;
    const torch::Tensor se = ((meanSq / samples - mean.pow(2)) / samples).sqrt();
    const torch::Tensor z = ((mean - grad) / se).abs();
    QVERIFY2(z.max().item<double>() < 4.5,
             qPrintable(QString("largest deviation %1 standard errors").arg(z.max().item<double>())));
}

// SPEC-ZO §10 item 13: alpha 0.85, NUM 20, Q_max 15, 10,000 steps, N 1000, batch 16 -> E_tot 160,
// beta 0.6223, and Q steps up exactly at these epochs, never 0, never down.
void TestZo::adazetaScheduleMatchesTheSpec() {
    const double epochs = QuerySchedule::epochsOf(10000, 1000, 16);
    QCOMPARE(epochs, 160.0);
    const auto s = QuerySchedule::adazeta(0.85, 20, 15, epochs);
    QVERIFY(std::abs(s.beta() - 0.6223) < 5e-5);
    const std::map<int64_t, int64_t> jumps = {{0, 1},   {4, 2},   {8, 3},   {13, 4},  {18, 5},
                                              {24, 6},  {30, 7},  {37, 8},  {45, 9},  {53, 10},
                                              {62, 11}, {71, 12}, {81, 13}, {91, 14}, {101, 15}};
    int64_t previous = 0;
    for (int64_t e = 0; e <= 400; ++e) {
        const int64_t q = s.queriesAt(e);
        QVERIFY(q >= 1 && q >= previous && q <= 15);
        if (q != previous) {
            QVERIFY2(jumps.count(e) && jumps.at(e) == q, qPrintable(QString("Q=%1 at epoch %2").arg(q).arg(e)));
        }
        previous = q;
    }
    QCOMPARE(previous, int64_t{15});
    QCOMPARE(QuerySchedule::constant(3).queriesAt(77), int64_t{3});
    QVERIFY(QString::fromStdString(frugal::test::errorOf([] {
                QuerySchedule::adazeta(0.85, 20, 15, 1.0);
            })).contains("deriving beta needs more than one"));
}

// q = 2 directions; each rule against the formula computed from directionAt.
void TestZo::updateRulesFollowTheirFormulas() {
    torch::manual_seed(6);
    const torch::Tensor start = torch::randn({5000});
    const std::vector<Query> queries = {{21, 0.7}, {22, -1.3}};
    // step 2's estimate is −3 × step 1's, so that the order of a rule's state update matters to
    // the sign rules too (Lion with β1 = 0.99, β2 = 0.5: u keeps step 1's sign only when m is
    // updated after the step, as the algorithm says)
    const double scale[2] = {1.0, -3.0};
    const double lr = 0.01, wd = 0.1;
    for (const std::string kind : {"sgd", "sign", "momentum", "nesterov", "adam", "lion"}) {
        torch::Tensor w = start.clone();
        const auto params = oneTensor(w);
        const ZoOptimizer& optimizer = findZoOptimizer(kind);
        OptimizerState state = OptimizerState::forRule(optimizer, params);
        UpdateRule rule;
        rule.optimizer = &optimizer;
        rule.lr = lr;
        rule.weightDecay = wd;
        const double b1 = kind == "lion" ? 0.99 : 0.9, b2 = kind == "lion" ? 0.5 : 0.999;
        rule.beta1 = b1;
        rule.beta2 = b2;
        for (int64_t t = 1; t <= 2; ++t) {  // two steps, so momentum and Adam state matter
            rule.t = t;
            std::vector<Query> scaled = queries;
            for (auto& q : scaled) q.grad *= scale[t - 1];
            applyUpdate(params, scaled, DirectionLaw::Gaussian, rule, state);
        }
        for (int64_t i : {0L, 4095L, 4096L, 4999L}) {
            double ghat1 = 0;
            for (const auto& q : queries)
                ghat1 += q.grad * directionAt(q.seed, 0, static_cast<uint64_t>(i), DirectionLaw::Gaussian) / 2;
            double theta = start[i].item<double>(), m = 0, v = 0;
            for (int t = 1; t <= 2; ++t) {
                const double ghat = scale[t - 1] * ghat1;
                theta *= 1 - lr * wd;
                if (kind == "sgd") {
                    theta -= lr * ghat;
                } else if (kind == "sign") {
                    theta -= lr * ((ghat > 0) - (ghat < 0));
                } else if (kind == "momentum") {
                    m = 0.9 * m + ghat;
                    theta -= lr * m;
                } else if (kind == "nesterov") {  // torch.optim.SGD(nesterov=True): g + μ·buf
                    m = 0.9 * m + ghat;
                    theta -= lr * (ghat + 0.9 * m);
                } else if (kind == "adam") {
                    m = b1 * m + (1 - b1) * ghat;
                    v = b2 * v + (1 - b2) * ghat * ghat;
                    theta -= lr * (m / (1 - std::pow(b1, t))) / (std::sqrt(v / (1 - std::pow(b2, t))) + 1e-8);
                } else if (kind == "lion") {  // Chen et al. 2023, Algorithm 2
                    const double u = b1 * m + (1 - b1) * ghat;
                    theta -= lr * ((u > 0) - (u < 0));
                    m = b2 * m + (1 - b2) * ghat;
                }
            }
            QVERIFY2(std::abs(w[i].item<double>() - theta) < 2e-6,
                     qPrintable(QString("rule %1, element %2: %3 vs %4")
                                    .arg(QString::fromStdString(kind)).arg(i)
                                    .arg(w[i].item<double>()).arg(theta)));
        }
        if (kind == "adam") QCOMPARE(state.bytes(), int64_t{2 * 5000 * 4});
        if (kind == "momentum" || kind == "nesterov" || kind == "lion") QCOMPARE(state.bytes(), int64_t{5000 * 4});
    }
}

// Sparse-MeZO: at sparsity 0.75 exactly the quarter of weights with the smallest |θ| move (and are
// decayed); the others keep their bits through perturbation, restore and update.
void TestZo::sparseMaskMovesOnlySmallWeights() {
    torch::manual_seed(8);
    const torch::Tensor start = torch::randn({20000});
    torch::Tensor w = start.clone();
    const auto params = oneTensor(w);
    SparseMask mask = SparseMask::fromWeights(params, 0.75);
    const float h = mask.thresholds[0];
    const torch::Tensor small = start.abs() <= h;
    QCOMPARE(small.sum().item<int64_t>(), int64_t{5000});
    perturb(params, 3, 1e-2, DirectionLaw::Gaussian, &mask, /*refresh=*/true);
    QCOMPARE(mask.density(), 5000.0 / (313 * 64));  // bits are stored in whole 64-bit words
    QVERIFY(torch::equal(w.masked_select(~small), start.masked_select(~small)));
    QVERIFY(!torch::equal(w.masked_select(small), start.masked_select(small)));
    perturb(params, 3, -2e-2, DirectionLaw::Gaussian, &mask);
    restoreAndUpdate(params, 3, 1e-2, 0.1, 2.0, 0.5, DirectionLaw::Gaussian, &mask);
    QVERIFY(torch::equal(w.masked_select(~small), start.masked_select(~small)));
    for (int64_t i = 0; i < 20000; i += 37) {
        if (!small[i].item<bool>()) continue;
        const double z = directionAt(3, 0, static_cast<uint64_t>(i), DirectionLaw::Gaussian);
        const double theta = start[i].item<double>();
        QVERIFY(std::abs(w[i].item<double>() - (theta * (1 - 0.1 * 0.5) - 0.1 * 2.0 * z)) < 1e-5);
    }
    const ZoOptimizer& adam = findZoOptimizer("adam");
    OptimizerState state = OptimizerState::forRule(adam, params);
    UpdateRule rule;
    rule.optimizer = &adam;
    rule.lr = 0.1;
    const torch::Tensor before = w.clone();
    applyUpdate(params, {{4, 1.0}}, DirectionLaw::Gaussian, rule, state, &mask);
    QVERIFY(torch::equal(w.masked_select(~small), before.masked_select(~small)));
    QVERIFY(torch::equal(state.first[0].masked_select(~small), torch::zeros({15000})));
}

namespace {

ZoConfig shortRun(const std::filesystem::path& saveTo) {
    ZoConfig c;
    c.common.peft.target = frugal::peft::Target::Norms;
    c.common.steps = 3;
    c.common.batchSize = 2;
    c.common.lr = 1e-2;
    c.common.evalEvery = 100;
    c.common.evalLimit = 4;
    c.common.seed = 5;
    c.common.saveTo = saveTo;
    return c;
}

}  // namespace

// A short MeZO run on the built-in model: the same seed gives the same weights, byte for byte;
// only the target's tensors move; every step reports its loss, seed and projected gradient.
void TestZo::zoRunIsSeededAndTouchesOnlyItsTarget() {
    frugal::test::useSourceResources();
    frugal::test::TempDir dir("zo");
    ZoConfig c = shortRun(dir / "a");
    std::map<std::string, std::vector<double>> metrics;
    frugal::MemorySink& sink = frugal::test::sink();
    const auto r = runZo(c, sink, frugal::test::noStop());
    for (const auto& point : sink.points) metrics[point.key].push_back(point.value);
    QCOMPARE(r.forwardPasses, int64_t{6});
    QCOMPARE(metrics["train/loss"].size(), size_t{3});
    QCOMPARE(metrics["zo/seed"].size(), size_t{3});
    QCOMPARE(metrics["zo/forward_passes"].back(), 6.0);
    QCOMPARE(metrics["dev/accuracy"].size(), size_t{2});  // step 0 and the last step
    QCOMPARE(metrics["dev/loss"].size(), size_t{2});
    c.common.saveTo = dir / "b";
    runZo(c, frugal::test::sink(), frugal::test::noStop());
    QCOMPARE(frugal::test::readText(dir / "a" / "model.safetensors"),
             frugal::test::readText(dir / "b" / "model.safetensors"));
    c.common.seed = 6;
    c.common.saveTo = dir / "c";
    runZo(c, frugal::test::sink(), frugal::test::noStop());
    QVERIFY(frugal::test::readText(dir / "a" / "model.safetensors") !=
            frugal::test::readText(dir / "c" / "model.safetensors"));

    const auto base = frugal::model::SafetensorsArchive::open(
        frugal::test::envPath("FRUGAL_SOURCE_DIR") / "resources" / "models" / "frugal-tiny");
    const auto tuned = frugal::model::SafetensorsArchive::open(dir / "a");
    int moved = 0;
    for (const auto& name : base.names()) {
        const bool same = torch::equal(base.read(name, torch::kFloat32), tuned.read(name, torch::kFloat32));
        QVERIFY2(same == (name.find("norm") == std::string::npos), name.c_str());
        moved += !same;
    }
    QCOMPARE(moved, 9);  // 4 layers x 2 norms + the final norm
}

void TestZo::replayIsBitIdentical_data() {
    QTest::addColumn<QString>("target");
    QTest::addColumn<QString>("optimizer");
    QTest::addColumn<QString>("estimator");
    QTest::addColumn<int>("queries");
    QTest::addColumn<QString>("direction");
    QTest::addColumn<double>("sparsity");
    QTest::addColumn<QString>("dtype");
    QTest::addColumn<int>("evalEvery");
    QTest::newRow("MeZO LoRA") << "lora" << "sgd" << "central" << 1 << "gaussian" << 0.0 << "fp32" << 100;
    QTest::newRow("prefix, momentum, q=2") << "prefix" << "momentum" << "central" << 2 << "rademacher" << 0.0 << "fp32" << 100;
    QTest::newRow("norms, nesterov, q=2") << "norms" << "nesterov" << "central" << 2 << "gaussian" << 0.0 << "fp32" << 100;  // #14
    QTest::newRow("prompt, sign, forward") << "prompt" << "sign" << "forward" << 1 << "gaussian" << 0.0 << "fp32" << 100;
    QTest::newRow("norms, adam, forward, q=3") << "norms" << "adam" << "forward" << 3 << "sphere" << 0.0 << "fp32" << 100;
    QTest::newRow("full, conservative") << "full" << "conservative" << "central" << 1 << "gaussian" << 0.0 << "fp32" << 100;
    QTest::newRow("full, Sparse-MeZO 0.8") << "full" << "sgd" << "central" << 1 << "gaussian" << 0.8 << "fp32" << 100;
    QTest::newRow("LoRA, Sparse-MeZO 0.5, adam, q=2") << "lora" << "adam" << "central" << 2 << "rademacher" << 0.5 << "fp32" << 100;
    QTest::newRow("LoRETTA_adp, q=2 (AdaZeta's space)") << "loretta_adp" << "sgd" << "central" << 2 << "gaussian" << 0.0 << "fp32" << 100;
    QTest::newRow("full, bf16 weights") << "full" << "sgd" << "central" << 1 << "gaussian" << 0.0 << "bf16" << 100;
    QTest::newRow("LoRA over bf16, evaluated every 2 steps") << "lora" << "sgd" << "central" << 1 << "rademacher" << 0.0 << "bf16" << 2;
    QTest::newRow("full, Sparse-MeZO 0.5, bf16, evaluated every step") << "full" << "sgd" << "central" << 1 << "gaussian" << 0.5 << "bf16" << 1;
    QTest::newRow("LoRETTA_rep, adam") << "loretta_rep" << "adam" << "central" << 1 << "gaussian" << 0.0 << "fp32" << 100;
    QTest::newRow("LoRA, lion, q=2") << "lora" << "lion" << "central" << 2 << "gaussian" << 0.0 << "fp32" << 100;
}

// The run's saved weights and replay(trajectory) are the same bytes, for every optimiser and
// estimator; a rollback (forced by a divergence factor of 1: any rise rolls back) replays too.
void TestZo::replayIsBitIdentical() {
    QFETCH(QString, target);
    QFETCH(QString, optimizer);
    QFETCH(QString, estimator);
    QFETCH(int, queries);
    QFETCH(QString, direction);
    QFETCH(double, sparsity);
    QFETCH(QString, dtype);
    QFETCH(int, evalEvery);
    frugal::test::useSourceResources();
    frugal::test::TempDir dir("replay");
    ZoConfig c = shortRun(dir / "run");
    c.common.peft.target = frugal::peft::parseTarget(target.toStdString());
    c.common.steps = 5;
    c.common.lr = 1e-3;
    c.optimizer = &findZoOptimizer(optimizer.toStdString());
    c.estimator = frugal::parseNamed(frugal::zo::kEstimators, estimator.toStdString(), "estimator");
    c.queries = queries;
    c.direction = parseLaw(direction.toStdString());
    c.sparsity = sparsity;
    c.common.dtype = dtype.toStdString();
    c.common.evalEvery = evalEvery;
    c.divergence = frugal::zo::Divergence::Rollback;
    c.divergenceFactor = 1.0;
    c.rollbackSteps = 0;
    c.maxRollbacks = 100;
    const auto trajectoryFile = dir / "trajectory.csv";
    frugal::zo::ZoRunOptions options;
    options.trajectoryFile = trajectoryFile;
    const auto r = runZo(c, frugal::test::sink(), frugal::test::noStop(), options);
    const auto trajectory = readTrajectory(trajectoryFile);
    QVERIFY(!trajectory.empty());
    for (const auto& step : trajectory) QCOMPARE(step.seeds.size(), size_t(queries));
    replayZo(c, trajectory, dir / "replayed");
    for (const char* file : {"model.safetensors", "adapter.safetensors"}) {
        if (!std::filesystem::exists(dir / "run" / file)) continue;
        QVERIFY2(frugal::test::readText(dir / "run" / file) == frugal::test::readText(dir / "replayed" / file),
                 file);
    }
    // the replay is not vacuous: dropping the last step changes the weights
    auto shorter = trajectory;
    shorter.pop_back();
    replayZo(c, shorter, dir / "shorter");
    const char* weights = target == "prefix" || target == "prompt" || target.startsWith("loretta")
                              ? "adapter.safetensors"
                              : "model.safetensors";
    QVERIFY(frugal::test::readText(dir / "run" / weights) != frugal::test::readText(dir / "shorter" / weights));
    qInfo("%lld steps kept, %lld rollbacks", static_cast<long long>(trajectory.size()),
          static_cast<long long>(r.rollbacks));
}

void TestZo::divergenceStopsAtItsStep() {
    frugal::test::useSourceResources();
    frugal::test::TempDir dir("diverge");
    ZoConfig c = shortRun({});
    c.common.peft.target = frugal::peft::Target::Full;
    c.common.lr = 1e9;  // the first update wrecks the model
    const QString message = QString::fromStdString(frugal::test::errorOf([&] { runZo(c, frugal::test::sink(), frugal::test::noStop()); }));
    QVERIFY2(message.contains("ZO diverged at step 2: the loss"), qPrintable(message));
    QVERIFY2(message.contains("lower zo.lr or zo.eps"), qPrintable(message));
    c.divergence = frugal::zo::Divergence::Rollback;
    c.maxRollbacks = 2;
    c.divergenceFactor = 1.0;  // any rise above the first loss counts
    c.common.steps = 10;
    const QString again = QString::fromStdString(frugal::test::errorOf([&] { runZo(c, frugal::test::sink(), frugal::test::noStop()); }));
    QVERIFY2(again.contains("after 2 rollbacks"), qPrintable(again));
    c.common.lr = 1e-3;
    c.optimizer = &findZoOptimizer("conservative");
    c.common.weightDecay = 0.1;
    QVERIFY(QString::fromStdString(frugal::test::errorOf([&] { runZo(c, frugal::test::sink(), frugal::test::noStop()); }))
                .contains("takes no weight decay"));
    // with the monitor off a growing loss runs on; a NaN loss still stops the run, named
    c.optimizer = &findZoOptimizer("sgd");
    c.common.weightDecay = 0;
    c.divergence = frugal::zo::Divergence::Off;
    c.common.lr = 1e3;
    c.common.steps = 4;
    const QString off = QString::fromStdString(frugal::test::errorOf([&] { runZo(c, frugal::test::sink(), frugal::test::noStop()); }));
    QVERIFY2(!off.contains("exceeds"), qPrintable(off));
    c.divergence = frugal::zo::Divergence::Stop;
    QVERIFY(QString::fromStdString(frugal::test::errorOf([&] { runZo(c, frugal::test::sink(), frugal::test::noStop()); })).contains("exceeds"));
}

// The trajectory's first line names its version; a version-less file (version 1) reads the same,
// an unknown version is refused by name.
void TestZo::trajectoryHasAVersionLine() {
    QTemporaryDir tmp;
    const std::filesystem::path dir = tmp.path().toStdString();
    std::vector<StepRecord> steps(2);
    steps[0].step = 1;
    steps[0].lr = 1e-3;
    steps[0].seeds = {11, 12};
    steps[0].grads = {0.25, -1.0 / 3};
    steps[1].step = 2;
    steps[1].lr = 5e-4;
    steps[1].seeds = {13, 14};
    steps[1].grads = {2.5, 7e-9};
    steps[1].choice = 2;
    writeTrajectory(dir / "t.csv", steps);
    const std::string text = frugal::readFile(dir / "t.csv", "trajectory");
    QVERIFY2(text.rfind("# frugal trajectory 2\nstep,query,seed,projected_grad,lr,choice\n", 0) == 0, text.c_str());
    const auto same = [&](const std::vector<StepRecord>& read) {
        QCOMPARE(read.size(), steps.size());
        for (size_t i = 0; i < steps.size(); ++i) {
            QCOMPARE(read[i].step, steps[i].step);
            QCOMPARE(read[i].lr, steps[i].lr);
            QCOMPARE(read[i].seeds, steps[i].seeds);
            QCOMPARE(read[i].grads, steps[i].grads);
            QCOMPARE(read[i].choice, steps[i].choice);
        }
    };
    same(readTrajectory(dir / "t.csv"));
    std::ofstream(dir / "v1.csv") << text.substr(text.find('\n') + 1);
    same(readTrajectory(dir / "v1.csv"));
    std::ofstream(dir / "v9.csv") << "# frugal trajectory 9\n" << text.substr(text.find('\n') + 1);
    const QString refused = QString::fromStdString(frugal::test::errorOf([&] { readTrajectory(dir / "v9.csv"); }));
    QVERIFY2(refused.contains("v9.csv:1") && refused.contains("version '9'"), qPrintable(refused));
}

QTEST_APPLESS_MAIN(TestZo)
#include "test_zo.moc"
