// method = "fo": first-order SGD / AdamW baselines on the same problem as ZO runs; [fo] and
// [peft]. The one definition of the FO config: reader, validation and schema.

#include "fo/fo_method.h"

#include "common/config_reader.h"
#include "common/error.h"
#include "eval/fine_tune_config.h"
#include "eval/resume_point.h"
#include "fo/first_order.h"
#include "common/metric_keys.h"

namespace frugal::fo {

void FoConfig::validate() const {
    if (common.objective == eval::Objective::NegAccuracy)
        failAt("fo.objective", "fo.objective = \"neg_accuracy\" is not differentiable; first-order runs need "
               "classification or lm (zeroth-order runs can optimise neg_accuracy)");
}

namespace {

FoConfig readFo(const toml::table& root, const std::string& source, bool& save) {
    using namespace frugal::config;
    const toml::table empty;
    const Section top(root, "", source, {"method", "fo", "peft", "live_landscape"});
    const Section m(tableOr(root, "fo", source, empty), "fo", source);
    FoConfig c;
    // the shared keys as first-order training reads them (no perturbation directions)
    const KeyDocs retold = {
        {"fo.seed", {"the seed of the batch order"}},
        {"fo.objective", {"the loss: cross-entropy over the labels, or the gold label's LM loss"}},
        {"fo.weight_decay", {"weight decay λ: AdamW's decoupled, SGD's added to the gradient (none on biases and norms)"}},
    };
    eval::readFineTuneSpec(m, root, source, c.common, save, retold);
    eval::readLiveLandscape(root, source, c.common, /*gradients=*/true);
    m.named("optimizer", c.optimizer, kFoOptimizers, {"AdamW or SGD on the back-propagated gradient"});
    const KeyCondition adamw = m.when("optimizer", {"adamw"});
    m.number("momentum", c.momentum, 0.0, 1.0, {"the momentum of SGD; 0: plain SGD", {m.when("optimizer", {"sgd"})}});
    m.number("beta1", c.beta1, 0.0, 1.0, {"the decay β1 of the gradient's first moment", {adamw}});
    m.number("beta2", c.beta2, 0.0, 1.0, {"the decay β2 of the gradient's second moment", {adamw}});
    m.number("adam_eps", c.adamEps, 0.0, 1.0, {"the ε added to the denominator", {adamw}});
    m.number("grad_clip", c.gradClip, 0.0, 1e12,
             {"the global gradient norm is clipped to this before each step; 0: no clipping"});
    m.done();
    try {
        c.validate();
    } catch (const Error& e) {
        config::rethrowIn(source, e);
    }
    return c;
}

// Autograd's gradients and the optimiser's state, in each trainable's dtype (torch's optimisers).
eval::TrainingPlan planOf(const FoConfig& c) {
    eval::TrainingPlan plan;
    plan.firstOrder = true;
    const bool adamw = c.optimizer == FoOptimizer::AdamW;
    plan.method = adamw ? "AdamW" : c.momentum > 0 ? "SGD with momentum" : "SGD";
    plan.stateBuffers = adamw ? 2 : c.momentum > 0 ? 1 : 0;
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
    if (request.checkOnly) return preparedFrom("fo", root, static_cast<int64_t>(c.common.seed));
    eval::checkFineTuneInputs(c.common, "fo", source);
    const eval::MemoryEstimate need = eval::estimateFineTuneRun(c.common, planOf(c));
    eval::guardRunMemory(need, {eval::estimateFineTuneRun(c.common, mezoPlan())}, request.force, source,
                         c.common.device);
    PreparedRun p = preparedFrom("fo", root, static_cast<int64_t>(c.common.seed));
    p.params["resolved.dtype"] = eval::resolvedDtype(c.common);
    p.body = [c, save, need, probes, outDir = request.outDir, resume = request.resume](const RunContext& context) {
        EventSink& sink = context.sink;
        eval::reportEstimate(sink, need, resume);
        FoConfig config = c;
        if (save) config.common.saveTo = outDir.empty() ? sink.artifactDir() / "model" : outDir;
        const auto r =
            runFirstOrder(config, sink, context.stop, eval::resumeDir(sink.artifactDir()), resume, probes);
        eval::reportFineTune(sink, r, config.common,
                             cat(r.forwardPasses, " forward and ", r.backwardPasses, " backward passes"));
        eval::reportPeak(sink, r.steps, need, config.common.device);
    };
    return p;
}

std::optional<TrainableSummary> foTrainables(const std::string& text, const std::string& source,
                                             const std::vector<std::string>& overrides) {
    std::optional<TrainableSummary> s = eval::fineTuneTrainables(text, source, overrides);
    if (!s) return s;
    bool save = false;
    const FoConfig c = readFo(config::parseConfig(text, source, overrides), source, save);
    const eval::MemoryEstimate need = eval::estimateFineTuneRun(c.common, planOf(c));
    s->memory = need.line();
    s->memoryBytes = need.total();
    return s;
}

// The first-order baselines: loss and evaluation, the gradient norm and learning rate, memory and
// throughput (the [live_landscape] panels added by the registry row).
MethodView foView() {
    MethodView v;
    PanelView gradient{"Gradient norm", "||g||", {{{metrics::kTrainGradNorm, 0}}}};
    PanelView lr{"Learning rate", "lr", {{{metrics::kTrainLr, 0}}}};
    PanelView memory = memoryPanel(), throughput = throughputPanel();
    lr.unlessSet = memory.unlessSet = throughput.unlessSet = "live_landscape.every";
    v.panels = {lossPanel(), evaluationPanel(), gradient, lr, memory, throughput};
    v.result = {{"dev ", metrics::kDevAccuracy, true},
                {"dev ppl ", metrics::kDevPerplexity, true, true},
                {"loss ", metrics::kDevLoss}};
    v.presets = {{"First-order AdamW — LoRETTA_adp", "loretta/fo-loretta-adp.toml", 15},
                 {"First-order AdamW — full (baseline)", "zo/fo-adamw-sentiment.toml", 18},
                 {"AdamW with the loss landscape measured as it trains", "landscape/fo-live-landscape-sentiment.toml",
                  26}};
    return v;
}

}  // namespace frugal::fo
