#include "core/model/tokenizer.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <algorithm>
#include <array>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <sstream>
#include <unordered_map>

#include "core/common/error.h"
#include "core/model/bpe_model.h"
#include "core/model/byte_level.h"
#include "core/model/utf8.h"

namespace frugal::model {
namespace {

using Json = nlohmann::json;

constexpr std::string_view kMetaspace = "\xE2\x96\x81";  // U+2581 LOWER ONE EIGHTH BLOCK
// GPT-2's pre-tokenizer (openai/gpt-2 encoder.py, Hugging Face ByteLevel with use_regex).
constexpr char kGpt2Pattern[] =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";
constexpr int kMaxNesting = 16;              // Sequence normalizers/decoders inside each other
constexpr std::size_t kMaxCachedWord = 256;  // bytes; longer words skip the per-call cache

bool isAsciiSpace(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

bool isWordByte(char c) {
    const auto u = static_cast<unsigned char>(c);
    return u >= 0x80 || (u >= '0' && u <= '9') || (u >= 'A' && u <= 'Z') ||
           (u >= 'a' && u <= 'z') || u == '_';
}

void replaceAll(std::string& s, std::string_view from, std::string_view to) {
    if (from.empty()) return;
    std::string out;
    out.reserve(s.size());
    std::size_t pos = 0;
    for (;;) {
        const std::size_t hit = s.find(from, pos);
        if (hit == std::string::npos) break;
        out.append(s, pos, hit - pos);
        out.append(to);
        pos = hit + from.size();
    }
    out.append(s, pos, std::string::npos);
    s = std::move(out);
}

std::string readFile(const std::filesystem::path& path) {
    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) {
        fail(path.string(),
             ": file does not exist; run scripts/fetch-data to create the tokenizer "
             "cache, or check the path");
    }
    std::ifstream in(path, std::ios::binary);
    if (!in) fail(path.string(), ": cannot open file for reading");
    std::ostringstream buffer;
    buffer << in.rdbuf();
    if (in.bad()) fail(path.string(), ": read error");
    return buffer.str();
}

Json parseJson(std::string_view text, const std::string& source) {
    try {
        return Json::parse(text.begin(), text.end());
    } catch (const Json::parse_error& e) {
        fail(source, ": invalid JSON at byte ", e.byte, ": ", e.what());
    }
}

// Typed access to JSON members; each failure names the file and the key path.
class JsonReader {
public:
    explicit JsonReader(const std::string& source) : m_source(source) {}

    const std::string& source() const { return m_source; }

    [[noreturn]] void wrongType(const std::string& key, const Json& value,
                                const char* expected) const {
        fail(m_source, ": ", key, " is ", value.type_name(), ", expected ", expected);
    }

    // The member KEY of OBJ, or nullptr when absent or null.
    const Json* find(const Json& obj, const char* key) const {
        const auto it = obj.find(key);
        if (it == obj.end() || it->is_null()) return nullptr;
        return &*it;
    }

    const Json& require(const Json& obj, const char* key, const std::string& path) const {
        const Json* value = find(obj, key);
        if (!value) fail(m_source, ": missing key ", path);
        return *value;
    }

    const Json& object(const Json& obj, const char* key, const std::string& path) const {
        const Json& value = require(obj, key, path);
        if (!value.is_object()) wrongType(path, value, "an object");
        return value;
    }

    const Json& array(const Json& obj, const char* key, const std::string& path) const {
        const Json& value = require(obj, key, path);
        if (!value.is_array()) wrongType(path, value, "an array");
        return value;
    }

    std::string string(const Json& obj, const char* key, const std::string& path) const {
        const Json& value = require(obj, key, path);
        if (!value.is_string()) wrongType(path, value, "a string");
        return value.get<std::string>();
    }

    std::optional<std::string> optString(const Json& obj, const char* key,
                                         const std::string& path) const {
        const Json* value = find(obj, key);
        if (!value) return std::nullopt;
        if (!value->is_string()) wrongType(path, *value, "a string or null");
        return value->get<std::string>();
    }

    bool boolean(const Json& obj, const char* key, const std::string& path, bool fallback) const {
        const Json* value = find(obj, key);
        if (!value) return fallback;
        if (!value->is_boolean()) wrongType(path, *value, "true or false");
        return value->get<bool>();
    }

    int32_t id(const Json& value, const std::string& path) const {
        if (!value.is_number_integer()) wrongType(path, value, "an integer id");
        if (value.is_number_unsigned()) {
            const auto u = value.get<uint64_t>();
            if (u > static_cast<uint64_t>(std::numeric_limits<int32_t>::max())) {
                fail(m_source, ": ", path, " is ", u, ", expected an id below 2^31");
            }
            return static_cast<int32_t>(u);
        }
        const auto v = value.get<int64_t>();
        if (v < 0) fail(m_source, ": ", path, " is ", v, ", expected a non-negative id");
        if (v > std::numeric_limits<int32_t>::max()) {
            fail(m_source, ": ", path, " is ", v, ", expected an id below 2^31");
        }
        return static_cast<int32_t>(v);
    }

