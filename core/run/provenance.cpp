#include "run/provenance.h"

#include <unistd.h>

#include <array>
#include <cstdio>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>

#include "common/error.h"
#include "common/runtime_info.h"
#include "model/device.h"
#include "store/store.h"

namespace frugal::run {

namespace {

// stdout of a shell command, trailing newline removed; empty when it fails.
std::string capture(const std::string& command) {
    struct Closer {
        void operator()(FILE* f) const { pclose(f); }
    };
    std::unique_ptr<FILE, Closer> pipe(popen(command.c_str(), "r"));
    if (!pipe) return "";
    std::string out;
    std::array<char, 256> buf{};
    while (fgets(buf.data(), buf.size(), pipe.get())) out += buf.data();
    while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
    return out;
}

std::string quoted(const std::string& s) {
    std::string out = "'";
    for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return out + "'";
}

std::string firstLineWith(const char* file, const std::string& prefix) {
    std::ifstream in(file);
    for (std::string line; std::getline(in, line);)
        if (line.rfind(prefix, 0) == 0) {
            const size_t colon = line.find(':');
            std::string v = colon == std::string::npos ? line : line.substr(colon + 1);
            while (!v.empty() && (v[0] == ' ' || v[0] == '\t')) v.erase(0, 1);
            return v;
        }
    return "";
}

}  // namespace

std::string runDevice(const std::map<std::string, std::string>& params) {
    for (const auto& [key, value] : params) {
        const size_t dot = key.find('.');
        if (dot != std::string::npos && key.substr(dot + 1) == "device") return value;
    }
    return "cpu";
}

std::string withDevice(const std::string& hardware, const std::string& device) {
    auto hw = nlohmann::ordered_json::parse(hardware.empty() ? "{}" : hardware);
    hw["device"] = device;
    if (model::isCudaName(device)) {
        const model::DeviceFacts gpu = model::deviceFacts(device);
        hw["gpu"] = gpu.name;
        hw["gpu_memory_mib"] = gpu.totalBytes >> 20;
        hw["gpu_capability"] = cat(gpu.capabilityMajor, ".", gpu.capabilityMinor);
        hw["cuda_driver"] = gpu.driver;
        hw["cuda_runtime"] = gpu.runtime;
    }
    return hw.dump();
}

Provenance collectProvenance(const std::vector<std::string>& argv, const std::string& sourceDir) {
    Provenance p;
    const std::string git = "git -C " + quoted(sourceDir) + " ";
    p.gitCommit = capture(git + "rev-parse HEAD 2>/dev/null");
    if (!p.gitCommit.empty())
        p.gitDirty = !capture(git + "status --porcelain --untracked-files=no 2>/dev/null").empty();

    const RuntimeInfo rt = queryRuntime();
    nlohmann::ordered_json libs;
    libs["libtorch"] = rt.torchVersion;
    libs["blas"] = rt.blasKind;
    libs["blas_path"] = rt.blasPath;
    libs["openblas_config"] = rt.openblasConfig;
    libs["sqlite"] = store::sqliteVersion();
#ifdef __VERSION__
    libs["compiler"] = __VERSION__;
#endif
    p.libraries = libs.dump();

    nlohmann::ordered_json hw;
    hw["cpu"] = firstLineWith("/proc/cpuinfo", "model name");
    hw["cores"] = rt.hardwareThreads;
    hw["blas_threads"] = rt.openblasThreads;
    hw["intra_op_threads"] = rt.intraOpThreads;
    hw["memory"] = firstLineWith("/proc/meminfo", "MemTotal");
    hw["cuda"] = rt.cudaAvailable;
    char host[256] = {};
    gethostname(host, sizeof host - 1);
    hw["host"] = host;
    p.hardware = hw.dump();

    for (const auto& a : argv) {
        if (!p.commandLine.empty()) p.commandLine += ' ';
        p.commandLine += a.find_first_of(" '\"\\$") == std::string::npos ? a : quoted(a);
    }
    return p;
}

}  // namespace frugal::run
