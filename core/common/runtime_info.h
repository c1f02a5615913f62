#pragma once
// What the numeric runtime is: LibTorch version, the BLAS library actually loaded, thread counts,
// CUDA. Queried at start-up so that a slow reference BLAS or an oversubscribed machine is
// visible in the log and in each run's metadata. Plain values; no torch in this header.

#include <cstdint>
#include <string>

namespace frugal {

struct RuntimeInfo {
    std::string torchVersion;
    std::string blasPath;  // resolved path of the loaded libblas, empty if none found
    std::string blasKind;  // "OpenBLAS", "reference BLAS", "MKL" or "unknown"
    std::string openblasConfig;
    std::string allocator;  // malloc as it behaves now: keepLargeAllocationsInHeap's policy or glibc's defaults
    bool referenceBlas = false;
    int intraOpThreads = 0;
    int interOpThreads = 0;
    int openblasThreads = 0;  // 0 when OpenBLAS is not loaded
    int hardwareThreads = 0;  // cores this process may use (affinity mask)
    bool cudaAvailable = false;
};

// Sets the thread counts explicitly; inter-op to 1 (once per process; LibTorch refuses later
// changes). Matrix products get `blasThreads` (<= 0: one per core):
// - LibTorch on OpenBLAS (Debian's): OpenBLAS's pool gets them and LibTorch's OpenMP intra-op pool
//   `intraOpThreads` (<= 0: 1). Both pools busy-wait, so on a small machine they oversubscribe the
//   cores: one intra-op thread with all cores for BLAS measured fastest (docs/BENCHMARKS.md).
// - LibTorch with MKL and oneDNN inside (PyPI's): one OpenMP pool runs the products and every
//   other op; it gets max(blasThreads, intraOpThreads).
void configureThreads(int blasThreads, int intraOpThreads = 1);

// glibc's malloc hands every allocation above 32 MiB to mmap and returns it on free, so each
// forward of a large batch (logits, MLP activations) faults its pages in anew; on this kind of
// virtual machine that made a forward of 64 sequences 4.5x slower per token than one of 16
// (docs/BENCHMARKS.md). Keeps large blocks in the heap instead (one arena for every thread, mmap
// off, at most 1 GiB of free heap top kept), once per process; not where the user set
// MALLOC_MMAP_MAX_, MALLOC_MMAP_THRESHOLD_, MALLOC_TRIM_THRESHOLD_ or MALLOC_ARENA_MAX (glibc's
// own knobs) or FRUGAL_SYSTEM_MALLOC=1. Also turns MKL's cache of freed buffers off
// (MKL_DISABLE_FAST_MM=1, unless the user set it), which held memory beyond the estimate.
// Returns what it did, for the log.
std::string keepLargeAllocationsInHeap();
int usableCores();

RuntimeInfo queryRuntime();
// What serves sgemm_: "OpenBLAS", "MKL" (its own library, or linked into libtorch_cpu by a LibTorch
// built with MKL, BUILT_WITH "mkl"), "reference BLAS" (any other library: Debian's libblas3,
// about 9x slower) or "unknown" (SGEMM_PATH empty: no sgemm_ in the process).
std::string blasKindOf(const std::string& sgemmPath, const std::string& builtWith);
// One line for the log: "LibTorch V, BLAS: KIND (PATH), threads: I intra-op, J inter-op[, K
// OpenBLAS], C cores; malloc: ...".
std::string runtimeLine(const RuntimeInfo& info);

// Current and peak resident set size of this process, in bytes (Linux /proc/self/status).
int64_t currentRssBytes();
int64_t peakRssBytes();
// Memory this process could still take: MemAvailable (/proc/meminfo), or a tighter cgroup
// limit's remaining room; 0 when unknown.
int64_t availableMemoryBytes();
// Resets the peak to the current RSS (Linux clear_refs); false where the kernel refuses.
bool resetPeakRss();

}  // namespace frugal
