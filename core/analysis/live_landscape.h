#pragma once
// The [live_landscape] probe of a fine-tuning run (eval/training_probe.h): at step 0, every N
// steps and at the last step, a slice (analysis/landscape.h) along filter-normalised directions
// of the probe's seed, normalised to the weights of that step, and the forward-only sharpness,
// on one batch drawn once from the probe's seed. The Mover's copy of the trainables (fp32) exists
// only while a probe runs; the weights are restored from it bit for bit.

#include <memory>

#include "common/method_view.h"

#include "eval/fine_tune_problem.h"
#include "eval/training_probe.h"

namespace frugal::analysis {

std::unique_ptr<eval::TrainingProbe> makeLiveLandscapeProbe(const eval::LiveLandscapeSpec& spec,
                                                            eval::FineTuneProblem& problem, bool gradients,
                                                            dist::World* world);


// VIEW with the [live_landscape] probe's panels and slices, shown when its config sets
// live_landscape.every (the fine-tuning rows get them from the registry).
MethodView withLiveLandscape(MethodView view);

}  // namespace frugal::analysis
