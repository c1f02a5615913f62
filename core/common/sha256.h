#pragma once
// SHA-256 (FIPS 180-4) of a file or a byte string, as lowercase hex: artifact checksums.

#include <filesystem>
#include <string>
#include <string_view>

namespace frugal {

std::string sha256Hex(std::string_view bytes);
std::string sha256OfFile(const std::filesystem::path& file);  // streams; throws naming the file

}  // namespace frugal