    int32_t count(const Json& obj, const char* key, const std::string& path) const {
        const Json* value = find(obj, key);
        if (!value) return 0;
        if (!value->is_number_integer()) wrongType(path, *value, "a non-negative integer");
        const auto v =
            value->is_number_unsigned()
                ? static_cast<int64_t>(std::min<uint64_t>(value->get<uint64_t>(), 1u << 20))
                : value->get<int64_t>();
        if (v < 0 || v > (1 << 20)) {
            fail(m_source, ": ", path, " is ", v, ", expected a count in [0, 2^20]");
        }
        return static_cast<int32_t>(v);
    }

    // A Replace pattern: {"String": "x"}; Regex patterns are not supported.
    std::string pattern(const Json& obj, const std::string& path) const {
        const Json& pattern = object(obj, "pattern", path + ".pattern");
        if (pattern.contains("Regex")) {
            fail(m_source, ": ", path,
                 ".pattern is a Regex; only {\"String\": ...} patterns are "
                 "supported");
        }
        std::string text = string(pattern, "String", path + ".pattern.String");
        if (text.empty()) fail(m_source, ": ", path, ".pattern.String is empty");
        return text;
    }

private:
    const std::string& m_source;
};

struct Pcre2CodeDeleter {
    void operator()(pcre2_code* code) const { pcre2_code_free(code); }
};
struct Pcre2MatchDataDeleter {
    void operator()(pcre2_match_data* data) const { pcre2_match_data_free(data); }
};

}  // namespace

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

    struct Segment {
        std::string_view text;
        std::size_t offset;
        int32_t addedId;  // -1 for ordinary text
    };

    void parse(const Json& root);
    void parseAddedTokens(const JsonReader& r, const Json& root);
    void parseNormalizer(const JsonReader& r, const Json& j, const std::string& path, int depth);
    void parsePreTokenizer(const JsonReader& r, const Json& j, const std::string& path, int depth);
    void parsePostProcessor(const JsonReader& r, const Json& j, const std::string& path, int depth);
    void parseDecoder(const JsonReader& r, const Json& j, const std::string& path, int depth);
    void addAddedToken(AddedToken token);
    void finish();

    std::vector<Segment> splitOnAddedTokens(std::string_view text) const;
    void encodeSegment(const Segment& segment, pcre2_match_data* matchData,
                       std::unordered_map<std::string, std::vector<int32_t>>& cache,
                       std::vector<int32_t>& out) const;
    void encodeWord(std::string_view word,
                    std::unordered_map<std::string, std::vector<int32_t>>& cache,
                    std::vector<int32_t>& out) const;
    std::vector<std::string> runDecoders(std::vector<std::string> tokens) const;
};

// ---- loading ------------------------------------------------------------------------------------

void Tokenizer::Impl::parse(const Json& root) {
    const JsonReader r(source);
    if (!root.is_object()) r.wrongType("the top level", root, "an object");
    const Json& modelJson = r.object(root, "model", "model");
    if (const Json* type = r.find(modelJson, "type")) {
        if (!type->is_string()) r.wrongType("model.type", *type, "a string");
        if (type->get<std::string>() != "BPE") {
            fail(source, ": model.type is '", type->get<std::string>(),
                 "', only 'BPE' is supported");
        }
    } else if (!modelJson.contains("merges")) {
        fail(source, ": model has neither a type nor merges; only BPE models are supported");
    }

    const Json& vocabJson = r.object(modelJson, "vocab", "model.vocab");
    std::unordered_map<std::string, int32_t> vocab;
    vocab.reserve(vocabJson.size());
    for (const auto& [token, value] : vocabJson.items()) {
        vocab.emplace(token, r.id(value, "model.vocab['" + token + "']"));
    }
    std::vector<BpeModel::Merge> merges;
    if (r.find(modelJson, "merges")) {
        const Json& mergesJson = r.array(modelJson, "merges", "model.merges");
        merges.reserve(mergesJson.size());
        for (std::size_t i = 0; i < mergesJson.size(); ++i) {
            const Json& m = mergesJson[i];
            const std::string path = cat("model.merges[", i, "]");
            if (m.is_string()) {
                const std::string text = m.get<std::string>();
                const std::size_t space = text.find(' ');
                if (space == std::string::npos || text.find(' ', space + 1) != std::string::npos) {
                    fail(source, ": ", path, " is '", text, "', expected two tokens \"a b\"");
                }
                merges.emplace_back(text.substr(0, space), text.substr(space + 1));
            } else if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string()) {
                merges.emplace_back(m[0].get<std::string>(), m[1].get<std::string>());
            } else {
                fail(source, ": ", path, " is ", m.dump(), ", expected \"a b\" or [\"a\", \"b\"]");
            }
        }
    }
    for (const char* key : {"continuing_subword_prefix", "end_of_word_suffix"}) {
        const auto value = r.optString(modelJson, key, cat("model.", key));
        if (value && !value->empty()) {
            fail(source, ": model.", key, " is '", *value, "'; only empty or null is supported");
        }
    }
    if (const Json* dropout = r.find(modelJson, "dropout")) {
        if (!dropout->is_number() || dropout->get<double>() != 0.0) {
            fail(source, ": model.dropout is ", dropout->dump(),
                 "; BPE dropout is not supported, expected null");
        }
    }
    BpeOptions options;
    options.unkToken = r.optString(modelJson, "unk_token", "model.unk_token");
    options.fuseUnk = r.boolean(modelJson, "fuse_unk", "model.fuse_unk", false);
    options.byteFallback = r.boolean(modelJson, "byte_fallback", "model.byte_fallback", false);
    options.ignoreMerges = r.boolean(modelJson, "ignore_merges", "model.ignore_merges", false);
    model = std::make_unique<BpeModel>(std::move(vocab), merges, options, source, "model.merges");

    parseAddedTokens(r, root);
    if (const Json* j = r.find(root, "normalizer")) parseNormalizer(r, *j, "normalizer", 0);
    if (const Json* j = r.find(root, "pre_tokenizer")) {
        parsePreTokenizer(r, *j, "pre_tokenizer", 0);
    }
    if (const Json* j = r.find(root, "post_processor")) {
        parsePostProcessor(r, *j, "post_processor", 0);
    }
    if (const Json* j = r.find(root, "decoder")) {
        hasDecoder = true;
        parseDecoder(r, *j, "decoder", 0);
    }
}

