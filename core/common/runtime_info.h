#pragma once
// What the numeric runtime is: LibTorch version, the BLAS library actually loaded, thread counts,
// CUDA. Queried at start-up so that a slow reference BLAS or an oversubscribed machine is
// visible in the log and in each run's metadata. Plain values; no torch in this header.

#include <cstdint>
#include <string>

namespace frugal {

struct RuntimeInfo {
    std::string torchVersion;
    std::string blasPath;   // resolved path of the loaded libblas, empty if none found
    std::string blasKind;   // "OpenBLAS", "reference BLAS", "MKL" or "unknown"
    std::string openblasConfig;
    bool referenceBlas = false;
    int intraOpThreads = 0;
    int interOpThreads = 0;
    int openblasThreads = 0;  // 0 when OpenBLAS is not loaded
    int hardwareThreads = 0;
    bool cudaAvailable = false;
};

// Sets LibTorch's intra-op threads and OpenBLAS's threads to `threads` (<= 0: one per core), and
// inter-op threads to 1 (only once per process; LibTorch refuses later changes).
void configureThreads(int threads);

RuntimeInfo queryRuntime();

// Current and peak resident set size of this process, in bytes (Linux /proc/self/status).
int64_t currentRssBytes();
int64_t peakRssBytes();
// Resets the peak to the current RSS (Linux clear_refs); false where the kernel refuses.
bool resetPeakRss();

}  // namespace frugal
