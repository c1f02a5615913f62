#include "train/first_order.h"

#include <torch/optim.h>

#include <chrono>
#include <cmath>

#include "common/error.h"
#include "common/runtime_info.h"
#include "run/runner.h"

namespace frugal::train {

void FoConfig::validate() const {
    if (optimizer != "adamw" && optimizer != "sgd")
        fail("fo.optimizer: unknown optimizer '", optimizer, "' (expected adamw or sgd)");
    if (parseObjective(common.objective) == Objective::NegAccuracy)
        fail("fo.objective = \"neg_accuracy\" is not differentiable; first-order runs need "
             "classification or lm (zeroth-order runs can optimise neg_accuracy)");
    parseLrSchedule(common.lrSchedule);
}

FoResult runFirstOrder(const FoConfig& c, const FoHooks& hooks) {
    c.validate();
    const auto log = [&](const std::string& line) {
        if (hooks.log) hooks.log(line);
    };
    const auto metric = [&](const std::string& key, int64_t step, double value) {
        if (hooks.metric) hooks.metric(key, step, value);
    };
    const auto start = std::chrono::steady_clock::now();
    const FineTuneSpec& spec = c.common;
    FineTuneProblem problem(spec);
    FoResult r;
    r.trainable = problem.params().trainableCount();
    r.total = problem.params().totalCount();
    std::vector<torch::Tensor> decay, noDecay, all;
    for (const auto& t : problem.params().trainables()) {
        t.tensor.set_requires_grad(true);
        (t.decay ? decay : noDecay).push_back(t.tensor);
        all.push_back(t.tensor);
    }
    std::unique_ptr<torch::optim::Optimizer> optimizer;
    std::vector<torch::optim::OptimizerParamGroup> groups;
    if (c.optimizer == "adamw") {
        const auto options = [&](double wd) {
            return std::make_unique<torch::optim::AdamWOptions>(
                torch::optim::AdamWOptions(spec.lr).betas({c.beta1, c.beta2}).eps(c.adamEps).weight_decay(wd));
        };
        if (!decay.empty()) groups.emplace_back(decay, options(spec.weightDecay));
        if (!noDecay.empty()) groups.emplace_back(noDecay, options(0.0));
        optimizer = std::make_unique<torch::optim::AdamW>(std::move(groups));
    } else {
        const auto options = [&](double wd) {
            return std::make_unique<torch::optim::SGDOptions>(
                torch::optim::SGDOptions(spec.lr).momentum(c.momentum).weight_decay(wd));
        };
        if (!decay.empty()) groups.emplace_back(decay, options(spec.weightDecay));
        if (!noDecay.empty()) groups.emplace_back(noDecay, options(0.0));
        optimizer = std::make_unique<torch::optim::SGD>(
            std::move(groups), torch::optim::SGDOptions(spec.lr).momentum(c.momentum));
    }
    const LrSchedule schedule = parseLrSchedule(spec.lrSchedule);
    log(cat("first-order ", c.optimizer, " on ", spec.task, " with the ", spec.objective,
            " objective: ", problem.params().describe(), "; batch ", spec.batchSize, ", lr ",
            spec.lr, " (", spec.lrSchedule, ")"));
    metric("params/trainable", 0, static_cast<double>(r.trainable));
    const auto devMetrics = [&](int64_t step) {
        torch::NoGradGuard noGrad;
        const auto d = problem.evaluateDev();
        metric("dev/accuracy", step, d.accuracy);
        metric("dev/accuracy_calibrated", step, d.accuracyCalibrated);
        metric("dev/loss", step, d.loss);
        log(cat("step ", step, ": dev accuracy ", d.accuracy, " (calibrated ", d.accuracyCalibrated,
                "), dev loss ", d.loss, ", ", d.examples, " examples"));
        return d;
    };
    r.startDevAccuracy = r.bestDevAccuracy = r.finalDevAccuracy = devMetrics(0).accuracy;
    std::mt19937_64 rng(spec.seed);
    for (int64_t step = 1; step <= spec.steps; ++step) {
        if (hooks.stopRequested && hooks.stopRequested())
            throw run::Cancelled(cat("first-order training stopped before step ", step, " of ", spec.steps));
        problem.nextBatch(rng);
        const double lr = lrAt(schedule, spec.lr, step, spec.steps);
        for (auto& group : optimizer->param_groups()) group.options().set_lr(lr);
        optimizer->zero_grad();
        const torch::Tensor loss = problem.loss();
        const double value = loss.item<double>();
        if (!std::isfinite(value))
            fail("first-order training: the loss is ", value, " at step ", step, " (lr ", lr,
                 "); lower fo.lr");
        loss.backward();
        const double gradNorm = torch::nn::utils::clip_grad_norm_(all, c.gradClip > 0 ? c.gradClip : 1e30);
        optimizer->step();
        r.forwardPasses += 1;
        r.backwardPasses += 1;
        metric("train/loss", step, value);
        metric("train/grad_norm", step, gradNorm);
        metric("train/lr", step, lr);
        if (hooks.progress) hooks.progress(step, spec.steps, value);
        if (step % spec.evalEvery == 0 || step == spec.steps) {
            const auto d = devMetrics(step);
            r.bestDevAccuracy = std::max(r.bestDevAccuracy, d.accuracy);
            r.finalDevAccuracy = d.accuracy;
            r.finalDevLoss = d.loss;
        }
    }
    r.steps = spec.steps;
    if (const auto test = problem.evaluateTest()) {
        metric("test/accuracy", spec.steps, test->accuracy);
        metric("test/accuracy_calibrated", spec.steps, test->accuracyCalibrated);
        metric("test/loss", spec.steps, test->loss);
        r.testAccuracy = test->accuracy;
        log(cat("test accuracy ", test->accuracy, " (calibrated ", test->accuracyCalibrated,
                "), test loss ", test->loss, ", ", test->examples, " examples"));
    }
    for (auto& t : all) t.set_requires_grad(false);
    if (!spec.saveTo.empty()) {
        torch::NoGradGuard noGrad;
        r.savedAs = problem.save(spec.saveTo);
        log("wrote the fine-tuned model to " + spec.saveTo.string() + " (" + r.savedAs + ")");
    }
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    r.peakRssBytes = peakRssBytes();
    return r;
}

}  // namespace frugal::train
