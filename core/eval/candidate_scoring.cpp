#include "eval/candidate_scoring.h"

#include <algorithm>
#include <cmath>
#include <random>

#include "common/error.h"
#include "data/corpus.h"
#include "data/task.h"
#include "eval/candidate_batch.h"
#include "eval/model_loading.h"
#include "model/tokenizer.h"
#include "model/transformer.h"

namespace frugal::eval {

ExampleCandidates encodeExample(const model::Tokenizer& tokenizer, int64_t maxPositions,
                                const std::string& context, const std::vector<std::string>& continuations) {
    if (continuations.empty()) fail("scoring needs at least one continuation");
    const std::vector<int32_t> contextIds = tokenizer.encode(context, true);
    ExampleCandidates out;
    int64_t longest = 0;
    for (const auto& c : continuations) {
        ExampleCandidates::Sequence s{tokenizer.encode(context + c, true), static_cast<int64_t>(contextIds.size())};
        if (static_cast<int64_t>(s.ids.size()) <= s.start)
            fail("continuation '", c, "' adds no tokens to the context");
        longest = std::max<int64_t>(longest, static_cast<int64_t>(s.ids.size()));
        out.sequences.push_back(std::move(s));
    }
    // Longer than the model's context: drop the oldest context tokens (after a leading BOS, which
    // every prompt keeps), the same number from every candidate, as lm-eval-harness does.
    if (maxPositions > 0 && longest > maxPositions) {
        const int64_t keep =
            tokenizer.bosId() && !contextIds.empty() && contextIds.front() == *tokenizer.bosId() ? 1 : 0;
        const int64_t dropped = longest - maxPositions;
        if (dropped > static_cast<int64_t>(contextIds.size()) - keep - 1)
            fail("a continuation is too long for the model's context of ", maxPositions,
                 " tokens even with the context cut to one token");
        for (auto& s : out.sequences) {
            s.ids.erase(s.ids.begin() + keep, s.ids.begin() + keep + dropped);
            s.start -= dropped;
        }
    }
    // Pack: the model reads every token of a candidate's sequence but the last. Candidates whose
    // inputs are prefixes of one another (single-token verbalisers after the same context:
    // " negative" / " positive") share one row, because attention is causal: a prefix's hidden
    // states do not depend on what follows it. Two labels then cost one sequence, not two.
    const auto isPrefix = [](const std::vector<int32_t>& a, size_t aLen, const std::vector<int32_t>& b) {
        return aLen <= b.size() && std::equal(a.begin(), a.begin() + static_cast<std::ptrdiff_t>(aLen), b.begin());
    };
    for (const auto& s : out.sequences) {
        const size_t len = s.ids.size() - 1;  // input tokens
        int64_t found = -1;
        for (size_t r = 0; r < out.rows.size() && found < 0; ++r) {
            if (isPrefix(s.ids, len, out.rows[r])) {
                found = static_cast<int64_t>(r);
            } else if (out.rows[r].size() < len && isPrefix(out.rows[r], out.rows[r].size(), s.ids)) {
                out.rows[r].assign(s.ids.begin(), s.ids.begin() + static_cast<std::ptrdiff_t>(len));
                found = static_cast<int64_t>(r);
            }
        }
        if (found < 0) {
            found = static_cast<int64_t>(out.rows.size());
            out.rows.emplace_back(s.ids.begin(), s.ids.begin() + static_cast<std::ptrdiff_t>(len));
        }
        out.rowOf.push_back(found);
    }
    return out;
}

// Dimensions: N candidate sequences (every candidate of every example), R packed rows (N or
// fewer), T the longest row, V vocabulary.
CandidateBatch encodeCandidates(const model::Transformer& model, const model::Tokenizer& tokenizer,
                                const std::vector<std::string>& contexts,
                                const std::vector<std::vector<std::string>>& continuations) {
    if (contexts.size() != continuations.size())
        fail("scoreBatch: ", contexts.size(), " contexts but ", continuations.size(),
             " candidate lists");
    CandidateBatch batch;
    std::vector<ExampleCandidates> encoded;
    int64_t width = 1, rowCount = 0;
    for (size_t e = 0; e < contexts.size(); ++e) {
        encoded.push_back(encodeExample(tokenizer, model.config().maxPositions, contexts[e], continuations[e]));
        for (const auto& r : encoded.back().rows) width = std::max<int64_t>(width, static_cast<int64_t>(r.size()));
        rowCount += static_cast<int64_t>(encoded.back().rows.size());
    }
    std::vector<int64_t> idData(static_cast<size_t>(rowCount * width), 0), maskData(idData.size(), 0);
    std::vector<int64_t> row, position, token, sequence;
    int64_t firstRow = 0, candidate = 0;
    for (const ExampleCandidates& ex : encoded) {
        batch.firstOf.push_back(static_cast<size_t>(candidate));
        for (size_t r = 0; r < ex.rows.size(); ++r)
            for (size_t t = 0; t < ex.rows[r].size(); ++t) {
                idData[static_cast<size_t>((firstRow + static_cast<int64_t>(r)) * width) + t] = ex.rows[r][t];
                maskData[static_cast<size_t>((firstRow + static_cast<int64_t>(r)) * width) + t] = 1;
            }
        for (size_t i = 0; i < ex.sequences.size(); ++i, ++candidate) {
            const auto& s = ex.sequences[i];
            for (size_t t = static_cast<size_t>(s.start); t < s.ids.size(); ++t) {
                row.push_back(firstRow + ex.rowOf[i]);  // the token at t is predicted at position t-1
                position.push_back(static_cast<int64_t>(t) - 1);
                token.push_back(s.ids[t]);
                sequence.push_back(candidate);
            }
            batch.tokens.push_back(static_cast<int64_t>(s.ids.size()) - s.start);
        }
        firstRow += static_cast<int64_t>(ex.rows.size());
    }
    batch.firstOf.push_back(static_cast<size_t>(candidate));
    const auto dev = model.device();
    batch.ids = torch::tensor(idData, torch::kLong).view({rowCount, width}).to(dev);
    batch.mask = torch::tensor(maskData, torch::kLong).view({rowCount, width}).to(dev);
    batch.row = torch::tensor(row, torch::kLong).to(dev);
    batch.position = torch::tensor(position, torch::kLong).to(dev);
    batch.token = torch::tensor(token, torch::kLong).to(dev);
    batch.sequence = torch::tensor(sequence, torch::kLong).to(dev);
    return batch;
}

namespace {

// PICKED [K,V]: the logits at the positions that predict a continuation token.
torch::Tensor sumsOfPicked(const torch::Tensor& picked, const CandidateBatch& batch) {
    const torch::Tensor logp =
        torch::log_softmax(picked, -1).gather(1, batch.token.unsqueeze(1)).squeeze(1).to(torch::kDouble);
    return torch::zeros({static_cast<int64_t>(batch.tokens.size())}, logp.options())
        .index_add(0, batch.sequence, logp);
}

}  // namespace

torch::Tensor candidateLogProbs(const model::Transformer& model, const CandidateBatch& batch) {
    // only the positions that predict a continuation token go through the head and log_softmax
    return sumsOfPicked(model.forwardAt(batch.ids, batch.mask, batch.row, batch.position).to(torch::kFloat32), batch);
}

torch::Tensor candidateLogProbsFromHidden(const model::Transformer& model, const CandidateBatch& batch,
                                          const torch::Tensor& hidden) {
    return sumsOfPicked(model.headAt(hidden, batch.row, batch.position).to(torch::kFloat32), batch);
}

std::vector<std::vector<CandidateScore>> scoreBatch(
    const model::Transformer& model, const model::Tokenizer& tokenizer,
    const std::vector<std::string>& contexts,
    const std::vector<std::vector<std::string>>& continuations) {
    const CandidateBatch batch = encodeCandidates(model, tokenizer, contexts, continuations);
    c10::InferenceMode guard;
    return scoresOf(batch, candidateLogProbs(model, batch), continuations);
}

std::vector<std::vector<CandidateScore>> scoresOf(const CandidateBatch& batch, const torch::Tensor& logProbs,
                                                  const std::vector<std::vector<std::string>>& continuations) {
    const torch::Tensor sums = logProbs.to(torch::kCPU, torch::kDouble);
    const auto acc = sums.accessor<double, 1>();
    std::vector<std::vector<CandidateScore>> out(continuations.size());
    for (size_t e = 0; e < continuations.size(); ++e) {
        for (size_t i = batch.firstOf[e]; i < batch.firstOf[e + 1]; ++i) {
            CandidateScore score;
            score.sumLogProb = acc[static_cast<int64_t>(i)];
            score.tokens = batch.tokens[i];
            if (!std::isfinite(score.sumLogProb))
                fail("log-likelihood of continuation '", continuations[e][i - batch.firstOf[e]],
                     "' is not finite (", score.sumLogProb, ")");
            score.meanLogProb = score.sumLogProb / static_cast<double>(score.tokens);
            out[e].push_back(score);
        }
    }
    return out;
}

std::vector<CandidateScore> scoreContinuations(const model::Transformer& model,
                                               const model::Tokenizer& tokenizer,
                                               const std::string& context,
                                               const std::vector<std::string>& continuations) {
    return scoreBatch(model, tokenizer, {context}, {continuations}).front();
}

namespace {

// The predictions and accuracies of TASK's first AT.size() examples from their scores (AT: each
// example's request and its content-free baseline's, in SCORED).
TaskResult decide(const data::Task& task, const std::vector<std::vector<CandidateScore>>& scored,
                  const std::vector<std::pair<size_t, size_t>>& at) {
    TaskResult r;
    int64_t correctSum = 0, correctMean = 0, correctCalibrated = 0;
    for (size_t e = 0; e < at.size(); ++e) {
        const auto& scores = scored[at[e].first];
        r.contentFree.clear();
        for (const auto& b : scored[at[e].second]) r.contentFree.push_back(b.sumLogProb);
        int bestCalibrated = 0;
        for (size_t i = 1; i < scores.size(); ++i)
            if (scores[i].sumLogProb - r.contentFree[i] >
                scores[static_cast<size_t>(bestCalibrated)].sumLogProb -
                    r.contentFree[static_cast<size_t>(bestCalibrated)])
                bestCalibrated = static_cast<int>(i);
        int bestSum = 0, bestMean = 0;
        for (size_t i = 1; i < scores.size(); ++i) {
            if (scores[i].sumLogProb > scores[static_cast<size_t>(bestSum)].sumLogProb)
                bestSum = static_cast<int>(i);
            if (scores[i].meanLogProb > scores[static_cast<size_t>(bestMean)].meanLogProb)
                bestMean = static_cast<int>(i);
        }
        const int gold = task.labelIndex(task.examples()[e].label);
        correctSum += bestSum == gold;
        correctMean += bestMean == gold;
        correctCalibrated += bestCalibrated == gold;
        r.predictionsCalibrated.push_back(bestCalibrated);
        r.predictions.push_back(bestSum);
        r.scores.push_back(scores);
        r.examples += 1;
    }
    r.accuracy = static_cast<double>(correctSum) / static_cast<double>(r.examples);
    r.accuracyMean = static_cast<double>(correctMean) / static_cast<double>(r.examples);
    r.accuracyCalibrated = static_cast<double>(correctCalibrated) / static_cast<double>(r.examples);
    return r;
}

}  // namespace

TaskResult evaluateTask(const model::Transformer& model, const model::Tokenizer& tokenizer,
                        const data::Task& task, const data::PromptTemplate& prompt, int64_t limit,
                        const FewShot& fewShot, const StopToken* stop) {
    const int64_t total = limit > 0 ? std::min<int64_t>(limit, static_cast<int64_t>(task.examples().size()))
                                    : static_cast<int64_t>(task.examples().size());
    const ContinuationScorer oneByOne = [&](const std::vector<ScoringRequest>& requests, const std::vector<int64_t>& exampleOf) {
        std::vector<std::vector<CandidateScore>> out;
        for (size_t i = 0; i < requests.size(); ++i) {
            if (stop && stop->stopRequested())
                throw Cancelled(cat("stopped while scoring examples, after ", exampleOf[i], " of ", total));
            out.push_back(scoreContinuations(model, tokenizer, requests[i].context, requests[i].continuations));
        }
        return out;
    };
    return evaluateTaskWith(oneByOne, task, prompt, limit, fewShot);
}

TaskResult evaluateTaskWith(const ContinuationScorer& score, const data::Task& task, const data::PromptTemplate& prompt,
                            int64_t limit, const FewShot& fewShot) {
    if (prompt.labels() != task.labels())
        fail("the template's labels do not match the task's labels");
    if (fewShot.shots < 0) fail("few-shot: the number of demonstrations is negative");
    if (fewShot.shots > 0) {
        if (!fewShot.pool) fail("few-shot: ", fewShot.shots, " demonstrations but no pool");
        if (fewShot.pool->labels() != task.labels())
            fail("few-shot: the demonstration pool's labels do not match the task's labels");
        if (static_cast<int64_t>(fewShot.pool->examples().size()) <= fewShot.shots)
            fail("few-shot: ", fewShot.shots, " demonstrations need a pool of more examples than ",
                 fewShot.pool->examples().size());
    }
    // every continuation to score, in the order a one-by-one scorer takes them: each example, and
    // before its scores are used the content-free baseline with the same demonstrations (once
    // when zero-shot)
    std::mt19937_64 rng(fewShot.seed);
    std::vector<ScoringRequest> requests;
    std::vector<int64_t> exampleOf;
    std::vector<std::pair<size_t, size_t>> at;  // per example: its request, its baseline's
    size_t baseline = 0;
    for (const auto& example : task.examples()) {
        const auto n = static_cast<int64_t>(at.size());
        if (limit > 0 && n >= limit) break;
        const auto rendered = prompt.render(example.text);
        std::string prefix;
        if (fewShot.shots > 0) {
            const auto& pool = fewShot.pool->examples();
            std::vector<size_t> chosen;
            while (static_cast<int64_t>(chosen.size()) < fewShot.shots) {
                const auto i = static_cast<size_t>(data::uniformBelow(rng, pool.size()));
                if (pool[i].text == example.text ||
                    std::find(chosen.begin(), chosen.end(), i) != chosen.end())
                    continue;
                chosen.push_back(i);
                prefix += prompt.demonstration(pool[i].text, fewShot.pool->labelIndex(pool[i].label)) +
                          fewShot.separator;
            }
        }
        const size_t mine = requests.size();
        requests.push_back({prefix + rendered.context, rendered.continuations});
        exampleOf.push_back(n);
        if (fewShot.shots > 0 || at.empty()) {
            const auto blank = prompt.render("N/A");
            baseline = requests.size();
            requests.push_back({prefix + blank.context, blank.continuations});
            exampleOf.push_back(n);
        }
        at.emplace_back(mine, baseline);
    }
    const std::vector<std::vector<CandidateScore>> scored = score(requests, exampleOf);
    if (scored.size() != requests.size()) fail("scoring gave ", scored.size(), " results for ", requests.size(), " requests");
    return decide(task, scored, at);
}

TaskResult evaluateTaskInFolder(const std::string& modelDir, const std::string& tokenizerPath,
                                const data::Task& task, const data::PromptTemplate& prompt,
                                int64_t limit, const FewShot& fewShot) {
    const ModelAndTokenizer loaded = loadModelAndTokenizer(modelDir, tokenizerPath);
    return evaluateTask(loaded.model, loaded.tokenizer, task, prompt, limit, fewShot);
}

}  // namespace frugal::eval
