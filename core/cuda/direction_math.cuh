#pragma once
// The scalar math of the zeroth-order passes, shared by the CUDA kernels (zo_kernels.cu) and the
// host (tests/test_cuda_directions.cpp compiles this header as plain C++): Philox4x32-10, the
// Gaussian (Box-Muller) and Rademacher values of a block, the element layout, the weight
// conversions and the per-element pass. Each function gives the same float bits as the CPU
// engine (core/zo/direction_kernels.inc, core/zo/perturb.cpp), so a direction is the same
// whichever device regenerates it.
//
// Bit-exactness rests on using IEEE-rounded +, -, *, sqrt only (no division at run time: every
// divisor is a power-of-two constant), each rounded once:
// - device: through the __f*_rn intrinsics, which nvcc never fuses into an FMA whatever -fmad
//   says (zo_kernels.cu is compiled with -fmad=false as well); __fsqrt_rn is the IEEE square root
//   that nvcc's default -prec-sqrt=true gives sqrtf; denormals must be kept (nvcc's default
//   -ftz=false), so fast math is refused below;
// - host: plain operators, which a compiler may contract into an FMA only where the target has
//   one; the guard below refuses such targets unless the includer promises -ffp-contract=off.

#include <cmath>
#include <cstdint>
#include <cstring>

#include "cuda/zo_kernels.h"

#if defined(__CUDACC__)
#define FRUGAL_HD __host__ __device__
#else
#define FRUGAL_HD
#endif

#if defined(__CUDA_ARCH__) && defined(__USE_FAST_MATH__)
#error "cuda/direction_math.cuh: compile without -use_fast_math (it flushes denormals and approximates sqrt)"
#endif
#if !defined(__CUDA_ARCH__) && (defined(__FMA__) || defined(__aarch64__)) && !defined(FRUGAL_HOST_NO_FP_CONTRACT)
#error "cuda/direction_math.cuh: this host target has FMA; compile with -ffp-contract=off and define FRUGAL_HOST_NO_FP_CONTRACT"
#endif

namespace frugal::cuda::math {

// ---- IEEE operations, each rounded once -------------------------------------------------------

FRUGAL_HD inline float mul(float a, float b) {
#if defined(__CUDA_ARCH__)
    return __fmul_rn(a, b);
#else
    return a * b;
#endif
}

FRUGAL_HD inline float add(float a, float b) {
#if defined(__CUDA_ARCH__)
    return __fadd_rn(a, b);
#else
    return a + b;
#endif
}

FRUGAL_HD inline float sub(float a, float b) {
#if defined(__CUDA_ARCH__)
    return __fsub_rn(a, b);
#else
    return a - b;
#endif
}

// Division, used by the optimiser rules only (Adam's m̂/(√v̂ + eps)): IEEE-rounded on both sides
// (__fdiv_rn is what nvcc's default -prec-div=true gives the operator).
FRUGAL_HD inline float div(float a, float b) {
#if defined(__CUDA_ARCH__)
    return __fdiv_rn(a, b);
#else
    return a / b;
#endif
}

FRUGAL_HD inline float sqrtIeee(float a) {
#if defined(__CUDA_ARCH__)
    return __fsqrt_rn(a);
#else
    return std::sqrt(a);
#endif
}

FRUGAL_HD inline uint32_t bitsOf(float f) {
#if defined(__CUDA_ARCH__)
    return __float_as_uint(f);
#else
    uint32_t u;
    std::memcpy(&u, &f, 4);
    return u;
#endif
}

FRUGAL_HD inline float floatOf(uint32_t u) {
#if defined(__CUDA_ARCH__)
    return __uint_as_float(u);
#else
    float f;
    std::memcpy(&f, &u, 4);
    return f;
#endif
}

// ---- Philox4x32-10 ---------------------------------------------------------------------------

struct Words {
    uint32_t w[4];
};

// Random123's Philox4x32 with 10 rounds: each round multiplies words 0 and 2 by the two round
// constants, crosses the high halves over words 1 and 3 with the key, and bumps the key by the
// Weyl constants.
FRUGAL_HD inline Words philox(uint32_t key0, uint32_t key1, Words c) {
    for (int round = 0; round < 10; ++round) {
        const uint64_t p0 = uint64_t{0xD2511F53u} * c.w[0];
        const uint64_t p2 = uint64_t{0xCD9E8D57u} * c.w[2];
        c = Words{{static_cast<uint32_t>(p2 >> 32) ^ c.w[1] ^ key0, static_cast<uint32_t>(p2),
                   static_cast<uint32_t>(p0 >> 32) ^ c.w[3] ^ key1, static_cast<uint32_t>(p0)}};
        key0 += 0x9E3779B9u;
        key1 += 0xBB67AE85u;
    }
    return c;
}

// Block BLOCK of the stream (SEED, TENSOR): key = the seed's two halves, counter = (block low,
// block high, tensor, 0x5A0), the CPU engine's layout.
FRUGAL_HD inline Words directionBlock(uint64_t seed, uint32_t tensor, uint64_t block) {
    return philox(static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32),
                  Words{{static_cast<uint32_t>(block), static_cast<uint32_t>(block >> 32), tensor, 0x5A0u}});
}

