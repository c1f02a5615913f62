#include "zo/perturb.h"


#include <atomic>
#include <cmath>
#include <cstring>
#include <thread>

#include "common/error.h"
#include "common/runtime_info.h"
#include "zo/perturb_cuda.h"

namespace frugal::zo {

namespace {

// bf16 <-> fp32 as c10::BFloat16 converts (round to nearest even, NaN to 0x7FC0), written as
// branch-free integer arithmetic that the compiler vectorises: the scalar conversions were a
// large share of a pass over bf16 weights.
void bf16ToFloat(const uint16_t* in, float* out, int64_t n) {
    for (int64_t i = 0; i < n; ++i) {
        const uint32_t u = static_cast<uint32_t>(in[i]) << 16;
        std::memcpy(out + i, &u, 4);
    }
}

void floatToBf16(const float* in, uint16_t* out, int64_t n) {
    for (int64_t i = 0; i < n; ++i) {
        uint32_t u;
        std::memcpy(&u, in + i, 4);
        const uint32_t rounded = (u + 0x7FFFu + ((u >> 16) & 1u)) >> 16;
        out[i] = static_cast<uint16_t>((u & 0x7FFFFFFFu) > 0x7F800000u ? 0x7FC0u : rounded);
    }
}

int passThreads() { return PassThreads::current(); }

// Calls BODY(paramIndex, float* weights-as-fp32, start, n) for every chunk of every tensor,
// spread over the usable cores (the passes run between forwards, when BLAS is idle), writing each
// chunk back in its tensor's dtype. Each element's arithmetic is independent of which thread runs
// it, so the result does not depend on the thread count.
template <typename Body>
void forEachChunk(const std::vector<Trainable>& params, const Body& body) {
    std::vector<std::pair<size_t, int64_t>> tasks;  // (tensor, first element)
    for (size_t pi = 0; pi < params.size(); ++pi) {
        const Trainable& p = params[pi];
        const torch::Tensor& t = p.tensor;
        if (!t.is_contiguous() || !t.device().is_cpu())
            fail("ZO perturbation: trainable tensor '", p.name, "' must be contiguous and on the CPU");
        const auto dtype = t.scalar_type();
        if (dtype != torch::kFloat32 && dtype != torch::kBFloat16 && dtype != torch::kFloat16)
            fail("ZO perturbation: trainable tensor '", p.name, "' has dtype ", c10::toString(dtype),
                 ", expected float32, bfloat16 or float16");
        for (int64_t start = 0; start < t.numel(); start += kChunk) tasks.emplace_back(pi, start);
    }
    std::atomic<size_t> next{0};
    const auto worker = [&] {
        float w[kChunk];
        for (;;) {
            const size_t first = next.fetch_add(8);
            if (first >= tasks.size()) return;
            for (size_t k = first; k < std::min(first + 8, tasks.size()); ++k) {
                const auto [pi, start] = tasks[k];
                const torch::Tensor& t = params[pi].tensor;
                const int64_t len = std::min(kChunk, t.numel() - start);
                const auto dtype = t.scalar_type();
                if (dtype == torch::kFloat32) {
                    body(pi, t.data_ptr<float>() + start, start, len);
                } else if (dtype == torch::kBFloat16) {
                    auto* data = reinterpret_cast<uint16_t*>(t.data_ptr<at::BFloat16>() + start);
                    bf16ToFloat(data, w, len);
                    body(pi, w, start, len);
                    floatToBf16(w, data, len);
                } else {
                    auto* data = t.data_ptr<at::Half>() + start;
                    for (int64_t i = 0; i < len; ++i) w[i] = static_cast<float>(data[i]);
                    body(pi, w, start, len);
                    for (int64_t i = 0; i < len; ++i) data[i] = at::Half(w[i]);
                }
            }
        }
    };
    const int threads = static_cast<int>(std::min<size_t>(passThreads(), (tasks.size() + 15) / 16));
    std::vector<std::thread> pool;
    for (int i = 1; i < threads; ++i) pool.emplace_back(worker);
    worker();
    for (auto& th : pool) th.join();
}

// Elements [start, start+len) of P's direction under SEED, before the sphere's rescaling.
void directionChunk(const Trainable& p, uint64_t seed, DirectionLaw law, int64_t start,
                    int64_t len, float* z) {
    directionRange(seed, p.index, static_cast<uint64_t>(start), static_cast<uint64_t>(len),
                   law == DirectionLaw::Sphere ? DirectionLaw::Gaussian : law, z);
}

}  // namespace

void forEachWeightChunk(const std::vector<Trainable>& params,
                        const std::function<void(size_t, float*, int64_t, int64_t)>& body) {
    forEachChunk(params, body);
}

void directionValues(const Trainable& p, uint64_t seed, DirectionLaw law, int64_t start, int64_t len, float* z) {
    directionChunk(p, seed, law, start, len, z);
}

double directionScale(const std::vector<Trainable>& params, uint64_t seed, DirectionLaw law) {
    if (law != DirectionLaw::Sphere) return 1.0;
    double sumSquares = 0;
    int64_t d = 0;
    std::vector<float> z(kChunk);
    for (const auto& p : params) {  // sequential, in a fixed order: the same sum everywhere
        const int64_t n = p.tensor.numel();
        for (int64_t start = 0; start < n; start += kChunk) {
            const int64_t len = std::min(kChunk, n - start);
            directionChunk(p, seed, law, start, len, z.data());
            for (int64_t i = 0; i < len; ++i) sumSquares += double(z[i]) * double(z[i]);
        }
        d += n;
    }
    return std::sqrt(static_cast<double>(d) / sumSquares);
}

SparseMask SparseMask::fromWeights(const std::vector<Trainable>& params, double sparsity) {
    if (!(sparsity > 0 && sparsity < 1)) fail("zo.sparsity must be in (0, 1), got ", sparsity);
    SparseMask m;
    m.sparsity = sparsity;
    for (const auto& p : params) {
        const torch::Tensor a = p.tensor.detach().abs().to(torch::kFloat32).flatten();  // one tensor at a time
        const int64_t k = std::max<int64_t>(1, std::llround((1 - sparsity) * static_cast<double>(a.numel())));
        m.thresholds.push_back(std::get<0>(a.kthvalue(k)).item<float>());
        m.bits.emplace_back(static_cast<size_t>((p.tensor.numel() + 63) / 64), 0);
    }
    if (trainablesOnCuda(params)) m.deviceBits = maskWordsOnDevice(params, m.bits);
    return m;
}

SparseMask SparseMask::nonZero(const std::vector<Trainable>& params) {
    SparseMask m;
    m.fixed = true;
    for (const auto& p : params) {
        const torch::Tensor keep = (p.tensor.detach() != 0).flatten().to(torch::kCPU);
        const auto* k = keep.data_ptr<bool>();
        std::vector<uint64_t> bits(static_cast<size_t>((keep.numel() + 63) / 64), 0);
        for (int64_t i = 0; i < keep.numel(); ++i)
            bits[static_cast<size_t>(i / 64)] |= static_cast<uint64_t>(k[i]) << (i % 64);
        m.bits.push_back(std::move(bits));
        m.thresholds.push_back(0);
    }
    if (trainablesOnCuda(params)) m.deviceBits = maskWordsOnDevice(params, m.bits);
    return m;
}

double SparseMask::density() const {
    int64_t set = 0, total = 0;
    if (!deviceBits.empty()) {  // as refreshed on the device
        for (const auto& d : deviceBits) {
            const torch::Tensor host = d.to(torch::kCPU);
            const auto* w = reinterpret_cast<const uint64_t*>(host.data_ptr<int64_t>());
            for (int64_t i = 0; i < host.numel(); ++i) set += __builtin_popcountll(w[i]);
            total += host.numel() * 64;
        }
        return total ? static_cast<double>(set) / static_cast<double>(total) : 0;
    }
    for (const auto& b : bits) {
        for (uint64_t w : b) set += __builtin_popcountll(w);
        total += static_cast<int64_t>(b.size()) * 64;
    }
    return total ? static_cast<double>(set) / static_cast<double>(total) : 0;
}

int64_t SparseMask::bytes() const {
    int64_t n = 0;
    for (const auto& b : bits) n += static_cast<int64_t>(b.size()) * 8;
    return n;
}

namespace {

// Multiplies z by the chunk's mask bits (chunks start at multiples of 64 elements).
void applyMask(const SparseMask* mask, size_t pi, int64_t start, int64_t n, float* z) {
    if (!mask) return;
    const uint64_t* words = mask->bits[pi].data() + start / 64;
    for (int64_t i = 0; i < n; ++i) z[i] *= static_cast<float>((words[i / 64] >> (i % 64)) & 1u);
}

// One chunk of perturb(): refresh the mask's bits from the weights as they are, then w += s·z.
void perturbChunk(const std::vector<Trainable>& params, size_t pi, float* w, int64_t start, int64_t n,
                  uint64_t seed, float s, DirectionLaw law, SparseMask* mask, bool refresh) {
    if (mask && refresh && !mask->fixed) {
        uint64_t* words = mask->bits[pi].data() + start / 64;
        const float h = mask->thresholds[pi];
        for (int64_t word = 0; word < (n + 63) / 64; ++word) {
            uint64_t bitsOfWord = 0;
            for (int64_t b = 0; b < 64 && word * 64 + b < n; ++b)
                bitsOfWord |= static_cast<uint64_t>(std::fabs(w[word * 64 + b]) <= h) << b;
            words[word] = bitsOfWord;
        }
    }
    float z[kChunk];
    directionChunk(params[pi], seed, law, start, n, z);
    applyMask(mask, pi, start, n, z);
    for (int64_t i = 0; i < n; ++i) w[i] += s * z[i];
}

// One chunk of restoreAndUpdate(): w ← (w + e·z)·keep − step·z (masked-out weights are neither
// moved nor decayed).
void restoreUpdateChunk(const std::vector<Trainable>& params, size_t pi, float* w, int64_t start, int64_t n,
                        uint64_t seed, float e, float step, double lr, double weightDecay, DirectionLaw law,
                        const SparseMask* mask) {
    const auto keep = static_cast<float>(1.0 - lr * (params[pi].decay ? weightDecay : 0.0));
    float z[kChunk];
    directionChunk(params[pi], seed, law, start, n, z);
    if (mask) {
        applyMask(mask, pi, start, n, z);
        const uint64_t* words = mask->bits[pi].data() + start / 64;
        for (int64_t i = 0; i < n; ++i) {
            const float keepI = ((words[i / 64] >> (i % 64)) & 1u) ? keep : 1.0f;
            w[i] = (w[i] + e * z[i]) * keepI - step * z[i];
        }
        return;
    }
    for (int64_t i = 0; i < n; ++i) w[i] = (w[i] + e * z[i]) * keep - step * z[i];
}

// W as a tensor of TYPE would hold it: a bf16/fp16 store and load (fp32: unchanged).
void roundAsStored(torch::ScalarType type, float* w, int64_t n) {
    if (type == torch::kBFloat16) {
        uint16_t stored[kChunk];
        floatToBf16(w, stored, n);
        bf16ToFloat(stored, w, n);
    } else if (type == torch::kHalf) {
        for (int64_t i = 0; i < n; ++i) w[i] = static_cast<float>(at::Half(w[i]));
    }
}

}  // namespace

void perturb(const std::vector<Trainable>& params, uint64_t seed, double scale, DirectionLaw law,
             SparseMask* mask, bool refresh) {
    if (mask && law == DirectionLaw::Sphere) fail("zo.sparsity does not combine with sphere directions");
    if (trainablesOnCuda(params)) {
        cuda::Perturbation stage{seed, scale, directionScale(params, seed, law), refresh};
        cudaPass(params, nullptr, &stage, law, mask);
        return;
    }
    const auto s = static_cast<float>(scale * directionScale(params, seed, law));
    forEachChunk(params, [&](size_t pi, float* w, int64_t start, int64_t n) {
        perturbChunk(params, pi, w, start, n, seed, s, law, mask, refresh);
    });
}

void restoreAndUpdate(const std::vector<Trainable>& params, uint64_t seed, double restore,
                      double lr, double projectedGradient, double weightDecay, DirectionLaw law,
                      const SparseMask* mask) {
    const double k = directionScale(params, seed, law);
    if (trainablesOnCuda(params)) {
        const cuda::RestoreUpdate stage{seed, restore, lr, projectedGradient, weightDecay, true, k};
        cudaPass(params, &stage, nullptr, law, mask);
        return;
    }
    const auto e = static_cast<float>(restore * k);
    const auto step = static_cast<float>(lr * projectedGradient * k);
    forEachChunk(params, [&](size_t pi, float* w, int64_t start, int64_t n) {
        restoreUpdateChunk(params, pi, w, start, n, seed, e, step, lr, weightDecay, law, mask);
    });
}

void restoreUpdateAndPerturb(const std::vector<Trainable>& params, uint64_t seed, double restore,
                             double lr, double projectedGradient, double weightDecay, DirectionLaw law,
                             SparseMask* mask, uint64_t nextSeed, double nextScale) {
    const double k = directionScale(params, seed, law);
    if (trainablesOnCuda(params)) {
        const cuda::RestoreUpdate stage{seed, restore, lr, projectedGradient, weightDecay, true, k};
        const cuda::Perturbation next{nextSeed, nextScale, directionScale(params, nextSeed, law), true};
        cudaPass(params, &stage, &next, law, mask);
        return;
    }
    const auto e = static_cast<float>(restore * k);
    const auto step = static_cast<float>(lr * projectedGradient * k);
    const auto s = static_cast<float>(nextScale * directionScale(params, nextSeed, law));
    forEachChunk(params, [&](size_t pi, float* w, int64_t start, int64_t n) {
        restoreUpdateChunk(params, pi, w, start, n, seed, e, step, lr, weightDecay, law, mask);
        // the rounding the two separate passes make between them (a store in the tensor's dtype)
        roundAsStored(params[pi].tensor.scalar_type(), w, n);
        perturbChunk(params, pi, w, start, n, nextSeed, s, law, mask, /*refresh=*/true);
    });
}

OptimizerState OptimizerState::forRule(const ZoOptimizer& optimizer, const std::vector<Trainable>& params) {
    OptimizerState s;
    for (const auto& p : params) {
        const auto opts = torch::TensorOptions().dtype(torch::kFloat32).device(p.tensor.device());
        if (optimizer.stateBuffers >= 1) s.first.push_back(torch::zeros({p.tensor.numel()}, opts));
        if (optimizer.stateBuffers >= 2) s.second.push_back(torch::zeros({p.tensor.numel()}, opts));
    }
    return s;
}

int64_t OptimizerState::bytes() const {
    int64_t n = 0;
    for (const auto& t : first) n += t.numel() * 4;
    for (const auto& t : second) n += t.numel() * 4;
    return n;
}

void applyUpdate(const std::vector<Trainable>& params, const std::vector<Query>& queries,
                 DirectionLaw law, const UpdateRule& rule, OptimizerState& state,
                 const SparseMask* mask) {
    if (queries.empty()) fail("ZO update: no queries");
    const auto q = static_cast<double>(queries.size());
    std::vector<float> coefficient;  // g_j · k_j / q
    for (const auto& query : queries)
        coefficient.push_back(
            static_cast<float>(query.grad * directionScale(params, query.seed, law) / q));
    const ZoOptimizer& optimizer = rule.optimizer ? *rule.optimizer : findZoOptimizer("sgd");
    if ((optimizer.stateBuffers >= 1 && state.first.size() != params.size()) ||
        (optimizer.stateBuffers >= 2 && state.second.size() != params.size()))
        fail("ZO update: optimiser state does not match the trainable set");
    if (trainablesOnCuda(params)) {
        std::vector<uint64_t> seeds;
        for (const auto& query : queries) seeds.push_back(query.seed);
        cudaUpdate(params, seeds, coefficient, law, optimizer, rule, state, mask);
        return;
    }
    forEachChunk(params, [&](size_t pi, float* w, int64_t start, int64_t n) {
        const Trainable& p = params[pi];
        float z[kChunk], g[kChunk];
        for (int64_t i = 0; i < n; ++i) g[i] = 0;
        for (size_t j = 0; j < queries.size(); ++j) {
            directionChunk(p, queries[j].seed, law, start, n, z);
            for (int64_t i = 0; i < n; ++i) g[i] += coefficient[j] * z[i];
        }
        UpdateChunk chunk;
        chunk.w = w;
        chunk.g = g;
        chunk.m = optimizer.stateBuffers >= 1 ? state.first[pi].data_ptr<float>() + start : nullptr;
        chunk.v = optimizer.stateBuffers >= 2 ? state.second[pi].data_ptr<float>() + start : nullptr;
        chunk.n = n;
        chunk.keep = static_cast<float>(1.0 - rule.lr * (p.decay ? rule.weightDecay : 0.0));
        chunk.words = mask ? mask->bits[pi].data() + start / 64 : nullptr;
        optimizer.apply(rule, chunk);
    });
}

PassThreads::PassThreads(int threads) : m_threads(threads), m_previous(active()) { active() = this; }
PassThreads::~PassThreads() { active() = m_previous; }
PassThreads*& PassThreads::active() {
    thread_local PassThreads* scope = nullptr;
    return scope;
}
int PassThreads::current() {
    const PassThreads* scope = active();
    return scope && scope->m_threads > 0 ? scope->m_threads : usableCores();
}

}  // namespace frugal::zo
