#pragma once
// The table of ZO schemes (`zo.scheme`): how one step's forwards, perturbations and update are
// made. "mezo" is the engine's own step (zo/engine.cpp: central or forward estimates, the
// optimiser table, Sparse-MeZO masks, the fused passes); every other row is one file that makes
// its step from the passes of zo/perturb.h (and zo/chunks.h for its own element arithmetic):
//   fzoo   zo/fzoo.cpp   a batch of one-sided Rademacher estimates, the step normalised by the
//                        spread of the batch's losses
//   lezo   zo/lezo.cpp   only a random subset of the decoder blocks perturbed and updated a step
//   lozo   zo/lozo.cpp   low-rank perturbations U Vᵀ per weight matrix, V kept for ν steps
//   hizoo  zo/hizoo.cpp  a diagonal Hessian estimate from one more forward, the perturbation and
//                        step preconditioned by it
//   svrg   zo/svrg.cpp   MeZO-SVRG: a large batch's estimate every q steps at a snapshot θ̃, the
//                        other steps' estimates corrected by the same minibatch's at θ̃
// Each step writes what replays it into its StepRecord (seeds, projected gradients, lr): replay
// (LOSS == nullptr) makes the same weight arithmetic in the same order without the forwards, so
// a run is rebuilt bit for bit from its trajectory. Core-private (torch).
// Adding a row: one file with its stepper and one row in zo/scheme.cpp (docs/METHODS.md).

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/error.h"
#include "peft/param_set.h"
#include "zo/engine.h"
#include "zo/perturb.h"

