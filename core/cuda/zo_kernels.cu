// The CUDA kernels of the zeroth-order weight passes (zo_kernels.h): the same per-element
// arithmetic as core/zo/perturb.cpp, through direction_math.cuh, so a pass gives the same bits on
// the GPU as on the CPU. Compile with -fmad=false and without -use_fast_math (the math header
// does not rely on the former and refuses the latter); nvcc's defaults -prec-sqrt=true,
// -prec-div=true and -ftz=false are what it expects.

#include "cuda/zo_kernels.h"

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <stdexcept>
#include <string>

#include "cuda/direction_math.cuh"

namespace frugal::cuda {

namespace {

using math::PassFloats;

// Loads and stores through the CPU's conversions (direction_math.cuh) rather than the
// cuda_bf16.h / cuda_fp16.h ones: those agree on every number but not on NaNs.
__device__ inline float load(const float* w, uint64_t i) { return w[i]; }
__device__ inline float load(const __nv_bfloat16* w, uint64_t i) {
    return math::bf16ToFloat(__bfloat16_as_ushort(w[i]));
}
__device__ inline float load(const __half* w, uint64_t i) { return math::f16ToFloat(__half_as_ushort(w[i])); }

__device__ inline void store(float* w, uint64_t i, float v) { w[i] = v; }
__device__ inline void store(__nv_bfloat16* w, uint64_t i, float v) {
    w[i] = __ushort_as_bfloat16(math::bf16FromFloat(v));
}
__device__ inline void store(__half* w, uint64_t i, float v) { w[i] = __ushort_as_half(math::f16FromFloat(v)); }

template <typename T>
struct Stored;
template <>
struct Stored<float> {
    static constexpr WeightType type = WeightType::F32;
};
template <>
struct Stored<__nv_bfloat16> {
    static constexpr WeightType type = WeightType::BF16;
};
template <>
struct Stored<__half> {
    static constexpr WeightType type = WeightType::F16;
};

// One thread per Philox block (grid-stride): the block's V values of each of the two directions
// are drawn once and feed its V elements, 1024 apart (math::elementOf), so each of the V steps of
// a warp reads and writes 32 consecutive weights. MASK is the tensor's mask as 32-bit halves of
// its 64-bit words (little-endian on every CUDA host and device, so half 2j is the low half of
// word j): a warp of 32 aligned blocks owns exactly one half per step, so a refresh rewrites it
// with one vote and no atomics, and no two warps touch the same half.
template <typename T, bool Rademacher>
__global__ void passKernel(T* weights, uint64_t n, uint64_t blocks, uint32_t tensor, uint64_t seed,
                           uint64_t nextSeed, PassFloats p, uint32_t* mask) {
    constexpr int kValues = math::valuesPerBlock(Rademacher);
    const uint64_t maskedEnd = (n + 63) / 64 * 64;  // elements that have a mask bit
    const uint64_t stride = uint64_t{gridDim.x} * blockDim.x;
    // blocks and stride are multiples of 32, so a warp is either wholly in the loop or out of it
    for (uint64_t b = uint64_t{blockIdx.x} * blockDim.x + threadIdx.x; b < blocks; b += stride) {
        float z[kValues] = {}, zNext[kValues] = {};
        if (p.update) math::blockValues<Rademacher>(math::directionBlock(seed, tensor, b), z);
        if (p.perturb) math::blockValues<Rademacher>(math::directionBlock(nextSeed, tensor, b), zNext);
#pragma unroll
        for (int k = 0; k < kValues; ++k) {
            const uint64_t i = math::elementOf(b, k, Rademacher);
            const bool inside = i < n;
            uint32_t bit = mask && inside ? (mask[i / 32] >> (i % 32)) & 1u : 0u;
            if (inside)
                store(weights, i,
                      math::passElement(load(weights, i), z[k], zNext[k], p, Stored<T>::type, mask ? &bit : nullptr));
            if (mask && p.refresh) {
                const uint32_t half = __ballot_sync(0xFFFFFFFFu, inside && bit);
                if (b % 32 == 0 && i < maskedEnd) mask[i / 32] = half;  // lane 0 holds the half's first element
            }
        }
    }
}

// applyUpdate: one thread per Philox block, as passKernel; for each query the block's values of
// that query's direction are drawn once and added into the V elements' ĝ, in query order, then
// each live element goes through its row's rule. No refresh: the mask is only read.
template <typename T, bool Rademacher>
__global__ void updateKernel(T* weights, uint64_t n, uint64_t blocks, uint32_t tensor, int64_t queries,
                             const uint64_t* seeds, const float* coefficients, Rule rule, RuleFloats f,
                             float* m, float* v, const uint64_t* mask) {
    constexpr int kValues = math::valuesPerBlock(Rademacher);
    const uint64_t stride = uint64_t{gridDim.x} * blockDim.x;
    for (uint64_t b = uint64_t{blockIdx.x} * blockDim.x + threadIdx.x; b < blocks; b += stride) {
        float g[kValues];
#pragma unroll
        for (int k = 0; k < kValues; ++k) g[k] = 0.0f;
        for (int64_t j = 0; j < queries; ++j) {
            float z[kValues];
            math::blockValues<Rademacher>(math::directionBlock(seeds[j], tensor, b), z);
            const float c = coefficients[j];
#pragma unroll
            for (int k = 0; k < kValues; ++k) g[k] = math::add(g[k], math::mul(c, z[k]));
        }
#pragma unroll
        for (int k = 0; k < kValues; ++k) {
            const uint64_t i = math::elementOf(b, k, Rademacher);
            if (i >= n) continue;
            if (mask && !((mask[i / 64] >> (i % 64)) & 1u)) continue;
            float* mi = m ? m + i : nullptr;
            float* vi = v ? v + i : nullptr;
            store(weights, i, math::ruleElement(rule, load(weights, i), g[k], mi, vi, f));
        }
    }
}

std::string context(const TensorPass& pass) {
    return "frugal::cuda::applyPass (tensor " + std::to_string(pass.tensor) + "): ";
}

template <typename T>
void launch(const TensorPass& pass, const PassFloats& p) {
    constexpr unsigned kThreads = 256;  // a multiple of 32: warps never straddle the loop's end
    const bool rademacher = pass.law == Law::Rademacher;
    const auto n = static_cast<uint64_t>(pass.n);
    const uint64_t blocks = math::passBlocks(n, rademacher);
    const auto grid = static_cast<unsigned>(std::min<uint64_t>((blocks + kThreads - 1) / kThreads, 65535));
    auto* weights = static_cast<T*>(pass.weights);
    auto* mask = reinterpret_cast<uint32_t*>(pass.maskBits);
    const uint64_t seed = pass.update ? pass.update->seed : 0;
    const uint64_t nextSeed = pass.perturb ? pass.perturb->seed : 0;
    auto stream = static_cast<cudaStream_t>(pass.stream);
    if (rademacher)
        passKernel<T, true><<<grid, kThreads, 0, stream>>>(weights, n, blocks, pass.tensor, seed, nextSeed, p, mask);
    else
        passKernel<T, false><<<grid, kThreads, 0, stream>>>(weights, n, blocks, pass.tensor, seed, nextSeed, p, mask);
}

}  // namespace

void applyPass(const TensorPass& pass) {
    if (pass.n < 0) throw std::runtime_error(context(pass) + "expected n >= 0, got " + std::to_string(pass.n));
    if (!pass.update && !pass.perturb)
        throw std::runtime_error(context(pass) + "expected an update stage, a perturbation stage or both");
    if (pass.perturb && pass.perturb->refresh && !pass.maskBits)
        throw std::runtime_error(context(pass) + "a mask refresh expects maskBits, got null");
    if (pass.n == 0) return;
    if (!pass.weights) throw std::runtime_error(context(pass) + "expected a device pointer to the weights, got null");
    const PassFloats p = math::passFloats(pass.update, pass.perturb);
    switch (pass.type) {
        case WeightType::F32: launch<float>(pass, p); break;
        case WeightType::BF16: launch<__nv_bfloat16>(pass, p); break;
        case WeightType::F16: launch<__half>(pass, p); break;
    }
    const cudaError_t error = cudaGetLastError();
    if (error != cudaSuccess)
        throw std::runtime_error(context(pass) + "kernel launch failed: " + cudaGetErrorString(error));
}

namespace {

template <typename T>
void launchUpdate(const TensorUpdate& u) {
    constexpr unsigned kThreads = 256;
    const bool rademacher = u.law == Law::Rademacher;
    const auto n = static_cast<uint64_t>(u.n);
    const uint64_t blocks = math::passBlocks(n, rademacher);
    const auto grid = static_cast<unsigned>(std::min<uint64_t>((blocks + kThreads - 1) / kThreads, 65535));
    auto* weights = static_cast<T*>(u.weights);
    auto stream = static_cast<cudaStream_t>(u.stream);
    if (rademacher)
        updateKernel<T, true><<<grid, kThreads, 0, stream>>>(weights, n, blocks, u.tensor, u.queries, u.seeds,
                                                             u.coefficients, u.rule, u.floats, u.m, u.v, u.maskBits);
    else
        updateKernel<T, false><<<grid, kThreads, 0, stream>>>(weights, n, blocks, u.tensor, u.queries, u.seeds,
                                                              u.coefficients, u.rule, u.floats, u.m, u.v, u.maskBits);
}

bool needsFirst(Rule r) { return r == Rule::Momentum || r == Rule::Nesterov || r == Rule::Adam || r == Rule::Lion; }

}  // namespace

void applyUpdate(const TensorUpdate& u) {
    const std::string where = "frugal::cuda::applyUpdate (tensor " + std::to_string(u.tensor) + "): ";
    if (u.n < 0) throw std::runtime_error(where + "expected n >= 0, got " + std::to_string(u.n));
    if (u.queries < 1 || !u.seeds || !u.coefficients)
        throw std::runtime_error(where + "expected at least one query with device seeds and coefficients");
    if (needsFirst(u.rule) && !u.m) throw std::runtime_error(where + "this rule keeps a first moment; m is null");
    if (u.rule == Rule::Adam && !u.v) throw std::runtime_error(where + "Adam keeps a second moment; v is null");
    if (u.n == 0) return;
    if (!u.weights) throw std::runtime_error(where + "expected a device pointer to the weights, got null");
    switch (u.type) {
        case WeightType::F32: launchUpdate<float>(u); break;
        case WeightType::BF16: launchUpdate<__nv_bfloat16>(u); break;
        case WeightType::F16: launchUpdate<__half>(u); break;
    }
    const cudaError_t error = cudaGetLastError();
    if (error != cudaSuccess) throw std::runtime_error(where + "kernel launch failed: " + cudaGetErrorString(error));
}

bool cudaDeviceAvailable() {
    int count = 0;
    if (cudaGetDeviceCount(&count) == cudaSuccess) return count > 0;
    (void)cudaGetLastError();  // no driver or no device: clear the error so later calls do not see it
    return false;
}

}  // namespace frugal::cuda
