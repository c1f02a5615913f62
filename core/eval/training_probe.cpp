#include "eval/training_probe.h"

#include "common/error.h"

namespace frugal::eval {

std::unique_ptr<TrainingProbe> makeLiveLandscape(const TrainingProbeFactory& factory,
                                                 const LiveLandscapeSpec& spec, FineTuneProblem& problem,
                                                 bool gradients, dist::World* world) {
    if (!spec.enabled()) return nullptr;
    if (!factory)
        fail("live_landscape: this caller runs without the landscape probe (it is handed to the zo, mezo "
             "and fo methods by the method registry); remove the [live_landscape] table");
    return factory(spec, problem, gradients, world);
}

}  // namespace frugal::eval
