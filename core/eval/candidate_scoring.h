#pragma once
// Log-likelihood classification, as MeZO and lm-eval-harness score a prompt: each label's
// continuation is scored by the sum (and the per-token mean) of its tokens' log-probabilities
// given the context; the prediction is the argmax. Runs on the calling thread; no torch here.

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "common/events.h"

namespace frugal::model {
class Transformer;
class Tokenizer;
}  // namespace frugal::model

namespace frugal::data {
class Task;
class PromptTemplate;
}  // namespace frugal::data

namespace frugal::eval {

struct CandidateScore {
    double sumLogProb = 0;   // nats
    double meanLogProb = 0;  // nats per continuation token
    int64_t tokens = 0;
};

// Continuation tokens are those of encode(context + continuation) past the length of
// encode(context), as lm-eval-harness splits them. All candidates go through the model as one
// right-padded batch. A prompt longer than the model's context (max_position_embeddings) loses
// its oldest context tokens (a leading BOS is kept).
std::vector<CandidateScore> scoreContinuations(const model::Transformer& model,
                                               const model::Tokenizer& tokenizer,
                                               const std::string& context,
                                               const std::vector<std::string>& continuations);

// The same for many examples in one right-padded batch (the training objective of ZO and
// first-order fine-tuning): CONTEXTS[e] with CONTINUATIONS[e][c]. Returns [examples][candidates].
std::vector<std::vector<CandidateScore>> scoreBatch(
    const model::Transformer& model, const model::Tokenizer& tokenizer,
    const std::vector<std::string>& contexts,
    const std::vector<std::vector<std::string>>& continuations);

struct TaskResult {
    int64_t examples = 0;
    double accuracy = 0;           // argmax of the summed log-probability
    double accuracyMean = 0;       // argmax of the per-token mean (length-normalised)
    // Contextual calibration (Zhao et al. 2021, "Calibrate before use"): each label's summed
    // log-probability minus the same label's given a content-free input ("N/A" in place of the
    // text, same demonstrations), which removes the prompt's prior preference for one word.
    double accuracyCalibrated = 0;
    std::vector<double> contentFree;  // per label: summed log-probability given "N/A"
    std::vector<int> predictionsCalibrated;
    std::vector<int> predictions;  // label index per example (summed score)
    std::vector<std::vector<CandidateScore>> scores;  // per example, per label
};

// In-context demonstrations: before each scored example, `shots` examples drawn without
// replacement from `pool` (mt19937_64 seeded with `seed`, drawn afresh per example in order, an
// identical text skipped), each the whole template filled with its gold label's word, joined and
// followed by `separator`.
struct FewShot {
    const data::Task* pool = nullptr;
    int64_t shots = 0;
    uint64_t seed = 0;
    std::string separator = "\n\n";
};

// Scores the first `limit` examples (all when limit <= 0), zero-shot unless `fewShot.shots` > 0.
// STOP: polled before each example; a stop asked for throws Cancelled naming where it stopped.
TaskResult evaluateTask(const model::Transformer& model, const model::Tokenizer& tokenizer,
                        const data::Task& task, const data::PromptTemplate& prompt,
                        int64_t limit = 0, const FewShot& fewShot = {}, const StopToken* stop = nullptr);

// One example's scoring: its context and the continuations (one per label).
struct ScoringRequest {
    std::string context;
    std::vector<std::string> continuations;
};
// Scores REQUESTS, each as scoreContinuations() scores it alone (EXAMPLEOF: the example each
// belongs to, for a stop's message).
using ContinuationScorer = std::function<std::vector<std::vector<CandidateScore>>(
    const std::vector<ScoringRequest>& requests, const std::vector<int64_t>& exampleOf)>;
// evaluateTask with the scoring left to SCORE: all requests at once (a streamed model scores them
// block by block, each block read once).
TaskResult evaluateTaskWith(const ContinuationScorer& score, const data::Task& task, const data::PromptTemplate& prompt,
                            int64_t limit = 0, const FewShot& fewShot = {});

// Loads the model in `modelDir` and its tokenizer (`tokenizerPath`, or the model folder when
// empty), then evaluates the task.
TaskResult evaluateTaskInFolder(const std::string& modelDir, const std::string& tokenizerPath,
                                const data::Task& task, const data::PromptTemplate& prompt,
                                int64_t limit = 0, const FewShot& fewShot = {});

}  // namespace frugal::eval
