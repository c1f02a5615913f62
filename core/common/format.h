#pragma once
// Small text helpers for messages and command output. Header-only; no torch.

#include <cstdint>
#include <string>
#include <vector>

namespace frugal {

// [4096, 11008]
inline std::string shapeText(const std::vector<int64_t>& shape) {
    std::string s = "[";
    for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
    return s + "]";
}

}  // namespace frugal
