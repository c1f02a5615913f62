#include "zo/directions.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "common/error.h"

namespace frugal::zo {

namespace {

constexpr uint32_t kMul0 = 0xD2511F53u, kMul1 = 0xCD9E8D57u;
constexpr uint32_t kWeyl0 = 0x9E3779B9u, kWeyl1 = 0xBB67AE85u;

inline void mulhilo(uint32_t a, uint32_t b, uint32_t& hi, uint32_t& lo) {
    const uint64_t p = static_cast<uint64_t>(a) * b;
    hi = static_cast<uint32_t>(p >> 32);
    lo = static_cast<uint32_t>(p);
}

// (0, 1]: never 0, so log() is finite.
inline float unitOpen(uint32_t x) { return (static_cast<float>(x >> 8) + 1.0f) * (1.0f / 16777216.0f); }

// Natural log of u in (0, 1] from IEEE arithmetic only (Cephes' logf polynomial, about 1 ulp), so
// the result is the same bits in every build, vectorised or not (this file is compiled without
// floating-point contraction).
inline float logUnit(float u) {
    uint32_t bits;
    std::memcpy(&bits, &u, 4);
    int e = static_cast<int>((bits >> 23) & 0xff) - 126;  // u = m * 2^e, m in [0.5, 1)
    bits = (bits & 0x007fffffu) | 0x3f000000u;
    float m;
    std::memcpy(&m, &bits, 4);
    const int small = m < 0.70710678118654752f;  // m in [sqrt(0.5), sqrt(2)) after the shift
    e -= small;
    const float x = m * static_cast<float>(1 + small) - 1.0f;  // m * 2 or m * 1: exact
    const float z = x * x;
    float y = 7.0376836292e-2f;
    y = y * x + -1.1514610310e-1f;
    y = y * x + 1.1676998740e-1f;
    y = y * x + -1.2420140846e-1f;
    y = y * x + 1.4249322787e-1f;
    y = y * x + -1.6668057665e-1f;
    y = y * x + 2.0000714765e-1f;
    y = y * x + -2.4999993993e-1f;
    y = y * x + 3.3333331174e-1f;
    y = y * x * z;
    const auto ef = static_cast<float>(e);
    y += -2.12194440e-4f * ef;
    y += -0.5f * z;
    return x + y + 0.693359375f * ef;
}

// sin and cos of 2*pi*u, u in (0, 1]: quadrant from the nearest multiple of pi/2, Cephes'
// polynomials on [-pi/4, pi/4].
inline void sinCosTurn(float u, float& sinOut, float& cosOut) {
    const float v = 4.0f * u;                            // in (0, 4]
    const auto q = static_cast<int>(v + 0.5f);           // nearest quadrant, 0..4
    const float x = (v - static_cast<float>(q)) * 1.57079632679489662f;  // [-pi/4, pi/4]
    const float z = x * x;
    float s = -1.9515295891e-4f;
    s = s * z + 8.3321608736e-3f;
    s = s * z + -1.6666654611e-1f;
    s = s * z * x + x;
    float c = 2.443315711809948e-5f;
    c = c * z + -1.388731625493765e-3f;
    c = c * z + 4.166664568298827e-2f;
    c = c * z * z - 0.5f * z + 1.0f;
    const int k = q & 3;
    sinOut = k == 0 ? s : k == 1 ? c : k == 2 ? -s : -c;
    cosOut = k == 0 ? c : k == 1 ? -s : k == 2 ? -c : s;
}

constexpr int64_t kMaxBlocks = 1024;  // blocks generated per batch (4096 values)

// Philox on NB consecutive blocks starting at FIRSTBLOCK, structure-of-arrays so that the rounds
// vectorise; WORDS[k][b] is word k of block b.
__attribute__((target_clones("avx512f", "avx2", "default"))) void philoxBlocks(
    uint64_t seed, uint32_t tensor, uint64_t firstBlock, int64_t nb, uint32_t (*words)[kMaxBlocks]) {
    const uint32_t key0 = static_cast<uint32_t>(seed), key1 = static_cast<uint32_t>(seed >> 32);
    // One block per iteration with all ten rounds unrolled, so the state stays in registers and
    // the loop over blocks vectorises.
    for (int64_t b = 0; b < nb; ++b) {
        const uint64_t block = firstBlock + static_cast<uint64_t>(b);
        uint32_t c0 = static_cast<uint32_t>(block), c1 = static_cast<uint32_t>(block >> 32);
        uint32_t c2 = tensor, c3 = 0x5A0u;
        uint32_t k0 = key0, k1 = key1;
#pragma GCC unroll 10
        for (int round = 0; round < 10; ++round) {
            const uint64_t p0 = static_cast<uint64_t>(kMul0) * c0;
            const uint64_t p1 = static_cast<uint64_t>(kMul1) * c2;
            const uint32_t n0 = static_cast<uint32_t>(p1 >> 32) ^ c1 ^ k0;
            const uint32_t n2 = static_cast<uint32_t>(p0 >> 32) ^ c3 ^ k1;
            c1 = static_cast<uint32_t>(p1);
            c3 = static_cast<uint32_t>(p0);
            c0 = n0;
            c2 = n2;
            k0 += kWeyl0;
            k1 += kWeyl1;
        }
        words[0][b] = c0;
        words[1][b] = c1;
        words[2][b] = c2;
        words[3][b] = c3;
    }
}

// Values of NB blocks from their words: out[4b + k].
__attribute__((target_clones("avx512f", "avx2", "default"))) void blockValues(
    const uint32_t (*words)[kMaxBlocks], int64_t nb, bool rademacher, float* out) {
    if (rademacher) {
        for (int64_t b = 0; b < nb; ++b)
            for (int k = 0; k < 4; ++k) out[4 * b + k] = (words[k][b] >> 31) ? 1.0f : -1.0f;
        return;
    }
    // Box-Muller on (w0, w1) and (w2, w3) of each block, one simple loop per stage so that each
    // vectorises.
    alignas(64) float radius[kMaxBlocks], sine[kMaxBlocks], cosine[kMaxBlocks];
    for (int pair = 0; pair < 2; ++pair) {
        const uint32_t* wr = words[2 * pair];
        const uint32_t* wa = words[2 * pair + 1];
        for (int64_t b = 0; b < nb; ++b) radius[b] = std::sqrt(-2.0f * logUnit(unitOpen(wr[b])));
        for (int64_t b = 0; b < nb; ++b) sinCosTurn(unitOpen(wa[b]), sine[b], cosine[b]);
        for (int64_t b = 0; b < nb; ++b) {
            out[4 * b + 2 * pair] = radius[b] * cosine[b];
            out[4 * b + 2 * pair + 1] = radius[b] * sine[b];
        }
    }
}

}  // namespace

std::string lawName(DirectionLaw law) {
    switch (law) {
        case DirectionLaw::Gaussian: return "gaussian";
        case DirectionLaw::Rademacher: return "rademacher";
        case DirectionLaw::Sphere: return "sphere";
    }
    return "unknown";
}

DirectionLaw parseLaw(const std::string& name) {
    for (auto law : {DirectionLaw::Gaussian, DirectionLaw::Rademacher, DirectionLaw::Sphere})
        if (lawName(law) == name) return law;
    fail("unknown direction law '", name, "' (expected gaussian, rademacher or sphere)");
}

std::array<uint32_t, 4> philox4x32(std::array<uint32_t, 2> key, std::array<uint32_t, 4> c) {
    for (int round = 0; round < 10; ++round) {
        uint32_t hi0, lo0, hi1, lo1;
        mulhilo(kMul0, c[0], hi0, lo0);
        mulhilo(kMul1, c[2], hi1, lo1);
        c = {hi1 ^ c[1] ^ key[0], lo1, hi0 ^ c[3] ^ key[1], lo0};
        key[0] += kWeyl0;
        key[1] += kWeyl1;
    }
    return c;
}

float directionAt(uint64_t seed, uint32_t tensor, uint64_t i, DirectionLaw law) {
    float v;
    directionRange(seed, tensor, i, 1, law, &v);
    return v;
}

void directionRange(uint64_t seed, uint32_t tensor, uint64_t first, uint64_t n, DirectionLaw law,
                    float* out) {
    alignas(64) uint32_t words[4][kMaxBlocks];
    alignas(64) float values[4 * kMaxBlocks];
    const bool rademacher = law == DirectionLaw::Rademacher;
    uint64_t i = first;
    const uint64_t end = first + n;
    while (i < end) {
        const uint64_t firstBlock = i / 4;
        const auto nb = static_cast<int64_t>(std::min<uint64_t>(kMaxBlocks, (end + 3) / 4 - firstBlock));
        philoxBlocks(seed, tensor, firstBlock, nb, words);
        blockValues(words, nb, rademacher, values);
        const uint64_t offset = i - 4 * firstBlock;
        const uint64_t take = std::min<uint64_t>(end - i, 4 * static_cast<uint64_t>(nb) - offset);
        std::memcpy(out, values + offset, take * sizeof(float));
        out += take;
        i += take;
    }
}

}  // namespace frugal::zo
