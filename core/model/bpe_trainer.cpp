#include "model/bpe_trainer.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <string_view>
#include <unordered_map>

#include "common/error.h"
#include "common/files.h"
#include "model/byte_level.h"
#include "model/safetensors.h"
#include "model/tokenizer.h"

namespace frugal::model {

namespace {

using Json = nlohmann::ordered_json;

// The GPT-2 pre-tokenizer and decoder, shared by the counting tokenizer and the result.
Json byteLevelStep() {
    return Json{{"type", "ByteLevel"},
                {"add_prefix_space", false},
                {"trim_offsets", true},
                {"use_regex", true}};
}

uint64_t pairKey(int32_t a, int32_t b) {
    return (static_cast<uint64_t>(static_cast<uint32_t>(a)) << 32) | static_cast<uint32_t>(b);
}

struct Word {
    std::vector<int32_t> symbols;
    int64_t count = 0;
};

}  // namespace

BpeTrainingResult trainByteLevelBpe(const std::vector<std::string>& texts,
                                    const BpeTrainerOptions& options) {
    const int64_t specials = static_cast<int64_t>(options.specialTokens.size());
    if (options.specialTokens.size() < 2) {
        fail("BPE training: special_tokens needs at least a beginning and an end token");
    }
    if (options.vocabSize < specials + 256 || options.vocabSize > (1 << 20)) {
        fail("BPE training: vocab_size is ", options.vocabSize, ", expected ", specials + 256,
             " (specials + 256 bytes) to ", 1 << 20);
    }
    if (options.minFrequency < 1) {
        fail("BPE training: min_frequency is ", options.minFrequency, ", expected >= 1");
    }

    // Token strings by id: specials, then the byte-level character of each byte.
    std::vector<std::string> tokens = options.specialTokens;
    for (int byte = 0; byte < 256; ++byte) {
        tokens.push_back(bytesToByteLevel(std::string(1, static_cast<char>(byte))));
    }
    const int32_t firstByte = static_cast<int32_t>(specials);
    std::unordered_map<std::string, int32_t> tokenIds;
    for (size_t i = 0; i < tokens.size(); ++i) {
        if (!tokenIds.emplace(tokens[i], static_cast<int32_t>(i)).second) {
            fail("BPE training: special token '", tokens[i], "' is given twice or is a byte");
        }
    }

    // Count the pre-tokenized words with a byte-level tokenizer that has no merges.
    Json base;
    base["version"] = "1.0";
    base["pre_tokenizer"] = byteLevelStep();
    base["model"] = {{"type", "BPE"}, {"vocab", Json::object()}, {"merges", Json::array()}};
    for (int byte = 0; byte < 256; ++byte) {
        base["model"]["vocab"][tokens[static_cast<size_t>(firstByte + byte)]] = byte;
    }
    const Tokenizer splitter = Tokenizer::fromTokenizerJson(base.dump(), "BPE trainer alphabet");
    std::unordered_map<std::string, int64_t> counts;
    BpeTrainingResult result;
    for (const auto& text : texts) {
        splitter.preTokenize(text, [&](std::string_view word) {
            ++counts[std::string(word)];
            ++result.words;
        });
    }
    result.uniqueWords = static_cast<int64_t>(counts.size());

    // Words in a fixed order (by their text) so that everything below is deterministic.
    std::vector<std::pair<std::string, int64_t>> sorted(counts.begin(), counts.end());
    counts.clear();
    std::sort(sorted.begin(), sorted.end());
    std::vector<Word> words;
    words.reserve(sorted.size());
    for (const auto& [text, count] : sorted) {
        Word w;
        w.count = count;
        for (unsigned char byte : byteLevelToBytes(text)) w.symbols.push_back(firstByte + byte);
        words.push_back(std::move(w));
    }
    sorted.clear();

    std::unordered_map<uint64_t, int64_t> pairCounts;
    std::unordered_map<uint64_t, std::vector<int32_t>> pairWords;  // may hold stale entries
    const auto addPairs = [&](int32_t wordIndex, int64_t sign) {
        const Word& w = words[static_cast<size_t>(wordIndex)];
        for (size_t i = 0; i + 1 < w.symbols.size(); ++i) {
            const uint64_t key = pairKey(w.symbols[i], w.symbols[i + 1]);
            pairCounts[key] += sign * w.count;
            if (sign > 0) pairWords[key].push_back(wordIndex);
        }
    };
    for (int32_t i = 0; i < static_cast<int32_t>(words.size()); ++i) addPairs(i, +1);

    std::vector<std::pair<int32_t, int32_t>> merges;
    std::vector<int64_t> lastVisit(words.size(), -1);
    while (static_cast<int64_t>(tokens.size()) < options.vocabSize) {
        uint64_t bestKey = 0;
        int64_t bestCount = 0;
        for (const auto& [key, count] : pairCounts) {
            if (count > bestCount || (count == bestCount && count > 0 && key < bestKey)) {
                bestKey = key;
                bestCount = count;
            }
        }
        if (bestCount < options.minFrequency) break;
        const auto a = static_cast<int32_t>(bestKey >> 32);
        const auto b = static_cast<int32_t>(bestKey & 0xffffffffu);
        // Two merge paths can spell the same string ("ab"+"c", "a"+"bc"): one id for both.
        std::string text = tokens[static_cast<size_t>(a)] + tokens[static_cast<size_t>(b)];
        const auto [found, isNew] =
            tokenIds.emplace(std::move(text), static_cast<int32_t>(tokens.size()));
        const int32_t merged = found->second;
        if (isNew) tokens.push_back(found->first);
        merges.emplace_back(a, b);
        const int64_t step = static_cast<int64_t>(merges.size());

        std::vector<int32_t> where = std::move(pairWords[bestKey]);
        pairWords.erase(bestKey);
        for (int32_t wi : where) {
            if (lastVisit[static_cast<size_t>(wi)] == step) continue;
            lastVisit[static_cast<size_t>(wi)] = step;
            Word& w = words[static_cast<size_t>(wi)];
            bool present = false;
            for (size_t i = 0; i + 1 < w.symbols.size(); ++i) {
                if (w.symbols[i] == a && w.symbols[i + 1] == b) present = true;
            }
            if (!present) continue;
            addPairs(wi, -1);
            std::vector<int32_t> next;
            next.reserve(w.symbols.size());
            for (size_t i = 0; i < w.symbols.size(); ++i) {
                if (i + 1 < w.symbols.size() && w.symbols[i] == a && w.symbols[i + 1] == b) {
                    next.push_back(merged);
                    ++i;
                } else {
                    next.push_back(w.symbols[i]);
                }
            }
            w.symbols = std::move(next);
            addPairs(wi, +1);
        }
        // Drop pairs that no longer occur so the scan stays short.
        for (auto it = pairCounts.begin(); it != pairCounts.end();) {
            it = it->second == 0 ? pairCounts.erase(it) : std::next(it);
        }
    }

    Json out;
    out["version"] = "1.0";
    out["truncation"] = nullptr;
    out["padding"] = nullptr;
    out["added_tokens"] = Json::array();
    for (int64_t i = 0; i < specials; ++i) {
        out["added_tokens"].push_back({{"id", i},
                                       {"content", tokens[static_cast<size_t>(i)]},
                                       {"single_word", false},
                                       {"lstrip", false},
                                       {"rstrip", false},
                                       {"normalized", false},
                                       {"special", true}});
    }
    out["normalizer"] = nullptr;
    out["pre_tokenizer"] = byteLevelStep();
    const std::string& bos = tokens[0];
    out["post_processor"] = {
        {"type", "TemplateProcessing"},
        {"single", Json::array({Json{{"SpecialToken", {{"id", bos}, {"type_id", 0}}}},
                                Json{{"Sequence", {{"id", "A"}, {"type_id", 0}}}}})},
        {"pair", Json::array({Json{{"SpecialToken", {{"id", bos}, {"type_id", 0}}}},
                              Json{{"Sequence", {{"id", "A"}, {"type_id", 0}}}},
                              Json{{"Sequence", {{"id", "B"}, {"type_id", 1}}}}})},
        {"special_tokens", {{bos, {{"id", bos}, {"ids", {0}}, {"tokens", {bos}}}}}}};
    out["decoder"] = byteLevelStep();
    Json vocab = Json::object();
    for (size_t i = 0; i < tokens.size(); ++i) vocab[tokens[i]] = static_cast<int64_t>(i);
    Json mergeList = Json::array();
    for (const auto& [a, b] : merges) {
        mergeList.push_back(tokens[static_cast<size_t>(a)] + " " + tokens[static_cast<size_t>(b)]);
    }
    out["model"] = {{"type", "BPE"},       {"dropout", nullptr},
                    {"unk_token", nullptr}, {"continuing_subword_prefix", nullptr},
                    {"end_of_word_suffix", nullptr}, {"fuse_unk", false},
                    {"byte_fallback", false}, {"vocab", std::move(vocab)},
                    {"merges", std::move(mergeList)}};
    result.tokenizerJson = out.dump(1);
    result.vocabSize = static_cast<int64_t>(tokens.size());
    result.merges = static_cast<int64_t>(merges.size());
    return result;
}

BpeTrainingResult trainByteLevelBpeOnFiles(const std::vector<std::string>& files,
                                           const BpeTrainerOptions& options,
                                           const std::string& out) {
    std::vector<std::string> texts;
    for (const auto& file : files) texts.push_back(readFile(file, "text file"));
    BpeTrainingResult result = trainByteLevelBpe(texts, options);
    writeTextAtomically(out, result.tokenizerJson);
    return result;
}

}  // namespace frugal::model
