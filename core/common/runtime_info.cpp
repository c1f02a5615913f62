#include "common/runtime_info.h"

#include <torch/cuda.h>
#include <torch/version.h>

#include <dlfcn.h>
#include <malloc.h>
#include <sched.h>

#include <algorithm>
#include <climits>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

namespace frugal {
namespace {

// The library that actually serves single-precision matrix products: the one the dynamic linker
// resolves sgemm_ to (Debian's libblas.so.3 is an alternative: OpenBLAS or the reference BLAS).
std::string sgemmProvider() {
    void* symbol = dlsym(RTLD_DEFAULT, "sgemm_");
    Dl_info where{};
    if (!symbol || !dladdr(symbol, &where) || !where.dli_fname) return {};
    char resolved[PATH_MAX];
    return realpath(where.dli_fname, resolved) ? std::string(resolved)
                                               : std::string(where.dli_fname);
}

int64_t statusField(const char* key, const char* file = "/proc/self/status") {
    std::ifstream in(file);
    std::string line;
    const std::string prefix = std::string(key) + ":";
    while (std::getline(in, line)) {
        if (line.rfind(prefix, 0) == 0) return std::atoll(line.c_str() + prefix.size()) * 1024;
    }
    return 0;
}

using OpenblasSetThreads = void (*)(int);
using OpenblasVoid = void (*)();
using OpenblasInit = int (*)();

// OpenBLAS's idle worker threads busy-wait for 2^28 cycles (about 0.1 s) after each call before
// they sleep, so for that long after every matrix product they hold a core that the next non-BLAS
// work (a ZO pass over the weights, elementwise ops) needs. Unless the user set
// OPENBLAS_THREAD_TIMEOUT, restart the pool with 2^24 cycles (a few ms: still spinning across the
// gaps between the products of one forward). Measured in docs/BENCHMARKS.md. Only through
// exported OpenBLAS symbols; a BLAS without them is left alone.
void shortenOpenblasSpin() {
    if (std::getenv("OPENBLAS_THREAD_TIMEOUT")) return;
    auto readEnv = reinterpret_cast<OpenblasVoid>(dlsym(RTLD_DEFAULT, "openblas_read_env"));
    auto shutdown = reinterpret_cast<OpenblasInit>(dlsym(RTLD_DEFAULT, "blas_thread_shutdown_"));
    auto init = reinterpret_cast<OpenblasInit>(dlsym(RTLD_DEFAULT, "blas_thread_init"));
    if (!readEnv || !shutdown || !init) return;
    setenv("OPENBLAS_THREAD_TIMEOUT", "24", 0);
    readEnv();
    shutdown();
    init();
}
using OpenblasGetThreads = int (*)();
using OpenblasGetConfig = char* (*)();

}  // namespace

// Cores this process may run on (affinity masks and cpusets of cluster jobs included).
int usableCores() {
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0) return CPU_COUNT(&set);
    return std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
}

void configureThreads(int blasThreads, int intraOpThreads) {
    const int n = blasThreads > 0 ? blasThreads : usableCores();
    static const bool spinShortened = (shortenOpenblasSpin(), true);
    (void)spinShortened;
    const auto setOpenblas =
        reinterpret_cast<OpenblasSetThreads>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"));
    // Without OpenBLAS (PyPI's LibTorch: MKL and oneDNN inside it), the matrix products run on
    // LibTorch's own OpenMP pool: it takes the matrix-product thread count.
    const int intraOp = setOpenblas ? (intraOpThreads > 0 ? intraOpThreads : 1) : std::max(n, intraOpThreads);
    at::set_num_threads(intraOp);
    // LibTorch accepts one setting of the inter-op pool per process; it is 1 after the first call.
    if (at::get_num_interop_threads() != 1) at::set_num_interop_threads(1);
    if (setOpenblas) setOpenblas(n);
}

