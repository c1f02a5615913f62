#pragma once
// The zeroth-order fine-tuning engine (SPEC-ZO §1-§3, §6.1): MeZO's in-place seed trick with
//   estimators   central two-point (default; 2q forwards) or one-sided forward (q+1 forwards,
//                one shared base loss);
//   directions   Gaussian (default), Rademacher or the sqrt(d) sphere, q per step, constant or
//                on AdaZeta's schedule per data epoch;
//   optimisers   the table in zo/optimizers.h: sgd (MeZO), momentum, nesterov, sign (element-wise
//                sign of ĝ, or "scalar": the sign of each projected gradient, as ZO-Bench's code
//                does), conservative (keeps the best of θ, θ−ηĝ, θ+ηĝ on the same batch), adam
//                (AdamW-style decoupled decay), lion (the sign of an interpolated momentum);
//   lr schedules constant (the ZO default), linear, cosine;
//   masks        optional Sparse-MeZO masks (perturb.h).
// Every step's seeds, projected gradients, lr and conservative choice form the trajectory, from
// which replay() rebuilds the fine-tuned weights bit for bit. A NaN/Inf loss, or a loss above
// divergence_factor × the first step's, stops the run at that step, or (divergence = "rollback")
// rebuilds the state before it from the trajectory, drops rollback_steps more steps and halves
// the learning rate.

#include <array>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "common/events.h"
#include "common/named.h"
#include "eval/fine_tune_problem.h"
#include "eval/training_probe.h"
#include "zo/directions.h"
#include "zo/optimizers.h"
#include "model/safetensors.h"

namespace frugal::zo {

// The ZO config's choices, each an enum with its one {value, name} table (common/named.h): the
// reader parses a config into them once; the engine compares no strings.
enum class Estimator { Central, Forward };
inline constexpr std::array<Named<Estimator>, 2> kEstimators = {
    {{Estimator::Central, "central"}, {Estimator::Forward, "forward"}}};
enum class SignMode { Elementwise, Scalar };
inline constexpr std::array<Named<SignMode>, 2> kSignModes = {
    {{SignMode::Elementwise, "elementwise"}, {SignMode::Scalar, "scalar"}}};
enum class QueryPolicy { Constant, AdaZeta };
inline constexpr std::array<Named<QueryPolicy>, 2> kQueryPolicies = {
    {{QueryPolicy::Constant, "constant"}, {QueryPolicy::AdaZeta, "adazeta"}}};
enum class Divergence { Stop, Rollback, Off };
inline constexpr std::array<Named<Divergence>, 3> kDivergences = {
    {{Divergence::Stop, "stop"}, {Divergence::Rollback, "rollback"}, {Divergence::Off, "off"}}};

// [memory] stream: whether the decoder blocks are streamed from disk (zo/streamed.h): when the
// run does not fit its memory budget, always, or never.
enum class Streaming { Auto, Always, Never };
inline constexpr std::array<Named<Streaming>, 3> kStreamings = {
    {{Streaming::Auto, "auto"}, {Streaming::Always, "always"}, {Streaming::Never, "never"}}};

struct ZoScheme;  // zo/scheme.h

struct ZoConfig {
    eval::FineTuneSpec common;
    const ZoScheme* scheme = nullptr;  // a row of the scheme table (zo/scheme.h); nullptr: mezo
    Estimator estimator = Estimator::Central;
    DirectionLaw direction = DirectionLaw::Gaussian;
    double eps = 1e-3;
    const ZoOptimizer* optimizer = &zoSgd();  // a row of the optimiser table (zo/optimizers.h)
    SignMode signMode = SignMode::Elementwise;
    double momentum = 0.9, beta1 = 0.9, beta2 = 0.999, adamEps = 1e-8;
    QueryPolicy querySchedule = QueryPolicy::Constant;  // a constant q (queries), or AdaZeta's
    int64_t queries = 1;
    double adazetaAlpha = 1, adazetaNum = 15, adazetaBeta = 0;  // beta <= 0: derived
    int64_t queriesMax = 15;
    double sparsity = 0;  // Sparse-MeZO: perturb only the smallest-|θ| (1 − sparsity) per tensor; 0: off
    bool keepZeros = false;  // weights that are exactly zero at the start stay +0.0 (a pruned model)
    Divergence divergence = Divergence::Stop;  // NaN/Inf stops whatever it says
    double divergenceFactor = 10;
    int64_t rollbackSteps = 10, maxRollbacks = 3;
    // the schemes' constants (zo/scheme.h; each read only under its row)
    int64_t fzooBatch = 8;        // FZOO: one-sided Rademacher estimates a step
    bool fzooBatched = false;     // FZOO on a soft prompt: the batch's forwards as one batched forward
    double lezoFraction = 0.25;   // LeZO: the share of decoder blocks perturbed a step
    int64_t lozoRank = 2, lozoNu = 50;  // LOZO: rank r of U Vᵀ, steps ν a V is kept
    double lozoMomentum = 0;      // LOZO-M's β (0: LOZO)
    double hizooAlpha = 1e-6;     // HiZOO: the smoothing of the diagonal Hessian estimate
    int64_t svrgQ = 2, svrgBatch = 64;  // MeZO-SVRG: steps between large-batch estimates, its examples
    double svrgLrFull = 0;        // MeZO-SVRG: η1 of the large-batch step (0: the run's lr)
    // [memory]: the budget the run must stay within (0: the memory free when it starts), the
    // streaming policy, and the folder of a streamed full fine-tuning's working copy (empty: the
    // run's artifact folder).
    int64_t memoryBudget = 0;
    Streaming streaming = Streaming::Auto;
    std::filesystem::path workingCopyDir;
    std::string table = "zo";  // the config's table ("zo", or "mezo"): where validate()'s keys are

