#include "eval/streamed_scoring.h"

#include <c10/core/InferenceMode.h>

#include "common/error.h"
#include "common/format.h"
#include "eval/candidate_batch.h"

namespace frugal::eval {

namespace {

// Requests [FIRST, LAST) through every block; their scores appended to OUT.
void scoreRound(const model::Transformer& model, model::BlockStore& store, const std::vector<CandidateBatch>& batches,
                const std::vector<ScoringRequest>& requests, size_t first, size_t last, const StopToken* stop,
                int64_t examplesBefore, int64_t total, std::vector<std::vector<CandidateScore>>& out) {
    std::vector<model::AttentionContext> ctx;
    std::vector<torch::Tensor> hidden;
    for (size_t i = first; i < last; ++i) {
        ctx.push_back(model.context(batches[i].ids, batches[i].mask));
        hidden.push_back(model.embed(batches[i].ids, ctx.back()));
    }
    const int64_t blocks = model.numLayers();
    for (int64_t b = 0; b < blocks; ++b) {
        if (stop && stop->stopRequested())
            throw Cancelled(cat("stopped while scoring examples (block ", b, " of ", blocks, ", after ", examplesBefore,
                                " of ", total, " examples)"));
        store.fetch(b);
        for (int64_t ahead = b + 1; ahead < blocks && ahead < b + store.ring(); ++ahead) store.prefetch(ahead);
        for (size_t i = 0; i < hidden.size(); ++i) hidden[i] = model.forwardBlock(b, hidden[i], ctx[i]);
        store.evict(b, false);
    }
    for (size_t i = first; i < last; ++i) {
        const CandidateBatch& batch = batches[i];
        out.push_back(scoresOf(batch, candidateLogProbsFromHidden(model, batch, hidden[i - first]),
                               {requests[i].continuations})
                          .front());
        hidden[i - first] = torch::Tensor();
    }
}

}  // namespace

ContinuationScorer streamedScorer(const model::Transformer& model, model::BlockStore& store,
                                  const model::Tokenizer& tokenizer, const StopToken* stop, int64_t roundBytes) {
    return [&model, &store, &tokenizer, stop, roundBytes](const std::vector<ScoringRequest>& requests,
                                              const std::vector<int64_t>& exampleOf) {
        c10::InferenceMode guard;
        std::vector<CandidateBatch> batches;
        for (const ScoringRequest& r : requests) batches.push_back(encodeCandidates(model, tokenizer, {r.context}, {r.continuations}));
        const int64_t total = exampleOf.empty() ? 0 : exampleOf.back() + 1;
        const int64_t width = model.config().hiddenSize * static_cast<int64_t>(c10::elementSize(model.tokenEmbedding().scalar_type()));
        std::vector<std::vector<CandidateScore>> out;
        size_t first = 0;
        while (first < requests.size()) {  // a round: as many requests as roundBytes of hidden states hold
            size_t last = first;
            int64_t bytes = 0;
            while (last < requests.size() && (last == first || bytes + batches[last].ids.numel() * width <= roundBytes))
                bytes += batches[last++].ids.numel() * width;
            scoreRound(model, store, batches, requests, first, last, stop, exampleOf[first], total, out);
            first = last;
        }
        return out;
    };
}

}  // namespace frugal::eval
