#pragma once
// Trains a GPT-2-style byte-level BPE tokenizer on a text corpus and writes it as a standard
// Hugging Face tokenizer.json, which Tokenizer::load reads like any other. Deterministic: the same
// texts and options give the same bytes (ties between equally frequent pairs go to the pair of
// smaller ids).
//
// Vocabulary layout: the special tokens first (ids 0..S-1), then the 256 byte-level characters in
// byte order (ids S..S+255), then one token per merge in the order learnt.

#include <cstdint>
#include <string>
#include <vector>

namespace frugal::model {

struct BpeTrainerOptions {
    int64_t vocabSize = 4096;   // specials + 256 bytes + merges
    int64_t minFrequency = 2;   // stop early when the best pair occurs fewer times
    // The first is the beginning-of-sequence token the post-processor prepends; the second the
    // end-of-sequence token.
    std::vector<std::string> specialTokens = {"<s>", "</s>"};
};

struct BpeTrainingResult {
    std::string tokenizerJson;
    int64_t vocabSize = 0;
    int64_t merges = 0;
    int64_t words = 0;        // pre-tokenized words counted
    int64_t uniqueWords = 0;
};

// TEXTS are whole documents (UTF-8 or not: byte-level BPE covers any byte).
BpeTrainingResult trainByteLevelBpe(const std::vector<std::string>& texts,
                                    const BpeTrainerOptions& options);

// Reads each of FILES whole, trains, and writes OUT (atomically).
BpeTrainingResult trainByteLevelBpeOnFiles(const std::vector<std::string>& files,
                                           const BpeTrainerOptions& options,
                                           const std::string& out);

}  // namespace frugal::model
