#include "test_util.h"

#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "common/error.h"

namespace frugal::test {

std::filesystem::path envPath(const char* name) {
    const char* value = std::getenv(name);
    if (!value || !*value)
        throw std::runtime_error(std::string("environment variable ") + name +
                                 " is not set; run the tests through ctest");
    return value;
}

TempDir::TempDir(const std::string& tag) {
    static int counter = 0;
    m_path = std::filesystem::temp_directory_path() /
             ("frugal-" + tag + "-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    std::filesystem::remove_all(m_path);
    std::filesystem::create_directories(m_path);
}

TempDir::~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(m_path, ec);
}

void writeBytes(const std::filesystem::path& path, const std::string& bytes) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

void writeText(const std::filesystem::path& path, const std::string& text) {
    writeBytes(path, text);
}

std::string readText(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

std::string errorOf(const std::function<void()>& action) {
    try {
        action();
    } catch (const frugal::Error& e) {
        return e.what();
    }
    return "<no error>";
}

std::string safetensorsBytes(const std::string& headerJson, const std::string& data) {
    std::string out(8, '\0');
    const uint64_t n = headerJson.size();
    for (int i = 0; i < 8; ++i)
        out[static_cast<size_t>(i)] = static_cast<char>((n >> (8 * i)) & 0xff);
    return out + headerJson + data;
}

const char* const kProse =
    "It is a truth universally acknowledged, that a single man in possession of a good fortune, "
    "must be in want of a wife. However little known the feelings or views of such a man may be "
    "on his first entering a neighbourhood, this truth is so well fixed in the minds of the "
    "surrounding families, that he is considered the rightful property of some one or other of "
    "their daughters. The food was great and the service was friendly; I would come again. The "
    "soup was cold and the bread was stale; I would not come again.";

frugal::MemorySink& sink(const std::filesystem::path& dir) {
    static frugal::MemorySink current;
    current = frugal::MemorySink(dir);
    return current;
}

const frugal::StopToken& noStop() {
    static const frugal::StopToken never;
    return never;
}

void useSourceResources() {
    setenv("FRUGAL_RESOURCES", (envPath("FRUGAL_SOURCE_DIR") / "resources").string().c_str(), 1);
}

}  // namespace frugal::test
