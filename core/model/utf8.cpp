#include "model/utf8.h"

namespace frugal::model {
namespace {

struct Step {
    std::size_t length;  // bytes consumed
    bool valid;          // false: LENGTH bytes form one maximal ill-formed subpart
};

// Unicode 15 §3.9, Table 3-7 (well-formed UTF-8 byte sequences).
Step scan(std::string_view text, std::size_t pos) {
    const auto byteAt = [&](std::size_t i) { return static_cast<unsigned char>(text[i]); };
    const unsigned char lead = byteAt(pos);
    if (lead < 0x80) return {1, true};
    std::size_t need = 0;
    unsigned char lo = 0x80;
    unsigned char hi = 0xBF;
    if (lead >= 0xC2 && lead <= 0xDF) {
        need = 1;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
        need = 2;
        if (lead == 0xE0) lo = 0xA0;
        if (lead == 0xED) hi = 0x9F;
    } else if (lead >= 0xF0 && lead <= 0xF4) {
        need = 3;
        if (lead == 0xF0) lo = 0x90;
        if (lead == 0xF4) hi = 0x8F;
    } else {
        return {1, false};
    }
    for (std::size_t k = 1; k <= need; ++k) {
        if (pos + k >= text.size()) return {k, false};
        const unsigned char c = byteAt(pos + k);
        const unsigned char low = k == 1 ? lo : 0x80;
        const unsigned char high = k == 1 ? hi : 0xBF;
        if (c < low || c > high) return {k, false};
    }
    return {need + 1, true};
}

}  // namespace

std::size_t utf8CharLength(std::string_view text, std::size_t pos) {
    const Step step = scan(text, pos);
    return step.valid ? step.length : 0;
}

std::size_t utf8StepLength(std::string_view text, std::size_t pos) {
    const Step step = scan(text, pos);
    return step.valid ? step.length : 1;
}

std::string toValidUtf8(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (std::size_t pos = 0; pos < text.size();) {
        const Step step = scan(text, pos);
        if (step.valid) {
            out.append(text.substr(pos, step.length));
        } else {
            out.append(kReplacementChar);
        }
        pos += step.length;
    }
    return out;
}

bool isValidUtf8(std::string_view text) {
    for (std::size_t pos = 0; pos < text.size();) {
        const Step step = scan(text, pos);
        if (!step.valid) return false;
        pos += step.length;
    }
    return true;
}

std::string encodeUtf8(char32_t codepoint) {
    std::string out;
    if (codepoint < 0x80) {
        out += static_cast<char>(codepoint);
    } else if (codepoint < 0x800) {
        out += static_cast<char>(0xC0 | (codepoint >> 6));
        out += static_cast<char>(0x80 | (codepoint & 0x3F));
    } else if (codepoint < 0x10000) {
        out += static_cast<char>(0xE0 | (codepoint >> 12));
        out += static_cast<char>(0x80 | ((codepoint >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (codepoint & 0x3F));
    } else {
        out += static_cast<char>(0xF0 | (codepoint >> 18));
        out += static_cast<char>(0x80 | ((codepoint >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((codepoint >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (codepoint & 0x3F));
    }
    return out;
}

}  // namespace frugal::model
