#pragma once
// Reading and writing a whole file, with one clear message when it cannot be opened.

#include <filesystem>
#include <string>
#include <string_view>

namespace frugal {

// The bytes of FILE; throws "FILE: cannot open the WHAT" (WHAT: "corpus file", "config", ...).
std::string readFile(const std::filesystem::path& file, const std::string& what);
// Writes TEXT to FILE (replacing it); throws "FILE: cannot write" naming the file.
void writeTextFile(const std::filesystem::path& file, const std::string& text);

// Throws unless PATH is a file: "PATH: no such file (expected WHAT)", "PATH: is a folder, not a
// file (expected WHAT)".
void requireFile(const std::filesystem::path& path, const std::string& what);
// Throws unless PATH is a folder: "PATH: no such folder (expected WHAT)", "PATH: is a file, not a
// folder (expected WHAT)".
void requireFolder(const std::filesystem::path& path, const std::string& what);

// The offset of the first byte of TEXT that is not part of well-formed UTF-8 (overlong forms,
// surrogates and code points above U+10FFFF are ill-formed), or npos when all of it is.
size_t invalidUtf8At(std::string_view text);
// Throws "SOURCE: not valid UTF-8 at byte N (0xFF); re-encode it as UTF-8" for ill-formed TEXT.
void requireUtf8(std::string_view text, const std::string& source);

}  // namespace frugal
