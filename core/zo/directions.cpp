#include "zo/directions.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>

#include "common/error.h"



namespace frugal::zo {

inline constexpr int64_t kMaxBlocks = 1024;  // as in direction_kernels.inc

// The kernels of each instruction set (direction_kernels.inc), the same bits from all of them.
namespace generic {
void generateBatch(uint64_t, uint32_t, uint64_t, bool, float*);
}
namespace avx2 {
void generateBatch(uint64_t, uint32_t, uint64_t, bool, float*);
}
namespace avx512 {
void generateBatch(uint64_t, uint32_t, uint64_t, bool, float*);
}

namespace {

using GenerateBlocks = void (*)(uint64_t, uint32_t, uint64_t, bool, float*);

GenerateBlocks pickKernel() {
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq")) return avx512::generateBatch;
    if (__builtin_cpu_supports("avx2")) return avx2::generateBatch;
    return generic::generateBatch;
}

GenerateBlocks kernel() {
    static const GenerateBlocks chosen = pickKernel();
    return chosen;
}

GenerateBlocks kernelNamed(const std::string& name) {
    if (name == "generic") return generic::generateBatch;
    if (name == "avx2") return avx2::generateBatch;
    if (name == "avx512") return avx512::generateBatch;
    fail("unknown direction kernel '", name, "'");
}

void rangeWith(GenerateBlocks generate, uint64_t seed, uint32_t tensor, uint64_t first, uint64_t n,
               DirectionLaw law, float* out);

constexpr uint32_t kMul0 = 0xD2511F53u, kMul1 = 0xCD9E8D57u;
constexpr uint32_t kWeyl0 = 0x9E3779B9u, kWeyl1 = 0xBB67AE85u;

inline void mulhilo(uint32_t a, uint32_t b, uint32_t& hi, uint32_t& lo) {
    const uint64_t p = static_cast<uint64_t>(a) * b;
    hi = static_cast<uint32_t>(p >> 32);
    lo = static_cast<uint32_t>(p);
}

}  // namespace

std::string lawName(DirectionLaw law) { return nameOf(kDirectionLaws, law); }

DirectionLaw parseLaw(const std::string& name) { return parseNamed(kDirectionLaws, name, "direction law"); }

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

std::vector<std::string> directionKernels() {
    __builtin_cpu_init();
    std::vector<std::string> names = {"generic"};
    if (__builtin_cpu_supports("avx2")) names.push_back("avx2");
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq")) names.push_back("avx512");
    return names;
}

void directionRangeWith(const std::string& kernelName, uint64_t seed, uint32_t tensor,
                        uint64_t first, uint64_t n, DirectionLaw law, float* out) {
    rangeWith(kernelNamed(kernelName), seed, tensor, first, n, law, out);
}

void directionRange(uint64_t seed, uint32_t tensor, uint64_t first, uint64_t n, DirectionLaw law,
                    float* out) {
    rangeWith(kernel(), seed, tensor, first, n, law, out);
}

namespace {

void rangeWith(GenerateBlocks generate, uint64_t seed, uint32_t tensor, uint64_t first, uint64_t n,
               DirectionLaw law, float* out) {
    const bool rademacher = law == DirectionLaw::Rademacher;
    const uint64_t kBatch = (rademacher ? 4 : 6) * kMaxBlocks;
    alignas(64) float values[6 * kMaxBlocks];
    uint64_t i = first;
    const uint64_t end = first + n;
    while (i < end) {
        const uint64_t batch = i / kBatch, offset = i % kBatch;
        const uint64_t take = std::min(end - i, kBatch - offset);
        if (take == kBatch) {  // a whole batch: straight into the output
            generate(seed, tensor, batch, rademacher, out);
        } else {
            generate(seed, tensor, batch, rademacher, values);
            std::memcpy(out, values + offset, take * sizeof(float));
        }
        out += take;
        i += take;
    }
}

}  // namespace

}  // namespace frugal::zo
