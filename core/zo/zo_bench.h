#pragma once
// `frugal bench zo`: the cost of one fine-tuning step against the cost of one forward pass, on
// random tokens with the plain next-token loss. Methods: mezo (ZO-SGD, the fused in-place step:
// two forwards and three passes over the weights), zo-adam (the same estimate with Adam state),
// adam (AdamW through autograd), sgd (SGD through autograd), forward (no-grad forwards only, the
// memory floor). Each method in its own process gives its own peak RSS. No torch in this header.

#include <cstdint>
#include <filesystem>
#include <string>

namespace frugal::zo {

struct ZoBenchOptions {
    std::filesystem::path modelDir;
    int64_t batch = 8, seq = 128, steps = 10;
    std::string method = "mezo";  // mezo, zo-adam, adam, sgd, forward
    std::string direction = "gaussian";
    std::string target = "full";  // a base-weight target (full, norms, head, bitfit)
    uint64_t seed = 0;
};

struct ZoBenchResult {
    std::string method, direction, target, blas;
    int64_t batch = 0, seq = 0, steps = 0, parameters = 0, trainable = 0;
    int intraOpThreads = 0, blasThreads = 0;
    double stepMs = 0;     // median over the timed steps
    double forwardMs = 0;  // median no-grad forward of the same batch
    double passesMs = 0;   // mezo: median time of a step's three passes over the weights
    double stepOverForward = 0;
    double peakRssMb = 0;      // process peak RSS, MiB
    double baselineRssMb = 0;  // RSS before the model was loaded
    double finalLoss = 0;
};

ZoBenchResult benchZo(const ZoBenchOptions& options);

}  // namespace frugal::zo
