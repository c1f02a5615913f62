#include "common/files.h"

#include <fstream>
#include <sstream>

#include "common/error.h"

namespace frugal {

std::string readFile(const std::filesystem::path& file, const std::string& what) {
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

}  // namespace frugal