// ---- Gaussian and Rademacher values of a block -----------------------------------------------

// 24 bits to (0, 1]: never 0, so the log is finite.
FRUGAL_HD inline float unitOpen(uint32_t x) {
    return mul(add(static_cast<float>(x >> 8), 1.0f), 1.0f / 16777216.0f);
}

// log(u) for u in (0, 1]: u = m·2^e with m in [sqrt(0.5), sqrt(2)), then Cephes' logf
// polynomial in x = m − 1 and e·log(2) split in two parts so that its product is exact enough.
FRUGAL_HD inline float logUnit(float u) {
    uint32_t bits = bitsOf(u);
    int e = static_cast<int>((bits >> 23) & 0xffu) - 126;
    const float m = floatOf((bits & 0x007fffffu) | 0x3f000000u);  // [0.5, 1)
    const int small = m < 0.70710678118654752f;
    e -= small;
    const float x = sub(mul(m, static_cast<float>(1 + small)), 1.0f);  // doubling is exact
    const float z = mul(x, x);
    const float coefficients[] = {-1.1514610310e-1f, 1.1676998740e-1f, -1.2420140846e-1f,
                                  1.4249322787e-1f,  -1.6668057665e-1f, 2.0000714765e-1f,
                                  -2.4999993993e-1f, 3.3333331174e-1f};
    float y = 7.0376836292e-2f;
    for (float c : coefficients) y = add(mul(y, x), c);
    y = mul(mul(y, x), z);
    const auto ef = static_cast<float>(e);
    y = add(y, mul(-2.12194440e-4f, ef));
    y = add(y, mul(-0.5f, z));
    return add(add(x, y), mul(0.693359375f, ef));
}

// sin and cos of 2π·u, u in (0, 1]: the nearest quarter turn q, then Cephes' polynomials on
// the remainder in [−π/4, π/4], then the quadrant's signs and swap.
FRUGAL_HD inline void sinCosTurn(float u, float& sinOut, float& cosOut) {
    const float v = mul(4.0f, u);
    const auto q = static_cast<int>(add(v, 0.5f));
    const float x = mul(sub(v, static_cast<float>(q)), 1.57079632679489662f);
    const float z = mul(x, x);
    float s = -1.9515295891e-4f;
    s = add(mul(s, z), 8.3321608736e-3f);
    s = add(mul(s, z), -1.6666654611e-1f);
    s = add(mul(mul(s, z), x), x);
    float c = 2.443315711809948e-5f;
    c = add(mul(c, z), -1.388731625493765e-3f);
    c = add(mul(c, z), 4.166664568298827e-2f);
    c = add(sub(mul(mul(c, z), z), mul(0.5f, z)), 1.0f);
    switch (q & 3) {
        case 0: sinOut = s; cosOut = c; break;
        case 1: sinOut = c; cosOut = -s; break;
        case 2: sinOut = -s; cosOut = -c; break;
        default: sinOut = -c; cosOut = s; break;
    }
}

