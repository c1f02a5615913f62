// method = "fo": first-order SGD / AdamW baselines on the same problem as ZO runs; [fo] and
// [peft]. The one definition of the FO config: reader, validation and schema.

#include "fo/fo_method.h"

#include "common/config_reader.h"
#include "common/error.h"
#include "eval/fine_tune_config.h"
#include "eval/resume_point.h"
#include "fo/first_order.h"

namespace frugal::fo {

void FoConfig::validate() const {
    if (optimizer != "adamw" && optimizer != "sgd")
        fail("fo.optimizer: unknown optimizer '", optimizer, "' (expected adamw or sgd)");
    if (eval::parseObjective(common.objective) == eval::Objective::NegAccuracy)
        fail("fo.objective = \"neg_accuracy\" is not differentiable; first-order runs need "
             "classification or lm (zeroth-order runs can optimise neg_accuracy)");
    eval::parseLrSchedule(common.lrSchedule);
}

namespace {

FoConfig readFo(const toml::table& root, const std::string& source, bool& save) {
    using namespace frugal::config;
    const toml::table empty;
    const Section top(root, "", source, {"method", "fo", "peft", "live_landscape"});
    const Section m(tableOr(root, "fo", source, empty), "fo", source,
                    eval::fineTuneKeys({"optimizer", "momentum", "beta1", "beta2", "adam_eps", "grad_clip"}));
    FoConfig c;
    eval::readFineTuneSpec(m, root, source, c.common, save);
    eval::readLiveLandscape(root, source, c.common);
    m.choice("optimizer", c.optimizer, {"adamw", "sgd"});
    m.number("momentum", c.momentum, 0.0, 1.0);
    m.number("beta1", c.beta1, 0.0, 1.0);
    m.number("beta2", c.beta2, 0.0, 1.0);
    m.number("adam_eps", c.adamEps, 0.0, 1.0);
    m.number("grad_clip", c.gradClip, 0.0, 1e12);
    try {
        c.validate();
    } catch (const Error& e) {
        fail(source, ": ", e.what());
    }
    return c;
}

// Autograd's gradients and the optimiser's state, in each trainable's dtype (torch's optimisers).
eval::TrainingPlan planOf(const FoConfig& c) {
    eval::TrainingPlan plan;
    plan.firstOrder = true;
    plan.method = c.optimizer == "adamw" ? "AdamW" : c.momentum > 0 ? "SGD with momentum" : "SGD";
    plan.stateBuffers = c.optimizer == "adamw" ? 2 : c.momentum > 0 ? 1 : 0;
    return plan;
}

// The same problem fine-tuned by MeZO: what a refusal offers instead.
eval::TrainingPlan mezoPlan() {
    eval::TrainingPlan plan;
    plan.method = "MeZO (ZO-SGD)";
    return plan;
}

}  // namespace

PreparedRun prepareFoMethod(const MethodRequest& request, const eval::TrainingProbeFactory& probes) {
    using namespace frugal::config;
    const std::string source = request.file.string();
    const toml::table root = parseConfig(request.text, source, request.overrides);
    bool save = false;
    const FoConfig c = readFo(root, source, save);
    eval::checkFineTuneInputs(c.common, "fo", source);
    const eval::MemoryEstimate need = eval::estimateFineTuneRun(c.common, planOf(c));
    eval::guardMemory(need, {eval::estimateFineTuneRun(c.common, mezoPlan())}, request.force, source);
    PreparedRun p = preparedFrom("fo", root, static_cast<int64_t>(c.common.seed));
    p.body = [c, save, need, probes, outDir = request.outDir, resume = request.resume](const RunContext& context) {
        EventSink& sink = context.sink;
        eval::reportEstimate(sink, need);
        FoConfig config = c;
        if (save) config.common.saveTo = outDir.empty() ? sink.artifactDir() / "model" : outDir;
        const auto r =
            runFirstOrder(config, sink, context.stop, eval::resumeDir(sink.artifactDir()), resume, probes);
        eval::reportFineTune(sink, r, config.common,
                             cat(r.forwardPasses, " forward and ", r.backwardPasses, " backward passes"));
        eval::reportPeak(sink, r.steps, need);
    };
    return p;
}

std::optional<TrainableSummary> foTrainables(const std::string& text, const std::string& source,
                                             const std::vector<std::string>& overrides) {
    std::optional<TrainableSummary> s = eval::fineTuneTrainables(text, source, overrides);
    if (!s) return s;
    bool save = false;
    const FoConfig c = readFo(config::parseConfig(text, source, overrides), source, save);
    s->memory = eval::estimateFineTuneRun(c.common, planOf(c)).line();
    return s;
}

}  // namespace frugal::fo
