// method = "zo" (or its preset name "mezo"): zeroth-order fine-tuning on a task (SPEC-ZO §1-§3);
// the [zo] (or [mezo]) table and [peft]. The one definition of the ZO config: reader, validation
// and, through the reader, the schema that the form and --print-config use.

#include "zo/zo_method.h"

#include "dist/world.h"

#include "common/config_reader.h"
#include "common/error.h"
#include "eval/fine_tune_config.h"
#include "zo/directions.h"
#include "zo/engine.h"
#include "zo/optimizers.h"

namespace frugal::zo {

void ZoConfig::validate() const {
    parseLaw(direction);
    const ZoOptimizer& o = findZoOptimizer(optimizer);
    eval::parseObjective(common.objective);
    eval::parseLrSchedule(common.lrSchedule);
    if (estimator != "central" && estimator != "forward")
        fail("zo.estimator: unknown estimator '", estimator, "' (expected central or forward)");
    if (signMode != "elementwise" && signMode != "scalar")
        fail("zo.sign: unknown sign mode '", signMode, "' (expected elementwise or scalar)");
    if (querySchedule != "constant" && querySchedule != "adazeta")
        fail("zo.query_schedule: unknown schedule '", querySchedule, "' (expected constant or adazeta)");
    if (divergence != "stop" && divergence != "rollback" && divergence != "off")
        fail("zo.divergence: unknown policy '", divergence, "' (expected stop, rollback or off)");
    if (o.conservative && common.weightDecay != 0)
        fail("zo.optimizer = \"", optimizer, "\" compares losses along ±ηĝ and takes no weight decay; "
             "set weight_decay = 0");
    if (queries < 1) fail("zo.queries must be at least 1, got ", queries);
    if (common.microBatch < 0) fail("zo.micro_batch must be at least 0, got ", common.microBatch);
    if (common.microBatch > common.batchSize)
        fail("zo.micro_batch (", common.microBatch, ") is larger than batch_size (", common.batchSize,
             "); a piece of the batch holds at most the batch (0: the whole batch in one forward)");
    if (sparsity < 0 || sparsity >= 1) fail("zo.sparsity must be in [0, 1), got ", sparsity);
    if (keepZeros && sparsity > 0) fail("zo.keep_zeros and zo.sparsity are two masks; choose one");
    if (keepZeros && direction == "sphere")
        fail("zo.keep_zeros does not combine with sphere directions (their norm is over all weights)");
    if (keepZeros && (common.peft.target == peft::Target::Lora || common.peft.target == peft::Target::Prefix ||
                      common.peft.target == peft::Target::Prompt))
        fail("zo.keep_zeros keeps a pruned model's zeros in the weights it trains; with peft.target = ",
             peft::targetName(common.peft.target), " the adapters would move them (use full, bitfit, norms or head",
             common.peft.target == peft::Target::Lora ? "; for LoRA, peft.lora_keep_zeros = true masks its update" : "",
             ")");
    if (sparsity > 0 && direction == "sphere")
        fail("zo.sparsity does not combine with sphere directions (their norm is over all weights)");
    if (queriesMax < 1) fail("zo.q_max must be at least 1, got ", queriesMax);
}

namespace {

ZoConfig readZo(const std::string& method, const toml::table& root, const std::string& source,
                bool& save) {
    using namespace frugal::config;
    const toml::table empty;
    const Section top(root, "", source, {"method", method, "peft", "live_landscape"});
    const Section m(tableOr(root, method, source, empty), method, source,
                    eval::fineTuneKeys({"estimator", "direction", "eps", "optimizer", "sign", "momentum",
                                        "beta1", "beta2", "adam_eps", "query_schedule", "queries",
                                        "adazeta_alpha", "adazeta_num", "adazeta_beta", "q_max",
                                        "divergence", "divergence_factor", "rollback_steps",
                                        "max_rollbacks", "sparsity", "keep_zeros", "micro_batch"}));
    ZoConfig c;
    eval::readFineTuneSpec(m, root, source, c.common, save);
    eval::readLiveLandscape(root, source, c.common);
    m.choice("estimator", c.estimator, {"central", "forward"});
    m.choice("direction", c.direction, {"gaussian", "rademacher", "sphere"});
    m.number("eps", c.eps, 1e-12, 10.0);
    m.choice("optimizer", c.optimizer, zoOptimizerNames());
    m.choice("sign", c.signMode, {"elementwise", "scalar"});
    m.number("momentum", c.momentum, 0.0, 1.0);
    m.number("beta1", c.beta1, 0.0, 1.0);
    m.number("beta2", c.beta2, 0.0, 1.0);
    m.number("adam_eps", c.adamEps, 0.0, 1.0);
    m.choice("query_schedule", c.querySchedule, {"constant", "adazeta"});
    m.integer("queries", c.queries, 1, 4096);
    m.number("adazeta_alpha", c.adazetaAlpha, 1e-6, 1e6);
    m.number("adazeta_num", c.adazetaNum, 1.0, 1e6);
    m.number("adazeta_beta", c.adazetaBeta, 0.0, 10.0);
    m.integer("q_max", c.queriesMax, 1, 4096);
    m.choice("divergence", c.divergence, {"stop", "rollback", "off"});
    m.number("divergence_factor", c.divergenceFactor, 1.0, 1e12);
    m.integer("rollback_steps", c.rollbackSteps, 0, 1 << 30);
    m.integer("max_rollbacks", c.maxRollbacks, 0, 1000);
    m.number("sparsity", c.sparsity, 0.0, 0.999);
    m.boolean("keep_zeros", c.keepZeros);
    m.integer("micro_batch", c.common.microBatch, 0, 4096);
    try {
        c.validate();
    } catch (const Error& e) {
        fail(source, ": ", e.what());
    }
    return c;
}

// What a ZO run keeps beside the weights: the optimiser's fp32 state buffers and the mask bits.
eval::TrainingPlan planOf(const ZoConfig& c) {
    const ZoOptimizer& o = findZoOptimizer(c.optimizer);
    eval::TrainingPlan plan;
    plan.method = c.optimizer == "sgd" ? std::string("MeZO (ZO-SGD)") : cat("ZO-", c.optimizer);
    plan.stateBuffers = c.signMode == "scalar" && c.optimizer == "sign" ? 0 : o.stateBuffers;
    plan.stateElementBytes = 4;
    plan.sparseMask = c.sparsity > 0 || c.keepZeros;
    return plan;
}

PreparedRun prepareNamed(const std::string& method, const MethodRequest& request,
                         const eval::TrainingProbeFactory& probes) {
    const std::string source = request.file.string();
    const toml::table root = config::parseConfig(request.text, source, request.overrides);
    bool save = false;
    const ZoConfig c = readZo(method, root, source, save);
    eval::checkFineTuneInputs(c.common, method, source);
    const eval::MemoryEstimate need = eval::estimateFineTuneRun(c.common, planOf(c));
    eval::guardMemory(need, {}, request.force, source);
    PreparedRun p = config::preparedFrom(method, root, static_cast<int64_t>(c.common.seed));
    p.body = [c, save, need, probes, outDir = request.outDir, resume = request.resume](const RunContext& context) {
        EventSink& sink = context.sink;
        eval::reportEstimate(sink, need);
        ZoConfig config = c;
        // in a data-parallel run, process 0 alone writes the trajectory and the model
        const bool writes = !context.world || context.world->rank() == 0;
        if (save && writes) config.common.saveTo = outDir.empty() ? sink.artifactDir() / "model" : outDir;
        ZoRunOptions options;
        options.trajectoryFile = writes ? sink.artifactDir() / "trajectory.csv" : std::filesystem::path();
        options.resume = resume;
        options.world = context.world;
        options.probes = probes;
        const auto& trajectory = options.trajectoryFile;
        ZoResult r;
        try {
            r = runZo(config, sink, context.stop, options);
        } catch (...) {
            if (writes && std::filesystem::exists(trajectory)) sink.artifact("trajectory", trajectory);
            throw;
        }
        if (writes) sink.artifact("trajectory", trajectory);
        eval::reportFineTune(sink, r, config.common, cat(r.forwardPasses, " forward passes"));
        eval::reportPeak(sink, r.steps, need);
    };
    return p;
}

}  // namespace

PreparedRun prepareZoMethod(const MethodRequest& request, const eval::TrainingProbeFactory& probes) {
    return prepareNamed("zo", request, probes);
}

std::optional<TrainableSummary> zoTrainables(const std::string& text, const std::string& source,
                                             const std::vector<std::string>& overrides) {
    std::optional<TrainableSummary> s = eval::fineTuneTrainables(text, source, overrides);
    if (!s) return s;
    const toml::table root = config::parseConfig(text, source, overrides);
    bool save = false;
    const ZoConfig c = readZo(root["method"].value_or(std::string("zo")), root, source, save);
    s->memory = eval::estimateFineTuneRun(c.common, planOf(c)).line();
    return s;
}
PreparedRun prepareMezoMethod(const MethodRequest& request, const eval::TrainingProbeFactory& probes) {
    return prepareNamed("mezo", request, probes);
}

int64_t replayZoMethod(const ReplayRequest& request) {
    bool save = false;
    const ZoConfig c = readZo(request.method, config::parseConfig(request.configText, "the run's config"),
                              "the run's config", save);
    auto steps = readTrajectory(request.trajectory);
    const int64_t last = steps.empty() ? 0 : steps.back().step;
    if (request.untilStep > last)
        fail("--step ", request.untilStep, " is past the run's end: its trajectory has ", steps.size(),
             " steps (the last is step ", last, ")");
    if (request.untilStep >= 0) {
        while (!steps.empty() && steps.back().step > request.untilStep) steps.pop_back();
    }
    replayZo(c, steps, request.outDir);
    return static_cast<int64_t>(steps.size());
}

}  // namespace frugal::zo
