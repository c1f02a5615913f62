#include "zo/zo_bench.h"

#include <torch/optim.h>

#include <ATen/CPUGeneratorImpl.h>

#include <algorithm>
#include <chrono>
#include <random>

#include "common/error.h"
#include "common/runtime_info.h"
#include "model/transformer.h"
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
    r.baselineRssMb = static_cast<double>(currentRssBytes()) / (1 << 20);
    const DirectionLaw law = parseLaw(o.direction);
    model::Transformer net = model::Transformer::load(o.modelDir);
    if (o.seq > net.config().maxPositions)
        fail("bench zo: --seq ", o.seq, " exceeds the model's context of ", net.config().maxPositions);
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
    std::vector<double> steps, passes;
    const double eps = 1e-3, lr = 1e-6;
    if (o.method == "forward") {
        for (int64_t i = 0; i <= o.steps; ++i) timeForward(i);
        steps = forwards;
    } else if (o.method == "mezo" || o.method == "zo-adam") {
        const ZoOptimizer& optimizer = findZoOptimizer(o.method == "zo-adam" ? "adam" : "sgd");
        OptimizerState state = OptimizerState::forRule(optimizer, params.trainables());
        std::mt19937_64 rng(o.seed);
        for (int64_t i = 0; i <= o.steps; ++i) {
            timeForward(i);
            const uint64_t seed = rng() >> 11;
            const auto start = std::chrono::steady_clock::now();
            double passMs = 0;
            auto t = std::chrono::steady_clock::now();
            perturb(params.trainables(), seed, eps, law);
            passMs += msSince(t);
            const double plus = inferenceLoss();
            t = std::chrono::steady_clock::now();
            perturb(params.trainables(), seed, -2 * eps, law);
            passMs += msSince(t);
            const double minus = inferenceLoss();
            const double g = (plus - minus) / (2 * eps);
            if (o.method == "mezo") {
                t = std::chrono::steady_clock::now();
                restoreAndUpdate(params.trainables(), seed, eps, lr, g, 0.0, law);
                passMs += msSince(t);
                if (i > 0) passes.push_back(passMs);
            } else {
                perturb(params.trainables(), seed, eps, law);
                UpdateRule rule;
                rule.optimizer = &optimizer;
                rule.lr = lr;
                rule.t = ++state.steps;
                applyUpdate(params.trainables(), {{seed, g}}, law, rule, state);
            }
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
    r.peakRssMb = static_cast<double>(peakRssBytes()) / (1 << 20);
    return r;
}

}  // namespace frugal::zo
