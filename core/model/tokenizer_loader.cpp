// Loading: tokenizer.json and vocab.json + merges.txt into Tokenizer::Impl, with one clear error
// per unsupported or corrupt input.
#include <algorithm>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <sstream>

#include "common/error.h"
#include "model/bpe_model.h"
#include "model/gguf.h"
#include "model/tokenizer.h"
#include "model/tokenizer_impl.h"
#include "model/utf8.h"

namespace frugal::model {
namespace {

using Json = nlohmann::json;

// GPT-2's pre-tokenizer (openai/gpt-2 encoder.py, Hugging Face ByteLevel with use_regex):
//   's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
// with \s spelled out as the Unicode White_Space property, which is what Python's `regex` (used
// by the original encoder.py) and Oniguruma (Hugging Face) match. PCRE2's UCP \s also matches
// U+180E; JavaScript's \s (gpt-3-encoder) adds U+FEFF and lacks U+0085.
std::string gpt2Pattern() {
    const std::string ws =
        R"(\t-\r \x{85}\x{A0}\x{1680}\x{2000}-\x{200A}\x{2028}\x{2029}\x{202F}\x{205F}\x{3000})";
    return R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^)" + ws + R"(\p{L}\p{N}]+|[)" + ws +
           "]+(?![^" + ws + "])|[" + ws + "]+";
}
constexpr int kMaxNesting = 16;  // Sequence normalizers/decoders inside each other

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
    } catch (const Json::exception& e) {
        // For instance a number too large for a double (out_of_range 406).
        fail(source, ": invalid JSON: ", e.what());
    }
}

}  // namespace

namespace detail {

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

}  // namespace detail

using detail::JsonReader;

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
        const auto isDigits = [&](const Json& item) {
            return item.is_object() && item.contains("type") && item["type"] == "Digits";
        };
        if (list.size() == 2 && isDigits(list[0])) {
            // Digits(individual_digits = true), then ByteLevel: SmolLM's and StarCoder's
            const std::string digitsPath = path + ".pretokenizers[0]";
            if (!r.boolean(list[0], "individual_digits", digitsPath + ".individual_digits", false))
                fail(source, ": ", digitsPath,
                     " is Digits without individual_digits; only individual digits are supported");
            parsePreTokenizer(r, list[1], path + ".pretokenizers[1]", depth + 1);
            if (preTokenizer != PreTokenizer::ByteLevel || !byteLevelUseRegex)
                fail(source, ": ", path, " is Digits followed by something other than ByteLevel "
                     "with use_regex; only Digits + ByteLevel is supported");
            splitDigits = true;
            return;
        }
        if (list.size() > 1) {
            fail(source, ": ", path, " has ", list.size(),
                 " pre-tokenizers; only a Sequence of one, or Digits then ByteLevel, is supported");
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
             "', which is not supported (supported pre-tokenizers: ByteLevel, Metaspace, and "
             "Digits before ByteLevel in a Sequence)");
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
        const std::string pattern = gpt2Pattern();
        pcre2_code* code =
            pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.c_str()), PCRE2_ZERO_TERMINATED,
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
    if (splitDigits) {
        int errorCode = 0;
        PCRE2_SIZE errorOffset = 0;
        pcre2_code* code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(R"(\p{N})"), PCRE2_ZERO_TERMINATED,
                                         PCRE2_UTF | PCRE2_UCP, &errorCode, &errorOffset, nullptr);
        if (!code) fail(source, ": cannot compile the Digits pattern");
        digitRegex.reset(code);
        pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);
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
    if (gguf::isGgufPath(path)) {  // the tokenizer.json a conversion would write, without the weights
        const auto file = gguf::GgufFile::open(path);
        return fromTokenizerJson(gguf::tokenizerJson(file->header(), path.string()), path.string());
    }
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

}  // namespace frugal::model
