#pragma once
// Tokenizer: a BPE text tokenizer loaded from a Hugging Face tokenizer.json (GPT-2/OPT byte-level,
// LLaMA-style metaspace with byte fallback) or from GPT-2's vocab.json + merges.txt. Never
// downloads anything. Immutable after load and cheap to copy (shared state); encode and decode
// are const and thread-safe. Loading errors throw frugal::Error naming the file and key.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace frugal::model {

class Tokenizer {
public:
    // PATH: a tokenizer.json, or a folder holding tokenizer.json or vocab.json + merges.txt.
    static Tokenizer load(const std::filesystem::path& path);
    // JSONTEXT: the contents of a tokenizer.json; SOURCENAME names it in error messages.
    static Tokenizer fromTokenizerJson(std::string_view jsonText, const std::string& sourceName);
    // GPT-2 layout: byte-level pre-tokenizer and decoder, "#version" first line optional,
    // "<|endoftext|>" (when in the vocab) is a special token.
    static Tokenizer fromVocabAndMerges(const std::filesystem::path& vocabJson,
                                        const std::filesystem::path& mergesTxt);

    // Splits on added tokens, normalizes, pre-tokenizes, runs BPE; ADDSPECIALTOKENS applies the
    // post-processor's template (e.g. LLaMA's leading <s>).
    std::vector<int32_t> encode(std::string_view text, bool addSpecialTokens = true) const;
    // The words BPE would see: TEXT split on added tokens (which are skipped), normalized and
    // pre-tokenized; WORD receives each in the model's alphabet (byte-level characters for
    // byte-level tokenizers). Used to train a BPE on a corpus.
    void preTokenize(std::string_view text,
                     const std::function<void(std::string_view)>& word) const;
    // Runs the decoder chain; the result is valid UTF-8 (U+FFFD where ids split a character).
    // Throws frugal::Error for an id that is neither in the vocab nor an added token.
    std::string decode(const std::vector<int32_t>& ids, bool skipSpecialTokens = false) const;

    int64_t vocabSize() const;  // largest id + 1, added tokens included
    std::optional<int32_t> tokenToId(std::string_view token) const;
    std::optional<std::string> idToToken(int32_t id) const;
    std::optional<int32_t> bosId() const;
    std::optional<int32_t> eosId() const;
    std::string kind() const;  // "byte-level BPE" / "metaspace BPE with byte fallback" / ...

    struct Impl;  // defined in tokenizer.cpp

private:
    explicit Tokenizer(std::shared_ptr<const Impl> impl);
    std::shared_ptr<const Impl> m_impl;
};

}  // namespace frugal::model