void Tokenizer::Impl::parseAddedTokens(const JsonReader& r, const Json& root) {
    if (!r.find(root, "added_tokens")) return;
    const Json& list = r.array(root, "added_tokens", "added_tokens");
    for (std::size_t i = 0; i < list.size(); ++i) {
        const std::string path = cat("added_tokens[", i, "]");
        const Json& t = list[i];
        if (!t.is_object()) r.wrongType(path, t, "an object");
        AddedToken token;
        token.id = r.id(r.require(t, "id", path + ".id"), path + ".id");
        token.content = r.string(t, "content", path + ".content");
        if (token.content.empty()) fail(source, ": ", path, ".content is empty");
        token.special = r.boolean(t, "special", path + ".special", false);
        token.lstrip = r.boolean(t, "lstrip", path + ".lstrip", false);
        token.rstrip = r.boolean(t, "rstrip", path + ".rstrip", false);
        token.singleWord = r.boolean(t, "single_word", path + ".single_word", false);
        addAddedToken(std::move(token));
    }
}

void Tokenizer::Impl::addAddedToken(AddedToken token) {
    if (addedByContent.count(token.content)) return;  // first definition wins
    const std::size_t index = addedTokens.size();
    addedById.emplace(token.id, index);
    addedByContent.emplace(token.content, index);
    addedTokens.push_back(std::move(token));
}

void Tokenizer::Impl::parseNormalizer(const JsonReader& r, const Json& j, const std::string& path,
                                      int depth) {
    if (depth > kMaxNesting) fail(source, ": ", path, " is nested too deeply");
    if (!j.is_object()) r.wrongType(path, j, "an object or null");
    const std::string type = r.string(j, "type", path + ".type");
    if (type == "Sequence") {
        const Json& list = r.array(j, "normalizers", path + ".normalizers");
        for (std::size_t i = 0; i < list.size(); ++i) {
            parseNormalizer(r, list[i], cat(path, ".normalizers[", i, "]"), depth + 1);
        }
    } else if (type == "Prepend") {
        normalizers.push_back(
            {NormalizerStep::Kind::Prepend, "", r.string(j, "prepend", path + ".prepend")});
    } else if (type == "Replace") {
        normalizers.push_back({NormalizerStep::Kind::Replace, r.pattern(j, path),
                               r.string(j, "content", path + ".content")});
    } else {
        fail(source, ": ", path, ".type is '", type,
             "', which is not supported (supported normalizers: Sequence, Prepend, Replace)");
    }
}

