#include "model/device.h"

#include <torch/cuda.h>

#include <algorithm>
#include <cctype>

#include "common/error.h"

#if FRUGAL_WITH_CUDA
#include <c10/cuda/CUDACachingAllocator.h>
#include <c10/cuda/CUDAFunctions.h>
#include <cuda_runtime_api.h>
#endif

namespace frugal::model {

std::string deviceNameProblem(const std::string& name) {
    if (name == "cpu" || name == "cuda") return "";
    if (name.rfind("cuda:", 0) == 0) {
        const std::string index = name.substr(5);
        if (!index.empty() && index.size() <= 4 &&
            std::all_of(index.begin(), index.end(), [](unsigned char c) { return std::isdigit(c); }))
            return "";
        return cat("'", name, "' names no GPU: expected cuda:N with N the GPU's index (0, 1, ...)");
    }
    return cat("unknown device '", name, "' (expected cpu, cuda or cuda:N)");
}

bool isCudaName(const std::string& name) { return name.rfind("cuda", 0) == 0; }

bool buildHasCuda() {
#if FRUGAL_WITH_CUDA
    return true;
#else
    return false;
#endif
}

namespace {
int indexOf(const std::string& device) { return device == "cuda" ? 0 : std::stoi(device.substr(5)); }
}  // namespace

void requireDevice(const std::string& device) {
    if (const std::string problem = deviceNameProblem(device); !problem.empty()) failInput("device: ", problem);
    if (!isCudaName(device)) return;
    if (!buildHasCuda())
        failInput("device = \"", device, "\": this build of Frugal has no CUDA (it was configured without nvcc or "
                  "with a CPU-only LibTorch); use device = \"cpu\"");
    const int64_t count = torch::cuda::is_available() ? static_cast<int64_t>(torch::cuda::device_count()) : 0;
    if (count == 0)
        failInput("device = \"", device, "\": no CUDA device (this machine has no GPU that the driver shows, or "
                  "CUDA_VISIBLE_DEVICES hides every one); use device = \"cpu\"");
    if (indexOf(device) >= count)
        failInput("device = \"", device, "\": no such CUDA device: ", count, " visible (cuda:0 .. cuda:", count - 1,
                  ")");
}

std::string resolveDtype(const std::string& dtype, const std::string& checkpointTorchDtype, const std::string& device) {
    if (dtype != "auto") return dtype;
    if (checkpointTorchDtype == "bfloat16") return "bf16";
    if (checkpointTorchDtype == "float16") return isCudaName(device) ? "fp16" : "bf16";
    return "fp32";
}

DeviceFacts deviceFacts(const std::string& device) {
    DeviceFacts f;
#if FRUGAL_WITH_CUDA
    if (!isCudaName(device) || !torch::cuda::is_available()) return f;
    const int index = indexOf(device);
    cudaDeviceProp prop{};
    if (cudaGetDeviceProperties(&prop, index) != cudaSuccess) {
        (void)cudaGetLastError();
        return f;
    }
    f.name = prop.name;
    f.totalBytes = static_cast<int64_t>(prop.totalGlobalMem);
    f.capabilityMajor = prop.major;
    f.capabilityMinor = prop.minor;
    int current = 0;
    if (cudaGetDevice(&current) == cudaSuccess && cudaSetDevice(index) == cudaSuccess) {
        size_t freeBytes = 0, totalBytes = 0;
        if (cudaMemGetInfo(&freeBytes, &totalBytes) == cudaSuccess) f.freeBytes = static_cast<int64_t>(freeBytes);
        (void)cudaSetDevice(current);
    }
    int version = 0;
    if (cudaDriverGetVersion(&version) == cudaSuccess)
        f.driver = cat(version / 1000, ".", (version % 1000) / 10);
    if (cudaRuntimeGetVersion(&version) == cudaSuccess)
        f.runtime = cat(version / 1000, ".", (version % 1000) / 10);
    (void)cudaGetLastError();
#else
    (void)device;
#endif
    return f;
}

int64_t devicePeakBytes(const std::string& device) {
#if FRUGAL_WITH_CUDA
    if (!isCudaName(device) || !torch::cuda::is_available()) return 0;
    const auto stats = c10::cuda::CUDACachingAllocator::getDeviceStats(static_cast<c10::DeviceIndex>(indexOf(device)));
    return stats.allocated_bytes[static_cast<size_t>(c10::CachingAllocator::StatType::AGGREGATE)].peak;
#else
    (void)device;
    return 0;
#endif
}

void resetDevicePeak(const std::string& device) {
#if FRUGAL_WITH_CUDA
    if (!isCudaName(device) || !torch::cuda::is_available()) return;
    c10::cuda::CUDACachingAllocator::resetPeakStats(static_cast<c10::DeviceIndex>(indexOf(device)));
#else
    (void)device;
#endif
}

}  // namespace frugal::model
