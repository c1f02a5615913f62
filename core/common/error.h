#pragma once
// frugal::Error: the one exception type the core throws. Its message names the object (file,
// key, tensor), what was expected and, where one is known, a likely fix.

#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>

namespace frugal {

class Error : public std::runtime_error {
public:
    explicit Error(const std::string& message) : std::runtime_error(message) {}
};

// Bad input found once a run has started (a file's content, a batch that cannot fit): the run is
// stored as failed with the message, and the command exits 2 as for input refused before it
// started.
class InputError : public Error {
public:
    explicit InputError(const std::string& message) : Error(message) {}
};

// A config refused at one key: KEY is its full path ("zo.eps", "peft.lora_rank"), which the
// message names too. The workbench's form marks that field; a config error without a key (a
// syntax error, two keys that disagree) is a plain Error. A refused config is bad input: found
// after a run started, it exits 2 too.
class ConfigError : public InputError {
public:
    ConfigError(std::string key, const std::string& message) : InputError(message), m_key(std::move(key)) {}
    const std::string& key() const { return m_key; }

private:
    std::string m_key;
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

template <typename... Args>
[[noreturn]] void failInput(const Args&... args) {
    throw InputError(cat(args...));
}

// A ConfigError at KEY (a full path) with the message made of ARGS.
template <typename... Args>
[[noreturn]] void failAt(const std::string& key, const Args&... args) {
    throw ConfigError(key, cat(args...));
}

// CHECK()'s value; an Error it throws (a choice refused by the code that reads it) becomes a
// ConfigError at KEY with the same message.
template <typename Check>
auto atKey(const std::string& key, const Check& check) -> decltype(check()) {
    try {
        return check();
    } catch (const ConfigError&) {
        throw;
    } catch (const Error& e) {
        failAt(key, e.what());
    }
}

}  // namespace frugal