void Tokenizer::Impl::parsePreTokenizer(const JsonReader& r, const Json& j, const std::string& path,
                                        int depth) {
    if (depth > kMaxNesting) fail(source, ": ", path, " is nested too deeply");
    if (!j.is_object()) r.wrongType(path, j, "an object or null");
    const std::string type = r.string(j, "type", path + ".type");
    if (type == "Sequence") {
        const Json& list = r.array(j, "pretokenizers", path + ".pretokenizers");
        if (list.size() > 1) {
            fail(source, ": ", path, " has ", list.size(),
                 " pre-tokenizers; only a Sequence of one is supported");
        }
        if (list.size() == 1) parsePreTokenizer(r, list[0], path + ".pretokenizers[0]", depth + 1);
    } else if (type == "ByteLevel") {
        preTokenizer = PreTokenizer::ByteLevel;
        byteLevelAddPrefixSpace =
            r.boolean(j, "add_prefix_space", path + ".add_prefix_space", true);
        byteLevelUseRegex = r.boolean(j, "use_regex", path + ".use_regex", true);
    } else if (type == "Metaspace") {
        preTokenizer = PreTokenizer::Metaspace;
        if (const auto replacement = r.optString(j, "replacement", path + ".replacement")) {
            if (replacement->empty() || utf8CharLength(*replacement, 0) != replacement->size()) {
                fail(source, ": ", path, ".replacement is '", *replacement,
                     "', expected one character");
            }
            metaspaceReplacement = *replacement;
        }
        const bool addPrefix = r.boolean(j, "add_prefix_space", path + ".add_prefix_space", true);
        prependScheme = addPrefix ? PrependScheme::Always : PrependScheme::Never;
        if (const auto scheme = r.optString(j, "prepend_scheme", path + ".prepend_scheme")) {
            if (*scheme == "always") {
                prependScheme = PrependScheme::Always;
            } else if (*scheme == "first") {
                prependScheme = PrependScheme::First;
            } else if (*scheme == "never") {
                prependScheme = PrependScheme::Never;
            } else {
                fail(source, ": ", path, ".prepend_scheme is '", *scheme,
                     "', expected always, first or never");
            }
        }
        metaspaceSplit = r.boolean(j, "split", path + ".split", true);
    } else {
        fail(source, ": ", path, ".type is '", type,
             "', which is not supported (supported pre-tokenizers: ByteLevel, Metaspace)");
    }
}

void Tokenizer::Impl::parsePostProcessor(const JsonReader& r, const Json& j,
                                         const std::string& path, int depth) {
    if (depth > kMaxNesting) fail(source, ": ", path, " is nested too deeply");
    if (!j.is_object()) r.wrongType(path, j, "an object or null");
    const std::string type = r.string(j, "type", path + ".type");
    const auto setTemplate = [&](std::vector<TemplateItem> items) {
        if (hasTemplate) fail(source, ": ", path, " adds special tokens a second time");
        hasTemplate = true;
        singleTemplate = std::move(items);
    };
    if (type == "Sequence") {
        const Json& list = r.array(j, "processors", path + ".processors");
        for (std::size_t i = 0; i < list.size(); ++i) {
            parsePostProcessor(r, list[i], cat(path, ".processors[", i, "]"), depth + 1);
        }
    } else if (type == "ByteLevel") {
        // Adjusts offsets only; ids are unchanged.
    } else if (type == "TemplateProcessing") {
        const Json& single = r.array(j, "single", path + ".single");
        const Json* specials = r.find(j, "special_tokens");
        std::vector<TemplateItem> items;
        for (std::size_t i = 0; i < single.size(); ++i) {
            const std::string itemPath = cat(path, ".single[", i, "]");
            const Json& item = single[i];
            if (!item.is_object()) r.wrongType(itemPath, item, "an object");
            if (r.find(item, "Sequence")) {
                items.push_back({true, {}});
                continue;
            }
            const Json& special = r.object(item, "SpecialToken", itemPath + ".SpecialToken");
            const std::string name = r.string(special, "id", itemPath + ".SpecialToken.id");
            if (!specials || !specials->is_object() || !specials->contains(name)) {
                fail(source, ": ", itemPath, " names special token '", name, "', which is not in ",
                     path, ".special_tokens");
            }
            const std::string specialPath = cat(path, ".special_tokens['", name, "']");
            const Json& ids = r.array((*specials)[name], "ids", specialPath + ".ids");
            TemplateItem templateItem;
            for (std::size_t k = 0; k < ids.size(); ++k) {
                templateItem.ids.push_back(r.id(ids[k], cat(specialPath, ".ids[", k, "]")));
            }
            items.push_back(std::move(templateItem));
        }
        setTemplate(std::move(items));
    } else if (type == "RobertaProcessing" || type == "BertProcessing") {
        const auto tokenId = [&](const char* key) {
            const Json& pair = r.array(j, key, cat(path, ".", key));
            if (pair.size() != 2) fail(source, ": ", path, ".", key, " is not [token, id]");
            return r.id(pair[1], cat(path, ".", key, "[1]"));
        };
        setTemplate({{false, {tokenId("cls")}}, {true, {}}, {false, {tokenId("sep")}}});
    } else {
        fail(source, ": ", path, ".type is '", type,
             "', which is not supported (supported post-processors: TemplateProcessing, "
             "RobertaProcessing, BertProcessing, ByteLevel, Sequence)");
    }
}

