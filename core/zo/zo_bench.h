#pragma once
// `frugal bench zo`: the cost of one fine-tuning step against the cost of one forward pass, on
// random tokens with the plain next-token loss. Methods: mezo (ZO-SGD in place: two forwards and
// two passes over the weights, the last pass of a step made with the first of the next; the
// three-pass step of separate passes is timed beside it in the same loop), zo-adam (the same estimate with Adam state),
// adam (AdamW through autograd), sgd (SGD through autograd), forward (no-grad forwards only, the
// memory floor). Each method in its own process gives its own peak RSS. No torch in this header.

#include <cstdint>
#include <filesystem>
#include <string>

namespace frugal::zo {

struct ZoBenchOptions {
    std::filesystem::path modelDir;
    // Instead of MODELDIR: a model of this config.json's shape built in memory (seeded random
    // weights drawn tensor by tensor in fp32 and held in DTYPE), e.g. LLaMA-2-7B's.
    std::filesystem::path modelConfig;
    // the weights in memory: fp32, bf16 or fp16; auto: the checkpoint's own where the device
    // computes in it (model::resolveDtype)
    std::string dtype = "auto";
    std::string device = "cpu";  // cpu, cuda or cuda:N: where the model, batch and passes live
    bool force = false;          // run a method whose memory estimate exceeds what is available
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
    double passesMs = 0;   // mezo: median time of a step's two passes over the weights
    double stepOverForward = 0;
    double threePassStepMs = 0, threePassPassesMs = 0, threePassStepOverForward = 0;  // mezo
    std::string dtype;
    double estimateMb = 0;     // the memory guard's estimate for this method and shape
    std::string estimate;      // its parts in words
    double peakRssMb = 0;      // process peak RSS, MiB
    double baselineRssMb = 0;  // RSS before the model was loaded
    std::string device, gpu;   // the device, and on CUDA the GPU's name
    double gpuPeakMb = 0;      // on CUDA: the caching allocator's peak of allocated bytes
    double gpuEstimateMb = 0;  // on CUDA: the guard's estimate on the device
    double weightsMb = 0;      // the weights' bytes in their dtype
    double finalLoss = 0;
};

ZoBenchResult benchZo(const ZoBenchOptions& options);

}  // namespace frugal::zo
