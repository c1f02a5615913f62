#include "common/runtime_info.h"

#include <dlfcn.h>
#include <link.h>

#include <climits>
#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>

namespace frugal {
namespace {

int dlCallback(struct dl_phdr_info* info, size_t, void* data) {
    auto* found = static_cast<std::string*>(data);
    const std::string name = info->dlpi_name ? info->dlpi_name : "";
    if (found->empty() && (name.find("libblas.so") != std::string::npos ||
                           name.find("libopenblas") != std::string::npos ||
                           name.find("libmkl_rt") != std::string::npos)) {
        char resolved[PATH_MAX];
        *found = realpath(name.c_str(), resolved) ? std::string(resolved) : name;
    }
    return 0;
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

void configureThreads(int threads) {
    const int n = threads > 0 ? threads : static_cast<int>(std::thread::hardware_concurrency());
    at::set_num_threads(n);
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
    dl_iterate_phdr(dlCallback, &info.blasPath);
    if (auto get = reinterpret_cast<OpenblasGetConfig>(dlsym(RTLD_DEFAULT, "openblas_get_config")))
        info.openblasConfig = get();
    if (auto get = reinterpret_cast<OpenblasGetThreads>(dlsym(RTLD_DEFAULT, "openblas_get_num_threads")))
        info.openblasThreads = get();
    if (info.blasPath.find("openblas") != std::string::npos || !info.openblasConfig.empty()) {
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
