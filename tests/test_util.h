#pragma once
// Helpers shared by the tests: locating test data, temporary folders, raw file writing.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

namespace frugal::test {

// Value of an environment variable the test harness sets; fails the test run loudly if unset.
std::filesystem::path envPath(const char* name);

// A fresh empty folder under the system temp dir, removed when the object goes.
class TempDir {
public:
    explicit TempDir(const std::string& tag);
    ~TempDir();
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const std::filesystem::path& path() const { return m_path; }
    std::filesystem::path operator/(const std::string& name) const { return m_path / name; }

private:
    std::filesystem::path m_path;
};

void writeBytes(const std::filesystem::path& path, const std::string& bytes);
void writeText(const std::filesystem::path& path, const std::string& text);
std::string readText(const std::filesystem::path& path);

// The message of the frugal::Error that `action` throws, or "<no error>".
std::string errorOf(const std::function<void()>& action);

// A safetensors file from a header JSON string and a data section, byte for byte as given.
std::string safetensorsBytes(const std::string& headerJson, const std::string& data);

}  // namespace frugal::test
