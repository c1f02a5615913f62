// The CUDA kernels' math (core/cuda/direction_math.cuh) compiled as plain C++ and held to the CPU
// engine bit for bit: Philox, the Gaussian and Rademacher directions with their element layout
// (seeds up to 64 bits, offsets past 2^32, ranges not multiples of 4), the bf16/fp16 conversions,
// the blocks a kernel runs through, the per-element pass against perturb.cpp's perturb,
// restoreAndUpdate and restoreUpdateAndPerturb (fp32, bf16, fp16; dense, sparse and fixed masks),
// and the update kernel's loop (q directions summed into ĝ, then the row's element rule) against
// applyUpdate for every optimiser row.
// The GPU runs this same code through zo_kernels.cu; that file's compilation is ctest's
// cuda_kernels_compile, where nvcc is installed.

#include <QtTest/QtTest>

#include <c10/util/BFloat16.h>
#include <c10/util/Half.h>

#include <cstring>
#include <random>
#include <vector>

#include "cuda/direction_math.cuh"
#if FRUGAL_WITH_CUDA
#include "cuda/zo_kernels.h"
#endif
#include "zo/directions.h"
#include "zo/optimizers.h"
#include "zo/perturb.h"

using namespace frugal;
namespace gpu = frugal::cuda::math;

namespace {

constexpr uint64_t kSeeds[] = {0, 1, 20250101, (uint64_t{1} << 53) - 12345, ~uint64_t{0}};
constexpr uint32_t kTensors[] = {0, 1, 7, 0xFFFFFFFFu};

struct Range {
    uint64_t first, n;
};
// whole batches, batch edges (6144 Gaussian, 4096 Rademacher), lengths not multiples of 4,
// offsets past 2^32 and far beyond
constexpr Range kRanges[] = {{0, 13000},
                             {6141, 7},
                             {4093, 9},
                             {1021, 1030},
                             {(uint64_t{1} << 32) - 3, 13001},
                             {(uint64_t{1} << 40) + 1, 7001},
                             {(uint64_t{1} << 62) + 5, 999}};

enum Pass { PerturbPass, RestoreAndUpdatePass, FusedPass };
enum Masking { Dense, Sparse, Fixed };

QString hex(float f) { return QString::number(gpu::bitsOf(f), 16); }

// Element I of weights W (fp32, bf16 or fp16 storage) as fp32, and back.
float weightAt(const std::vector<uint16_t>& w16, const std::vector<float>& w32, cuda::WeightType type, size_t i) {
    if (type == cuda::WeightType::F32) return w32[i];
    return type == cuda::WeightType::BF16 ? gpu::bf16ToFloat(w16[i]) : gpu::f16ToFloat(w16[i]);
}

// One tensor as the update kernel sees it (weights as stored, fp32 state), and the kernel's loop
// run on the host: a thread per Philox block, ĝ of its values summed over the queries from +0 in
// query order, then the row's element rule on each element whose mask bit is set.
struct KernelView {
    std::vector<float> w32, m, v;
    std::vector<uint16_t> w16;
    cuda::WeightType type = cuda::WeightType::F32;

    static KernelView of(const torch::Tensor& t, cuda::WeightType type) {
        KernelView d;
        const auto n = static_cast<size_t>(t.numel());
        d.type = type;
        d.w32.resize(n);
        d.w16.resize(n);
        std::memcpy(type == cuda::WeightType::F32 ? static_cast<void*>(d.w32.data()) : static_cast<void*>(d.w16.data()),
                    t.data_ptr(), n * t.element_size());
        d.m.assign(n, 0.0f);
        d.v.assign(n, 0.0f);
        return d;
    }

