#pragma once
// Scoring on a model whose decoder blocks live in a block store (model/block_store.h): every
// request encoded as scoreContinuations() encodes it, all of them advanced block by block, so
// that each block is read once for the whole evaluation (in rounds when their hidden states would
// pass kStreamedScoringBytes). Each request is its own forward, as one by one: the same scores
// bit for bit.

#include <cstdint>
#include <vector>

#include "common/events.h"
#include "eval/candidate_scoring.h"
#include "model/block_store.h"

namespace frugal::eval {

inline constexpr int64_t kStreamedScoringBytes = int64_t{512} << 20;

// A ContinuationScorer (candidate_scoring.h) for MODEL and its STORE; STOP polled between blocks;
// ROUNDBYTES: the hidden states a round holds at most.
ContinuationScorer streamedScorer(const model::Transformer& model, model::BlockStore& store,
                                  const model::Tokenizer& tokenizer, const StopToken* stop,
                                  int64_t roundBytes = kStreamedScoringBytes);

}  // namespace frugal::eval
