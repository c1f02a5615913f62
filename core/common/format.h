#pragma once
// Small text helpers for messages and command output. Header-only; no torch.

#include <cstdint>
#include <cstdio>
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

// 4.2137 -> "4.214": four significant digits, for progress lines.
inline std::string shortNumber(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.4g", v);
    return buf;
}

}  // namespace frugal
