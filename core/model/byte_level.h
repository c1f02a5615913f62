#pragma once
// GPT-2's byte-level alphabet: each of the 256 byte values maps to one printable Unicode
// character (bytes_to_unicode() in openai/gpt-2 encoder.py), so BPE can run on any byte string.
// Pure functions over a constant table; thread-safe.

#include <string>
#include <string_view>

namespace frugal::model {

// BYTES with each byte replaced by the UTF-8 of its byte-level character.
std::string bytesToByteLevel(std::string_view bytes);

// The inverse: each byte-level character back to its byte. A character outside the alphabet
// (for instance in an added token's content) is copied through as its own UTF-8 bytes.
std::string byteLevelToBytes(std::string_view text);

}  // namespace frugal::model
