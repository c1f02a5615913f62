#pragma once
// The ZO step of a model whose decoder blocks live in a block store (model/block_store.h): a
// model larger than memory fine-tuned with forwards only. Each step is one sweep over the
// blocks: a block is brought in once, every perturbed forward of the step goes through it while
// it is resident (+εz, forward of stream +, −2εz, forward of stream −, and so on for q queries),
// and it leaves; the update, known only once the head has the losses, is applied the next time
// the block is brought in (the previous step's pending work made first), never by a pass of its
// own. The tensors outside the blocks (embeddings, final norm, head, a soft prompt) stay
// resident and go through the same weight arithmetic twice, at the embedding and at the head,
// from a copy kept for the step.
//
// Every weight operation is the in-memory engine's (zo/perturb.h), made on each block's share of
// the trainables in the same order: the directions are regenerated per (seed, tensor index,
// element), so the streamed step gives the in-memory engine's losses, projected gradients and
// weights bit for bit (tests/test_streamed.cpp). Replay queues each step's operations and makes
// them all in one sweep.

#include <cstdint>
#include <functional>
#include <memory>

#include "eval/fine_tune_problem.h"
#include "model/block_store.h"
#include "zo/engine.h"
#include "zo/scheme.h"

namespace frugal::zo {

// Refuses what the streamed step does not do, one message naming the key: the schemes (each
// has its own passes), Sparse-MeZO masks and a pruned model's kept zeros (a mask per block is not
// kept), sphere directions (their scale is a norm over all blocks), prefix tuning (its start is
// a forward of the whole model).
void checkStreamable(const ZoConfig& config);

std::unique_ptr<ZoStepper> makeStreamedStepper(const ZoConfig& config, eval::FineTuneProblem& problem,
                                               model::BlockStore& store);

}  // namespace frugal::zo
