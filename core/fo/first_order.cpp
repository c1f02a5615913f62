#include "fo/first_order.h"

#include <torch/optim.h>
#include <torch/nn/utils/clip_grad.h>
#include <torch/serialize.h>

#include <chrono>
#include <cmath>

#include "common/error.h"
#include "common/runtime_info.h"
#include "common/format.h"
#include "eval/resume_point.h"
#include "common/metric_keys.h"

namespace frugal::fo {

using namespace frugal::eval;

FoResult runFirstOrder(const FoConfig& c, EventSink& sink, const StopToken& stop,
                       const std::filesystem::path& resumeDir, bool resume, const TrainingProbeFactory& probes) {
    c.validate();
    const auto metric = [&](const std::string& key, int64_t step, double value) {
        sink.metric(key, step, value);
    };
    const auto start = std::chrono::steady_clock::now();
    const FineTuneSpec& spec = c.common;
    FineTuneProblem problem(spec);
    problem.setStop(&stop);  // its evaluations stop between examples
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
    if (c.optimizer == FoOptimizer::AdamW) {
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
    const LrSchedule schedule = spec.lrSchedule;
    sink.info(cat("first-order ", nameOf(kFoOptimizers, c.optimizer), " on ", problem.describeData(), " with the ", objectiveName(spec.objective),
            " objective: ", problem.params().describe(), "; batch ", spec.batchSize, ", lr ",
            spec.lr, " (", lrScheduleName(spec.lrSchedule), ")"));
    std::mt19937_64 rng(spec.seed);
    int64_t firstStep = 1;
    // The state at the top of step NEXT: metrics stored first, then the tensors under names of
    // their own step, then the point, which commits them (a kill at any moment leaves state.json
    // naming tensors of its own step); the previous point's tensors go last.
    const auto tensorsOf = [&](int64_t next, const char* what) {
        return resumeDir / cat(what, "-", next, ".pt");
    };
    const auto saveResumePoint = [&](int64_t next) {
        if (resumeDir.empty()) return;
        sink.flush();
        std::filesystem::create_directories(resumeDir);
        std::vector<torch::Tensor> weights;
        for (const auto& t : all) weights.push_back(t.detach());
        torch::save(weights, (resumeDir / "trainables.pt.tmp").string());
        torch::save(*optimizer, (resumeDir / "optimizer.pt.tmp").string());
        std::filesystem::rename(resumeDir / "trainables.pt.tmp", tensorsOf(next, "trainables"));
        std::filesystem::rename(resumeDir / "optimizer.pt.tmp", tensorsOf(next, "optimizer"));
        ResumePoint point;
        point.nextStep = next;
        point.setRng(rng);
        point.keep(r);
        point.counters = {{"backward_passes", static_cast<double>(r.backwardPasses)},
                          {"tensors", static_cast<double>(all.size())}};
        point.refers = {fileRef(resumeDir.parent_path(), tensorsOf(next, "trainables"), RefersTo::Whole),
                        fileRef(resumeDir.parent_path(), tensorsOf(next, "optimizer"), RefersTo::Whole)};
        writeResumePoint(resumeDir, point);
        for (const auto& entry : std::filesystem::directory_iterator(resumeDir)) {  // older points' tensors
            const std::string name = entry.path().filename().string();
            if (entry.path().extension() == ".pt" && (name.rfind("trainables", 0) == 0 || name.rfind("optimizer", 0) == 0) &&
                entry.path() != tensorsOf(next, "trainables") && entry.path() != tensorsOf(next, "optimizer"))
                std::filesystem::remove(entry.path());
        }
    };
    if (resume) {
        if (resumeDir.empty()) fail("resume: first-order training resumes from a checkpoint; none was given");
        const ResumePoint point = readResumePoint(
            resumeDir, "the run stopped before its first evaluation step; start it again");
        if (static_cast<size_t>(point.counter("tensors")) != all.size())
            fail((resumeDir / "state.json").string(), ": the checkpoint holds ", point.counter("tensors"),
                 " trainable tensors, the config trains ", all.size());
        // the tensors of the point's own step (a resume point written before they were named by
        // step holds trainables.pt and optimizer.pt)
        const auto fileOf = [&](const char* what) {
            const auto own = tensorsOf(point.nextStep, what);
            return std::filesystem::exists(own) ? own : resumeDir / cat(what, ".pt");
        };
        const std::filesystem::path trainables = fileOf("trainables"), optimizerFile = fileOf("optimizer");
        std::vector<torch::Tensor> weights;
        torch::load(weights, trainables.string());
        if (weights.size() != all.size())
            fail(trainables.string(), ": ", weights.size(), " tensors, expected ", all.size());
        {
            torch::NoGradGuard noGrad;
            for (size_t i = 0; i < all.size(); ++i) {
                if (weights[i].sizes() != all[i].sizes() || weights[i].scalar_type() != all[i].scalar_type())
                    fail(trainables.string(), ": tensor ", i, " is ", weights[i].sizes(), " ",
                         weights[i].scalar_type(), ", expected ", all[i].sizes(), " ", all[i].scalar_type());
                all[i].copy_(weights[i]);
            }
        }
        torch::load(*optimizer, optimizerFile.string());
        point.restoreRng(rng);
        point.restore(r);
        r.backwardPasses = static_cast<int64_t>(point.counter("backward_passes"));
        firstStep = point.nextStep;
        sink.metric(frugal::metrics::kResumedAt, firstStep, static_cast<double>(firstStep));
        sink.info(cat("resumed at step ", firstStep, " of ", spec.steps, " from the checkpoint in ",
                      resumeDir.string()));
    } else {
        metric(frugal::metrics::kTrainable, 0, static_cast<double>(r.trainable));
        reportDev(problem, 0, sink, r);
    }
    // [live_landscape]: probes beside the training, restored bit for bit (eval/training_probe.h).
    const std::unique_ptr<TrainingProbe> probe = makeLiveLandscape(probes, spec.liveLandscape, problem, true, nullptr);
    if (probe && !resume) probe->after(0, spec.steps, sink, stop);
    for (int64_t step = firstStep; step <= spec.steps; ++step) {
        if (stop.stopRequested()) {
            saveResumePoint(step);
            throw Cancelled(cat("first-order training stopped before step ", step, " of ", spec.steps));
        }
        problem.nextBatch(rng);
        const double lr = lrAt(schedule, spec.lr, step, spec.steps);
        for (auto& group : optimizer->param_groups()) group.options().set_lr(lr);
        optimizer->zero_grad();
        const torch::Tensor loss = problem.loss();
        const double value = loss.item<double>();
        if (!std::isfinite(value)) {
            metric(frugal::metrics::kTrainLoss, step, value);  // recorded and shown, then the run stops
            fail("first-order training: the loss is ", value, " at step ", step, " (lr ", lr,
                 "); lower fo.lr");
        }
        loss.backward();
        const double gradNorm = torch::nn::utils::clip_grad_norm_(all, c.gradClip > 0 ? c.gradClip : 1e30);
        optimizer->step();
        r.forwardPasses += 1;
        r.backwardPasses += 1;
        metric(frugal::metrics::kTrainLoss, step, value);
        metric(frugal::metrics::kTrainGradNorm, step, gradNorm);
        metric(frugal::metrics::kTrainLr, step, lr);
        sink.progress(step, spec.steps, "loss " + shortNumber(value));
        const bool evaluated = step % spec.evalEvery == 0 || step == spec.steps;
        if (evaluated) reportDev(problem, step, sink, r);
        if (probe) probe->after(step, spec.steps, sink, stop);
        if (evaluated && step < spec.steps) saveResumePoint(step + 1);
    }
    r.steps = spec.steps;
    for (auto& t : all) t.set_requires_grad(false);
    finishRun(problem, sink, r, start);
    return r;
}

}  // namespace frugal::fo
