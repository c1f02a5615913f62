#include "zo/mezo.h"

#include <chrono>
#include <cmath>
#include <random>

#include "common/error.h"
#include "data/builtin.h"
#include "data/corpus.h"
#include "data/task.h"
#include "eval/candidate_scoring.h"
#include "eval/model_loading.h"
#include "model/safetensors.h"
#include "peft/param_set.h"
#include "run/runner.h"
#include "zo/perturb.h"

namespace frugal::zo {

namespace {

// Mean cross-entropy over the candidates' summed log-likelihoods, gold label as the target.
double classificationLoss(const std::vector<std::vector<eval::CandidateScore>>& scores,
                          const std::vector<int>& gold) {
    double total = 0;
    for (size_t e = 0; e < scores.size(); ++e) {
        double maxScore = -INFINITY;
        for (const auto& s : scores[e]) maxScore = std::max(maxScore, s.sumLogProb);
        double z = 0;
        for (const auto& s : scores[e]) z += std::exp(s.sumLogProb - maxScore);
        total += -(scores[e][static_cast<size_t>(gold[e])].sumLogProb - maxScore - std::log(z));
    }
    return total / static_cast<double>(scores.size());
}

}  // namespace

MezoResult runMezo(const MezoConfig& c, const MezoHooks& hooks) {
    const auto log = [&](const std::string& line) {
        if (hooks.log) hooks.log(line);
    };
    const auto metric = [&](const std::string& key, int64_t step, double value) {
        if (hooks.metric) hooks.metric(key, step, value);
    };
    const auto start = std::chrono::steady_clock::now();
    const auto builtin = data::findBuiltinTask(c.task + ":train");
    if (!builtin) fail("mezo.task: '", c.task, "' is not a built-in task (sentiment, spam)");
    const data::Task train = data::Task::load(builtin->file, builtin->task.labels);
    const data::Task dev = data::Task::load(builtin->task.split("dev"), builtin->task.labels);
    const auto prompt = data::PromptTemplate::parse(builtin->task.promptTemplate, builtin->task.labels);
    auto loaded = eval::loadModelAndTokenizer(data::resolveModel(c.model), {});
    const peft::ParamSet params = peft::ParamSet::select(loaded.model, peft::parseTarget(c.target));
    const DirectionLaw law = parseLaw(c.direction);
    MezoResult r;
    r.trainable = params.trainableCount();
    r.total = params.totalCount();
    log(cat("MeZO on ", c.task, ": ", r.trainable, " of ", r.total, " parameters trainable (",
            c.target, "), ", train.examples().size(), " training examples, lr ", c.lr, ", eps ",
            c.eps, ", ", lawName(law), " directions, batch ", c.batchSize));

    const auto devAccuracy = [&](int64_t step) {
        const auto res = eval::evaluateTask(loaded.model, loaded.tokenizer, dev, prompt, c.evalLimit);
        metric("dev/accuracy", step, res.accuracy);
        metric("dev/accuracy_calibrated", step, res.accuracyCalibrated);
        log(cat("step ", step, ": dev accuracy ", res.accuracy, " (calibrated ",
                res.accuracyCalibrated, ", ", res.examples, " examples)"));
        return res.accuracy;
    };
    r.startDevAccuracy = r.bestDevAccuracy = devAccuracy(0);

    std::mt19937_64 rng(c.seed);
    const auto& examples = train.examples();
    std::vector<std::string> contexts(static_cast<size_t>(c.batchSize));
    std::vector<std::vector<std::string>> candidates(static_cast<size_t>(c.batchSize));
    std::vector<int> gold(static_cast<size_t>(c.batchSize));
    for (int64_t step = 1; step <= c.steps; ++step) {
        if (hooks.stopRequested && hooks.stopRequested())
            throw run::Cancelled(cat("MeZO stopped before step ", step, " of ", c.steps));
        for (int64_t b = 0; b < c.batchSize; ++b) {
            const auto& ex = examples[data::uniformBelow(rng, examples.size())];
            const auto rendered = prompt.render(ex.text);
            contexts[static_cast<size_t>(b)] = rendered.context;
            candidates[static_cast<size_t>(b)] = rendered.continuations;
            gold[static_cast<size_t>(b)] = train.labelIndex(ex.label);
        }
        const uint64_t seed = rng() >> 11;  // 53 bits: stored exactly as a metric value
        perturb(params.trainables(), seed, +c.eps, law);
        const double plus = classificationLoss(
            eval::scoreBatch(loaded.model, loaded.tokenizer, contexts, candidates), gold);
        perturb(params.trainables(), seed, -2 * c.eps, law);
        const double minus = classificationLoss(
            eval::scoreBatch(loaded.model, loaded.tokenizer, contexts, candidates), gold);
        const double g = (plus - minus) / (2 * c.eps);
        if (!std::isfinite(plus) || !std::isfinite(minus))
            fail("MeZO: the loss became ", std::isfinite(plus) ? minus : plus, " at step ", step,
                 "; lower mezo.lr or mezo.eps");
        restoreAndUpdate(params.trainables(), seed, c.eps, c.lr, g, c.weightDecay, law);
        r.forwardPasses += 2;
        metric("train/loss", step, plus);
        metric("zo/projected_grad", step, g);
        metric("zo/seed", step, static_cast<double>(seed));
        metric("zo/forward_passes", step, static_cast<double>(r.forwardPasses));
        if (hooks.progress) hooks.progress(step, c.steps, plus);
        if (step % c.evalEvery == 0 || step == c.steps) {
            const double acc = devAccuracy(step);
            r.bestDevAccuracy = std::max(r.bestDevAccuracy, acc);
            r.finalDevAccuracy = acc;
        }
    }
    r.steps = c.steps;
    if (!c.saveTo.empty()) {
        loaded.model.save(c.saveTo, model::DType::F32);
        const auto tokenizerJson = data::resolveModel(c.model) / "tokenizer.json";
        if (std::filesystem::exists(tokenizerJson))
            std::filesystem::copy_file(tokenizerJson, c.saveTo / "tokenizer.json",
                                       std::filesystem::copy_options::overwrite_existing);
        log("wrote the fine-tuned model to " + c.saveTo.string());
    }
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return r;
}

}  // namespace frugal::zo
