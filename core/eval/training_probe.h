#pragma once
// Work a fine-tuning run does beside its training every N steps: the [live_landscape] table of a
// zo, mezo or fo config. At step 0, every EVERY steps and at the last step, a 1-D or 2-D loss
// slice along filter-normalised directions (regenerated from one seed, normalised to the weights
// of that step) and the forward-only sharpness around the weights as they are, on one fixed batch
// of its own; stored as vector series (landscape/slice1d or landscape/slice2d per step) and
// metrics (sharpness/*, landscape/*). The weights are restored bit for bit after each probe and
// the training's batches and directions are not touched, so a run with probes trains exactly as
// one without them.
//
// The spec is read here (eval/fine_tune_config.h); the probe is analysis/'s
// (analysis/live_landscape.h), which zo/ and fo/ may not include: the registry rows of run/ hand
// its factory to the zo, mezo and fo readers, which pass it down to their training loops.

#include <cstdint>
#include <functional>
#include <memory>

#include "common/events.h"

namespace frugal::dist {
class World;
}

namespace frugal::eval {

class FineTuneProblem;

struct LiveLandscapeSpec {
    int64_t every = 0;  // steps between probes; 0: no probes
    int64_t dims = 1;   // 1: a line; 2: a surface
    int64_t points = 21;
    double lo = -1, hi = 1;
    int64_t batchSize = 0;  // examples in the probe's batch; 0: the run's batch_size
    int64_t seed = -1;      // the directions' and the batch's seed; -1: the run's seed
    int64_t sharpnessProbes = 8;  // Hutchinson probes and ε-ball samples; 0: no sharpness
    double sharpnessH = 1e-3, sharpnessRho = 0.05;
    bool sam = true;  // SAM's one-step value, in runs that have gradients (fo)
    bool enabled() const { return every > 0; }
};

class TrainingProbe {
public:
    virtual ~TrainingProbe() = default;
    // Called after every step (STEP 0: before the first); probes when the spec says so. A stop
    // request abandons a probe (the weights restored); it never throws Cancelled.
    virtual void after(int64_t step, int64_t lastStep, EventSink& sink, const StopToken& stop) = 0;
    // Forward passes the probes have taken (not counted in the training's own).
    virtual int64_t forwards() const = 0;
};

// GRADIENTS: the run computes gradients (SAM's value is then measured). WORLD: the processes of a
// data-parallel run, which share each probe's points (null: one process).
using TrainingProbeFactory = std::function<std::unique_ptr<TrainingProbe>(
    const LiveLandscapeSpec&, FineTuneProblem&, bool gradients, dist::World* world)>;
// FACTORY's probe for SPEC; null when SPEC is not enabled; fails when SPEC is enabled and the
// caller was given no factory.
std::unique_ptr<TrainingProbe> makeLiveLandscape(const TrainingProbeFactory& factory,
                                                 const LiveLandscapeSpec& spec, FineTuneProblem& problem,
                                                 bool gradients, dist::World* world);

}  // namespace frugal::eval
