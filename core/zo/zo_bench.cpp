#include "zo/zo_bench.h"

#include <torch/cuda.h>
#include <torch/optim.h>
#include <torch/nn/functional/loss.h>

#include <ATen/CPUGeneratorImpl.h>

#include <algorithm>
#include <chrono>
#include <optional>
#include <random>
#include <utility>

#include "common/error.h"
#include "common/runtime_info.h"
#include "eval/memory_estimate.h"
#include "eval/model_loading.h"
#include "model/device.h"
#include "model/transformer.h"
#include "peft/peft_options.h"
#include "peft/param_set.h"
#include "zo/perturb.h"

namespace frugal::zo {

namespace {

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    const size_t n = v.size();
    return n == 0 ? 0 : n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

double msSince(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

namespace {

using Clock = std::chrono::steady_clock;

// One `frugal bench zo`, phase by phase (run() is the table of contents): every step timed
// against a forward measured right before it, in the same conditions.
class ZoBench {
public:
    explicit ZoBench(const ZoBenchOptions& o) : m_o(o) {}

    ZoBenchResult run() {
        checkOptions();
        describeMachine();
        const model::ModelConfig config = model::ModelConfig::fromFile(
            m_o.modelConfig.empty() ? m_o.modelDir / "config.json" : m_o.modelConfig);
        if (m_o.seq > config.maxPositions)
            fail("bench zo: --seq ", m_o.seq, " exceeds the model's context of ", config.maxPositions);
        m_r.dtype = model::resolveDtype(m_o.dtype, config.torchDtype, m_o.device);
        guardMemory(config);
        load(config);
        if (m_o.method == "forward")
            benchForward();
        else if (m_o.method == "mezo")
            benchMezo();
        else if (m_o.method == "zo-adam")
            benchZoAdam();
        else
            benchFirstOrder();
        summarize();
        return m_r;
    }

private:
    void checkOptions() {
        const std::vector<std::string> methods = {"mezo", "zo-adam", "adam", "sgd", "forward"};
        if (std::find(methods.begin(), methods.end(), m_o.method) == methods.end())
            fail("bench zo: unknown --method '", m_o.method, "' (expected mezo, zo-adam, adam, sgd or forward)");
        if (m_o.steps < 1 || m_o.batch < 1 || m_o.seq < 2) fail("bench zo: --steps, --batch >= 1 and --seq >= 2");
        m_law = parseLaw(m_o.direction);
    }

    void describeMachine() {
        m_r.method = m_o.method;
        m_r.direction = m_o.direction;
        m_r.target = m_o.target;
        m_r.batch = m_o.batch;
        m_r.seq = m_o.seq;
        m_r.steps = m_o.steps;
        const RuntimeInfo rt = queryRuntime();
        m_r.blas = rt.blasKind;
        m_r.intraOpThreads = rt.intraOpThreads;
        m_r.blasThreads = rt.openblasThreads;
        m_r.device = m_o.device;
        try {
            model::requireDevice(m_o.device);
        } catch (const InputError& e) {
            failInput("bench zo: ", e.what());
        }
        m_r.gpu = model::deviceFacts(m_o.device).name;
        m_baseline = currentRssBytes();
        m_r.baselineRssMb = static_cast<double>(m_baseline) / (1 << 20);
    }

    // The guard, before anything is allocated: the bench's batch (every position through the
    // head) and the method's buffers.
    void guardMemory(const model::ModelConfig& config) {
        const std::string& m = m_o.method;
        peft::PeftOptions target;
        target.target = peft::parseTarget(m_o.target);
        const peft::TrainableCount count = peft::countTrainable(config, target);
        eval::TrainingPlan plan;
        plan.method = m == "mezo" ? "MeZO (ZO-SGD)" : m == "zo-adam" ? "ZO-Adam" : m == "adam" ? "AdamW"
                      : m == "sgd" ? "SGD" : "forward";
        plan.firstOrder = m == "adam" || m == "sgd";
        plan.stateBuffers = m == "adam" || m == "zo-adam" ? 2 : 0;
        const eval::BatchShape shape{m_o.batch, m_o.seq, -1};
        const eval::MemoryEstimate need =
            eval::estimateFineTune(config, m_r.dtype, count.total, count.trainable, 0, shape, plan, m_baseline);
        eval::TrainingPlan mezo;
        mezo.method = "MeZO (ZO-SGD)";
        eval::guardRunMemory(
            need, {eval::estimateFineTune(config, m_r.dtype, count.total, count.trainable, 0, shape, mezo, m_baseline)},
            m_o.force, "bench zo", m_o.device);
        if (model::isCudaName(m_o.device))
            m_r.gpuEstimateMb = static_cast<double>(eval::onCudaDevice(need).total()) / (1 << 20);
        m_r.estimateMb = static_cast<double>(need.total()) / (1 << 20);
        m_r.estimate = need.line();
    }

    void load(const model::ModelConfig& config) {
        model::LoadOptions held = model::LoadOptions::forDevice(m_o.device);
        held.computeType = eval::weightDtype(m_r.dtype, "bench zo --dtype");
        m_net.emplace(m_o.modelConfig.empty() ? model::Transformer::load(m_o.modelDir, held)
                                              : model::Transformer::random(config, m_o.seed, 0.02, held));
        m_r.parameters = m_net->parameterCount();
        m_params.emplace(peft::ParamSet::select(*m_net, peft::parseTarget(m_o.target)));
        m_r.trainable = m_params->trainableCount();
        auto gen = at::detail::createCPUGenerator(m_o.seed);
        m_ids = torch::randint(m_net->config().vocabSize, {m_o.batch, m_o.seq}, gen, torch::kLong).to(m_net->device());
        for (const auto& t : trainables()) m_r.weightsMb += static_cast<double>(t.tensor.nbytes()) / (1 << 20);
    }

    // Kernel launches return before the GPU is done: a timer stops after the device has caught up.
    void sync() const {
        if (m_net->device().is_cuda()) torch::cuda::synchronize();
    }

    torch::Tensor lossOf() {
        const torch::Tensor logits = m_net->forward(m_ids);
        return torch::nn::functional::cross_entropy(
            logits.narrow(1, 0, m_o.seq - 1).reshape({-1, logits.size(-1)}).to(torch::kFloat32),
            m_ids.narrow(1, 1, m_o.seq - 1).reshape({-1}));
    }
    double inferenceLoss() {
        c10::InferenceMode guard;
        return lossOf().item<double>();
    }
    // The forward floor, measured right before each step (the same conditions: caches, BLAS
    // threads, allocator), the first of each warm-up only.
    void timeForward(int64_t i) {
        const auto start = Clock::now();
        m_r.finalLoss = inferenceLoss();
        if (i > 0) m_forwards.push_back(msSince(start));
    }
    const std::vector<Trainable>& trainables() const { return m_params->trainables(); }

    void benchForward() {
        for (int64_t i = 0; i <= m_o.steps; ++i) timeForward(i);
        m_steps = m_forwards;
    }

    // Each iteration: the forward floor, a two-pass step (its first pass also restores and
    // updates the previous two-pass step), then a three-pass step (+εz; −2εz; restore and
    // update), timed alike in the same conditions.
    void benchMezo() {
        std::mt19937_64 rng(m_o.seed);
        for (int64_t i = 0; i <= m_o.steps; ++i) {
            timeForward(i);
            twoPassStep(rng() >> 11, i > 0);
            threePassStep(rng() >> 11, i > 0);
        }
        if (m_pending)
            restoreAndUpdate(trainables(), m_pending->seed, kEps, kLr, m_pending->grad, 0.0, m_law);
    }

    // With θ+εz in place: L(θ+εz), the pass to θ−εz (its time added to PASSMS), L(θ−εz).
    std::pair<double, double> plusMinus(uint64_t seed, double& passMs) {
        const double plus = inferenceLoss();
        const auto t = Clock::now();
        perturb(trainables(), seed, -2 * kEps, m_law);
        sync();
        passMs += msSince(t);
        return {plus, inferenceLoss()};
    }

    void twoPassStep(uint64_t seed, bool timed) {
        const auto start = Clock::now();
        auto t = start;
        if (m_pending)
            restoreUpdateAndPerturb(trainables(), m_pending->seed, kEps, kLr, m_pending->grad, 0.0, m_law, nullptr,
                                    seed, kEps);
        else
            perturb(trainables(), seed, kEps, m_law);
        sync();
        double passMs = msSince(t);
        const auto [plus, minus] = plusMinus(seed, passMs);
        m_pending = Pending{seed, (plus - minus) / (2 * kEps)};
        m_r.finalLoss = plus;
        if (!timed) return;
        m_steps.push_back(msSince(start));
        m_passes.push_back(passMs);
    }

    void threePassStep(uint64_t seed, bool timed) {
        const auto start = Clock::now();
        auto t = start;
        perturb(trainables(), seed, kEps, m_law);
        sync();
        double passMs = msSince(t);
        const auto [plus, minus] = plusMinus(seed, passMs);
        t = Clock::now();
        restoreAndUpdate(trainables(), seed, kEps, kLr, (plus - minus) / (2 * kEps), 0.0, m_law);
        sync();
        passMs += msSince(t);
        if (!timed) return;
        m_threeSteps.push_back(msSince(start));
        m_threePasses.push_back(passMs);
    }

    void benchZoAdam() {
        const ZoOptimizer& optimizer = findZoOptimizer("adam");
        OptimizerState state = OptimizerState::forRule(optimizer, trainables());
        std::mt19937_64 rng(m_o.seed);
        for (int64_t i = 0; i <= m_o.steps; ++i) {
            timeForward(i);
            const uint64_t seed = rng() >> 11;
            const auto start = Clock::now();
            perturb(trainables(), seed, kEps, m_law);
            const double plus = inferenceLoss();
            perturb(trainables(), seed, -2 * kEps, m_law);
            const double minus = inferenceLoss();
            perturb(trainables(), seed, kEps, m_law);
            UpdateRule rule;
            rule.optimizer = &optimizer;
            rule.lr = kLr;
            rule.t = ++state.steps;
            applyUpdate(trainables(), {{seed, (plus - minus) / (2 * kEps)}}, m_law, rule, state);
            sync();
            m_r.finalLoss = plus;
            if (i > 0) m_steps.push_back(msSince(start));
        }
    }

    // AdamW or SGD through autograd.
    void benchFirstOrder() {
        std::vector<torch::Tensor> tensors;
        for (const auto& t : trainables()) {
            t.tensor.set_requires_grad(true);
            tensors.push_back(t.tensor);
        }
        std::unique_ptr<torch::optim::Optimizer> optimizer;
        if (m_o.method == "adam")
            optimizer = std::make_unique<torch::optim::AdamW>(tensors, torch::optim::AdamWOptions(kLr));
        else
            optimizer = std::make_unique<torch::optim::SGD>(tensors, torch::optim::SGDOptions(kLr));
        for (int64_t i = 0; i <= m_o.steps; ++i) {
            timeForward(i);
            const auto start = Clock::now();
            optimizer->zero_grad();
            const torch::Tensor loss = lossOf();
            loss.backward();
            optimizer->step();
            m_r.finalLoss = loss.item<double>();
            if (i > 0) m_steps.push_back(msSince(start));
        }
        for (auto& t : tensors) t.set_requires_grad(false);
    }

    void summarize() {
        m_r.forwardMs = median(m_forwards);
        m_r.stepMs = median(m_steps);
        m_r.passesMs = median(m_passes);
        m_r.stepOverForward = m_r.forwardMs > 0 ? m_r.stepMs / m_r.forwardMs : 0;
        m_r.threePassStepMs = median(m_threeSteps);
        m_r.threePassPassesMs = median(m_threePasses);
        m_r.threePassStepOverForward = m_r.forwardMs > 0 ? m_r.threePassStepMs / m_r.forwardMs : 0;
        m_r.peakRssMb = static_cast<double>(peakRssBytes()) / (1 << 20);
        m_r.gpuPeakMb = static_cast<double>(model::devicePeakBytes(m_o.device)) / (1 << 20);
    }

    static constexpr double kEps = 1e-3, kLr = 1e-6;  // small enough to leave the loss where it is
    struct Pending {
        uint64_t seed;
        double grad;
    };

    const ZoBenchOptions& m_o;
    ZoBenchResult m_r;
    DirectionLaw m_law{};
    int64_t m_baseline = 0;
    std::optional<model::Transformer> m_net;
    std::optional<peft::ParamSet> m_params;
    torch::Tensor m_ids;
    std::optional<Pending> m_pending;  // the two-pass step's restore and update, made by the next
    std::vector<double> m_forwards, m_steps, m_passes, m_threeSteps, m_threePasses;
};

}  // namespace

ZoBenchResult benchZo(const ZoBenchOptions& o) { return ZoBench(o).run(); }

}  // namespace frugal::zo
