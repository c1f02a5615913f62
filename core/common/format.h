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

// 4212992 -> "4,212,992"
inline std::string withThousands(int64_t n) {
    std::string digits = std::to_string(n < 0 ? -n : n), out;
    for (size_t i = 0; i < digits.size(); ++i) {
        if (i && (digits.size() - i) % 3 == 0) out += ',';
        out += digits[i];
    }
    return (n < 0 ? "-" : "") + out;
}

}  // namespace frugal
