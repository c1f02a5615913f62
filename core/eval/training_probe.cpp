#include "eval/training_probe.h"

#include <mutex>

#include "common/error.h"

namespace frugal::eval {

namespace {

std::mutex& factoryMutex() {
    static std::mutex m;
    return m;
}
TrainingProbeFactory& factory() {
    static TrainingProbeFactory f;
    return f;
}

}  // namespace

void installLiveLandscape(TrainingProbeFactory f) {
    const std::lock_guard<std::mutex> lock(factoryMutex());
    factory() = std::move(f);
}

std::unique_ptr<TrainingProbe> makeLiveLandscape(const LiveLandscapeSpec& spec, FineTuneProblem& problem,
                                                 bool gradients) {
    if (!spec.enabled()) return nullptr;
    TrainingProbeFactory f;
    {
        const std::lock_guard<std::mutex> lock(factoryMutex());
        f = factory();
    }
    if (!f) fail("live_landscape: no landscape probe is installed (the run layer installs it; call run::methods() first)");
    return f(spec, problem, gradients);
}

}  // namespace frugal::eval