// Box-Muller pair P (0..2) of a block: the radius from the top 24 bits of word P, the angle from
// 16 bits (pair 0: low half of word 3, pair 1: its high half, pair 2: the low bytes of words 0
// and 1). Value 2P is radius·cos, value 2P + 1 is radius·sin.
FRUGAL_HD inline void gaussianPair(const Words& b, int pair, float& cosValue, float& sinValue) {
    const uint32_t angle = pair == 0   ? b.w[3] & 0xffffu
                           : pair == 1 ? b.w[3] >> 16
                                       : ((b.w[0] & 0xffu) << 8) | (b.w[1] & 0xffu);
    const float radius = sqrtIeee(mul(-2.0f, logUnit(unitOpen(b.w[pair]))));
    float s, c;
    sinCosTurn(mul(add(static_cast<float>(angle), 1.0f), 1.0f / 65536.0f), s, c);
    cosValue = mul(c, radius);
    sinValue = mul(s, radius);
}

// Value K of a Rademacher block: the sign bit of word K.
FRUGAL_HD inline float rademacherValue(const Words& b, int k) { return (b.w[k] >> 31) ? 1.0f : -1.0f; }

// Values per block: six normals (three Box-Muller pairs) or four signs.
FRUGAL_HD constexpr int valuesPerBlock(bool rademacher) { return rademacher ? 4 : 6; }

// All values of a block into OUT[0 .. valuesPerBlock).
template <bool Rademacher>
FRUGAL_HD inline void blockValues(const Words& b, float* out) {
    if (Rademacher) {
        for (int k = 0; k < 4; ++k) out[k] = rademacherValue(b, k);
    } else {
        for (int pair = 0; pair < 3; ++pair) gaussianPair(b, pair, out[2 * pair], out[2 * pair + 1]);
    }
}

// ---- Where each element's value comes from ---------------------------------------------------
//
// The CPU generates batches of 1024 consecutive blocks and lays their values out planar: element
// batch·(V·1024) + k·1024 + b is value k of block batch·1024 + b (V values per block). So
// neighbouring elements come from neighbouring blocks, and one block feeds V elements 1024 apart:
// a GPU thread per block touches, for each k, the element next to its neighbour thread's
// (coalesced), and a warp of 32 aligned blocks covers 32 aligned elements (one half of a mask
// word) for each k.

constexpr uint64_t kBlocksPerBatch = 1024;

// The element fed by value K of block BLOCK.
FRUGAL_HD inline uint64_t elementOf(uint64_t block, int k, bool rademacher) {
    return (block / kBlocksPerBatch) * (valuesPerBlock(rademacher) * kBlocksPerBatch) +
           static_cast<uint64_t>(k) * kBlocksPerBatch + block % kBlocksPerBatch;
}

// Element I of the direction (SEED, TENSOR), as frugal::zo::directionAt gives it.
FRUGAL_HD inline float directionAt(uint64_t seed, uint32_t tensor, uint64_t i, bool rademacher) {
    const uint64_t perBatch = valuesPerBlock(rademacher) * kBlocksPerBatch;
    const uint64_t offset = i % perBatch;
    const Words b = directionBlock(seed, tensor, (i / perBatch) * kBlocksPerBatch + offset % kBlocksPerBatch);
    const int k = static_cast<int>(offset / kBlocksPerBatch);
    if (rademacher) return rademacherValue(b, k);
    float c, s;
    gaussianPair(b, k / 2, c, s);
    return k % 2 ? s : c;
}

// The blocks a pass over N elements runs through: every block that feeds an element below N,
// rounded up to a multiple of 64, so that warps are never split by the end of the loop (the
// mask refresh takes a warp vote) and every 64-bit mask word of the tensor is rewritten whole.
FRUGAL_HD inline uint64_t passBlocks(uint64_t n, bool rademacher) {
    const uint64_t perBatch = valuesPerBlock(rademacher) * kBlocksPerBatch;
    const uint64_t rest = n % perBatch;
    const uint64_t tail = rest < kBlocksPerBatch ? rest : kBlocksPerBatch;
    return (n / perBatch) * kBlocksPerBatch + (tail + 63) / 64 * 64;
}

