// frugal-gpu-check: the half of scripts/gpu-check that needs a CUDA device and is not a command of
// frugal itself. On one LLaMA-2-7B decoder block's tensors (q, k, v, o: 4096 x 4096; gate, up:
// 11008 x 4096; down: 4096 x 11008; two norms: 202 M weights), every ZO pass is run twice, on CPU
// tensors through core/zo's chunks and on CUDA tensors through core/cuda's kernels, from the same
// weights, and the results are compared byte for byte:
//   - z itself (a perturbation of fp32 zeros by 1), for every law;
//   - perturb, restoreAndUpdate and the fused restoreUpdateAndPerturb, for fp32, bf16 and fp16,
//     Gaussian, Rademacher and sphere directions, dense, Sparse-MeZO (refreshed) and fixed masks
//     (the refreshed mask words too);
//   - two steps of applyUpdate for every optimiser row (weights and state), q = 2 directions.
// Writes equality.json into --out (every case: its name, equal or the first differing element,
// both devices' times) and exits 1 when any case differs, 0 when all are equal. Without a CUDA
// device it says so, writes {"cuda": false} and exits 0: scripts/gpu-check's CPU-only mode.
// Plain C++ (no Qt): it builds where the headless command line does.

#include <torch/cuda.h>
#include <torch/types.h>
#include <torch/utils.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cuda/zo_kernels.h"
#include "zo/directions.h"
#include "zo/optimizers.h"
#include "zo/perturb.h"

using namespace frugal;
using Clock = std::chrono::steady_clock;

namespace {

struct Shape {
    const char* name;
    std::vector<int64_t> sizes;
    bool decay;
};

const std::vector<Shape>& blockShapes() {
    static const std::vector<Shape> shapes = {
        {"q_proj", {4096, 4096}, true},   {"k_proj", {4096, 4096}, true},    {"v_proj", {4096, 4096}, true},
        {"o_proj", {4096, 4096}, true},   {"gate_proj", {11008, 4096}, true}, {"up_proj", {11008, 4096}, true},
        {"down_proj", {4096, 11008}, true}, {"input_layernorm", {4096}, false}, {"post_attention_layernorm", {4096}, false},
    };
    return shapes;
}

// The block's weights as CPU tensors of TYPE, seeded; ZEROED: every third weight 0 (a pruned model).
std::vector<zo::Trainable> weights(torch::ScalarType type, bool zeroed, uint64_t seed) {
    torch::manual_seed(static_cast<int64_t>(seed));
    std::vector<zo::Trainable> out;
    uint32_t index = 0;
    for (const Shape& s : blockShapes()) {
        torch::Tensor t = torch::randn(s.sizes) * 0.02;
        if (zeroed) t.view({-1}).index_put_({torch::arange(0, t.numel(), 3)}, 0.0);
        out.push_back({s.name, t.to(type).contiguous(), index++, s.decay});
    }
    return out;
}

std::vector<zo::Trainable> onDevice(const std::vector<zo::Trainable>& params, const torch::Device& device) {
    std::vector<zo::Trainable> out;
    for (const auto& p : params) out.push_back({p.name, p.tensor.to(device).contiguous(), p.index, p.decay});
    return out;
}

// The tensors' bytes as integers (NaN and -0 compare as bits), the device copy brought back.
torch::Tensor bitsOf(const torch::Tensor& t) {
    const torch::Tensor c = t.to(torch::kCPU).contiguous();
    return c.element_size() == 4 ? c.view(torch::kInt32) : c.view(torch::kInt16);
}

struct Difference {
    bool equal = true;
    std::string where;
};

Difference compare(const std::vector<torch::Tensor>& cpu, const std::vector<torch::Tensor>& gpu, const std::string& what) {
    for (size_t i = 0; i < cpu.size(); ++i) {
        const torch::Tensor a = bitsOf(cpu[i]), b = bitsOf(gpu[i]);
        if (torch::equal(a, b)) continue;
        const torch::Tensor diff = (a != b).nonzero();
        const int64_t first = diff[0][0].item<int64_t>();
        return {false, what + " tensor " + std::to_string(i) + " element " + std::to_string(first) + " (of " +
                           std::to_string(diff.size(0)) + " differing)"};
    }
    return {};
}

std::vector<torch::Tensor> tensorsOf(const std::vector<zo::Trainable>& params) {
    std::vector<torch::Tensor> out;
    for (const auto& p : params) out.push_back(p.tensor);
    return out;
}

double msSince(Clock::time_point t) { return std::chrono::duration<double, std::milli>(Clock::now() - t).count(); }

class Check {
public:
    explicit Check(bool quick) : m_quick(quick) {}

