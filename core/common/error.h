#pragma once
// frugal::Error: the one exception type the core throws. Its message names the object (file,
// key, tensor), what was expected and, where one is known, a likely fix.

#include <sstream>
#include <stdexcept>
#include <string>

namespace frugal {

class Error : public std::runtime_error {
public:
    explicit Error(const std::string& message) : std::runtime_error(message) {}
};

// Concatenates its arguments with operator<< into one message: fail("x", 3) -> "x3".
template <typename... Args>
std::string cat(const Args&... args) {
    std::ostringstream out;
    (out << ... << args);
    return out.str();
}

template <typename... Args>
[[noreturn]] void fail(const Args&... args) {
    throw Error(cat(args...));
}

}  // namespace frugal