    // Every name and combination, before anything is loaded (zo/zo_method.cpp, beside the reader).
    void validate() const;
};

// A 64-bit digest (hex) of TENSORS: names, shapes, dtypes and every byte; fast (a few GB/s), not
// cryptographic. Processes of a data-parallel run compare their weights with it.
std::string weightsDigest(const model::NamedTensors& tensors);

// One applied step. Seeds are 53-bit so that they survive as double metric values.
struct StepRecord {
    int64_t step = 0;
    double lr = 0;
    std::vector<uint64_t> seeds;
    std::vector<double> grads;
    int choice = 0;  // conservative: 0 kept θ, 1 took θ−ηĝ, 2 took θ+ηĝ
};
// CSV (step,query,seed,projected_grad,lr,choice) after the version line "# frugal trajectory 2",
// doubles printed exactly (%.17g). The reader also reads version 1 (the same without the version
// line) and refuses other versions by name.
void writeTrajectory(const std::filesystem::path& file, const std::vector<StepRecord>& steps);
// STEP's rows appended to FILE (written first by writeTrajectory): a run's trajectory grows as its
// steps are stored, so a run killed at any moment is replayable up to its last stored step.
void appendTrajectory(const std::filesystem::path& file, const StepRecord& step);
std::vector<StepRecord> readTrajectory(const std::filesystem::path& file);

struct ZoResult : eval::FineTuneResult {
    int64_t rollbacks = 0;
    int64_t optimizerStateBytes = 0;
};

// Fine-tunes CONFIG's model, reporting to SINK; the TRAJECTORYFILE of OPTIONS (if any) is written at the end,
// and when stopped or failed. A stop request ends it with Cancelled. With a TRAJECTORYFILE, a
// resume point (eval/resume_point.h) is kept beside it in resume/, rewritten at every evaluation
// step and at a stop; RESUME continues from it: the weights and optimiser state replayed from the
// trajectory, the generator, counters and dev figures read back, so that the run goes on exactly
// as if it had never stopped.
struct ZoRunOptions {
    std::filesystem::path trajectoryFile;  // empty: no trajectory written, no resume points
    bool resume = false;
    dist::World* world = nullptr;          // the processes of a data-parallel run; null: one
    eval::TrainingProbeFactory probes;     // the [live_landscape] probe (empty: the table refused)
};
ZoResult runZo(const ZoConfig& config, EventSink& sink, const StopToken& stop, const ZoRunOptions& options = {});

// Rebuilds the fine-tuned model from CONFIG's base model and adapters and the trajectory, and
// saves it to OUTDIR as runZo would (block by block, every step in one sweep, when
// config.common.streamBlocks).
void replayZo(const ZoConfig& config, const std::vector<StepRecord>& trajectory,
              const std::filesystem::path& outDir);

}  // namespace frugal::zo