    void update(const zo::Trainable& p, bool rademacher, const std::vector<zo::Query>& qs, const std::vector<float>& c,
                cuda::Rule rule, const cuda::RuleFloats& f, const std::vector<uint64_t>* bits) {
        const auto n = static_cast<uint64_t>(p.tensor.numel());
        for (uint64_t b = 0; b < gpu::passBlocks(n, rademacher); ++b) {
            float g[6] = {0, 0, 0, 0, 0, 0};
            for (size_t j = 0; j < qs.size(); ++j) {
                float z[6] = {};
                const gpu::Words words = gpu::directionBlock(qs[j].seed, p.index, b);
                if (rademacher) gpu::blockValues<true>(words, z);
                else gpu::blockValues<false>(words, z);
                for (int k = 0; k < gpu::valuesPerBlock(rademacher); ++k) g[k] = gpu::add(g[k], gpu::mul(c[j], z[k]));
            }
            for (int k = 0; k < gpu::valuesPerBlock(rademacher); ++k) {
                const uint64_t i = gpu::elementOf(b, k, rademacher);
                if (i >= n || (bits && !(((*bits)[i / 64] >> (i % 64)) & 1u))) continue;
                const float out = gpu::ruleElement(rule, weightAt(w16, w32, type, i), g[k], &m[i], &v[i], f);
                if (type == cuda::WeightType::F32) w32[i] = out;
                else w16[i] = type == cuda::WeightType::BF16 ? gpu::bf16FromFloat(out) : gpu::f16FromFloat(out);
            }
        }
    }
};

}  // namespace

class TestCudaDirections : public QObject {
    Q_OBJECT
private slots:
    void philoxMatchesTheCpu();
    void directionsMatchTheCpu_data();
    void directionsMatchTheCpu();
    void conversionsMatchTorch();
    void passBlocksCoverEveryElementAndMaskWord();
    void passesMatchTheCpu_data();
    void passesMatchTheCpu();
    void updatesMatchTheCpu_data();
    void updatesMatchTheCpu();
    void hostWrapperIsLinked();
};

// Random123's known answers, then random keys and counters against the CPU's philox4x32.
void TestCudaDirections::philoxMatchesTheCpu() {
    const auto words = [](uint32_t k0, uint32_t k1, std::array<uint32_t, 4> c) {
        const gpu::Words w = gpu::philox(k0, k1, gpu::Words{{c[0], c[1], c[2], c[3]}});
        return std::array<uint32_t, 4>{w.w[0], w.w[1], w.w[2], w.w[3]};
    };
    QCOMPARE(words(0, 0, {0, 0, 0, 0}), (std::array<uint32_t, 4>{0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8}));
    QCOMPARE(words(0xa4093822, 0x299f31d0, {0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344}),
             (std::array<uint32_t, 4>{0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1}));
    std::mt19937 random(5);
    const auto word = [&random] { return static_cast<uint32_t>(random()); };
    for (int trial = 0; trial < 1000; ++trial) {
        const std::array<uint32_t, 2> key = {word(), word()};
        const std::array<uint32_t, 4> counter = {word(), word(), word(), word()};
        QCOMPARE(words(key[0], key[1], counter), zo::philox4x32(key, counter));
    }
}

void TestCudaDirections::directionsMatchTheCpu_data() {
    QTest::addColumn<bool>("rademacher");
    QTest::newRow("gaussian") << false;
    QTest::newRow("rademacher") << true;
}

// Every element of every range against directionRange, and a sample against directionAt (which
// regenerates a whole batch per call), compared as bits.
void TestCudaDirections::directionsMatchTheCpu() {
    QFETCH(bool, rademacher);
    const auto law = rademacher ? zo::DirectionLaw::Rademacher : zo::DirectionLaw::Gaussian;
    for (uint64_t seed : kSeeds) {
        for (uint32_t tensor : kTensors) {
            for (const Range& r : kRanges) {
                std::vector<float> cpu(r.n);
                zo::directionRange(seed, tensor, r.first, r.n, law, cpu.data());
                for (uint64_t j = 0; j < r.n; ++j) {
                    const uint64_t i = r.first + j;
                    const float mine = gpu::directionAt(seed, tensor, i, rademacher);
                    if (gpu::bitsOf(mine) != gpu::bitsOf(cpu[j]))
                        QFAIL(qPrintable(QString("seed %1 tensor %2 element %3: %4, directionRange gives %5")
                                             .arg(seed).arg(tensor).arg(i).arg(hex(mine), hex(cpu[j]))));
                    if ((j % 211 == 0 || j + 1 == r.n) &&
                        gpu::bitsOf(mine) != gpu::bitsOf(zo::directionAt(seed, tensor, i, law)))
                        QFAIL(qPrintable(QString("seed %1 tensor %2 element %3: directionAt differs").arg(seed).arg(tensor).arg(i)));
                }
            }
        }
    }
}

