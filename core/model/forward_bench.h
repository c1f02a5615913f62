#pragma once
// `frugal bench forward`: times the batched forward of a checkpoint and measures peak memory.
// Runs on the calling thread; sets the LibTorch/OpenBLAS thread counts it is given. No torch in
// this header.

#include <cstdint>
#include <filesystem>
#include <string>

namespace frugal::model {

struct ForwardBenchOptions {
    std::filesystem::path modelDir;
    int64_t batch = 1;
    int64_t seq = 128;
    int iters = 5;
    int threads = 0;  // > 0: set OpenBLAS threads (and one intra-op thread); else keep current
    uint64_t seed = 0;
    std::string device = "cpu";  // cpu, cuda or cuda:N
};

struct ForwardBenchResult {
    int64_t batch = 0, seq = 0;
    int iters = 0, threads = 0, intraOpThreads = 0;
    double seconds = 0;  // wall time of the timed iterations
    double tokensPerSecond = 0;
    double weightMiB = 0;    // weights in the compute dtype
    double loadPeakMiB = 0;  // peak RSS growth while loading
    double loadSeconds = 0;  // wall time of Transformer::load (config, weights, checks)
    double peakRssMiB = 0;   // process peak RSS at the end
    std::string blas;
    std::string device;
};

ForwardBenchResult benchForward(const ForwardBenchOptions& options);

}  // namespace frugal::model