void Tokenizer::Impl::parseDecoder(const JsonReader& r, const Json& j, const std::string& path,
                                   int depth) {
    if (depth > kMaxNesting) fail(source, ": ", path, " is nested too deeply");
    if (!j.is_object()) r.wrongType(path, j, "an object or null");
    const std::string type = r.string(j, "type", path + ".type");
    DecoderStep step{DecoderStep::Kind::Fuse, "", "", 0, 0, false};
    if (type == "Sequence") {
        const Json& list = r.array(j, "decoders", path + ".decoders");
        for (std::size_t i = 0; i < list.size(); ++i) {
            parseDecoder(r, list[i], cat(path, ".decoders[", i, "]"), depth + 1);
        }
        return;
    } else if (type == "ByteLevel") {
        step.kind = DecoderStep::Kind::ByteLevel;
    } else if (type == "ByteFallback") {
        step.kind = DecoderStep::Kind::ByteFallback;
    } else if (type == "Fuse") {
        step.kind = DecoderStep::Kind::Fuse;
    } else if (type == "Replace") {
        step.kind = DecoderStep::Kind::Replace;
        step.from = r.pattern(j, path);
        step.to = r.string(j, "content", path + ".content");
    } else if (type == "Strip") {
        step.kind = DecoderStep::Kind::Strip;
        step.from = r.string(j, "content", path + ".content");
        if (step.from.empty()) fail(source, ": ", path, ".content is empty");
        step.start = r.count(j, "start", path + ".start");
        step.stop = r.count(j, "stop", path + ".stop");
    } else if (type == "Metaspace") {
        step.kind = DecoderStep::Kind::Metaspace;
        step.from =
            r.optString(j, "replacement", path + ".replacement").value_or(std::string(kMetaspace));
        if (step.from.empty()) fail(source, ": ", path, ".replacement is empty");
        step.to = " ";
        step.stripFirstSpace = r.boolean(j, "add_prefix_space", path + ".add_prefix_space", true);
        if (const auto scheme = r.optString(j, "prepend_scheme", path + ".prepend_scheme")) {
            step.stripFirstSpace = *scheme != "never";
        }
    } else {
        fail(source, ": ", path, ".type is '", type,
             "', which is not supported (supported decoders: ByteLevel, Metaspace, Replace, "
             "ByteFallback, Fuse, Strip, Sequence)");
    }
    decoders.push_back(std::move(step));
}

void Tokenizer::Impl::finish() {
    for (std::size_t i = 0; i < addedTokens.size(); ++i) {
        const auto first = static_cast<unsigned char>(addedTokens[i].content[0]);
        addedByFirstByte[first].push_back(i);
    }
    for (auto& list : addedByFirstByte) {
        std::stable_sort(list.begin(), list.end(), [&](std::size_t a, std::size_t b) {
            return addedTokens[a].content.size() > addedTokens[b].content.size();
        });
    }

    if (preTokenizer == PreTokenizer::ByteLevel && byteLevelUseRegex) {
        int errorCode = 0;
        PCRE2_SIZE errorOffset = 0;
        pcre2_code* code =
            pcre2_compile(reinterpret_cast<PCRE2_SPTR>(kGpt2Pattern), PCRE2_ZERO_TERMINATED,
                          PCRE2_UTF | PCRE2_UCP, &errorCode, &errorOffset, nullptr);
        if (!code) {
            PCRE2_UCHAR message[256];
            pcre2_get_error_message(errorCode, message, sizeof(message));
            fail(source, ": cannot compile the ByteLevel pattern at offset ", errorOffset, ": ",
                 reinterpret_cast<const char*>(message));
        }
        regex.reset(code);
        pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);  // optional speed-up; interpreter otherwise
    }

    // BOS/EOS: the template's special tokens around the sequence, else well-known names.
    bool seenSequence = false;
    for (const auto& item : singleTemplate) {
        if (item.isSequence) {
            seenSequence = true;
        } else if (!item.ids.empty()) {
            if (!seenSequence && !bos) bos = item.ids.front();
            if (seenSequence && !eos) eos = item.ids.back();
        }
    }
    const auto byName = [&](std::initializer_list<const char*> names) -> std::optional<int32_t> {
        for (const char* name : names) {
            const auto it = addedByContent.find(name);
            if (it != addedByContent.end()) return addedTokens[it->second].id;
        }
        return std::nullopt;
    };
    if (!bos) bos = byName({"<s>", "<|begin_of_text|>", "<bos>", "<|endoftext|>"});
    if (!eos) eos = byName({"</s>", "<|end_of_text|>", "<eos>", "<|endoftext|>"});

    bool metaspace = preTokenizer == PreTokenizer::Metaspace;
    for (const auto& step : normalizers) metaspace = metaspace || step.to == kMetaspace;
    if (preTokenizer == PreTokenizer::ByteLevel) {
        kind = "byte-level BPE";
    } else if (metaspace) {
        kind = model->byteFallback() ? "metaspace BPE with byte fallback" : "metaspace BPE";
    } else {
        kind = model->byteFallback() ? "BPE with byte fallback" : "BPE";
    }
}

Tokenizer::Tokenizer(std::shared_ptr<const Impl> impl) : m_impl(std::move(impl)) {}

Tokenizer Tokenizer::fromTokenizerJson(std::string_view jsonText, const std::string& sourceName) {
    auto impl = std::make_shared<Impl>();
    impl->source = sourceName;
    const Json root = parseJson(jsonText, sourceName);
    try {
        impl->parse(root);
    } catch (const Json::exception& e) {
        fail(sourceName, ": unexpected JSON content: ", e.what());
    }
    impl->finish();
    return Tokenizer(std::move(impl));
}

