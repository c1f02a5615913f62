#pragma once
// Corpus: a text tokenized once into one stream of token ids, cut into windows for pre-training,
// calibration and perplexity. Documents (paragraphs separated by a blank line) are tokenized one
// by one with the tokenizer's special tokens, so each starts with its beginning-of-sequence token
// as a prompt does. Window sampling is seeded (mt19937_64, fully specified by the C++ standard):
// the same seed gives the same windows on every platform. No torch in this header.

#include <cstdint>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

namespace frugal::model {
class Tokenizer;
}

namespace frugal::data {

class Corpus {
public:
    // Reads a UTF-8 text file; an empty file, or one that is not UTF-8, is an error naming it.
    static Corpus fromFile(const std::filesystem::path& file, const model::Tokenizer& tokenizer);
    static Corpus fromText(const std::string& text, const model::Tokenizer& tokenizer,
                           const std::string& sourceName);
    static Corpus fromIds(std::vector<int32_t> ids, const std::string& sourceName);

    const std::vector<int32_t>& ids() const { return m_ids; }
    int64_t size() const { return static_cast<int64_t>(m_ids.size()); }
    int64_t documents() const { return m_documents; }
    const std::string& source() const { return m_source; }

    // Tokens [begin, end) as a corpus of their own (e.g. a held-out tail).
    Corpus slice(int64_t begin, int64_t end) const;

    // COUNT windows of LEN tokens at start offsets drawn uniformly from [0, size - LEN] with
    // RNG, row-major [count * len].
    std::vector<int32_t> sampleWindows(int64_t count, int64_t len, std::mt19937_64& rng) const;
    std::vector<int32_t> sampleWindows(int64_t count, int64_t len, uint64_t seed) const;
    // Non-overlapping windows from the start; MAXWINDOWS > 0 keeps only the first that many.
    std::vector<int32_t> contiguousWindows(int64_t len, int64_t maxWindows = 0) const;

private:
    std::vector<int32_t> m_ids;
    int64_t m_documents = 0;
    std::string m_source;
};

// Uniform integer in [0, n) from RNG without modulo bias (rejection), fully specified so that
// a seed means the same draw everywhere.
uint64_t uniformBelow(std::mt19937_64& rng, uint64_t n);
// Uniform double in [0, 1) with 53 random bits.
double uniformUnit(std::mt19937_64& rng);

}  // namespace frugal::data
