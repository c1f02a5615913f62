#include "eval/memory_estimate.h"

#include <algorithm>
#include <cstdio>

#include "common/error.h"
#include "common/format.h"
#include "common/runtime_info.h"
#include "model/device.h"
#include "model/transformer.h"
#include "peft/peft_options.h"
#include "common/metric_keys.h"

namespace frugal::eval {

namespace {

std::string gib(int64_t bytes) {
    const double g = static_cast<double>(bytes) / (1 << 30);
    char text[32];
    std::snprintf(text, sizeof text, g >= 10 ? "%.0f" : g >= 0.1 ? "%.1f" : "%.2f", g);
    return text;
}

// The heap's overhead over the live tensors' bytes (glibc keeps freed blocks, and a block freed
// at one size is not always reused at the next), for a forward and for what autograd keeps:
// fitted to the MeZO and AdamW runs of two model sizes (21 M and 49 M parameters, fp32;
// docs/BENCHMARKS.md) for each BLAS LibTorch runs on. Debian's LibTorch 1.13 on OpenBLAS: 1.15
// and 1.28, then checked on the large models. PyPI's LibTorch 2.11 with MKL inside: a forward's
// working set measured 1.3-1.46 x the OpenBLAS fit's, autograd's about 0.85-0.9 x (fitted on the
// same six rows; the large models not re-run).
struct HeapFactors {
    double inference, training;
};

const HeapFactors& heapFactors() {
    static const HeapFactors factors =
        queryRuntime().blasKind == "MKL" ? HeapFactors{1.6, 1.12} : HeapFactors{1.15, 1.28};
    return factors;
}

}  // namespace

int64_t runtimeBytesBeforeLoading(const model::ModelConfig& config) {
    // once per process, thread-safe (the first caller warms the runtime, the others wait)
    static const bool warmed = [&config] {
        model::ModelConfig tiny = config;
        tiny.hiddenSize = 64;
        tiny.numHeads = 4;
        tiny.numKvHeads = config.numKvHeads > 0 && config.numKvHeads < config.numHeads ? 2 : 4;
        tiny.headDim = 16;
        tiny.intermediateSize = 128;
        tiny.numLayers = 1;
        tiny.vocabSize = 256;
        tiny.maxPositions = std::max<int64_t>(32, std::min<int64_t>(config.maxPositions, 64));
        tiny.wordEmbedProjDim = config.wordEmbedProjDim > 0 ? 32 : 0;
        tiny.slidingWindow.reset();
        tiny.bosTokenId.reset();
        tiny.eosTokenId.reset();
        tiny.padTokenId.reset();
        const model::Transformer model = model::Transformer::random(tiny, 0);
        torch::NoGradGuard noGrad;
        (void)model.forward(torch::randint(tiny.vocabSize, {2, 16}, torch::kLong));
        return true;
    }();
    (void)warmed;
    return currentRssBytes();
}

int64_t MemoryEstimate::total() const {
    int64_t n = 0;
    for (const auto& [name, bytes] : parts) n += bytes;
    return n;
}

std::string MemoryEstimate::text() const {
    std::string out = "≈ " + gib(total()) + " GiB (";
    bool first = true;
    for (const auto& [name, bytes] : parts) {
        if (bytes <= 0) continue;
        out += (first ? "" : ", ") + name + " " + gib(bytes);
        first = false;
    }
    return out + ")";
}

int64_t parseByteSize(const std::string& text, const std::string& key) {
    size_t used = 0;
    double value = 0;
    try {
        value = std::stod(text, &used);
    } catch (const std::exception&) {
        used = 0;
    }
    std::string unit = text.substr(used);
    unit.erase(0, unit.find_first_not_of(' '));
    static const std::pair<const char*, double> units[] = {
        {"", 1},        {"B", 1},          {"KiB", 1024.0},    {"MiB", 1048576.0}, {"GiB", 1073741824.0},
        {"TiB", 1099511627776.0}, {"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12}};
    for (const auto& [name, scale] : units)
        if (used > 0 && unit == name && value > 0 && value * scale < 9.2e18) return static_cast<int64_t>(value * scale);
    failInput(key, " = \"", text, "\": expected a size such as \"12GiB\", \"800MiB\" or \"16GB\"");
}

int64_t dtypeBytes(const std::string& dtype) {
    if (dtype == "fp32") return 4;
    if (dtype == "bf16" || dtype == "fp16") return 2;
    fail("dtype is '", dtype, "', expected fp32, bf16 or fp16");
}

int64_t forwardActivationBytes(const model::ModelConfig& c, const BatchShape& shape, int64_t s, bool training) {
    const double n = static_cast<double>(shape.sequences), t = static_cast<double>(shape.tokens);
    const double h = static_cast<double>(c.hiddenSize), i = static_cast<double>(c.intermediateSize);
    const double heads = static_cast<double>(c.numHeads), v = static_cast<double>(c.vocabSize);
    const double e = static_cast<double>(s);
    const bool gated = c.activation == "silu";
    const double ntH = n * t * h, ntI = n * t * i, scores = n * heads * t * t;
    // live through a block: the residual stream, its input and the mask (bool and additive)
    const double resident = 3 * e * ntH + (1 + e) * n * t * t;
    // the largest moment of a block: attention (q, k, v and the rotary temporaries; the scores,
    // their fp32 copy, fp32 softmax and its cast) or the MLP (gate, up, act and product)
    const double attention = 8 * e * ntH + (2 * e + 8) * scores;
    const double mlp = (gated ? 4 : 2) * e * ntI + e * ntH;
    const double rows = shape.headRows >= 0 ? static_cast<double>(shape.headRows) : n * t;
    const double head = rows * v * (e + 8) + rows * h * e;
    // glibc keeps the freed blocks of one shape and fragments between the next: measured on
    // two model sizes (docs/BENCHMARKS.md), a forward's heap peaks 1.15 × its live tensors' (on
    // OpenBLAS; heapFactors)
    const HeapFactors& heap = heapFactors();
    double bytes = heap.inference * (resident + std::max({attention, mlp, head}));
    if (training) {
        // kept per block for backward: the norms' fp32 statistics, q, k, v after rotary, the
        // attention probabilities (fp32 and cast), the MLP's intermediates; then the head's
        // logits in fp32 and the backward's own working set (about one block's forward)
        const double kept = 2 * (8 + e) * ntH + 7 * e * ntH + (4 + e) * scores + (gated ? 4 : 3) * e * ntI;
        bytes += heap.training * (static_cast<double>(c.numLayers) * kept + rows * v * (e + 8) + std::max(attention, mlp));
    }
    return static_cast<int64_t>(bytes);
}

MemoryEstimate estimateFineTune(const model::ModelConfig& c, const std::string& dtype, int64_t total,
                                int64_t trainable, int64_t adapterElements, const BatchShape& shape,
                                const TrainingPlan& plan, int64_t runtimeBytes) {
    const int64_t s = dtypeBytes(dtype);
    // trainable base weights are held in the model's dtype, adapters in fp32
    const int64_t baseTrainable = std::max<int64_t>(0, trainable - adapterElements);
    const int64_t trainableBytes = baseTrainable * s + adapterElements * 4;
    MemoryEstimate m;
    m.method = plan.method;
    m.parts.emplace_back("weights", total * s + adapterElements * 4);
    if (plan.firstOrder) {
        m.parts.emplace_back("gradients", trainableBytes);
        // torch's optimisers keep their state in each parameter's dtype
        m.parts.emplace_back(plan.stateBuffers >= 2 ? "moments" : "momentum",
                             plan.stateBuffers * trainableBytes);
    } else {
        m.parts.emplace_back(plan.stateBuffers >= 2 ? "moments" : "momentum",
                             plan.stateBuffers * trainable * plan.stateElementBytes);
        if (plan.sparseMask) m.parts.emplace_back("mask", trainable / 8);
    }
    if (plan.loraMaskBytes > 0) m.parts.emplace_back("LoRA masks", plan.loraMaskBytes);
    m.parts.emplace_back("activations", forwardActivationBytes(c, shape, s, plan.firstOrder));
    m.parts.emplace_back("runtime", runtimeBytes);
    return m;
}

MemoryEstimate estimatePruning(const model::ModelConfig& c, const std::string& method, int64_t samples,
                               int64_t seqLen, int64_t batch, bool spilled, int64_t evalTokens, int64_t evalBatch,
                               int64_t runtimeBytes) {
    const int64_t h = c.hiddenSize, i = c.intermediateSize;
    MemoryEstimate m;
    m.method = method;
    m.parts.emplace_back("weights", peft::countTrainable(c, peft::PeftOptions{}).total * 4);  // fp32
    // a block's inputs, dense outputs and pruned outputs for every calibration window, fp32
    m.parts.emplace_back("calibration", spilled ? 0 : 3 * samples * seqLen * h * 4);
    // every pruned matrix's mask, kept (fp32) for masks.safetensors and the per-matrix report
    const int64_t kv = c.numKvHeads * c.headDim;
    const int64_t prunable = c.numLayers * (2 * h * h + 2 * h * kv + (c.activation == "silu" ? 3 : 2) * h * i);
    m.parts.emplace_back("masks", prunable * 4);
    // one block's forward on a batch of windows; Wanda++ differentiates through the block
    const bool regional = method.rfind("wanda++", 0) == 0 || method.rfind("wandapp", 0) == 0;
    BatchShape block{batch, seqLen, 0};
    model::ModelConfig oneBlock = c;
    oneBlock.numLayers = 1;
    int64_t work = forwardActivationBytes(oneBlock, block, 4, regional);
    // the largest matrix's scores and the sort that selects its mask (fp32 values, int64 order)
    work += std::max(h, i) * h * (4 + 8 + 4);
    if (method == "sparsegpt") work += (4 * h * h + i * i) * 4 * 2;  // Hessians and their inverses
    int64_t eval = 0;
    if (evalTokens > 0) eval = forwardActivationBytes(c, {evalBatch, evalTokens, -1}, 4, false);
    m.parts.emplace_back("activations", std::max(work, eval));
    m.parts.emplace_back("runtime", runtimeBytes);
    return m;
}

void guardMemory(const MemoryEstimate& need, const std::vector<MemoryEstimate>& alternatives, bool force,
                 const std::string& source, EventSink* sink) {
    const int64_t available = availableMemoryBytes();
    if (available <= 0) return;  // unknown: nothing to compare with
    int64_t runtime = 0;
    for (const auto& [name, bytes] : need.parts)
        if (name == "runtime") runtime = bytes;
    // what the process holds already is in NEED's runtime part and not in MemAvailable
    const int64_t usable = available + runtime;
    if (need.total() <= usable) return;
    std::string fits;
    for (const MemoryEstimate& a : alternatives)
        if (a.total() <= usable) {
            fits = cat(" ", a.line(), ".");
            break;
        }
    const std::string message = cat(source, ": ", need.line(), "; ", gib(usable), " GiB available.", fits,
                                    force ? " Going on (--force)." : " --force runs it anyway.");
    if (force) {
        if (sink) sink->log("warn", message);
        return;
    }
    failInput(message);
}

MemoryEstimate onCudaDevice(const MemoryEstimate& need) {
    MemoryEstimate m;
    m.method = need.method;
    int64_t held = 0;
    for (const auto& [name, bytes] : need.parts)
        if (name != "runtime") {
            m.parts.emplace_back(name, bytes);
            held += bytes;
        }
    m.parts.emplace_back("CUDA context", int64_t{512} << 20);
    m.parts.emplace_back("allocator reserve", std::max<int64_t>(int64_t{256} << 20, held / 16));
    return m;
}

void guardRunMemory(const MemoryEstimate& need, const std::vector<MemoryEstimate>& alternatives, bool force,
                    const std::string& source, const std::string& device, EventSink* sink) {
    if (!model::isCudaName(device)) return guardMemory(need, alternatives, force, source, sink);
    model::requireDevice(device);
    const model::DeviceFacts gpu = model::deviceFacts(device);
    if (gpu.freeBytes <= 0) return;  // unknown: nothing to compare with
    const MemoryEstimate onDevice = onCudaDevice(need);
    if (onDevice.total() <= gpu.freeBytes) return;
    std::string fits;
    for (const MemoryEstimate& a : alternatives)
        if (const MemoryEstimate d = onCudaDevice(a); d.total() <= gpu.freeBytes) {
            fits = cat(" ", d.line(), ".");
            break;
        }
    const std::string message =
        cat(source, ": on ", device, " (", gpu.name, ") ", onDevice.line(), "; ", gib(gpu.freeBytes), " GiB free of ",
            gib(gpu.totalBytes), ".", fits, force ? " Going on (--force)." : " --force runs it anyway.");
    if (force) {
        if (sink) sink->log("warn", message);
        return;
    }
    failInput(message);
}

void reportPeak(EventSink& sink, int64_t step, const MemoryEstimate& need, const std::string& device) {
    if (model::isCudaName(device)) {
        sink.metric(frugal::metrics::kMemGpuPeakMb, step,
                    static_cast<double>(model::devicePeakBytes(device)) / (1 << 20));
        sink.metric(frugal::metrics::kGpuEstimateMb, step, static_cast<double>(onCudaDevice(need).total()) / (1 << 20));
    }
    const int64_t peak = peakRssBytes();
    sink.metric(frugal::metrics::kMemPeakRssMb, step, static_cast<double>(peak) / (1 << 20));
    // the estimate again at the last step: a flat line beside the measured RSS in the live view
    if (step > 0) sink.metric(frugal::metrics::kEstimateMb, step, static_cast<double>(need.total()) / (1 << 20));
    if (need.total() > 0)
        sink.metric(frugal::metrics::kPeakOverEstimate, step, static_cast<double>(peak) / static_cast<double>(need.total()));
}

void reportEstimate(EventSink& sink, const MemoryEstimate& need, bool resumed) {
    const auto mib = [](int64_t bytes) { return static_cast<double>(bytes) / (1 << 20); };
    if (resumed) {
        sink.info("memory: " + need.line() + " (resumed: the estimate stored at step 0 stands)");
        return;
    }
    sink.metric(frugal::metrics::kEstimateMb, 0, mib(need.total()));
    for (const auto& [name, bytes] : need.parts) sink.metric("mem/estimate_" + name + "_mb", 0, mib(bytes));
    sink.info("memory: " + need.line());
}

}  // namespace frugal::eval
