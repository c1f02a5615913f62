#include "eval/perplexity.h"

#include <torch/nn/functional/loss.h>

#include <cmath>
#include <fstream>
#include <sstream>

#include "common/error.h"
#include "common/files.h"
#include "eval/model_loading.h"
#include "model/tokenizer.h"
#include "model/transformer.h"

namespace frugal::eval {

std::string PerplexityResult::protocol() const {
    const std::string limited = windows < windowsAvailable
                                    ? cat(" (the first ", windows, " of ", windowsAvailable, ")")
                                    : "";
    return cat("non-overlapping windows of ", seqLen, " tokens (", windows, " windows", limited,
               ", ", tokensScored, " tokens scored, first token of each window unscored, ",
               tokensDropped, " tokens unscored at the end)");
}

PerplexityResult perplexity(const model::Transformer& model, const std::vector<int32_t>& stream,
                            int64_t seqLen, int64_t batch, int64_t maxWindows, const StopToken* stop) {
    if (seqLen < 2) failInput("perplexity: window length must be at least 2 tokens, got ", seqLen);
    if (const int64_t context = model.config().maxPositions; context > 0 && seqLen > context)
        failInput("perplexity: windows of ", seqLen, " tokens are longer than the model's context of ", context,
                  " positions (max_position_embeddings); use a window of at most ", context);
    if (batch < 1) fail("perplexity: batch must be at least 1, got ", batch);
    PerplexityResult r;
    r.seqLen = seqLen;
    r.tokensTotal = static_cast<int64_t>(stream.size());
    r.windowsAvailable = r.tokensTotal / seqLen;
    r.windows = maxWindows > 0 ? std::min(maxWindows, r.windowsAvailable) : r.windowsAvailable;
    r.tokensDropped = r.tokensTotal - r.windows * seqLen;
    r.tokensScored = r.windows * (seqLen - 1);
    if (r.windows == 0)
        failInput("perplexity: the text has ", r.tokensTotal, " tokens, fewer than one window of ",
             seqLen, "; use a longer text or a shorter --seq-len");

    c10::InferenceMode guard;
    // [N*L] -> [N,L]: window w holds tokens w*L .. w*L+L-1
    const torch::Tensor all =
        torch::tensor(std::vector<int64_t>(stream.begin(), stream.begin() + r.windows * seqLen),
                      torch::kLong)
            .view({r.windows, seqLen});
    double lossSum = 0;  // summed in double over windows: no drift on long texts
    for (int64_t first = 0; first < r.windows; first += batch) {
        if (stop && stop->stopRequested())
            throw Cancelled(cat("stopped during the perplexity, after ", first, " of ", r.windows, " windows"));
        const int64_t n = std::min(batch, r.windows - first);
        const torch::Tensor ids = all.narrow(0, first, n).to(model.device());  // [n,L]
        const torch::Tensor logits = model.forward(ids);                       // [n,L,V]
        const torch::Tensor predicted =
            logits.narrow(1, 0, seqLen - 1).reshape({-1, logits.size(2)});
        const torch::Tensor targets = ids.narrow(1, 1, seqLen - 1).reshape({-1});
        const torch::Tensor losses =
            torch::nn::functional::cross_entropy(
                predicted.to(torch::kFloat32), targets,
                torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kNone))
                .view({n, seqLen - 1})
                .sum(/*dim=*/1)
                .to(torch::kCPU, torch::kFloat64);  // [n] summed loss per window
        for (int64_t i = 0; i < n; ++i) {
            const double windowLoss = losses[i].item<double>();
            if (!std::isfinite(windowLoss))
                fail("perplexity: loss is ", std::isnan(windowLoss) ? "NaN" : "infinite",
                     " in window ", first + i, " (tokens ", (first + i) * seqLen, "..",
                     (first + i + 1) * seqLen - 1, ")");
            lossSum += windowLoss;
        }
    }
    r.meanLoss = lossSum / static_cast<double>(r.tokensScored);
    r.perplexity = std::exp(r.meanLoss);
    return r;
}

PerplexityResult perplexityOfFile(const std::filesystem::path& modelDir,
                                  const std::filesystem::path& textFile,
                                  const std::filesystem::path& tokenizerPath, int64_t seqLen,
                                  int64_t batch, int64_t maxWindows) {
    requireFile(textFile, "a UTF-8 text file");  // a missing text fails before the model loads
    const ModelAndTokenizer loaded = loadModelAndTokenizer(modelDir, tokenizerPath);
    return perplexityOfText(loaded.model, loaded.tokenizer, textFile, seqLen, batch, maxWindows);
}

std::vector<int32_t> tokenizeTextFile(const model::Tokenizer& tokenizer, const std::filesystem::path& textFile) {
    std::ifstream in(textFile, std::ios::binary);
    if (!in) fail(textFile.string(), ": cannot open (expected a UTF-8 text file)");
    std::stringstream buffer;
    buffer << in.rdbuf();
    const std::string text = buffer.str();
    if (text.empty()) fail(textFile.string(), ": file is empty (expected a UTF-8 text file)");
    requireUtf8(text, textFile.string());
    return tokenizer.encode(text, /*addSpecialTokens=*/true);
}

PerplexityResult perplexityOfText(const model::Transformer& model,
                                  const model::Tokenizer& tokenizer,
                                  const std::filesystem::path& textFile, int64_t seqLen,
                                  int64_t batch, int64_t maxWindows, const StopToken* stop) {
    return perplexity(model, tokenizeTextFile(tokenizer, textFile), seqLen, batch, maxWindows, stop);
}

}  // namespace frugal::eval
