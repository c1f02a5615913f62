#include "zo/directions.h"

#include <cmath>

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

// Four N(0,1) from one block: Box-Muller on (w0, w1) and (w2, w3).
inline void gaussians(const std::array<uint32_t, 4>& w, float* out) {
    constexpr float kTwoPi = 6.28318530717958647692f;
    for (int k = 0; k < 2; ++k) {
        const float r = std::sqrt(-2.0f * std::log(unitOpen(w[2 * k])));
        const float a = kTwoPi * unitOpen(w[2 * k + 1]);
        out[2 * k] = r * std::cos(a);
        out[2 * k + 1] = r * std::sin(a);
    }
}

inline std::array<uint32_t, 4> blockFor(uint64_t seed, uint32_t tensor, uint64_t block) {
    return philox4x32({static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32)},
                      {static_cast<uint32_t>(block), static_cast<uint32_t>(block >> 32), tensor,
                       0x5A0u});
}

inline void valuesOf(const std::array<uint32_t, 4>& w, DirectionLaw law, float* out) {
    if (law == DirectionLaw::Rademacher) {
        for (int k = 0; k < 4; ++k) out[k] = (w[k] >> 31) ? 1.0f : -1.0f;
    } else {
        gaussians(w, out);
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
    float v[4];
    valuesOf(blockFor(seed, tensor, i / 4), law, v);
    return v[i % 4];
}

void directionRange(uint64_t seed, uint32_t tensor, uint64_t first, uint64_t n, DirectionLaw law,
                    float* out) {
    uint64_t i = first;
    const uint64_t end = first + n;
    float v[4];
    while (i < end) {
        const uint64_t block = i / 4;
        valuesOf(blockFor(seed, tensor, block), law, v);
        for (uint64_t k = i % 4; k < 4 && i < end; ++k, ++i) *out++ = v[k];
    }
}

}  // namespace frugal::zo