Tokenizer Tokenizer::fromVocabAndMerges(const std::filesystem::path& vocabJson,
                                        const std::filesystem::path& mergesTxt) {
    auto impl = std::make_shared<Impl>();
    const std::string vocabName = vocabJson.string();
    const std::string mergesName = mergesTxt.string();
    impl->source = vocabName;
    const Json root = parseJson(readFile(vocabJson), vocabName);
    const JsonReader r(vocabName);
    if (!root.is_object()) r.wrongType("the top level", root, "an object of token -> id");
    std::unordered_map<std::string, int32_t> vocab;
    vocab.reserve(root.size());
    for (const auto& [token, value] : root.items()) {
        vocab.emplace(token, r.id(value, "['" + token + "']"));
    }

    const std::string text = readFile(mergesTxt);
    std::vector<BpeModel::Merge> merges;
    std::size_t lineNumber = 0;
    for (std::size_t pos = 0; pos < text.size();) {
        std::size_t end = text.find('\n', pos);
        if (end == std::string::npos) end = text.size();
        std::string line = text.substr(pos, end - pos);
        pos = end + 1;
        ++lineNumber;
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (line.empty() || (lineNumber == 1 && line.rfind("#version", 0) == 0)) continue;
        const std::size_t space = line.find(' ');
        if (space == std::string::npos || space == 0 || space + 1 == line.size() ||
            line.find(' ', space + 1) != std::string::npos) {
            fail(mergesName, ": line ", lineNumber, " is '", line,
                 "', expected two tokens \"a b\"");
        }
        merges.emplace_back(line.substr(0, space), line.substr(space + 1));
    }
    impl->model = std::make_unique<BpeModel>(std::move(vocab), merges, BpeOptions{},
                                             vocabName + " + " + mergesName, "merge");
    impl->preTokenizer = Impl::PreTokenizer::ByteLevel;
    impl->byteLevelAddPrefixSpace = false;
    impl->hasDecoder = true;
    impl->decoders.push_back({Impl::DecoderStep::Kind::ByteLevel, "", "", 0, 0, false});
    if (const auto eot = impl->model->tokenToId("<|endoftext|>")) {
        impl->addAddedToken({"<|endoftext|>", *eot, true, false, false, false});
    }
    impl->finish();
    return Tokenizer(std::move(impl));
}

Tokenizer Tokenizer::load(const std::filesystem::path& path) {
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec)) {
        if (std::filesystem::exists(path / "tokenizer.json", ec)) {
            return load(path / "tokenizer.json");
        }
        if (std::filesystem::exists(path / "vocab.json", ec) &&
            std::filesystem::exists(path / "merges.txt", ec)) {
            return fromVocabAndMerges(path / "vocab.json", path / "merges.txt");
        }
        fail(path.string(),
             ": folder has neither tokenizer.json nor vocab.json + merges.txt; run "
             "scripts/fetch-data?");
    }
    return fromTokenizerJson(readFile(path), path.string());
}

// ---- encoding -----------------------------------------------------------------------------------

std::vector<Tokenizer::Impl::Segment> Tokenizer::Impl::splitOnAddedTokens(
    std::string_view text) const {
    std::vector<Segment> segments;
    if (addedTokens.empty()) {
        if (!text.empty()) segments.push_back({text, 0, -1});
        return segments;
    }
    std::size_t segmentStart = 0;
    std::size_t pos = 0;
    while (pos < text.size()) {
        const AddedToken* match = nullptr;
        for (const std::size_t index : addedByFirstByte[static_cast<unsigned char>(text[pos])]) {
            const AddedToken& candidate = addedTokens[index];
            if (text.compare(pos, candidate.content.size(), candidate.content) != 0) continue;
            if (candidate.singleWord) {
                const std::size_t end = pos + candidate.content.size();
                if ((pos > 0 && isWordByte(text[pos - 1])) ||
                    (end < text.size() && isWordByte(text[end]))) {
                    continue;
                }
            }
            match = &candidate;
            break;
        }
        if (!match) {
            ++pos;
            continue;
        }
        std::size_t segmentEnd = pos;
        if (match->lstrip) {
            while (segmentEnd > segmentStart && isAsciiSpace(text[segmentEnd - 1])) --segmentEnd;
        }
        if (segmentEnd > segmentStart) {
            segments.push_back(
                {text.substr(segmentStart, segmentEnd - segmentStart), segmentStart, -1});
        }
        segments.push_back({text.substr(pos, match->content.size()), pos, match->id});
        pos += match->content.size();
        if (match->rstrip) {
            while (pos < text.size() && isAsciiSpace(text[pos])) ++pos;
        }
        segmentStart = pos;
    }
    if (segmentStart < text.size()) {
        segments.push_back({text.substr(segmentStart), segmentStart, -1});
    }
    return segments;
}

void Tokenizer::Impl::encodeWord(std::string_view word,
                                 std::unordered_map<std::string, std::vector<int32_t>>& cache,
                                 std::vector<int32_t>& out) const {
    if (word.size() > kMaxCachedWord) {
        model->encodeWord(word, out);
        return;
    }
    std::string key(word);
    auto it = cache.find(key);
    if (it == cache.end()) {
        std::vector<int32_t> ids;
        model->encodeWord(word, ids);
        it = cache.emplace(std::move(key), std::move(ids)).first;
    }
    out.insert(out.end(), it->second.begin(), it->second.end());
}

