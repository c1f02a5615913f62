// libFuzzer target: arbitrary bytes as a tokenizer.json. Loading must either succeed or throw
// frugal::Error (anything else, or a sanitizer report, is a bug); a tokenizer that loads must
// encode and decode a short fixed string. Build (clang; see tests/fuzz/README.md):
//   clang++ -std=c++17 -g -O1 -fsanitize=fuzzer,address,undefined -I. core/model/*.cpp \
//       tests/fuzz/fuzz_tokenizer_json.cpp $(pkg-config --cflags --libs libpcre2-8)
// Seeds: tests/fuzz/corpus/tokenizer_json/; dictionary: tests/fuzz/tokenizer_json.dict.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "common/error.h"
#include "model/tokenizer.h"

namespace {

// Letters, spaces, digits, an added-token look-alike, a contraction, accents and an emoji.
constexpr std::string_view kSample = "ab cd  it's 42 <s></s>\tcaf\xC3\xA9 \xF0\x9F\x98\x80\n";

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    std::optional<frugal::model::Tokenizer> tokenizer;
    try {
        tokenizer = frugal::model::Tokenizer::fromTokenizerJson(text, "fuzz.json");
    } catch (const frugal::Error&) {
        return 0;
    }
    const auto ids = tokenizer->encode(kSample);
    (void)tokenizer->encode(kSample, /*addSpecialTokens=*/false);
    (void)tokenizer->vocabSize();
    (void)tokenizer->kind();
    try {
        // A template may name ids that are not in the vocab; decode reports those.
        (void)tokenizer->decode(ids);
        (void)tokenizer->decode(ids, /*skipSpecialTokens=*/true);
    } catch (const frugal::Error&) {
    }
    return 0;
}
