#pragma once
// Random directions that are never stored: the value of element i of trainable tensor t for seed s
// is a pure function of (s, t, i), computed from a counter-based generator (Philox4x32-10, Salmon
// et al., SC'11). So a direction is regenerated identically for any thread count, any chunking
// and, later, on CUDA; perturbing, restoring and updating weights in place needs no buffer beyond
// what one thread touches.
//
// Laws: Gaussian N(0, 1) (Box-Muller on 32-bit uniforms), Rademacher ±1, and the sphere of radius
// sqrt(d) (a Gaussian direction rescaled by sqrt(d)/||z|| over all trainable tensors together).

#include <array>
#include <cstdint>
#include <string>

#include "common/named.h"
#include <vector>

namespace frugal::zo {

enum class DirectionLaw { Gaussian, Rademacher, Sphere };
inline constexpr std::array<Named<DirectionLaw>, 3> kDirectionLaws = {
    {{DirectionLaw::Gaussian, "gaussian"}, {DirectionLaw::Rademacher, "rademacher"}, {DirectionLaw::Sphere, "sphere"}}};
std::string lawName(DirectionLaw law);
DirectionLaw parseLaw(const std::string& name);  // "gaussian", "rademacher", "sphere"

// One Philox4x32-10 block: 4 uniform 32-bit words for (key, counter).
std::array<uint32_t, 4> philox4x32(std::array<uint32_t, 2> key, std::array<uint32_t, 4> counter);

// Element I of tensor TENSOR under SEED: N(0,1) for Gaussian and Sphere (before the sphere's
// rescaling), ±1 for Rademacher.
float directionAt(uint64_t seed, uint32_t tensor, uint64_t i, DirectionLaw law);

// Fills OUT[0..n) with elements [first, first + n) of the direction (the same values as
// directionAt, computed four at a time).
void directionRange(uint64_t seed, uint32_t tensor, uint64_t first, uint64_t n, DirectionLaw law,
                    float* out);

// The generator is compiled per instruction set and picked at run time; all give the same bits.
// The kernels this CPU can run ("generic", "avx2", "avx512"), and directionRange through one of
// them (for tests of their agreement).
std::vector<std::string> directionKernels();
void directionRangeWith(const std::string& kernel, uint64_t seed, uint32_t tensor, uint64_t first,
                        uint64_t n, DirectionLaw law, float* out);

}  // namespace frugal::zo