void Tokenizer::Impl::encodeSegment(const Segment& segment, pcre2_match_data* matchData,
                                    std::unordered_map<std::string, std::vector<int32_t>>& cache,
                                    std::vector<int32_t>& out) const {
    std::string text(segment.text);
    for (const auto& step : normalizers) {
        if (step.kind == NormalizerStep::Kind::Prepend) {
            if (!text.empty()) text.insert(0, step.to);
        } else {
            replaceAll(text, step.from, step.to);
        }
    }
    if (text.empty()) return;

    switch (preTokenizer) {
        case PreTokenizer::None:
            encodeWord(text, cache, out);
            return;
        case PreTokenizer::Metaspace: {
            replaceAll(text, " ", metaspaceReplacement);
            const bool prepend = prependScheme == PrependScheme::Always ||
                                 (prependScheme == PrependScheme::First && segment.offset == 0);
            if (prepend &&
                text.compare(0, metaspaceReplacement.size(), metaspaceReplacement) != 0) {
                text.insert(0, metaspaceReplacement);
            }
            if (!metaspaceSplit) {
                encodeWord(text, cache, out);
                return;
            }
            // Each word starts at a replacement character (Hugging Face MergedWithNext).
            std::size_t start = 0;
            for (;;) {
                const std::size_t hit = text.find(metaspaceReplacement, start + 1);
                if (hit == std::string::npos) break;
                encodeWord(std::string_view(text).substr(start, hit - start), cache, out);
                start = hit;
            }
            encodeWord(std::string_view(text).substr(start), cache, out);
            return;
        }
        case PreTokenizer::ByteLevel: {
            if (byteLevelAddPrefixSpace && text[0] != ' ') text.insert(0, " ");
            const auto emit = [&](std::string_view word) {
                encodeWord(bytesToByteLevel(word), cache, out);
            };
            if (!regex) {
                emit(text);
                return;
            }
            // The pattern runs on well-formed UTF-8 runs; ill-formed bytes are words of their own.
            const std::string_view all(text);
            std::size_t pos = 0;
            while (pos < all.size()) {
                std::size_t runEnd = pos;
                while (runEnd < all.size()) {
                    const std::size_t len = utf8CharLength(all, runEnd);
                    if (len == 0) break;
                    runEnd += len;
                }
                const std::string_view run = all.substr(pos, runEnd - pos);
                PCRE2_SIZE offset = 0;
                while (offset < run.size()) {
                    const int rc =
                        pcre2_match(regex.get(), reinterpret_cast<PCRE2_SPTR>(run.data()),
                                    run.size(), offset, PCRE2_NO_UTF_CHECK, matchData, nullptr);
                    if (rc == PCRE2_ERROR_NOMATCH) break;
                    if (rc < 0) {
                        PCRE2_UCHAR message[256];
                        pcre2_get_error_message(rc, message, sizeof(message));
                        fail(source, ": ByteLevel pattern failed at byte ", pos + offset, ": ",
                             reinterpret_cast<const char*>(message));
                    }
                    const PCRE2_SIZE* ovector = pcre2_get_ovector_pointer(matchData);
                    if (ovector[1] <= ovector[0]) break;  // the pattern never matches empty
                    emit(run.substr(ovector[0], ovector[1] - ovector[0]));
                    offset = ovector[1];
                }
                pos = runEnd;
                while (pos < all.size() && utf8CharLength(all, pos) == 0) {
                    const std::size_t len = utf8StepLength(all, pos);
                    emit(all.substr(pos, len));
                    pos += len;
                }
            }
            return;
        }
    }
}

std::vector<int32_t> Tokenizer::encode(std::string_view text, bool addSpecialTokens) const {
    const Impl& d = *m_impl;
    std::unique_ptr<pcre2_match_data, Pcre2MatchDataDeleter> matchData;
    if (d.regex) {
        matchData.reset(pcre2_match_data_create_from_pattern(d.regex.get(), nullptr));
        if (!matchData) fail(d.source, ": out of memory for regex match data");
    }
    std::unordered_map<std::string, std::vector<int32_t>> cache;
    std::vector<int32_t> body;
    body.reserve(text.size() / 3 + 4);
    for (const auto& segment : d.splitOnAddedTokens(text)) {
        if (segment.addedId >= 0) {
            body.push_back(segment.addedId);
        } else {
            d.encodeSegment(segment, matchData.get(), cache, body);
        }
    }
    if (!addSpecialTokens || !d.hasTemplate) return body;
    std::vector<int32_t> out;
    out.reserve(body.size() + 4);
    for (const auto& item : d.singleTemplate) {
        if (item.isSequence) {
            out.insert(out.end(), body.begin(), body.end());
        } else {
            out.insert(out.end(), item.ids.begin(), item.ids.end());
        }
    }
    return out;
}