// Every bf16 and fp16 value to fp32, and a sweep of fp32 bit patterns (odd stride: every rounding
// residue is hit, ties included) to bf16 and fp16, against c10's conversions, which perturb.cpp
// reproduces (bf16) or calls (fp16). Checked once over all 2^32 patterns when written.
void TestCudaDirections::conversionsMatchTorch() {
    for (uint32_t h = 0; h < 65536; ++h) {
        const auto x = static_cast<uint16_t>(h);
        QCOMPARE(gpu::bitsOf(gpu::bf16ToFloat(x)), gpu::bitsOf(static_cast<float>(c10::BFloat16(x, c10::BFloat16::from_bits()))));
        QCOMPARE(gpu::bitsOf(gpu::f16ToFloat(x)), gpu::bitsOf(static_cast<float>(c10::Half(x, c10::Half::from_bits()))));
    }
    for (uint64_t u = 0; u <= 0xFFFFFFFFu; u += 257) {
        const float f = gpu::floatOf(static_cast<uint32_t>(u));
        if (gpu::bf16FromFloat(f) != c10::BFloat16(f).x || gpu::f16FromFloat(f) != c10::Half(f).x)
            QFAIL(qPrintable(QString("fp32 %1: bf16 %2 (c10 %3), fp16 %4 (c10 %5)")
                                 .arg(u, 0, 16).arg(gpu::bf16FromFloat(f), 0, 16).arg(c10::BFloat16(f).x, 0, 16)
                                 .arg(gpu::f16FromFloat(f), 0, 16).arg(c10::Half(f).x, 0, 16)));
    }
}

// A kernel runs passBlocks(n) blocks, a warp per 32 aligned ones: every element below n must be
// fed exactly once, and for each value k a warp's 32 elements must be one aligned 32-bit half of
// a mask word, every half of the tensor's (n + 63) / 64 words being written by exactly one warp.
void TestCudaDirections::passBlocksCoverEveryElementAndMaskWord() {
    for (bool rademacher : {false, true}) {
        for (uint64_t n : {1, 31, 63, 64, 65, 1023, 1024, 1025, 4095, 4096, 4097, 6143, 6144, 6145, 7147, 13000, 20481}) {
            const uint64_t blocks = gpu::passBlocks(n, rademacher);
            QCOMPARE(blocks % 64, uint64_t{0});
            std::vector<int> fed(n, 0), halves((n + 63) / 64 * 2, 0);
            for (uint64_t b = 0; b < blocks; ++b) {
                for (int k = 0; k < gpu::valuesPerBlock(rademacher); ++k) {
                    const uint64_t i = gpu::elementOf(b, k, rademacher);
                    if (i < n) ++fed[i];
                    if (b % 32 == 0 && i < halves.size() * 32) {
                        QCOMPARE(i % 32, uint64_t{0});
                        QCOMPARE(gpu::elementOf(b + 31, k, rademacher), i + 31);
                        ++halves[i / 32];
                    }
                }
            }
            for (uint64_t i = 0; i < n; ++i)
                if (fed[i] != 1) QFAIL(qPrintable(QString("n %1: element %2 fed %3 times").arg(n).arg(i).arg(fed[i])));
            for (size_t h = 0; h < halves.size(); ++h)
                if (halves[h] != 1) QFAIL(qPrintable(QString("n %1: mask half %2 written %3 times").arg(n).arg(h).arg(halves[h])));
        }
    }
}

void TestCudaDirections::passesMatchTheCpu_data() {
    QTest::addColumn<int>("pass");
    QTest::addColumn<int>("dtype");
    QTest::addColumn<int>("masking");
    QTest::addColumn<int>("law");
    const char* passNames[] = {"perturb", "restoreAndUpdate", "fused"};
    const char* typeNames[] = {"f32", "bf16", "f16"};
    const char* maskNames[] = {"dense", "sparse", "fixed"};
    for (int pass : {PerturbPass, RestoreAndUpdatePass, FusedPass})
        for (int dtype = 0; dtype < 3; ++dtype)
            for (int masking : {Dense, Sparse, Fixed})
                for (auto law : {zo::DirectionLaw::Gaussian, zo::DirectionLaw::Rademacher, zo::DirectionLaw::Sphere}) {
                    if (masking != Dense && law == zo::DirectionLaw::Sphere) continue;  // refused by the CPU
                    QTest::addRow("%s/%s/%s/%s", passNames[pass], typeNames[dtype], maskNames[masking],
                                  zo::lawName(law).c_str())
                        << pass << dtype << masking << static_cast<int>(law);
                }
}