namespace {

// The knob of glibc's malloc the user set (the policy then leaves malloc alone), or "".
std::string userMallocKnob() {
    for (const char* knob : {"MALLOC_MMAP_MAX_", "MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "MALLOC_ARENA_MAX"})
        if (std::getenv(knob)) return knob;
    return {};
}

// Whether large blocks are kept in the heap (keepLargeAllocationsInHeap's policy in force): read
// off malloc itself, not remembered. Under glibc's defaults a 64 MiB block is mapped on its own
// (the mmap threshold grows to 32 MiB at most); under the policy it is not. The block is not
// touched, so it costs no resident memory.
bool largeBlocksInHeap() {
    const size_t before = mallinfo2().hblks;
    void* block = std::malloc(size_t{64} << 20);
    const bool mapped = block && mallinfo2().hblks > before;
    std::free(block);
    return block && !mapped;
}

// The allocator as it is now, in one line for the runtime info.
std::string allocatorLine() {
    if (const std::string knob = userMallocKnob(); !knob.empty()) return "malloc: glibc's defaults (" + knob + " is set)";
    if (const char* off = std::getenv("FRUGAL_SYSTEM_MALLOC"); off && std::string(off) == "1")
        return "malloc: glibc's defaults (FRUGAL_SYSTEM_MALLOC=1)";
    return largeBlocksInHeap() ? "malloc: large blocks kept in the heap (one arena, mmap off, 1 GiB trim threshold)"
                               : "malloc: glibc's defaults";
}

}  // namespace

std::string keepLargeAllocationsInHeap() {
    static const bool applied = [] {
        // MKL (inside PyPI's LibTorch) keeps the buffers it frees for reuse: 40-150 MB above what
        // a forward holds at 17-49 M parameters, beyond the memory estimate (docs/BENCHMARKS.md).
        // It reads this at its first allocation; a value the user set is kept.
        setenv("MKL_DISABLE_FAST_MM", "1", 0);
        if (!userMallocKnob().empty()) return false;
        if (const char* off = std::getenv("FRUGAL_SYSTEM_MALLOC"); off && std::string(off) == "1") return false;
        // one arena: a thread's own arena would still map its large blocks (glibc maps what its
        // 64 MiB heaps cannot hold, whatever M_MMAP_MAX says), and runs train on worker threads
        return mallopt(M_ARENA_MAX, 1) == 1 && mallopt(M_MMAP_MAX, 0) == 1 && mallopt(M_TRIM_THRESHOLD, 1 << 30) == 1;
    }();
    (void)applied;
    return allocatorLine();
}

static std::string mklCacheState() {
    const char* v = std::getenv("MKL_DISABLE_FAST_MM");
    return v && std::string(v) == "1" ? "; MKL's buffer cache off" : "; MKL's buffer cache on";
}

std::string blasKindOf(const std::string& sgemmPath, const std::string& builtWith) {
    if (sgemmPath.empty()) return "unknown";
    // Debian's alternatives keep OpenBLAS's libblas.so.3 in an openblas-* directory
    if (sgemmPath.find("openblas") != std::string::npos) return "OpenBLAS";
    const std::string file = std::filesystem::path(sgemmPath).filename().string();
    if (file.find("mkl") != std::string::npos) return "MKL";
    // MKL linked into LibTorch itself: sgemm_ is LibTorch's own
    if (file.find("libtorch_cpu") != std::string::npos && builtWith == "mkl") return "MKL";
    return "reference BLAS";
}

RuntimeInfo queryRuntime() {
    RuntimeInfo info;
    info.torchVersion = TORCH_VERSION;
    info.blasPath = sgemmProvider();
    info.allocator = allocatorLine();
    if (auto get = reinterpret_cast<OpenblasGetConfig>(dlsym(RTLD_DEFAULT, "openblas_get_config")))
        info.openblasConfig = get();
    if (auto get =
            reinterpret_cast<OpenblasGetThreads>(dlsym(RTLD_DEFAULT, "openblas_get_num_threads")))
        info.openblasThreads = get();
    // the BLAS LibTorch was built with, from its build settings ("mkl" in PyPI's wheel, which
    // carries MKL inside libtorch_cpu; "generic" in Debian's, which loads libblas.so.3)
    const std::string config = at::show_config();
    const auto blasInfo = config.find("BLAS_INFO=");
    const std::string builtWith =
        blasInfo == std::string::npos
            ? std::string()
            : config.substr(blasInfo + 10, config.find_first_of(", \n", blasInfo) - blasInfo - 10);
    info.blasKind = blasKindOf(info.blasPath, builtWith);
    info.referenceBlas = info.blasKind == "reference BLAS";
    info.intraOpThreads = at::get_num_threads();
    info.interOpThreads = at::get_num_interop_threads();
    info.hardwareThreads = usableCores();
    info.cudaAvailable = torch::cuda::is_available();
    return info;
}

std::string runtimeLine(const RuntimeInfo& info) {
    return "LibTorch " + info.torchVersion + ", BLAS: " + info.blasKind + " (" +
           (info.blasPath.empty() ? std::string("not found") : info.blasPath) +
           "), threads: " + std::to_string(info.intraOpThreads) + " intra-op, " +
           std::to_string(info.interOpThreads) + " inter-op, " +
           (info.openblasThreads > 0 ? std::to_string(info.openblasThreads) + " OpenBLAS, " : std::string()) +
           std::to_string(info.hardwareThreads) + " cores; " + info.allocator +
           (info.blasKind == "MKL" ? mklCacheState() : std::string());
}

int64_t currentRssBytes() { return statusField("VmRSS"); }
int64_t peakRssBytes() { return statusField("VmHWM"); }

int64_t availableMemoryBytes() {
    int64_t bytes = statusField("MemAvailable", "/proc/meminfo");
    // a cgroup limit (a container, a Slurm job) may be tighter than the machine's free memory
    std::ifstream limit("/sys/fs/cgroup/memory.max"), usage("/sys/fs/cgroup/memory.current");
    std::string max;
    int64_t used = 0;
    if (limit >> max && max != "max" && usage >> used) {
        const int64_t room = std::atoll(max.c_str()) - used;
        if (room >= 0 && (bytes == 0 || room < bytes)) bytes = room;
    }
    return bytes;
}

bool resetPeakRss() {
    std::ofstream out("/proc/self/clear_refs");
    out << "5";
    out.flush();
    return static_cast<bool>(out);
}

}  // namespace frugal
