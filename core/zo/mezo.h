#pragma once
// MeZO (SPEC-ZO §1.3, §2): zeroth-order SGD with the in-place seed trick on a classification task,
// trained "as classification" (cross-entropy over the label words' summed log-likelihoods, §1.4).
// Per step: one integer seed; θ+εz, loss; θ−εz, loss; g = (l+ − l−)/(2ε); one fused pass restores
// θ and applies θ ← θ − η(g·z + λθ) (no decay on bias and norm tensors). Memory: the model, its
// activations for one batch, and one chunk of z per thread. The seeds and projected gradients of
// every step are reported, so the run can be replayed. No torch in this header.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

namespace frugal::zo {

struct MezoConfig {
    std::string model = "frugal-tiny";  // folder or built-in name
    std::string task = "sentiment";     // built-in task: trains on :train, evaluates on :dev
    std::string target = "full";        // full, bitfit, norms, head
    std::string direction = "gaussian";
    int64_t steps = 1000;
    int64_t batchSize = 16;
    double lr = 1e-6;
    double eps = 1e-3;
    double weightDecay = 0.0;
    uint64_t seed = 0;
    int64_t evalEvery = 100;  // steps; dev accuracy (and at step 0 and the last step)
    int64_t evalLimit = 0;    // dev examples scored (0: all)
    std::filesystem::path saveTo;  // empty: the fine-tuned weights are not saved
};

struct MezoHooks {
    std::function<void(const std::string&)> log;
    std::function<void(const std::string& key, int64_t step, double value)> metric;
    std::function<void(int64_t step, int64_t total, double loss)> progress;
    std::function<bool()> stopRequested;
};

struct MezoResult {
    int64_t trainable = 0, total = 0;
    int64_t steps = 0, forwardPasses = 0;
    double startDevAccuracy = 0, finalDevAccuracy = 0, bestDevAccuracy = 0;
    double seconds = 0;
};

MezoResult runMezo(const MezoConfig& config, const MezoHooks& hooks);

}  // namespace frugal::zo