// The CPU pass on two tensors (one decayed, one not; sizes past a batch and below one block run)
// against the kernels' loop run on the host: block by block, value by value, passElement on each
// element, the mask bits rewritten as a refresh does. Weights and bits must be the same bits.
void TestCudaDirections::passesMatchTheCpu() {
    QFETCH(int, pass);
    QFETCH(int, dtype);
    QFETCH(int, masking);
    QFETCH(int, law);
    const auto zoLaw = static_cast<zo::DirectionLaw>(law);
    const bool rademacher = zoLaw == zo::DirectionLaw::Rademacher;
    const auto type = static_cast<cuda::WeightType>(dtype);
    const torch::ScalarType scalar[] = {torch::kFloat32, torch::kBFloat16, torch::kFloat16};

    torch::manual_seed(11);
    std::vector<zo::Trainable> params;
    for (auto [name, n, index, decay] : {std::tuple{"a", 7147, 3u, true}, std::tuple{"b", 130, 8u, false}}) {
        torch::Tensor t = torch::randn({n}) * 0.02;
        if (masking == Fixed) t.index_put_({torch::arange(0, n, 3)}, 0.0);  // pruned weights
        params.push_back(zo::Trainable{name, t.to(scalar[dtype]), index, decay});
    }
    zo::SparseMask mask;
    zo::SparseMask* maskPtr = nullptr;
    if (masking == Sparse) {
        mask = zo::SparseMask::fromWeights(params, 0.5);
        maskPtr = &mask;
        zo::perturb(params, 100, 1e-3, zoLaw, maskPtr, /*refresh=*/true);  // bits as a step's first pass makes them
    } else if (masking == Fixed) {
        mask = zo::SparseMask::nonZero(params);
        maskPtr = &mask;
    }
    std::vector<torch::Tensor> before;
    for (const auto& p : params) before.push_back(p.tensor.clone());
    const std::vector<std::vector<uint64_t>> bitsBefore = mask.bits;

    const uint64_t seed = 7, nextSeed = 8;
    const double eps = 1e-3, lr = 1e-2, g = 3.5, wd = 0.1;
    if (pass == PerturbPass) zo::perturb(params, seed, eps, zoLaw, maskPtr, /*refresh=*/true);
    if (pass == RestoreAndUpdatePass) zo::restoreAndUpdate(params, seed, eps, lr, g, wd, zoLaw, maskPtr);
    if (pass == FusedPass) zo::restoreUpdateAndPerturb(params, seed, eps, lr, g, wd, zoLaw, maskPtr, nextSeed, eps);

    for (size_t pi = 0; pi < params.size(); ++pi) {
        const zo::Trainable& p = params[pi];
        const auto n = static_cast<uint64_t>(p.tensor.numel());
        cuda::RestoreUpdate update{seed, eps, lr, g, wd, p.decay, zo::directionScale(params, seed, zoLaw)};
        cuda::Perturbation perturbation{pass == FusedPass ? nextSeed : seed, eps,
                                        zo::directionScale(params, pass == FusedPass ? nextSeed : seed, zoLaw),
                                        masking == Sparse, masking == Sparse ? mask.thresholds[pi] : 0.0f};
        const gpu::PassFloats floats = gpu::passFloats(pass == PerturbPass ? nullptr : &update,
                                                       pass == RestoreAndUpdatePass ? nullptr : &perturbation);
        // the weights before, as the kernel would find them in device memory
        std::vector<float> w32(n);
        std::vector<uint16_t> w16(n);
        const torch::Tensor& b0 = before[pi];
        std::memcpy(type == cuda::WeightType::F32 ? static_cast<void*>(w32.data()) : static_cast<void*>(w16.data()),
                    b0.data_ptr(), n * b0.element_size());
        std::vector<uint64_t> bits = masking == Dense ? std::vector<uint64_t>{} : bitsBefore[pi];
        const std::vector<uint64_t> oldBits = bits;
        for (uint64_t b = 0; b < gpu::passBlocks(n, rademacher); ++b) {
            float z[6] = {}, zNext[6] = {};
            const auto values = [&](uint64_t s, float* out) {
                if (rademacher) gpu::blockValues<true>(gpu::directionBlock(s, p.index, b), out);
                else gpu::blockValues<false>(gpu::directionBlock(s, p.index, b), out);
            };
            if (floats.update) values(update.seed, z);
            if (floats.perturb) values(perturbation.seed, zNext);
            for (int k = 0; k < gpu::valuesPerBlock(rademacher); ++k) {
                const uint64_t i = gpu::elementOf(b, k, rademacher);
                if (i >= n) continue;
                uint32_t bit = masking == Dense ? 0 : (oldBits[i / 64] >> (i % 64)) & 1u;
                const float out = gpu::passElement(weightAt(w16, w32, type, i), z[k], zNext[k], floats, type,
                                                   masking == Dense ? nullptr : &bit);
                if (type == cuda::WeightType::F32) w32[i] = out;
                else w16[i] = type == cuda::WeightType::BF16 ? gpu::bf16FromFloat(out) : gpu::f16FromFloat(out);
                if (masking != Dense) bits[i / 64] = (bits[i / 64] & ~(uint64_t{1} << (i % 64))) | (uint64_t{bit} << (i % 64));
            }
        }
        const void* mine = type == cuda::WeightType::F32 ? static_cast<const void*>(w32.data()) : w16.data();
        if (std::memcmp(mine, p.tensor.data_ptr(), n * p.tensor.element_size()) != 0) {
            for (uint64_t i = 0; i < n; ++i) {
                const float cpu = p.tensor.to(torch::kFloat32).data_ptr<float>()[i];
                const float ref = weightAt(w16, w32, type, i);
                if (gpu::bitsOf(cpu) != gpu::bitsOf(ref))
                    QFAIL(qPrintable(QString("tensor %1 element %2: %3, the CPU pass gives %4")
                                         .arg(p.name.c_str()).arg(i).arg(hex(ref), hex(cpu))));
            }
        }
        QVERIFY2(!torch::equal(p.tensor, before[pi]), "the pass left the weights as they were");
        if (masking != Dense) QCOMPARE(bits, mask.bits[pi]);
    }
}

