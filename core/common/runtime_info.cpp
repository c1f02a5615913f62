#include "common/runtime_info.h"

#include <dlfcn.h>

#include <climits>
#include <cstdlib>
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
    return realpath(where.dli_fname, resolved) ? std::string(resolved) : std::string(where.dli_fname);
}

int64_t statusField(const char* key) {
    std::ifstream in("/proc/self/status");
    std::string line;
    const std::string prefix = std::string(key) + ":";
    while (std::getline(in, line)) {
        if (line.rfind(prefix, 0) == 0) return std::atoll(line.c_str() + prefix.size()) * 1024;
    }
    return 0;
}

using OpenblasSetThreads = void (*)(int);
using OpenblasGetThreads = int (*)();
using OpenblasGetConfig = char* (*)();

}  // namespace

void configureThreads(int blasThreads, int intraOpThreads) {
    const int n = blasThreads > 0 ? blasThreads : static_cast<int>(std::thread::hardware_concurrency());
    at::set_num_threads(intraOpThreads > 0 ? intraOpThreads : 1);
    static bool interopSet = false;
    if (!interopSet) {
        at::set_num_interop_threads(1);
        interopSet = true;
    }
    if (auto set = reinterpret_cast<OpenblasSetThreads>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads")))
        set(n);
}

RuntimeInfo queryRuntime() {
    RuntimeInfo info;
    info.torchVersion = TORCH_VERSION;
    info.blasPath = sgemmProvider();
    if (auto get = reinterpret_cast<OpenblasGetConfig>(dlsym(RTLD_DEFAULT, "openblas_get_config")))
        info.openblasConfig = get();
    if (auto get = reinterpret_cast<OpenblasGetThreads>(dlsym(RTLD_DEFAULT, "openblas_get_num_threads")))
        info.openblasThreads = get();
    if (info.blasPath.find("openblas") != std::string::npos) {
        info.blasKind = "OpenBLAS";
    } else if (info.blasPath.find("mkl") != std::string::npos) {
        info.blasKind = "MKL";
    } else if (!info.blasPath.empty()) {
        info.blasKind = "reference BLAS";
        info.referenceBlas = true;
    } else {
        info.blasKind = "unknown";
    }
    info.intraOpThreads = at::get_num_threads();
    info.interOpThreads = at::get_num_interop_threads();
    info.hardwareThreads = static_cast<int>(std::thread::hardware_concurrency());
    info.cudaAvailable = torch::cuda::is_available();
    return info;
}

int64_t currentRssBytes() { return statusField("VmRSS"); }
int64_t peakRssBytes() { return statusField("VmHWM"); }

bool resetPeakRss() {
    std::ofstream out("/proc/self/clear_refs");
    out << "5";
    out.flush();
    return static_cast<bool>(out);
}

}  // namespace frugal
