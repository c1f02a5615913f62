#pragma once
// Reading and writing a whole file, with one clear message when it cannot be opened.

#include <filesystem>
#include <string>

namespace frugal {

// The bytes of FILE; throws "FILE: cannot open the WHAT" (WHAT: "corpus file", "config", ...).
std::string readFile(const std::filesystem::path& file, const std::string& what);
// Writes TEXT to FILE (replacing it); throws "FILE: cannot write" naming the file.
void writeTextFile(const std::filesystem::path& file, const std::string& text);

}  // namespace frugal
