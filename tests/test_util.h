#pragma once
// Helpers shared by the tests: locating test data, temporary folders, raw file writing.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "common/events.h"

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

// A fresh sink for one core call (the previous one is replaced): what the call reported, in
// memory; DIR its artifact folder, if the call writes files.
frugal::MemorySink& sink(const std::filesystem::path& dir = {});
// A stop token that is never set.
const frugal::StopToken& noStop();

// A paragraph of English prose (Austen's opening, two restaurant reviews): tokenizer and
// pre-training tests train on it.
extern const char* const kProse;

// $FRUGAL_RESOURCES set to the source tree's resources/ (the built-in model and data).
void useSourceResources();

}  // namespace frugal::test
