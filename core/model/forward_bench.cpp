#include "model/forward_bench.h"

#include <chrono>

#include "common/error.h"
#include "common/runtime_info.h"
#include "model/transformer.h"

namespace frugal::model {

ForwardBenchResult benchForward(const ForwardBenchOptions& options) {
    if (options.batch <= 0 || options.seq <= 0 || options.iters <= 0)
        fail("bench forward: --batch, --seq and --iters must be positive");
    if (options.threads > 0) configureThreads(options.threads);
    ForwardBenchResult r;
    r.batch = options.batch;
    r.seq = options.seq;
    r.iters = options.iters;
    const RuntimeInfo runtime = queryRuntime();
    r.threads = runtime.openblasThreads > 0 ? runtime.openblasThreads : runtime.intraOpThreads;
    r.intraOpThreads = runtime.intraOpThreads;
    r.blas = runtime.blasKind;

    const int64_t before = currentRssBytes();
    if (!resetPeakRss())
        fail(
            "bench forward: cannot reset the peak RSS counter (/proc/self/clear_refs), so the load "
            "peak cannot be measured");
    const LoadOptions load = LoadOptions::forDevice(options.device);
    r.device = options.device;
    const auto loadStart = std::chrono::steady_clock::now();
    const Transformer model = Transformer::load(options.modelDir, load);
    r.loadSeconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - loadStart).count();
    r.loadPeakMiB = static_cast<double>(peakRssBytes() - before) / (1 << 20);
    int64_t weightBytes = 0;
    for (const auto& [name, t] : model.parameters()) weightBytes += t.numel() * t.element_size();
    r.weightMiB = static_cast<double>(weightBytes) / (1 << 20);

    auto gen = at::detail::createCPUGenerator(options.seed);
    torch::Tensor ids = torch::randint(model.config().vocabSize, {options.batch, options.seq}, gen,
                                       torch::TensorOptions().dtype(torch::kLong));
    c10::InferenceMode guard;
    ids = ids.to(load.device);
    auto sync = [&] {
        if (load.device.is_cuda()) torch::cuda::synchronize();
    };
    model.forward(ids);  // warm-up: allocator and thread pools
    sync();
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < options.iters; ++i) model.forward(ids);
    sync();
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    r.tokensPerSecond =
        static_cast<double>(options.batch * options.seq * options.iters) / r.seconds;
    r.peakRssMiB = static_cast<double>(peakRssBytes()) / (1 << 20);
    return r;
}

}  // namespace frugal::model
