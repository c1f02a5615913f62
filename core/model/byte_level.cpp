#include "model/byte_level.h"

#include <array>
#include <cstdint>

#include "model/utf8.h"

namespace frugal::model {
namespace {

struct ByteLevelTable {
    std::array<std::string, 256> byteToText;
    std::array<int16_t, 512> codepointToByte;  // every mapped code point is below 0x144
};

ByteLevelTable buildTable() {
    ByteLevelTable table;
    table.codepointToByte.fill(-1);
    int next = 256;
    for (int b = 0; b < 256; ++b) {
        const bool printable =
            (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
        const int codepoint = printable ? b : next++;
        table.byteToText[static_cast<std::size_t>(b)] =
            encodeUtf8(static_cast<char32_t>(codepoint));
        table.codepointToByte[static_cast<std::size_t>(codepoint)] = static_cast<int16_t>(b);
    }
    return table;
}

const ByteLevelTable& table() {
    static const ByteLevelTable kTable = buildTable();
    return kTable;
}

}  // namespace

std::string bytesToByteLevel(std::string_view bytes) {
    const ByteLevelTable& t = table();
    std::string out;
    out.reserve(bytes.size() * 2);
    for (const char c : bytes) out += t.byteToText[static_cast<unsigned char>(c)];
    return out;
}

std::string byteLevelToBytes(std::string_view text) {
    const ByteLevelTable& t = table();
    std::string out;
    out.reserve(text.size());
    for (std::size_t pos = 0; pos < text.size();) {
        const std::size_t len = utf8StepLength(text, pos);
        const auto b0 = static_cast<unsigned char>(text[pos]);
        int codepoint = -1;
        if (len == 1 && b0 < 0x80) {
            codepoint = b0;
        } else if (len == 2) {
            codepoint = ((b0 & 0x1F) << 6) | (static_cast<unsigned char>(text[pos + 1]) & 0x3F);
        }
        if (codepoint >= 0 && codepoint < 512 && t.codepointToByte[codepoint] >= 0) {
            out += static_cast<char>(t.codepointToByte[codepoint]);
        } else {
            out.append(text.substr(pos, len));
        }
        pos += len;
    }
    return out;
}

}  // namespace frugal::model
