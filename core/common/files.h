#pragma once
// Reading a whole file, with one clear message when it cannot be opened.

#include <filesystem>
#include <string>

namespace frugal {

// The bytes of FILE; throws "FILE: cannot open the WHAT" (WHAT: "corpus file", "config", ...).
std::string readFile(const std::filesystem::path& file, const std::string& what);

}  // namespace frugal