// ---- Weight storage: the CPU's conversions, bit for bit --------------------------------------

// bf16 as perturb.cpp converts (c10::BFloat16's rounding): nearest even, any NaN to 0x7FC0.
FRUGAL_HD inline uint16_t bf16FromFloat(float f) {
    const uint32_t u = bitsOf(f);
    if ((u & 0x7FFFFFFFu) > 0x7F800000u) return 0x7FC0u;
    return static_cast<uint16_t>((u + 0x7FFFu + ((u >> 16) & 1u)) >> 16);
}

FRUGAL_HD inline float bf16ToFloat(uint16_t h) { return floatOf(static_cast<uint32_t>(h) << 16); }

// fp16 as c10::Half converts on the CPU (fp16_ieee_from_fp32_value), in integer arithmetic:
// nearest even, overflow to ±inf, NaN to sign|0x7E00.
FRUGAL_HD inline uint16_t f16FromFloat(float f) {
    const uint32_t u = bitsOf(f);
    const auto sign = static_cast<uint16_t>((u >> 16) & 0x8000u);
    const uint32_t a = u & 0x7FFFFFFFu;
    if (a > 0x7F800000u) return sign | 0x7E00u;
    if (a >= 0x477FF000u) return sign | 0x7C00u;  // 65520 and up round to infinity
    if (a >= 0x38800000u) {                       // a normal half: rebias, round 13 bits away
        const uint32_t r = a - 0x38000000u;
        return sign | static_cast<uint16_t>((r + 0xFFFu + ((r >> 13) & 1u)) >> 13);
    }
    // a subnormal half (units of 2^-24) or zero: the significand shifted right, nearest even
    const uint32_t exponent = a >> 23;
    if (exponent < 102) return sign;  // below 2^-25: rounds to zero
    const uint32_t significand = (a & 0x007FFFFFu) | 0x00800000u;
    const uint32_t shift = 126 - exponent;  // 14 .. 24
    const uint32_t q = significand >> shift, rest = significand & ((1u << shift) - 1u);
    const uint32_t halfway = 1u << (shift - 1);
    return sign | static_cast<uint16_t>(q + (rest > halfway || (rest == halfway && (q & 1u))));
}

// fp16 to fp32 as c10::Half does on the CPU: exact; a NaN keeps its payload and comes out quiet.
FRUGAL_HD inline float f16ToFloat(uint16_t h) {
    const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
    const uint32_t exponent = (h >> 10) & 0x1Fu, mantissa = h & 0x3FFu;
    if (exponent == 0x1F) return floatOf(sign | 0x7F800000u | (mantissa << 13) | (mantissa ? 0x00400000u : 0u));
    if (exponent != 0) return floatOf(sign | ((exponent + 112) << 23) | (mantissa << 13));
    if (mantissa == 0) return floatOf(sign);
    int shift = 0;  // a subnormal half is a normal float: normalise the mantissa
    uint32_t m = mantissa;
    while (!(m & 0x400u)) {
        m <<= 1;
        ++shift;
    }
    return floatOf(sign | ((113u - static_cast<uint32_t>(shift)) << 23) | ((m & 0x3FFu) << 13));
}

// W as a tensor of TYPE would hold it (a store and a load; fp32 unchanged).
FRUGAL_HD inline float roundAsStored(float w, WeightType type) {
    if (type == WeightType::BF16) return bf16ToFloat(bf16FromFloat(w));
    if (type == WeightType::F16) return f16ToFloat(f16FromFloat(w));
    return w;
}

// ---- The per-element pass --------------------------------------------------------------------

// A pass's coefficients as float, rounded from the CPU's doubles exactly as perturb.cpp does.
struct PassFloats {
    bool update = false;
    float restore = 0, step = 0, keep = 1;  // w ← (w + restore·z)·keep − step·z
    bool perturb = false;
    float scale = 0;  // w ← w + scale·z'
    bool refresh = false;
    float threshold = 0;
};

