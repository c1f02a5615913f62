#pragma once
// The tensor side of candidate scoring: a batch of (context, continuation) sequences encoded and
// right-padded once, and the summed log-probability of each continuation as a tensor, which is
// differentiable when autograd is on (first-order fine-tuning) and cheap under InferenceMode
// (evaluation, zeroth-order steps). scoreBatch in candidate_scoring.h is built on these.

#include <torch/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "eval/candidate_scoring.h"

namespace frugal::model {
class Transformer;
class Tokenizer;
}  // namespace frugal::model

namespace frugal::eval {

struct CandidateBatch {
    torch::Tensor ids, mask;         // [R,T] int64: the packed model inputs, R <= N candidates
    torch::Tensor row, position;     // [K] the (row, position) predicting each scored token
    torch::Tensor token, sequence;   // [K] the scored token and its candidate index (0 .. N)
    std::vector<int64_t> tokens;     // [N] continuation tokens per candidate
    std::vector<size_t> firstOf;     // [E+1] candidates of example e: firstOf[e] .. firstOf[e+1)
    size_t examples() const { return firstOf.empty() ? 0 : firstOf.size() - 1; }
};

// One example's candidates: each as the whole sequence it scores (START: its first continuation
// token), cut from the left to the model's context, and the packed rows the model reads (ROWOF:
// each candidate's row). Candidates whose inputs are prefixes of one another share a row.
struct ExampleCandidates {
    struct Sequence {
        std::vector<int32_t> ids;
        int64_t start = 0;
    };
    std::vector<Sequence> sequences;
    std::vector<std::vector<int32_t>> rows;
    std::vector<int64_t> rowOf;
};
ExampleCandidates encodeExample(const model::Tokenizer& tokenizer, int64_t maxPositions,
                                const std::string& context, const std::vector<std::string>& continuations);

// Continuation tokens are those of encode(context + continuation) past the length of
// encode(context), as lm-eval-harness splits them. A prompt longer than the model's context loses
// its oldest context tokens (a leading BOS is kept), the same number from every candidate.
// Candidates of one example whose inputs are prefixes of one another share one row of IDS (with
// single-token labels, every label of an example is scored from one sequence).
CandidateBatch encodeCandidates(const model::Transformer& model, const model::Tokenizer& tokenizer,
                                const std::vector<std::string>& contexts,
                                const std::vector<std::vector<std::string>>& continuations);

// [N] summed log-probabilities (fp64 sums of fp32 log-probabilities, on the model's device) of each sequence's continuation.
torch::Tensor candidateLogProbs(const model::Transformer& model, const CandidateBatch& batch);
// The scores of BATCH's candidates (encodeCandidates for CONTINUATIONS) from their summed
// log-probabilities LOGPROBS (candidateLogProbs); a sum that is not finite is an error naming the
// continuation.
std::vector<std::vector<CandidateScore>> scoresOf(const CandidateBatch& batch, const torch::Tensor& logProbs,
                                                  const std::vector<std::vector<std::string>>& continuations);
// The same from HIDDEN, the last block's output for BATCH's ids (a forward made block by block).
torch::Tensor candidateLogProbsFromHidden(const model::Transformer& model, const CandidateBatch& batch,
                                          const torch::Tensor& hidden);

}  // namespace frugal::eval
