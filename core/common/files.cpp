#include "common/files.h"

#include <cstdio>
#include <fstream>
#include <sstream>

#include "common/error.h"

namespace frugal {

std::string readFile(const std::filesystem::path& file, const std::string& what) {
    std::error_code ec;
    if (std::filesystem::is_directory(file, ec))
        fail(file.string(), ": is a folder, not a file (expected the ", what, ")");
    std::ifstream in(file, std::ios::binary);
    if (!in) fail(file.string(), ": cannot open the ", what);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

void writeTextFile(const std::filesystem::path& file, const std::string& text) {
    std::ofstream out(file, std::ios::binary | std::ios::trunc);
    if (!out || !(out << text) || !out.flush()) fail(file.string(), ": cannot write");
}

void requireFile(const std::filesystem::path& path, const std::string& what) {
    std::error_code ec;
    const auto status = std::filesystem::status(path, ec);
    if (!std::filesystem::exists(status)) fail(path.string(), ": no such file (expected ", what, ")");
    if (std::filesystem::is_directory(status))
        fail(path.string(), ": is a folder, not a file (expected ", what, ")");
}

void requireFolder(const std::filesystem::path& path, const std::string& what) {
    std::error_code ec;
    const auto status = std::filesystem::status(path, ec);
    if (!std::filesystem::exists(status)) fail(path.string(), ": no such folder (expected ", what, ")");
    if (!std::filesystem::is_directory(status))
        fail(path.string(), ": is a file, not a folder (expected ", what, ")");
}

size_t invalidUtf8At(std::string_view text) {
    const auto* s = reinterpret_cast<const unsigned char*>(text.data());
    const size_t n = text.size();
    size_t i = 0;
    while (i < n) {
        const unsigned char c = s[i];
        if (c < 0x80) {
            ++i;
            continue;
        }
        size_t length = 0;
        unsigned char lo = 0x80, hi = 0xBF;  // the allowed range of the second byte
        if (c >= 0xC2 && c <= 0xDF) length = 2;
        else if (c == 0xE0) length = 3, lo = 0xA0;
        else if (c == 0xED) length = 3, hi = 0x9F;  // no surrogates
        else if (c >= 0xE1 && c <= 0xEF) length = 3;
        else if (c == 0xF0) length = 4, lo = 0x90;
        else if (c == 0xF4) length = 4, hi = 0x8F;  // nothing above U+10FFFF
        else if (c >= 0xF1 && c <= 0xF3) length = 4;
        else return i;
        if (i + length > n || s[i + 1] < lo || s[i + 1] > hi) return i;
        for (size_t k = 2; k < length; ++k)
            if (s[i + k] < 0x80 || s[i + k] > 0xBF) return i;
        i += length;
    }
    return std::string_view::npos;
}

void requireUtf8(std::string_view text, const std::string& source) {
    const size_t at = invalidUtf8At(text);
    if (at == std::string_view::npos) return;
    char byte[8];
    std::snprintf(byte, sizeof byte, "0x%02X", static_cast<unsigned>(static_cast<unsigned char>(text[at])));
    fail(source, ": not valid UTF-8 at byte ", at, " (", byte, "); re-encode it as UTF-8");
}

}  // namespace frugal