inline PassFloats passFloats(const RestoreUpdate* update, const Perturbation* perturb) {
    PassFloats p;
    if (update) {
        p.update = true;
        p.restore = static_cast<float>(update->restore * update->sphereScale);
        p.step = static_cast<float>(update->lr * update->projectedGradient * update->sphereScale);
        p.keep = static_cast<float>(1.0 - update->lr * (update->decay ? update->weightDecay : 0.0));
    }
    if (perturb) {
        p.perturb = true;
        p.scale = static_cast<float>(perturb->scale * perturb->sphereScale);
        p.refresh = perturb->refresh;
        p.threshold = perturb->threshold;
    }
    return p;
}

// One element through the pass, in perturb.cpp's order of operations. W: the stored weight as
// fp32; Z: its value of the update's direction; ZNEXT: of the perturbation's. BIT: its mask bit
// (read by the update, rewritten by a refresh, read by the perturbation), null when unmasked. A
// masked-out element still goes through z·0, as on the CPU (so −0 may become +0 there too).
// Returns the fp32 value to store in TYPE.
FRUGAL_HD inline float passElement(float w, float z, float zNext, const PassFloats& p, WeightType type,
                                   uint32_t* bit) {
    if (p.update) {
        float keep = p.keep;
        if (bit) {
            z = mul(z, static_cast<float>(*bit));
            keep = *bit ? p.keep : 1.0f;  // masked-out weights are neither moved nor decayed
        }
        w = sub(mul(add(w, mul(p.restore, z)), keep), mul(p.step, z));
        if (p.perturb) w = roundAsStored(w, type);  // what the separate passes store between them
    }
    if (p.perturb) {
        if (bit && p.refresh) *bit = floatOf(bitsOf(w) & 0x7FFFFFFFu) <= p.threshold;  // |w|
        if (bit) zNext = mul(zNext, static_cast<float>(*bit));
        w = add(w, mul(p.scale, zNext));
    }
    return w;
}

// ---- The optimiser rules (core/zo/optimizers.cpp's rows, one element each) -----------------
//
// The CPU rows loop over a chunk calling these; the update kernel calls them per element, so an
// optimiser's arithmetic is written once. G is the element's estimate ĝ = Σ_j (g_j·k_j/q)·z_j,
// summed from +0 in query order; M and V are its state (the rule reads what its row keeps).

FRUGAL_HD inline float signOf(float g) { return static_cast<float>((g > 0) - (g < 0)); }

FRUGAL_HD inline float ruleElement(Rule rule, float w, float g, float* m, float* v, const RuleFloats& f) {
    const float kept = mul(w, f.keep);
    switch (rule) {
        case Rule::Sgd: return sub(kept, mul(f.lr, g));
        case Rule::Sign: return sub(kept, mul(f.lr, signOf(g)));
        case Rule::Momentum:
            *m = add(mul(f.momentum, *m), g);
            return sub(kept, mul(f.lr, *m));
        case Rule::Nesterov:
            *m = add(mul(f.momentum, *m), g);
            return sub(kept, mul(f.lr, add(g, mul(f.momentum, *m))));
        case Rule::Adam: {
            *m = add(mul(f.beta1, *m), mul(sub(1.0f, f.beta1), g));
            *v = add(mul(f.beta2, *v), mul(mul(sub(1.0f, f.beta2), g), g));
            return sub(kept, div(mul(f.lr, div(*m, f.c1)), add(sqrtIeee(div(*v, f.c2)), f.adamEps)));
        }
        case Rule::Lion: {
            const float u = add(mul(f.beta1, *m), mul(sub(1.0f, f.beta1), g));
            *m = add(mul(f.beta2, *m), mul(sub(1.0f, f.beta2), g));
            return sub(kept, mul(f.lr, signOf(u)));
        }
    }
    return w;
}

}  // namespace frugal::cuda::math