// ---- decoding -----------------------------------------------------------------------------------

namespace {

// "<0xNN>" -> NN, or -1.
int byteToken(const std::string& token) {
    if (token.size() != 6 || token.compare(0, 3, "<0x") != 0 || token[5] != '>') return -1;
    int value = 0;
    for (std::size_t i = 3; i < 5; ++i) {
        const char c = token[i];
        value *= 16;
        if (c >= '0' && c <= '9') {
            value += c - '0';
        } else if (c >= 'A' && c <= 'F') {
            value += c - 'A' + 10;
        } else {
            return -1;
        }
    }
    return value;
}

std::string join(const std::vector<std::string>& tokens) {
    std::string out;
    for (const auto& t : tokens) out += t;
    return out;
}

}  // namespace

std::vector<std::string> Tokenizer::Impl::runDecoders(std::vector<std::string> tokens) const {
    for (const auto& step : decoders) {
        switch (step.kind) {
            case DecoderStep::Kind::ByteLevel:
                tokens = {toValidUtf8(byteLevelToBytes(join(tokens)))};
                break;
            case DecoderStep::Kind::Replace:
                for (auto& t : tokens) replaceAll(t, step.from, step.to);
                break;
            case DecoderStep::Kind::Fuse:
                tokens = {join(tokens)};
                break;
            case DecoderStep::Kind::Metaspace:
                for (std::size_t i = 0; i < tokens.size(); ++i) {
                    replaceAll(tokens[i], step.from, step.to);
                    if (i == 0 && step.stripFirstSpace && !tokens[i].empty() &&
                        tokens[i][0] == ' ') {
                        tokens[i].erase(0, 1);
                    }
                }
                break;
            case DecoderStep::Kind::Strip:
                for (auto& t : tokens) {
                    const std::size_t n = step.from.size();
                    for (int32_t k = 0; k < step.start && t.compare(0, n, step.from) == 0; ++k) {
                        t.erase(0, n);
                    }
                    for (int32_t k = 0; k < step.stop && t.size() >= n &&
                                        t.compare(t.size() - n, n, step.from) == 0;
                         ++k) {
                        t.erase(t.size() - n);
                    }
                }
                break;
            case DecoderStep::Kind::ByteFallback: {
                std::vector<std::string> out;
                std::string bytes;
                std::size_t byteCount = 0;
                const auto flush = [&] {
                    if (byteCount == 0) return;
                    if (isValidUtf8(bytes)) {
                        out.push_back(bytes);
                    } else {
                        for (std::size_t k = 0; k < byteCount; ++k) {
                            out.emplace_back(kReplacementChar);
                        }
                    }
                    bytes.clear();
                    byteCount = 0;
                };
                for (auto& t : tokens) {
                    const int b = byteToken(t);
                    if (b >= 0) {
                        bytes += static_cast<char>(b);
                        ++byteCount;
                    } else {
                        flush();
                        out.push_back(std::move(t));
                    }
                }
                flush();
                tokens = std::move(out);
                break;
            }
        }
    }
    return tokens;
}

std::string Tokenizer::decode(const std::vector<int32_t>& ids, bool skipSpecialTokens) const {
    const Impl& d = *m_impl;
    std::vector<std::string> tokens;
    tokens.reserve(ids.size());
    for (const int32_t id : ids) {
        const auto added = d.addedById.find(id);
        if (added != d.addedById.end()) {
            const auto& token = d.addedTokens[added->second];
            if (!(skipSpecialTokens && token.special)) tokens.push_back(token.content);
            continue;
        }
        const std::string* token = d.model->idToToken(id);
        if (!token) {
            fail(d.source, ": cannot decode id ", id,
                 ": it is neither in the vocab nor an added "
                 "token (vocab size ",
                 vocabSize(), ")");
        }
        tokens.push_back(*token);
    }
    return toValidUtf8(join(d.runDecoders(std::move(tokens))));
}

// ---- queries ------------------------------------------------------------------------------------

int64_t Tokenizer::vocabSize() const {
    int64_t largest = m_impl->model->maxId();
    for (const auto& token : m_impl->addedTokens) largest = std::max<int64_t>(largest, token.id);
    return largest + 1;
}

std::optional<int32_t> Tokenizer::tokenToId(std::string_view token) const {
    const auto added = m_impl->addedByContent.find(std::string(token));
    if (added != m_impl->addedByContent.end()) return m_impl->addedTokens[added->second].id;
    return m_impl->model->tokenToId(token);
}

std::optional<std::string> Tokenizer::idToToken(int32_t id) const {
    const auto added = m_impl->addedById.find(id);
    if (added != m_impl->addedById.end()) return m_impl->addedTokens[added->second].content;
    if (const std::string* token = m_impl->model->idToToken(id)) return *token;
    return std::nullopt;
}

std::optional<int32_t> Tokenizer::bosId() const { return m_impl->bos; }
std::optional<int32_t> Tokenizer::eosId() const { return m_impl->eos; }
std::string Tokenizer::kind() const { return m_impl->kind; }

}  // namespace frugal::model
