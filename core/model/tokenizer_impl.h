#pragma once
// Private to core/model: the state behind Tokenizer (built by tokenizer_loader.cpp, used by
// tokenizer.cpp). Immutable once finish() has run.

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <array>
#include <functional>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "model/bpe_model.h"
#include "model/tokenizer.h"

namespace frugal::model {

inline constexpr std::string_view kMetaspace = "\xE2\x96\x81";  // U+2581 LOWER ONE EIGHTH BLOCK

namespace detail {
class JsonReader;  // tokenizer_loader.cpp
}

struct Pcre2CodeDeleter {
    void operator()(pcre2_code* code) const { pcre2_code_free(code); }
};
struct Pcre2MatchDataDeleter {
    void operator()(pcre2_match_data* data) const { pcre2_match_data_free(data); }
};

struct Tokenizer::Impl {
    struct AddedToken {
        std::string content;
        int32_t id = 0;
        bool special = false;
        bool lstrip = false;
        bool rstrip = false;
        bool singleWord = false;
    };
    enum class PreTokenizer { None, ByteLevel, Metaspace };
    enum class PrependScheme { Always, First, Never };
    struct NormalizerStep {
        enum class Kind { Prepend, Replace } kind;
        std::string from;  // Replace only
        std::string to;    // prepended text, or replacement
    };
    struct DecoderStep {
        enum class Kind { ByteLevel, Replace, ByteFallback, Fuse, Strip, Metaspace } kind;
        std::string from;
        std::string to;
        int32_t start = 0;
        int32_t stop = 0;
        bool stripFirstSpace = false;  // Metaspace
    };
    struct TemplateItem {
        bool isSequence = false;
        std::vector<int32_t> ids;  // special token ids when !isSequence
    };

    std::string source;
    std::unique_ptr<BpeModel> model;
    std::vector<NormalizerStep> normalizers;
    PreTokenizer preTokenizer = PreTokenizer::None;
    bool byteLevelAddPrefixSpace = false;
    bool byteLevelUseRegex = true;
    std::string metaspaceReplacement{kMetaspace};
    PrependScheme prependScheme = PrependScheme::Always;
    bool metaspaceSplit = true;
    std::vector<AddedToken> addedTokens;
    std::unordered_map<int32_t, std::size_t> addedById;
    std::unordered_map<std::string, std::size_t> addedByContent;
    std::array<std::vector<std::size_t>, 256> addedByFirstByte;  // longest content first
    bool hasTemplate = false;
    std::vector<TemplateItem> singleTemplate;
    bool hasDecoder = false;
    std::vector<DecoderStep> decoders;
    std::optional<int32_t> bos;
    std::optional<int32_t> eos;
    std::string kind;
    std::unique_ptr<pcre2_code, Pcre2CodeDeleter> regex;
    bool splitDigits = false;  // Digits(individual_digits) before ByteLevel (SmolLM, StarCoder)
    std::unique_ptr<pcre2_code, Pcre2CodeDeleter> digitRegex;

    struct Segment {
        std::string_view text;
        std::size_t offset;
        int32_t addedId;  // -1 for ordinary text
    };

    void parse(const nlohmann::json& root);
    void parseAddedTokens(const detail::JsonReader& r, const nlohmann::json& root);
    void parseNormalizer(const detail::JsonReader& r, const nlohmann::json& j,
                         const std::string& path, int depth);
    void parsePreTokenizer(const detail::JsonReader& r, const nlohmann::json& j,
                           const std::string& path, int depth);
    void parsePostProcessor(const detail::JsonReader& r, const nlohmann::json& j,
                            const std::string& path, int depth);
    void parseDecoder(const detail::JsonReader& r, const nlohmann::json& j, const std::string& path,
                      int depth);
    void addAddedToken(AddedToken token);
    void finish();

    std::vector<Segment> splitOnAddedTokens(std::string_view text) const;
    // Normalizes and pre-tokenizes SEGMENT, calling WORD with each word in the BPE model's
    // alphabet (byte-level characters for ByteLevel).
    void splitSegment(const Segment& segment, pcre2_match_data* matchData,
                      const std::function<void(std::string_view)>& word) const;
    void encodeWord(std::string_view word,
                    std::unordered_map<std::string, std::vector<int32_t>>& cache,
                    std::vector<int32_t>& out) const;
    std::vector<std::string> runDecoders(std::vector<std::string> tokens) const;
};

}  // namespace frugal::model