void TestCudaDirections::updatesMatchTheCpu_data() {
    QTest::addColumn<int>("row");
    QTest::addColumn<int>("dtype");
    QTest::addColumn<bool>("masked");
    QTest::addColumn<int>("law");
    QTest::addColumn<int>("queries");
    const char* typeNames[] = {"f32", "bf16", "f16"};
    const auto& rows = zo::zoOptimizers();
    for (int row = 0; row < static_cast<int>(rows.size()); ++row)
        for (int dtype = 0; dtype < 3; ++dtype)
            for (bool masked : {false, true})
                for (auto law : {zo::DirectionLaw::Gaussian, zo::DirectionLaw::Rademacher, zo::DirectionLaw::Sphere})
                    for (int q : {1, 3}) {
                        if (masked && law == zo::DirectionLaw::Sphere) continue;  // refused by the CPU
                        QTest::addRow("%s/%s/%s/%s/q%d", rows[static_cast<size_t>(row)].name, typeNames[dtype],
                                      masked ? "fixed-mask" : "dense", zo::lawName(law).c_str(), q)
                            << row << dtype << masked << static_cast<int>(law) << q;
                    }
}

// zo::applyUpdate (the CPU's chunks) for two steps of each optimiser row against the update
// kernel's loop run on the host: thread per block, ĝ of the block's values summed over the q
// queries from +0 in query order, then math::ruleElement on each live element with its state.
// Weights, m and v must be the same bits after each step (Adam's bias correction moves with t).
void TestCudaDirections::updatesMatchTheCpu() {
    QFETCH(int, row);
    QFETCH(int, dtype);
    QFETCH(bool, masked);
    QFETCH(int, law);
    QFETCH(int, queries);
    const zo::ZoOptimizer& optimizer = zo::zoOptimizers()[static_cast<size_t>(row)];
    const auto zoLaw = static_cast<zo::DirectionLaw>(law);
    const bool rademacher = zoLaw == zo::DirectionLaw::Rademacher;
    const auto type = static_cast<cuda::WeightType>(dtype);
    const torch::ScalarType scalar[] = {torch::kFloat32, torch::kBFloat16, torch::kFloat16};

    torch::manual_seed(23);
    std::vector<zo::Trainable> params;
    for (auto [name, n, index, decay] : {std::tuple{"a", 7147, 3u, true}, std::tuple{"b", 130, 8u, false}}) {
        torch::Tensor t = torch::randn({n}) * 0.02;
        if (masked) t.index_put_({torch::arange(0, n, 3)}, 0.0);  // pruned weights, kept at zero
        params.push_back(zo::Trainable{name, t.to(scalar[dtype]), index, decay});
    }
    zo::SparseMask mask;
    if (masked) mask = zo::SparseMask::nonZero(params);
    zo::OptimizerState state = zo::OptimizerState::forRule(optimizer, params);

    // the kernel's view: weights as stored, fp32 state, per tensor
    std::vector<KernelView> dev;
    for (const auto& p : params) dev.push_back(KernelView::of(p.tensor, type));
    for (int64_t t = 1; t <= 2; ++t) {
        std::vector<zo::Query> qs;
        for (int j = 0; j < queries; ++j)
            qs.push_back({static_cast<uint64_t>(1000 * t + 17 * j), (j % 2 ? -1.0 : 1.0) * (0.75 + 0.5 * j)});
        zo::UpdateRule rule;
        rule.optimizer = &optimizer;
        rule.lr = 1e-2;
        rule.weightDecay = 0.1;
        rule.t = t;
        zo::applyUpdate(params, qs, zoLaw, rule, state, masked ? &mask : nullptr);

        std::vector<float> c;  // c_j = g_j·k_j/q in float, as applyUpdate hands them to the kernel
        for (const auto& query : qs)
            c.push_back(static_cast<float>(query.grad * zo::directionScale(params, query.seed, zoLaw) /
                                           static_cast<double>(queries)));
        for (size_t pi = 0; pi < params.size(); ++pi) {
            const zo::Trainable& p = params[pi];
            KernelView& d = dev[pi];
            const auto n = static_cast<uint64_t>(p.tensor.numel());
            d.update(p, rademacher, qs, c, optimizer.element,
                     zo::ruleFloats(rule, static_cast<float>(1.0 - rule.lr * (p.decay ? rule.weightDecay : 0.0))),
                     masked ? &mask.bits[pi] : nullptr);
            const void* mine = type == cuda::WeightType::F32 ? static_cast<const void*>(d.w32.data()) : d.w16.data();
            if (std::memcmp(mine, p.tensor.data_ptr(), n * p.tensor.element_size()) != 0) {
                const torch::Tensor cpu = p.tensor.to(torch::kFloat32);
                for (uint64_t i = 0; i < n; ++i)
                    if (gpu::bitsOf(cpu.data_ptr<float>()[i]) != gpu::bitsOf(weightAt(d.w16, d.w32, type, i)))
                        QFAIL(qPrintable(QString("step %1, tensor %2 element %3: %4, the CPU's applyUpdate gives %5")
                                             .arg(t).arg(p.name.c_str()).arg(i)
                                             .arg(hex(weightAt(d.w16, d.w32, type, i)), hex(cpu.data_ptr<float>()[i]))));
            }
            if (optimizer.stateBuffers >= 1)
                QVERIFY2(std::memcmp(d.m.data(), state.first[pi].data_ptr<float>(), n * 4) == 0, "first moment differs");
            if (optimizer.stateBuffers >= 2)
                QVERIFY2(std::memcmp(d.v.data(), state.second[pi].data_ptr<float>(), n * 4) == 0, "second moment differs");
        }
    }
    if (masked)  // pruned weights stay +0.0 under every rule
        for (const auto& p : params)
            QCOMPARE(p.tensor.eq(0).sum().item<int64_t>(), (p.tensor.numel() + 2) / 3);
}

// core/cuda is compiled into the library where LibTorch has CUDA: the host wrapper links and,
// on a machine without a GPU, answers with CUDA's own error, not a crash or a link error.
void TestCudaDirections::hostWrapperIsLinked() {
#if FRUGAL_WITH_CUDA
    if (frugal::cuda::cudaDeviceAvailable()) QSKIP("a CUDA device is present: the device tests run the kernels");
    float fake = 0;  // never dereferenced: the launch fails first
    frugal::cuda::RestoreUpdate update;
    frugal::cuda::TensorPass pass;
    pass.weights = &fake;
    pass.n = 1;
    pass.update = &update;
    try {
        frugal::cuda::applyPass(pass);
        QFAIL("applyPass launched a kernel on a machine without a CUDA device");
    } catch (const std::runtime_error& e) {
        const QString what = QString::fromUtf8(e.what());
        qInfo("%s", e.what());
        QVERIFY2(what.contains("frugal::cuda::applyPass (tensor 0): kernel launch failed: "), e.what());
    }
#else
    QSKIP("built without CUDA (no nvcc, or a LibTorch without CUDA)");
#endif
}

QTEST_APPLESS_MAIN(TestCudaDirections)
#include "test_cuda_directions.moc"