    void run() {
        checkDirections();
        const std::pair<torch::ScalarType, const char*> types[] = {
            {torch::kFloat32, "fp32"}, {torch::kBFloat16, "bf16"}, {torch::kHalf, "fp16"}};
        for (const auto& [type, typeName] : types) {
            for (auto law : {zo::DirectionLaw::Gaussian, zo::DirectionLaw::Rademacher, zo::DirectionLaw::Sphere})
                for (const char* masking : {"dense", "sparse", "fixed"}) {
                    if (law == zo::DirectionLaw::Sphere && std::string(masking) != "dense") continue;
                    for (const char* pass : {"perturb", "restoreAndUpdate", "fused"})
                        checkPass(type, typeName, law, masking, pass);
                }
            for (const auto& row : zo::zoOptimizers())
                for (auto law : {zo::DirectionLaw::Gaussian, zo::DirectionLaw::Rademacher})
                    for (bool fixed : {false, true}) checkUpdate(type, typeName, row, law, fixed);
            if (m_quick) break;
        }
    }

    nlohmann::json result() const {
        return {{"cuda", true}, {"cases", m_cases}, {"all_equal", m_failures == 0}, {"failures", m_failures},
                {"tensors", "one LLaMA-2-7B decoder block (202 M weights)"}};
    }
    int failures() const { return m_failures; }

private:
    void record(const std::string& name, const Difference& d, double cpuMs, double gpuMs, int64_t elements) {
        m_cases.push_back({{"case", name}, {"equal", d.equal}, {"first_difference", d.where}, {"cpu_ms", cpuMs},
                           {"gpu_ms", gpuMs}, {"elements", elements}});
        if (!d.equal) ++m_failures;
        std::printf("%-58s %s  cpu %8.1f ms  gpu %7.2f ms%s%s\n", name.c_str(), d.equal ? "equal" : "DIFFERS", cpuMs,
                    gpuMs, d.equal ? "" : "  ", d.where.c_str());
        std::fflush(stdout);
    }

    // Timed F on CPU tensors, then on CUDA tensors (synchronised), each returning nothing.
    std::pair<double, double> timed(const std::function<void()>& cpu, const std::function<void()>& gpu) {
        auto t = Clock::now();
        cpu();
        const double cpuMs = msSince(t);
        torch::cuda::synchronize();
        t = Clock::now();
        gpu();
        torch::cuda::synchronize();
        return {cpuMs, msSince(t)};
    }

    // z: fp32 zeros perturbed by 1.
    void checkDirections() {
        for (auto law : {zo::DirectionLaw::Gaussian, zo::DirectionLaw::Rademacher, zo::DirectionLaw::Sphere}) {
            std::vector<zo::Trainable> cpu = weights(torch::kFloat32, false, 1);
            for (auto& p : cpu) p.tensor.zero_();
            std::vector<zo::Trainable> gpu = onDevice(cpu, torch::kCUDA);
            const uint64_t seed = 0x5EEDull << 20 | 77;
            const auto [cpuMs, gpuMs] = timed([&] { zo::perturb(cpu, seed, 1.0, law); },
                                              [&] { zo::perturb(gpu, seed, 1.0, law); });
            record("z/" + zo::lawName(law), compare(tensorsOf(cpu), tensorsOf(gpu), "z"), cpuMs, gpuMs, elements(cpu));
        }
    }

    static int64_t elements(const std::vector<zo::Trainable>& params) {
        int64_t n = 0;
        for (const auto& p : params) n += p.tensor.numel();
        return n;
    }