namespace frugal::zo {

// A non-finite or exploding loss, thrown at the step where it happened (the engine's divergence
// monitor catches it).
class Diverged : public Error {
public:
    using Error::Error;
};

// One forward through LOSS, counted in FORWARDS; a non-finite loss throws Diverged naming WHAT.
double evaluateLoss(const std::function<double()>& loss, int64_t& forwards, const char* what);

// The update rule of optimiser row O at LR with CONFIG's constants (t not advanced).
UpdateRule ruleOf(const ZoConfig& config, const ZoOptimizer& o, double lr);

// One step of a scheme, with the state it keeps between steps.
class ZoStepper {
public:
    virtual ~ZoStepper() = default;
    // Makes REC's step. With LOSS: evaluates the forwards (counted in FORWARDS), fills REC's
    // projected gradients and returns the logged loss. LOSS == nullptr: replays REC.
    virtual double step(StepRecord& rec, const std::function<double()>* loss, int64_t& forwards) = 0;
    // Makes any pass left pending, before anything reads the weights.
    virtual void settle() {}
    virtual int64_t stateBytes() const { return 0; }
    virtual const SparseMask* mask() const { return nullptr; }
    // For the schemes that estimate on a larger batch than the step's (MeZO-SVRG): DRAW(size)
    // draws SIZE training examples and returns the loss on them (the engine sets it).
    virtual void setLargeBatch(std::function<std::function<double()>(int64_t)> /*draw*/) {}
    // For the schemes that score several soft prompts at once (FZOO on peft.target = "prompt"):
    // the losses of the step's batch under K prompts [K, P, E] in one batched forward.
    virtual void setPromptBatch(std::function<std::vector<double>(const torch::Tensor&)> /*losses*/) {}
    // The directions REC's step drew (its trajectory rows may hold more: HiZOO's curvature,
    // MeZO-SVRG's estimate at the snapshot), for zo/queries and the projected gradients' mean.
    virtual size_t directions(const StepRecord& rec) const { return rec.seeds.size(); }
    // The scheme's own series after the last step made with LOSS: (metric key, value).
    virtual std::vector<std::pair<std::string, double>> series() const { return {}; }
};

struct ZoScheme {
    const char* name;
    const char* description;  // logged with each run
    // The keys of the [zo] table this row reads beyond MeZO's, separated by spaces: the form
    // shows them only for this row.
    const char* reads;
    // Its stepper; nullptr: the engine's (mezo).
    std::unique_ptr<ZoStepper> (*make)(const ZoConfig& config, const std::vector<Trainable>& params);
    // Where it departs from the reference code, stored as the run's choice.zo.scheme ("": none).
    const char* departures;
    // Checks CONFIG's combination with this row (one message naming the key), before loading.
    void (*validate)(const ZoConfig& config);
    // The directions each step draws; nullptr: the query schedule's (queries, or AdaZeta's).
    int64_t (*directions)(const ZoConfig& config) = nullptr;
    // fp32 buffers the size of the trainables its state holds (the memory estimate's count).
    int stateBuffers = 0;
    // The examples of its largest forward; nullptr: batch_size (the memory estimate's batch).
    int64_t (*largestBatch)(const ZoConfig& config) = nullptr;
    // Why CONFIG cannot run data parallel under this row (nullptr: it can), checked before loading.
    const char* (*singleProcess)(const ZoConfig& config) = nullptr;
};

// The refusals several rows share, each naming its key: one direction a step (queries), no
// Sparse-MeZO or keep-zeros mask (WHY: what the row perturbs instead), the CPU only.
void requireOneDirection(const ZoConfig& config, const char* scheme);
void refuseMask(const ZoConfig& config, const char* scheme, const char* why);
void requireCpu(const ZoConfig& config, const char* scheme);

const std::vector<ZoScheme>& zoSchemes();
const ZoScheme& mezoScheme();
std::vector<std::string> zoSchemeNames();
// The row named NAME; throws naming zo.scheme and every valid name.
const ZoScheme& findZoScheme(const std::string& name);
std::vector<std::string> zoSchemesReading(const std::string& key);

// The stepper of CONFIG's scheme over PARAMS, in memory: the engine's own for mezo (engine.cpp).
std::unique_ptr<ZoStepper> makeStepper(const ZoConfig& config, const peft::ParamSet& params);

// The rows' steppers (their files).
std::unique_ptr<ZoStepper> makeFzoo(const ZoConfig& config, const std::vector<Trainable>& params);
std::unique_ptr<ZoStepper> makeLezo(const ZoConfig& config, const std::vector<Trainable>& params);
std::unique_ptr<ZoStepper> makeLozo(const ZoConfig& config, const std::vector<Trainable>& params);
std::unique_ptr<ZoStepper> makeHizoo(const ZoConfig& config, const std::vector<Trainable>& params);
std::unique_ptr<ZoStepper> makeSvrg(const ZoConfig& config, const std::vector<Trainable>& params);
void validateSvrg(const ZoConfig& config);
int64_t svrgLargestBatch(const ZoConfig& config);
const char* svrgSingleProcess(const ZoConfig& config);
const char* fzooSingleProcess(const ZoConfig& config);
// LOZO's factor [ROWS, RANK] (standard Gaussian) for SEED and STREAM, and the seed of V from the
// seed of the step that begins V's period; HiZOO's Hessian estimate of tensor I (for tests).
torch::Tensor lozoFactor(uint64_t seed, uint32_t stream, int64_t rows, int64_t rank);
uint64_t lozoVSeed(uint64_t periodSeed);
torch::Tensor hizooHessian(const ZoStepper& stepper, size_t tensor);
// FZOO's prompts θ + ε·z_i [n, P, E] for the soft prompt P, each element as perturb() makes it
// (fp32 arithmetic, rounded once to the prompt's dtype): the batched forward's inputs.
torch::Tensor fzooPrompts(const Trainable& prompt, const std::vector<uint64_t>& seeds, double eps);
// The decoder block of a trainable named NAME ("model.layers.3.…", "transformer.h.3.…"), -1
// outside the blocks (LeZO's draw).
int64_t decoderBlockOf(const std::string& name);
void validateFzoo(const ZoConfig& config);
int64_t fzooDirections(const ZoConfig& config);
void validateLezo(const ZoConfig& config);
void validateLozo(const ZoConfig& config);
void validateHizoo(const ZoConfig& config);

}  // namespace frugal::zo
