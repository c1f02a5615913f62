#pragma once
// What a run will need in memory, estimated from its config alone before anything is loaded
// (issue #17's memory guard): the weights in their dtype, the trainable copies and optimiser
// state, the activations of one forward (or of a forward kept for backward) at the batch's
// shape, the method's own buffers, and the process as it is before the model loads. Every
// fine-tuning and pruning run stores its estimate beside its measured peak RSS; the guard refuses
// a run whose estimate exceeds the memory available, naming what takes it and a method that fits.
// No torch in this header.

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "common/events.h"
#include "model/model_config.h"

namespace frugal::eval {

struct MemoryEstimate {
    std::string method;  // in words: "MeZO (ZO-SGD)", "AdamW"
    std::vector<std::pair<std::string, int64_t>> parts;  // bytes: weights, gradients, moments, ...
    int64_t total() const;
    // "≈ 14.2 GiB (weights 12.6, activations 1.3, runtime 0.3)"
    std::string text() const;
    // "AdamW needs ≈ 108 GiB (weights 25, ...)"
    std::string line() const { return method + " needs " + text(); }
};

// "12GiB", "800 MiB", "16GB", "1.5TiB", "4096" (bytes) as bytes; KEY names it in the message.
int64_t parseByteSize(const std::string& text, const std::string& key);

// Bytes per element of "fp32", "bf16" or "fp16".
int64_t dtypeBytes(const std::string& dtype);

// The batch a run's forward sees at its largest: SEQUENCES sequences of TOKENS tokens, of which
// HEADROWS positions go through the LM head (the scored continuation tokens; -1: all).
struct BatchShape {
    int64_t sequences = 1, tokens = 1, headRows = -1;
};

// The peak bytes beyond the weights of one forward in ELEMENTBYTES-sized activations, without
// (inference) or with (training) the activations autograd keeps for backward.
int64_t forwardActivationBytes(const model::ModelConfig& config, const BatchShape& shape, int64_t elementBytes,
                               bool training);

// How a fine-tuning run trains: ZO (forwards only) or first order (autograd); its optimiser's
// parameter-sized state buffers (0: SGD, 1: momentum, 2: Adam) and their element size.
struct TrainingPlan {
    std::string method;  // in words
    bool firstOrder = false;
    int stateBuffers = 0;
    int64_t stateElementBytes = 4;
    bool sparseMask = false;  // Sparse-MeZO or keep_zeros: one bit a trainable element
    int64_t loraMaskBytes = 0;  // peft.lora_keep_zeros: the adapted matrices' non-zero masks
};

// A fine-tuning run on CONFIG in DTYPE training TRAINABLE elements (ADAPTERELEMENTS of which are
// fp32 adapters beside the base weights' TOTAL), at SHAPE; RUNTIMEBYTES: the process before the
// model loads (its current RSS).
MemoryEstimate estimateFineTune(const model::ModelConfig& config, const std::string& dtype, int64_t total,
                                int64_t trainable, int64_t adapterElements, const BatchShape& shape,
                                const TrainingPlan& plan, int64_t runtimeBytes);

// Pruning CONFIG's model (fp32) block by block: NSAMPLES calibration windows of SEQLEN tokens in batches
// of BATCH; SPARSEGPT adds its per-layer Hessians; EVALTOKENS > 0 the perplexity windows' forward
// (EVALBATCH sequences of EVALTOKENS, every position through the head).
MemoryEstimate estimatePruning(const model::ModelConfig& config, const std::string& method, int64_t samples,
                               int64_t seqLen, int64_t batch, bool spilled, int64_t evalTokens, int64_t evalBatch,
                               int64_t runtimeBytes);

// The process before a model of CONFIG's family loads, as the estimates' runtime part: its RSS
// after one forward of a tiny random model of that family (1 layer, hidden 64, 2 x 16 tokens),
// once per process, so that the kernels' code and the BLAS's own buffers that every forward
// touches are counted (PyPI's LibTorch: 60-120 MB more than before any compute;
// docs/BENCHMARKS.md).
int64_t runtimeBytesBeforeLoading(const model::ModelConfig& config);

// Refuses (one InputError) when NEED exceeds the memory available now (MemAvailable plus what
// the process already holds, counted in NEED's runtime), naming NEED's parts and the first of
// ALTERNATIVES that fits; FORCE: only a warning to SINK (when given).
void guardMemory(const MemoryEstimate& need, const std::vector<MemoryEstimate>& alternatives, bool force,
                 const std::string& source, EventSink* sink = nullptr);

// NEED as a CUDA device holds it: every part but the host process's runtime, plus the CUDA
// context (its kernels and cuBLAS's workspaces) and the caching allocator's reserve (freed blocks
// it keeps for reuse: 1/16 of the rest, at least 256 MiB).
MemoryEstimate onCudaDevice(const MemoryEstimate& need);
// guardMemory for a run on DEVICE ("cpu", "cuda", "cuda:N"): on the CPU, guardMemory; on CUDA
// (model::requireDevice first: no GPU is bad input) onCudaDevice(NEED) against the device's free
// memory (cudaMemGetInfo), naming the GPU.
void guardRunMemory(const MemoryEstimate& need, const std::vector<MemoryEstimate>& alternatives, bool force,
                    const std::string& source, const std::string& device, EventSink* sink = nullptr);
// Stores NEED as run metrics: mem/estimate_mb and mem/estimate_<part>_mb at step 0.
// RESUMED: a run continued from its checkpoint keeps the estimate it stored at step 0 (the
// metrics at step 0 are not written again); the log still says it.
void reportEstimate(EventSink& sink, const MemoryEstimate& need, bool resumed = false);
// At a run's end: the process's peak RSS (mem/peak_rss_mb) and its ratio to NEED
// (mem/peak_over_estimate), at STEP; on a CUDA DEVICE also the caching allocator's peak
// (mem/gpu_peak_mb) and the device estimate (mem/gpu_estimate_mb).
void reportPeak(EventSink& sink, int64_t step, const MemoryEstimate& need, const std::string& device = "cpu");

}  // namespace frugal::eval
