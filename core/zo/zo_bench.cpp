#include "zo/zo_bench.h"

#include <torch/optim.h>
#include <torch/nn/functional/loss.h>

#include <ATen/CPUGeneratorImpl.h>

#include <algorithm>
#include <chrono>
#include <optional>
#include <random>

#include "common/error.h"
#include "common/runtime_info.h"
#include "eval/memory_estimate.h"
#include "eval/model_loading.h"
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

ZoBenchResult benchZo(const ZoBenchOptions& o) {
    const std::vector<std::string> methods = {"mezo", "zo-adam", "adam", "sgd", "forward"};
    if (std::find(methods.begin(), methods.end(), o.method) == methods.end())
        fail("bench zo: unknown --method '", o.method, "' (expected mezo, zo-adam, adam, sgd or forward)");
    if (o.steps < 1 || o.batch < 1 || o.seq < 2) fail("bench zo: --steps, --batch >= 1 and --seq >= 2");
    ZoBenchResult r;
    r.method = o.method;
    r.direction = o.direction;
    r.target = o.target;
    r.batch = o.batch;
    r.seq = o.seq;
    r.steps = o.steps;
    const RuntimeInfo rt = queryRuntime();
    r.blas = rt.blasKind;
    r.intraOpThreads = rt.intraOpThreads;
    r.blasThreads = rt.openblasThreads;
    r.dtype = o.dtype;
    const int64_t baseline = currentRssBytes();
    r.baselineRssMb = static_cast<double>(baseline) / (1 << 20);
    const DirectionLaw law = parseLaw(o.direction);
    const model::ModelConfig config =
        model::ModelConfig::fromFile(o.modelConfig.empty() ? o.modelDir / "config.json" : o.modelConfig);
    if (o.seq > config.maxPositions)
        fail("bench zo: --seq ", o.seq, " exceeds the model's context of ", config.maxPositions);
    {
        // the guard, before anything is allocated: the bench's batch (every position through the
        // head) and the method's buffers
        peft::PeftOptions target;
        target.target = peft::parseTarget(o.target);
        const peft::TrainableCount count = peft::countTrainable(config, target);
        eval::TrainingPlan plan;
        plan.method = o.method == "mezo" ? "MeZO (ZO-SGD)" : o.method == "zo-adam" ? "ZO-Adam"
                      : o.method == "adam" ? "AdamW" : o.method == "sgd" ? "SGD" : "forward";
        plan.firstOrder = o.method == "adam" || o.method == "sgd";
        plan.stateBuffers = o.method == "adam" || o.method == "zo-adam" ? 2 : 0;
        const eval::BatchShape shape{o.batch, o.seq, -1};
        const eval::MemoryEstimate need =
            eval::estimateFineTune(config, o.dtype, count.total, count.trainable, 0, shape, plan, baseline);
        eval::TrainingPlan mezo;
        mezo.method = "MeZO (ZO-SGD)";
        eval::guardMemory(need,
                          {eval::estimateFineTune(config, o.dtype, count.total, count.trainable, 0, shape, mezo, baseline)},
                          o.force, "bench zo");
        r.estimateMb = static_cast<double>(need.total()) / (1 << 20);
        r.estimate = need.line();
    }
    model::LoadOptions held;
    held.computeType = eval::weightDtype(o.dtype, "bench zo --dtype");
    model::Transformer net = o.modelConfig.empty() ? model::Transformer::load(o.modelDir, held)
                                                   : model::Transformer::random(config, o.seed, 0.02, held);
    r.parameters = net.parameterCount();
    const peft::ParamSet params = peft::ParamSet::select(net, peft::parseTarget(o.target));
    r.trainable = params.trainableCount();
    auto gen = at::detail::createCPUGenerator(o.seed);
    const torch::Tensor ids = torch::randint(net.config().vocabSize, {o.batch, o.seq}, gen, torch::kLong);
    const auto lossOf = [&] {
        const torch::Tensor logits = net.forward(ids);
        return torch::nn::functional::cross_entropy(
            logits.narrow(1, 0, o.seq - 1).reshape({-1, logits.size(-1)}).to(torch::kFloat32),
            ids.narrow(1, 1, o.seq - 1).reshape({-1}));
    };
    const auto inferenceLoss = [&] {
        c10::InferenceMode guard;
        return lossOf().item<double>();
    };
    // The forward floor, measured right before each step (the same conditions: caches, BLAS
    // threads, allocator), the first of each warm-up only.
    std::vector<double> forwards;
    const auto timeForward = [&](int64_t i) {
        const auto start = std::chrono::steady_clock::now();
        r.finalLoss = inferenceLoss();
        if (i > 0) forwards.push_back(msSince(start));
    };
    std::vector<double> steps, passes, threeSteps, threePasses;
    const double eps = 1e-3, lr = 1e-6;
    if (o.method == "forward") {
        for (int64_t i = 0; i <= o.steps; ++i) timeForward(i);
        steps = forwards;
    } else if (o.method == "mezo") {
        // Each iteration: the forward floor, a two-pass step (its first pass also restores and
        // updates the previous two-pass step), then a three-pass step (+εz; −2εz; restore and
        // update), timed alike in the same conditions.
        std::mt19937_64 rng(o.seed);
        struct Pending {
            uint64_t seed;
            double grad;
        };
        std::optional<Pending> pending;
        for (int64_t i = 0; i <= o.steps; ++i) {
            timeForward(i);
            {
                const uint64_t seed = rng() >> 11;
                const auto start = std::chrono::steady_clock::now();
                auto t = start;
                if (pending)
                    restoreUpdateAndPerturb(params.trainables(), pending->seed, eps, lr, pending->grad, 0.0, law,
                                            nullptr, seed, eps);
                else
                    perturb(params.trainables(), seed, eps, law);
                double passMs = msSince(t);
                const double plus = inferenceLoss();
                t = std::chrono::steady_clock::now();
                perturb(params.trainables(), seed, -2 * eps, law);
                passMs += msSince(t);
                const double minus = inferenceLoss();
                pending = Pending{seed, (plus - minus) / (2 * eps)};
                r.finalLoss = plus;
                if (i > 0) {
                    steps.push_back(msSince(start));
                    passes.push_back(passMs);
                }
            }
            {
                const uint64_t seed = rng() >> 11;
                const auto start = std::chrono::steady_clock::now();
                auto t = start;
                perturb(params.trainables(), seed, eps, law);
                double passMs = msSince(t);
                const double plus = inferenceLoss();
                t = std::chrono::steady_clock::now();
                perturb(params.trainables(), seed, -2 * eps, law);
                passMs += msSince(t);
                const double minus = inferenceLoss();
                t = std::chrono::steady_clock::now();
                restoreAndUpdate(params.trainables(), seed, eps, lr, (plus - minus) / (2 * eps), 0.0, law);
                passMs += msSince(t);
                if (i > 0) {
                    threeSteps.push_back(msSince(start));
                    threePasses.push_back(passMs);
                }
            }
        }
        if (pending) restoreAndUpdate(params.trainables(), pending->seed, eps, lr, pending->grad, 0.0, law);
    } else if (o.method == "zo-adam") {
        const ZoOptimizer& optimizer = findZoOptimizer("adam");
        OptimizerState state = OptimizerState::forRule(optimizer, params.trainables());
        std::mt19937_64 rng(o.seed);
        for (int64_t i = 0; i <= o.steps; ++i) {
            timeForward(i);
            const uint64_t seed = rng() >> 11;
            const auto start = std::chrono::steady_clock::now();
            perturb(params.trainables(), seed, eps, law);
            const double plus = inferenceLoss();
            perturb(params.trainables(), seed, -2 * eps, law);
            const double minus = inferenceLoss();
            perturb(params.trainables(), seed, eps, law);
            UpdateRule rule;
            rule.optimizer = &optimizer;
            rule.lr = lr;
            rule.t = ++state.steps;
            applyUpdate(params.trainables(), {{seed, (plus - minus) / (2 * eps)}}, law, rule, state);
            r.finalLoss = plus;
            if (i > 0) steps.push_back(msSince(start));
        }
    } else {
        std::vector<torch::Tensor> tensors;
        for (const auto& t : params.trainables()) {
            t.tensor.set_requires_grad(true);
            tensors.push_back(t.tensor);
        }
        std::unique_ptr<torch::optim::Optimizer> optimizer;
        if (o.method == "adam")
            optimizer = std::make_unique<torch::optim::AdamW>(tensors, torch::optim::AdamWOptions(lr));
        else
            optimizer = std::make_unique<torch::optim::SGD>(tensors, torch::optim::SGDOptions(lr));
        for (int64_t i = 0; i <= o.steps; ++i) {
            timeForward(i);
            const auto start = std::chrono::steady_clock::now();
            optimizer->zero_grad();
            const torch::Tensor loss = lossOf();
            loss.backward();
            optimizer->step();
            r.finalLoss = loss.item<double>();
            if (i > 0) steps.push_back(msSince(start));
        }
        for (auto& t : tensors) t.set_requires_grad(false);
    }
    r.forwardMs = median(forwards);
    r.stepMs = median(steps);
    r.passesMs = median(passes);
    r.stepOverForward = r.forwardMs > 0 ? r.stepMs / r.forwardMs : 0;
    r.threePassStepMs = median(threeSteps);
    r.threePassPassesMs = median(threePasses);
    r.threePassStepOverForward = r.forwardMs > 0 ? r.threePassStepMs / r.forwardMs : 0;
    r.peakRssMb = static_cast<double>(peakRssBytes()) / (1 << 20);
    return r;
}

}  // namespace frugal::zo
