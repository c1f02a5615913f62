#pragma once
// UTF-8 helpers for the tokenizers: walking a byte string one character at a time (an invalid
// byte counts as a one-byte character, so nothing is lost) and lossy repair as Rust's
// String::from_utf8_lossy does it (one U+FFFD per maximal invalid subpart). Pure functions.

#include <cstddef>
#include <string>
#include <string_view>

namespace frugal::model {

// The replacement character U+FFFD in UTF-8.
inline constexpr std::string_view kReplacementChar = "\xEF\xBF\xBD";

// Length of the well-formed UTF-8 character starting at TEXT[POS], or 0 when it is ill-formed.
std::size_t utf8CharLength(std::string_view text, std::size_t pos);

// Length of the next character at TEXT[POS]: the well-formed length, else 1 (a stray byte).
std::size_t utf8StepLength(std::string_view text, std::size_t pos);

// TEXT with every maximal ill-formed subpart replaced by U+FFFD.
std::string toValidUtf8(std::string_view text);

bool isValidUtf8(std::string_view text);

// The UTF-8 encoding of CODEPOINT (which must be below 0x110000 and not a surrogate).
std::string encodeUtf8(char32_t codepoint);

}  // namespace frugal::model
