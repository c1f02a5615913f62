#pragma once
// BpeModel: the vocabulary and ranked merges of a byte-pair-encoding model, and the merge loop that
// turns one pre-tokenized word into ids (lowest rank first, leftmost on ties, as Hugging Face
// tokenizers and SentencePiece-BPE do). Immutable after construction; encodeWord is thread-safe.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace frugal::model {

struct BpeOptions {
    std::optional<std::string> unkToken;  // emitted for a character not in the vocab
    bool fuseUnk = false;                 // consecutive unknown characters give one unk id
    bool byteFallback = false;            // unknown characters become <0xNN> byte pieces
    bool ignoreMerges = false;            // a word that is a vocab entry is emitted as is
};

class BpeModel {
public:
    using Merge = std::pair<std::string, std::string>;

    // Validates as it builds: ids must be non-negative and unique, each merge's parts and their
    // concatenation must be in the vocab. SOURCE names the file in error messages; MERGESKEY
    // names where the merges came from ("model.merges", "merges.txt line").
    BpeModel(std::unordered_map<std::string, int32_t> vocab, const std::vector<Merge>& merges,
             BpeOptions options, const std::string& source, const std::string& mergesKey);

    // Appends the ids of WORD (already normalized and pre-tokenized) to OUT.
    void encodeWord(std::string_view word, std::vector<int32_t>& out) const;

    std::optional<int32_t> tokenToId(std::string_view token) const;
    const std::string* idToToken(int32_t id) const;  // nullptr when ID is not in the vocab
    int32_t maxId() const { return m_maxId; }        // -1 for an empty vocab
    std::size_t vocabEntries() const { return m_vocab.size(); }
    bool byteFallback() const { return m_options.byteFallback; }

private:
    struct MergeTarget {
        int32_t rank;
        int32_t id;
    };

    static uint64_t pairKey(int32_t left, int32_t right) {
        return (static_cast<uint64_t>(static_cast<uint32_t>(left)) << 32) |
               static_cast<uint32_t>(right);
    }

    std::unordered_map<std::string, int32_t> m_vocab;
    std::unordered_map<int32_t, std::string> m_idToToken;
    std::unordered_map<uint64_t, MergeTarget> m_merges;
    BpeOptions m_options;
    std::optional<int32_t> m_unkId;
    std::vector<int32_t> m_byteIds;  // id of "<0xNN>" for each byte, -1 when absent
    int32_t m_maxId = -1;
};

}  // namespace frugal::model
