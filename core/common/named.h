#pragma once
// An enum's values and their names, declared once as a table ({DirectionLaw::Gaussian,
// "gaussian"}, ...): a config reader's choices (config::Section::named), the names in logs and
// messages, and parsing all come from the one table, so a config is parsed into the enum once and
// nothing downstream compares strings.

#include <array>
#include <cstddef>
#include <string>
#include <vector>

#include "common/error.h"

namespace frugal {

template <typename E>
struct Named {
    E value;
    const char* name;
};

template <typename E, size_t N>
const char* nameOf(const std::array<Named<E>, N>& table, E value) {
    for (const auto& n : table)
        if (n.value == value) return n.name;
    return "unknown";
}

template <typename E, size_t N>
std::vector<std::string> namesOf(const std::array<Named<E>, N>& table) {
    std::vector<std::string> out;
    for (const auto& n : table) out.emplace_back(n.name);
    return out;
}

// "a, b or c".
template <typename E, size_t N>
std::string namesText(const std::array<Named<E>, N>& table) {
    std::string out;
    for (size_t i = 0; i < N; ++i) out += cat(i == 0 ? "" : i + 1 == N ? " or " : ", ", table[i].name);
    return out;
}

// The value named NAME; else fails "unknown WHAT 'NAME' (expected a, b or c)".
template <typename E, size_t N>
E parseNamed(const std::array<Named<E>, N>& table, const std::string& name, const std::string& what) {
    for (const auto& n : table)
        if (name == n.name) return n.value;
    fail("unknown ", what, " '", name, "' (expected ", namesText(table), ")");
}

}  // namespace frugal
