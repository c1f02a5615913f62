#pragma once
// The device a run computes on, by name ("cpu", "cuda", "cuda:N"), and what Frugal records and
// checks about it: whether the name is one, whether the device is there (an absent GPU is bad
// input, exit 2), and the GPU's name, memory and driver for a run's hardware metadata.

#include <cstdint>
#include <string>

namespace frugal::model {

// "" when NAME is cpu, cuda or cuda:N (N a non-negative integer), else what is wrong with it.
std::string deviceNameProblem(const std::string& name);
bool isCudaName(const std::string& name);

// Throws InputError naming DEVICE and why when it is a CUDA device this process cannot use: this
// build or LibTorch has no CUDA, no GPU is visible, or index N is past the visible ones.
void requireDevice(const std::string& device);

// A CUDA device's facts (all zero or empty for the CPU or where CUDA is absent).
struct DeviceFacts {
    std::string name;            // "NVIDIA H100 80GB HBM3"
    int64_t totalBytes = 0;      // its memory
    int64_t freeBytes = 0;       // free now (cudaMemGetInfo)
    std::string driver;          // the CUDA driver's version, "13.0"
    std::string runtime;         // the CUDA runtime LibTorch was built with
    int capabilityMajor = 0, capabilityMinor = 0;
};
DeviceFacts deviceFacts(const std::string& device);

// The CUDA caching allocator's peak of allocated bytes on DEVICE since the last reset (0 on the
// CPU), and the reset.
int64_t devicePeakBytes(const std::string& device);
void resetDevicePeak(const std::string& device);

// The dtype a run holds its weights in: DTYPE itself unless it is "auto", which takes the
// checkpoint's own (config.json's torch_dtype: "bfloat16", "float16", "float32") where DEVICE
// computes in it, else the nearest one it does: bf16 stays bf16 on the CPU and on CUDA, fp16
// stays fp16 on CUDA and becomes bf16 on the CPU (whose LibTorch has no fp16 matrix products: the
// same memory, the mantissa rounded to 8 bits; dtype = "fp32" keeps every fp16 value exactly),
// fp32 or an unnamed dtype is fp32.
std::string resolveDtype(const std::string& dtype, const std::string& checkpointTorchDtype, const std::string& device);

// This build can run CUDA tensors through Frugal's own kernels (core/cuda compiled in).
bool buildHasCuda();

}  // namespace frugal::model
