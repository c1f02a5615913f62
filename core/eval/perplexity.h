#pragma once
// Perplexity of a causal LM over a token stream, by the protocol of Wanda / SparseGPT
// (SPEC-PRUNING §1.7): the stream is cut into non-overlapping windows of `seqLen` tokens, the
// tail that does not fill a window is dropped, and within each window tokens 1..L-1 are predicted
// from their prefix (the first token of a window is never scored). PPL = exp(mean cross-entropy
// over all scored tokens). Runs on the calling thread; no torch in this header.

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "common/events.h"

namespace frugal::model {
class Transformer;
class Tokenizer;
}

namespace frugal::eval {

struct PerplexityResult {
    double perplexity = 0;
    double meanLoss = 0;  // nats per scored token
    int64_t seqLen = 0;
    int64_t windows = 0;           // windows scored
    int64_t windowsAvailable = 0;  // whole windows in the stream (more than scored when limited)
    int64_t tokensTotal = 0;       // tokens in the stream
    int64_t tokensScored = 0;      // windows * (seqLen - 1)
    int64_t tokensDropped = 0;     // the tail shorter than one window
    std::string protocol() const;  // one line to print beside the figure
};

// `batch` windows go through the model at a time (the same result for any batch size, up to
// float rounding in the last digits);
// `maxWindows` > 0 scores only the first that many windows (the protocol line says so). A NaN or
// infinite loss is an error naming the window, never averaged away.
// STOP: polled before each batch of windows; a stop asked for throws Cancelled.
PerplexityResult perplexity(const model::Transformer& model, const std::vector<int32_t>& stream,
                            int64_t seqLen, int64_t batch = 1, int64_t maxWindows = 0,
                            const StopToken* stop = nullptr);

// Reads a UTF-8 text file, tokenizes it once as one stream (with the tokenizer's special tokens,
// e.g. LLaMA's leading <s>) and scores it with the model in `modelDir`. `tokenizerPath` empty:
// the model folder's own tokenizer.
PerplexityResult perplexityOfFile(const std::filesystem::path& modelDir,
                                  const std::filesystem::path& textFile,
                                  const std::filesystem::path& tokenizerPath, int64_t seqLen,
                                  int64_t batch = 1, int64_t maxWindows = 0);

// The tokens of UTF-8 text file TEXTFILE as one stream with the tokenizer's special tokens (what
// perplexityOfText scores); an empty, unreadable or non-UTF-8 file is an error naming it.
std::vector<int32_t> tokenizeTextFile(const model::Tokenizer& tokenizer, const std::filesystem::path& textFile);

// The same with a model and tokenizer already loaded.
PerplexityResult perplexityOfText(const model::Transformer& model,
                                  const model::Tokenizer& tokenizer,
                                  const std::filesystem::path& textFile, int64_t seqLen,
                                  int64_t batch = 1, int64_t maxWindows = 0, const StopToken* stop = nullptr);

}  // namespace frugal::eval