    void checkPass(torch::ScalarType type, const char* typeName, zo::DirectionLaw law, const std::string& masking,
                   const std::string& pass) {
        std::vector<zo::Trainable> cpu = weights(type, masking == "fixed", 2);
        std::vector<zo::Trainable> gpu = onDevice(cpu, torch::kCUDA);
        zo::SparseMask cpuMask, gpuMask;
        zo::SparseMask *cm = nullptr, *gm = nullptr;
        if (masking == "sparse") {
            cpuMask = zo::SparseMask::fromWeights(cpu, 0.5);
            gpuMask = zo::SparseMask::fromWeights(gpu, 0.5);
            cm = &cpuMask, gm = &gpuMask;
            zo::perturb(cpu, 100, 1e-3, law, cm, true);  // the bits as a step's first pass makes them
            zo::perturb(gpu, 100, 1e-3, law, gm, true);
        } else if (masking == "fixed") {
            cpuMask = zo::SparseMask::nonZero(cpu);
            gpuMask = zo::SparseMask::nonZero(gpu);
            cm = &cpuMask, gm = &gpuMask;
        }
        const uint64_t seed = 7, next = 8;
        const double eps = 1e-3, lr = 1e-2, g = 3.5, wd = 0.1;
        const auto apply = [&](std::vector<zo::Trainable>& params, zo::SparseMask* mask) {
            if (pass == "perturb") zo::perturb(params, seed, eps, law, mask, true);
            if (pass == "restoreAndUpdate") zo::restoreAndUpdate(params, seed, eps, lr, g, wd, law, mask);
            if (pass == "fused") zo::restoreUpdateAndPerturb(params, seed, eps, lr, g, wd, law, mask, next, eps);
        };
        const auto [cpuMs, gpuMs] = timed([&] { apply(cpu, cm); }, [&] { apply(gpu, gm); });
        Difference d = compare(tensorsOf(cpu), tensorsOf(gpu), "weights");
        if (d.equal && masking == "sparse") {  // the refreshed words
            std::vector<torch::Tensor> hostWords;
            for (auto& bits : cpuMask.bits)
                hostWords.push_back(torch::from_blob(bits.data(), {static_cast<int64_t>(bits.size())}, torch::kInt64).clone());
            std::vector<torch::Tensor> deviceWords;
            for (const auto& w : gpuMask.deviceBits) deviceWords.push_back(w.view(torch::kInt32));
            for (auto& w : hostWords) w = w.view(torch::kInt32);
            d = compare(hostWords, deviceWords, "mask words");
        }
        record(std::string("pass/") + pass + "/" + typeName + "/" + zo::lawName(law) + "/" + masking, d, cpuMs, gpuMs,
               elements(cpu));
    }

    void checkUpdate(torch::ScalarType type, const char* typeName, const zo::ZoOptimizer& row, zo::DirectionLaw law,
                     bool fixed) {
        std::vector<zo::Trainable> cpu = weights(type, fixed, 3);
        std::vector<zo::Trainable> gpu = onDevice(cpu, torch::kCUDA);
        zo::SparseMask cpuMask, gpuMask;
        if (fixed) {
            cpuMask = zo::SparseMask::nonZero(cpu);
            gpuMask = zo::SparseMask::nonZero(gpu);
        }
        zo::OptimizerState cpuState = zo::OptimizerState::forRule(row, cpu);
        zo::OptimizerState gpuState = zo::OptimizerState::forRule(row, gpu);
        double cpuMs = 0, gpuMs = 0;
        for (int64_t t = 1; t <= 2; ++t) {
            zo::UpdateRule rule;
            rule.optimizer = &row;
            rule.lr = 1e-2;
            rule.weightDecay = 0.1;
            rule.t = t;
            const std::vector<zo::Query> queries = {{static_cast<uint64_t>(1000 * t), 0.75},
                                                    {static_cast<uint64_t>(1000 * t + 17), -1.25}};
            const auto [c, g] = timed(
                [&] { zo::applyUpdate(cpu, queries, law, rule, cpuState, fixed ? &cpuMask : nullptr); },
                [&] { zo::applyUpdate(gpu, queries, law, rule, gpuState, fixed ? &gpuMask : nullptr); });
            cpuMs += c, gpuMs += g;
        }
        Difference d = compare(tensorsOf(cpu), tensorsOf(gpu), "weights");
        if (d.equal) d = compare(cpuState.first, gpuState.first, "first moment");
        if (d.equal) d = compare(cpuState.second, gpuState.second, "second moment");
        record(std::string("update/") + row.name + "/" + typeName + "/" + zo::lawName(law) + (fixed ? "/fixed" : "/dense"),
               d, cpuMs, gpuMs, elements(cpu));
    }

    bool m_quick;
    nlohmann::json m_cases = nlohmann::json::array();
    int m_failures = 0;
};

}  // namespace

int main(int argc, char** argv) {
    std::filesystem::path out = ".";
    bool quick = false;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--out" && i + 1 < argc) out = argv[++i];
        else if (a == "--quick") quick = true;
        else {
            std::fprintf(stderr, "usage: frugal-gpu-check [--out DIR] [--quick]\n");
            return 2;
        }
    }
    std::filesystem::create_directories(out);
    std::ofstream json(out / "equality.json");
    if (!cuda::cudaDeviceAvailable() || !torch::cuda::is_available()) {
        std::printf("frugal-gpu-check: no CUDA device: the CPU-vs-CUDA equality checks are skipped\n");
        json << nlohmann::json{{"cuda", false}}.dump(2) << "\n";
        return 0;
    }
    try {
        Check check(quick);
        check.run();
        json << check.result().dump(2) << "\n";
        std::printf("frugal-gpu-check: %d case(s) differ\n", check.failures());
        return check.failures() == 0 ? 0 : 1;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "frugal-gpu-check: %s\n", e.what());
        json << nlohmann::json{{"cuda", true}, {"error", e.what()}}.dump(2) << "\n";
        return 1;
    }
}
