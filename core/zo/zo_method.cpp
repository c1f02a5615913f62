// method = "zo" (or its preset name "mezo"): zeroth-order fine-tuning on a task (SPEC-ZO §1-§3);
// the [zo] (or [mezo]) table and [peft]. The one definition of the ZO config: reader, validation
// and, through the reader, the schema that the form and --print-config use.

#include "zo/zo_method.h"

#include "dist/world.h"

#include <algorithm>

#include "common/format.h"
#include "common/runtime_info.h"
#include "model/device.h"

#include "common/config_reader.h"
#include "common/error.h"
#include "eval/fine_tune_config.h"
#include "zo/directions.h"
#include "zo/engine.h"
#include "zo/optimizers.h"
#include "zo/scheme.h"
#include "zo/streamed.h"
#include "common/metric_keys.h"
#include "zo/zo_metrics.h"

namespace frugal::zo {

void ZoConfig::validate() const {
    const auto k = [this](const char* key) { return table + "." + key; };
    if (optimizer->conservative && common.weightDecay != 0)
        failAt(k("weight_decay"), "zo.optimizer = \"", optimizer->name,
               "\" compares losses along ±ηĝ and takes no weight decay; set weight_decay = 0");
    if (queries < 1) failAt(k("queries"), "zo.queries must be at least 1, got ", queries);
    if (common.microBatch < 0) failAt(k("micro_batch"), "zo.micro_batch must be at least 0, got ", common.microBatch);
    if (common.microBatch > common.batchSize)
        failAt(k("micro_batch"), "zo.micro_batch (", common.microBatch, ") is larger than batch_size (",
               common.batchSize, "); a piece of the batch holds at most the batch (0: the whole batch in one forward)");
    if (sparsity < 0 || sparsity >= 1) failAt(k("sparsity"), "zo.sparsity must be in [0, 1), got ", sparsity);
    if (keepZeros && sparsity > 0) failAt(k("keep_zeros"), "zo.keep_zeros and zo.sparsity are two masks; choose one");
    if (keepZeros && direction == DirectionLaw::Sphere)
        failAt(k("keep_zeros"), "zo.keep_zeros does not combine with sphere directions (their norm is over all weights)");
    if (keepZeros && (common.peft.target == peft::Target::Lora || common.peft.target == peft::Target::Prefix ||
                      common.peft.target == peft::Target::Prompt))
        failAt(k("keep_zeros"), "zo.keep_zeros keeps a pruned model's zeros in the weights it trains; with peft.target = ",
               peft::targetName(common.peft.target), " the adapters would move them (use full, bitfit, norms or head",
               common.peft.target == peft::Target::Lora ? "; for LoRA, peft.lora_keep_zeros = true masks its update" : "",
               ")");
    if (sparsity > 0 && direction == DirectionLaw::Sphere)
        failAt(k("sparsity"), "zo.sparsity does not combine with sphere directions (their norm is over all weights)");
    if (queriesMax < 1) failAt(k("q_max"), "zo.q_max must be at least 1, got ", queriesMax);
    if (scheme) scheme->validate(*this);
}

namespace {

// The scheme table's choice (zo/scheme.h) and the constants each row reads.
void readScheme(const config::Section& m, ZoConfig& c) {
    using namespace frugal::config;
    std::string scheme = mezoScheme().name;
    std::string schemes;
    for (const auto& name : zoSchemeNames()) schemes += (schemes.empty() ? "" : ", ") + name;
    m.choice("scheme", scheme, zoSchemeNames(),
             {"how a step is made: " + schemes + " (mezo: the estimator, optimiser and mask keys; the others: "
              "zo/scheme.h, docs/METHODS.md)"});
    c.scheme = &atKey(m.name("scheme"), [&]() -> const ZoScheme& { return findZoScheme(scheme); });
    const auto schemeReads = [&m](const char* key) { return m.when("scheme", zoSchemesReading(key)); };
    m.integer("fzoo_batch", c.fzooBatch, 2, 4096,
              {"FZOO: one-sided Rademacher estimates a step (their losses' spread normalises the step)",
               {schemeReads("fzoo_batch")}});
    m.boolean("fzoo_batched", c.fzooBatched,
              {"FZOO on a soft prompt (peft.target = prompt): the batch's perturbed prompts in one batched forward "
               "(n replicas of the batch: n times the activations; on the CPU no faster than one forward a prompt)",
               {schemeReads("fzoo_batched")}});
    m.number("lezo_fraction", c.lezoFraction, 1e-6, 1.0,
             {"LeZO: the share of decoder blocks perturbed and updated each step", {schemeReads("lezo_fraction")}});
    m.integer("lozo_rank", c.lozoRank, 1, 4096, {"LOZO: the rank r of each matrix's perturbation U Vᵀ", {schemeReads("lozo_rank")}});
    m.integer("lozo_nu", c.lozoNu, 1, 1 << 30, {"LOZO: the steps each V is kept before it is drawn again", {schemeReads("lozo_nu")}});
    m.number("lozo_momentum", c.lozoMomentum, 0.0, 0.999999,
             {"LOZO-M: the momentum β of the low-rank factor (0: LOZO)", {schemeReads("lozo_momentum")}});
    m.number("hizoo_alpha", c.hizooAlpha, 0.0, 1.0,
             {"HiZOO: the weight α of each step's Hessian estimate in Σ⁻¹'s moving average", {schemeReads("hizoo_alpha")}});
    m.integer("svrg_q", c.svrgQ, 1, 1 << 30,
              {"MeZO-SVRG: steps from one large-batch estimate (and snapshot) to the next", {schemeReads("svrg_q")}});
    m.integer("svrg_batch", c.svrgBatch, 1, 1 << 20,
              {"MeZO-SVRG: the examples of the large batch (each of its forwards counts as svrg_batch / batch_size)",
               {schemeReads("svrg_batch")}});
    m.number("svrg_lr_full", c.svrgLrFull, 0.0, 1e6,
             {"MeZO-SVRG: η1, the large-batch step's learning rate (0: lr)", {schemeReads("svrg_lr_full")}});
}

// [memory]: the budget, whether the blocks are streamed, the working copy's folder.
void readMemory(const toml::table& root, const std::string& source, ZoConfig& c) {
    using namespace frugal::config;
    const toml::table empty;
    const Section s(tableOr(root, "memory", source, empty), "memory", source);
    std::string budget;
    s.string("budget", budget,
             {"the memory the run may hold, e.g. \"12GiB\"; empty: what is free when it starts. A run that does not "
              "fit streams its decoder blocks from disk (stream = \"auto\")"});
    s.named("stream", c.streaming, kStreamings,
            {"stream the decoder blocks from disk, one sweep a step: when the run does not fit the budget (auto), "
             "always, or never"});
    s.path("working_copy", c.workingCopyDir,
           {"the folder of the working copy a streamed full fine-tuning writes its blocks to (as large as the "
            "blocks); empty: the run's artifact folder", {s.unless("stream", {"never"})}});
    s.done();
    if (!budget.empty()) c.memoryBudget = atKey(s.name("budget"), [&] { return eval::parseByteSize(budget, "memory.budget"); });
}

ZoConfig readZo(const std::string& method, const toml::table& root, const std::string& source,
                bool& save) {
    using namespace frugal::config;
    const toml::table empty;
    const Section top(root, "", source, {"method", method, "peft", "live_landscape", "memory"});
    const Section m(tableOr(root, method, source, empty), method, source);
    ZoConfig c;
    eval::readFineTuneSpec(m, root, source, c.common, save);
    eval::readLiveLandscape(root, source, c.common, /*gradients=*/false);
    m.named("estimator", c.estimator, kEstimators,
             {"the gradient estimate: central two-point (2q forwards) or one-sided forward (q + 1)"});
    m.named("direction", c.direction, kDirectionLaws,
             {"the law of each perturbation z: Gaussian, Rademacher (±1) or the sphere of radius √d"});
    m.number("eps", c.eps, 1e-12, 10.0,
             {"the perturbation scale ε of the two-point estimate (L(θ + εz) − L(θ − εz)) / 2ε"});
    std::string optimizers;
    for (const auto& name : zoOptimizerNames()) optimizers += (optimizers.empty() ? "" : ", ") + name;
    std::string optimizer = c.optimizer->name;
    m.choice("optimizer", optimizer, zoOptimizerNames(),
             {"how the estimate ĝ becomes a step: " + optimizers + " (sgd is MeZO's; zo/optimizers.cpp)"});
    c.optimizer = &atKey(m.name("optimizer"), [&]() -> const ZoOptimizer& { return findZoOptimizer(optimizer); });
    // an optimiser's constants are read by the rows of the optimiser table that say so
    const auto readBy = [&m](const char* key) { return m.when("optimizer", zoOptimizersReading(key)); };
    m.named("sign", c.signMode, kSignModes,
             {"how signs are taken: of each element of ĝ, or (scalar) of each projected gradient", {readBy("sign")}});
    m.number("momentum", c.momentum, 0.0, 1.0,
             {"the decay μ of the running direction m ← μ·m + ĝ", {readBy("momentum")}});
    m.number("beta1", c.beta1, 0.0, 1.0,
             {"β1, the rule's first decay rate (Adam's: of the first moment of ĝ; the run's log gives the rule)",
              {readBy("beta1")}});
    m.number("beta2", c.beta2, 0.0, 1.0,
             {"β2, the rule's second decay rate (Adam's: of the second moment of ĝ)", {readBy("beta2")}});
    m.number("adam_eps", c.adamEps, 0.0, 1.0, {"the ε added to √v̂ in the denominator", {readBy("adam_eps")}});
    readScheme(m, c);
    m.named("query_schedule", c.querySchedule, kQueryPolicies,
             {"directions per step: a constant q, or AdaZeta's, growing with the data epoch"});
    const KeyCondition adazeta = m.when("query_schedule", {"adazeta"});
    m.integer("queries", c.queries, 1, 4096,
              {"q: random directions averaged into each step's estimate ĝ", {m.when("query_schedule", {"constant"})}});
    m.number("adazeta_alpha", c.adazetaAlpha, 1e-6, 1e6,
             {"AdaZeta: the scale α of the schedule Q_e = floor(α·e^β) at data epoch e", {adazeta}});
    m.number("adazeta_num", c.adazetaNum, 1.0, 1e6,
             {"AdaZeta: the queries the schedule reaches at the run's last epoch (sets β when β = 0)", {adazeta}});
    m.number("adazeta_beta", c.adazetaBeta, 0.0, 10.0,
             {"AdaZeta: the exponent β of the epoch; 0: derived from num and the run's epochs", {adazeta}});
    m.integer("q_max", c.queriesMax, 1, 4096, {"AdaZeta: the most queries a step takes", {adazeta}});
    m.named("divergence", c.divergence, kDivergences,
             {"a loss far above the first step's: stop the run, roll back, or carry on (NaN/Inf stops)"});
    const KeyCondition rollback = m.when("divergence", {"rollback"});
    m.number("divergence_factor", c.divergenceFactor, 1.0, 1e12,
             {"a loss above this multiple of the first step's counts as divergence", {m.unless("divergence", {"off"})}});
    m.integer("rollback_steps", c.rollbackSteps, 0, 1 << 30,
              {"steps undone before the divergent one on a rollback (the lr is then halved)", {rollback}});
    m.integer("max_rollbacks", c.maxRollbacks, 0, 1000,
              {"rollbacks allowed before a divergence stops the run", {rollback}});
    m.number("sparsity", c.sparsity, 0.0, 0.999,
             {"Sparse-MeZO: the share of each tensor, largest |θ| first, left unperturbed and unmoved; 0: off"});
    m.boolean("keep_zeros", c.keepZeros,
              {"weights that are zero at the start are never perturbed or moved (fine-tuning a pruned model)"});
    m.integer("micro_batch", c.common.microBatch, 0, 4096,
              {"examples a forward pass: the batch's loss in pieces of this many, weighted (activation memory of a "
               "piece); 0: the whole batch"});
    m.done();
    readMemory(root, source, c);
    c.table = method;
    try {
        c.validate();
    } catch (const Error& e) {
        config::rethrowIn(source, e);
    }
    return c;
}

// What a ZO run keeps beside the weights: the optimiser's fp32 state buffers and the mask bits.
eval::TrainingPlan planOf(const ZoConfig& c) {
    const ZoOptimizer& o = *c.optimizer;
    eval::TrainingPlan plan;
    plan.method = &o == &zoSgd() ? std::string("MeZO (ZO-SGD)") : cat("ZO-", o.name);
    plan.stateBuffers = c.signMode == SignMode::Scalar && o.signRule ? 0 : o.stateBuffers;
    plan.stateElementBytes = 4;
    plan.sparseMask = c.sparsity > 0 || c.keepZeros;
    if (c.scheme && c.scheme != &mezoScheme()) {
        plan.method = c.scheme->name;
        plan.stateBuffers += c.scheme->stateBuffers;
    }
    return plan;
}

// The run's memory estimate; a scheme's largest forward where it has one (MeZO-SVRG's large
// batch, in pieces of micro_batch where set).
eval::MemoryEstimate estimateOf(const ZoConfig& c) {
    eval::FineTuneSpec sized = c.common;
    if (c.scheme && c.scheme->largestBatch) sized.batchSize = c.scheme->largestBatch(c);
    return eval::estimateFineTuneRun(sized, planOf(c));
}

// The hidden-state streams a step advances together: 2q (central), q + 1 (forward), one more
// for conservative's base.
int64_t streamsOf(const ZoConfig& c) {
    const int64_t q = c.querySchedule == QueryPolicy::Constant ? c.queries : c.queriesMax;
    const bool base = c.estimator == Estimator::Forward || c.optimizer->conservative;
    return (c.estimator == Estimator::Central ? 2 * q : q) + (base ? 1 : 0);
}

// Where the run holds its model: in memory, or (stream = "always", or "auto" and INMEMORY above
// the budget) its blocks streamed from disk, as many held at once as the budget leaves room for
// (2 to 4). C says which; the estimate the run is guarded by.
eval::MemoryEstimate place(ZoConfig& c, const eval::MemoryEstimate& inMemory) {
    if (c.streaming == Streaming::Never) return inMemory;
    const int64_t budget = c.memoryBudget > 0 ? c.memoryBudget : availableMemoryBytes() + currentRssBytes();
    if (c.streaming == Streaming::Auto && (budget <= 0 || inMemory.total() <= budget)) return inMemory;
    if (c.streaming == Streaming::Auto) {  // only where streaming the blocks is what makes it fit
        ZoConfig streamed = c;
        streamed.common.streamBlocks = true;
        streamed.common.streamRing = 2;
        if (eval::estimateStreamedRun(streamed.common, planOf(streamed), streamsOf(streamed)).total() > budget) return inMemory;
    }
    const std::string why = c.streaming == Streaming::Always
                                ? std::string("memory.stream = \"always\"")
                                : cat(inMemory.line(), ", more than the budget of ", shortNumber(static_cast<double>(budget) / (1 << 30)), " GiB");
    checkStreamable(c);
    if (model::isCudaName(c.common.device))
        failInput(why, ": its blocks would be streamed, which runs on the CPU only; set memory.stream = \"never\" or device = \"cpu\"");
    c.common.streamBlocks = true;
    c.common.streamRing = 2;
    const eval::BlockSizes b = eval::blockSizes(c.common);
    const int64_t room = budget - eval::estimateStreamedRun(c.common, planOf(c), streamsOf(c)).total();
    c.common.streamRing = std::clamp<int64_t>(2 + (room > 0 && b.blockBytes > 0 ? room / b.blockBytes : 0), 2,
                                              std::max<int64_t>(2, std::min<int64_t>(4, b.blocks)));
    return eval::estimateStreamedRun(c.common, planOf(c), streamsOf(c));
}

PreparedRun prepareNamed(const std::string& method, const MethodRequest& request,
                         const eval::TrainingProbeFactory& probes) {
    const std::string source = request.file.string();
    const toml::table root = config::parseConfig(request.text, source, request.overrides);
    bool save = false;
    ZoConfig c = readZo(method, root, source, save);
    if (request.checkOnly) return config::preparedFrom(method, root, static_cast<int64_t>(c.common.seed));
    eval::checkFineTuneInputs(c.common, method, source);
    const eval::MemoryEstimate need = place(c, estimateOf(c));
    eval::guardRunMemory(need, {}, request.force, source, c.common.device);
    PreparedRun p = config::preparedFrom(method, root, static_cast<int64_t>(c.common.seed));
    p.params["resolved.dtype"] = eval::resolvedDtype(c.common);
    if (c.scheme && *c.scheme->departures) p.params["choice.zo.scheme"] = c.scheme->departures;
    p.body = [c, save, need, probes, outDir = request.outDir, resume = request.resume](const RunContext& context) {
        EventSink& sink = context.sink;
        eval::reportEstimate(sink, need, resume);
        ZoConfig config = c;
        // in a data-parallel run, process 0 alone writes the trajectory and the model
        const bool writes = !context.world || context.world->rank() == 0;
        if (config.common.streamBlocks) {
            if (context.world) failInput("a streamed model (memory.stream) does not run data parallel yet");
            config.common.workingCopy = (c.workingCopyDir.empty() ? sink.artifactDir() : c.workingCopyDir) / "blocks.bin";
            const eval::BlockSizes b = eval::blockSizes(config.common);
            sink.info(cat("streaming: ", b.blocks, " decoder blocks of ", shortNumber(static_cast<double>(b.blockBytes) / (1 << 20)),
                          " MiB read from disk one sweep a step, ", config.common.streamRing,
                          " held at once; a working copy in ", config.common.workingCopy.string(),
                          " if the blocks' weights train (removed at the end)"));
        }
        if (save && writes) config.common.saveTo = outDir.empty() ? sink.artifactDir() / "model" : outDir;
        ZoRunOptions options;
        options.trajectoryFile = writes ? sink.artifactDir() / "trajectory.csv" : std::filesystem::path();
        options.resume = resume;
        options.world = context.world;
        options.probes = probes;
        const auto& trajectory = options.trajectoryFile;
        ZoResult r;
        std::error_code ignored;
        try {
            r = runZo(config, sink, context.stop, options);
        } catch (...) {
            if (writes && std::filesystem::exists(trajectory)) sink.artifact("trajectory", trajectory);
            if (config.common.streamBlocks) std::filesystem::remove(config.common.workingCopy, ignored);
            throw;
        }
        if (config.common.streamBlocks) std::filesystem::remove(config.common.workingCopy, ignored);
        if (writes) sink.artifact("trajectory", trajectory);
        eval::reportFineTune(sink, r, config.common, cat(r.forwardPasses, " forward passes"));
        eval::reportPeak(sink, r.steps, need, config.common.device);
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
    const eval::MemoryEstimate need = estimateOf(c);
    s->memory = need.line();
    s->memoryBytes = need.total();
    return s;
}
PreparedRun prepareMezoMethod(const MethodRequest& request, const eval::TrainingProbeFactory& probes) {
    return prepareNamed("mezo", request, probes);
}

int64_t replayZoMethod(const ReplayRequest& request) {
    bool save = false;
    ZoConfig c = readZo(request.method, config::parseConfig(request.configText, "the run's config"),
                        "the run's config", save);
    // z is the same function of seed and offset on every device: a CUDA run replays on the CPU
    // (its dtype resolved as the run resolved it, on the run's own device)
    c.common.dtype = eval::resolvedDtype(c.common);
    if (!request.device.empty()) c.common.device = request.device;
    auto steps = readTrajectory(request.trajectory);
    const int64_t last = steps.empty() ? 0 : steps.back().step;
    if (request.untilStep > last)
        fail("--step ", request.untilStep, " is past the run's end: its trajectory has ", steps.size(),
             " steps (the last is step ", last, ")");
    if (request.untilStep >= 0) {
        while (!steps.empty() && steps.back().step > request.untilStep) steps.pop_back();
    }
    // a model too large for memory is replayed with its blocks streamed, as it was trained
    place(c, estimateOf(c));
    if (c.common.streamBlocks) c.common.workingCopy = request.outDir / "blocks.bin";
    std::error_code ignored;
    try {
        replayZo(c, steps, request.outDir);
    } catch (...) {
        if (c.common.streamBlocks) std::filesystem::remove(c.common.workingCopy, ignored);
        throw;
    }
    if (c.common.streamBlocks) std::filesystem::remove(c.common.workingCopy, ignored);
    return static_cast<int64_t>(steps.size());
}

// The fine-tuning view of zo and mezo: loss and evaluation, the query schedule and the projected
// gradient, memory and throughput (a run with [live_landscape] trades the schedule, memory and
// throughput for the probe's panels: analysis::withLiveLandscape, added by the registry row).
MethodView zoView() {
    MethodView v;
    PanelView queries{"Query schedule", "queries Q per step", {{{metrics::kQueries, 0}}}};
    queries.unlessSet = "live_landscape.every";
    PanelView gradient{"Projected gradient", "|g|", {{{metrics::kProjectedGrad, 0}, {metrics::kProjectedGradAbsMean, 1}}}};
    gradient.absolute = true;
    PanelView memory = memoryPanel(), throughput = throughputPanel();
    memory.unlessSet = throughput.unlessSet = "live_landscape.every";
    v.panels = {lossPanel(), evaluationPanel(), queries, gradient, memory, throughput};
    // each scheme's own series (zo/scheme.h), shown for its runs
    PanelView fzoo{"FZOO: loss spread σ", "σ", {{{"fzoo/loss_std", 0}}}};
    fzoo.whenSet = "zo.scheme=fzoo";
    PanelView lezo{"LeZO: share perturbed, pass time", "share / s",
                   {{{"lezo/perturbed_fraction", 0}, {"lezo/pass_seconds", 1}, {"lezo/step_seconds", 2}}}};
    lezo.whenSet = "zo.scheme=lezo";
    PanelView lozo{"LOZO: rank of U Vᵀ, V drawn", "rank", {{{"lozo/rank", 0}, {"lozo/v_drawn", 1}}}};
    lozo.whenSet = "zo.scheme=lozo";
    PanelView hizoo{"HiZOO: Hessian estimate Σ⁻¹", "Σ⁻¹",
                    {{{"hizoo/hessian_mean", 0}, {"hizoo/hessian_min", 1}, {"hizoo/hessian_max", 2},
                      {"hizoo/curvature", 3}}}};
    hizoo.whenSet = "zo.scheme=hizoo";
    PanelView svrg{"MeZO-SVRG: c̃ and (g − g̃)²", "c̃ / (g − g̃)²",
                   {{{"svrg/full_grad", 0}, {"svrg/correction_sq", 1}}}};
    svrg.whenSet = "zo.scheme=svrg";
    for (const PanelView& p : {fzoo, lezo, lozo, hizoo, svrg}) v.panels.push_back(p);
    v.result = {{"dev ", frugal::metrics::kDevAccuracy, true},
                {"dev ppl ", frugal::metrics::kDevPerplexity, true, true},  // plain-text language modelling
                {"loss ", frugal::metrics::kDevLoss}};
    v.presets = {{"MeZO — full parameters", "zo/mezo-full-smollm2-movie.toml", 0},
                 {"MeZO — LoRA", "zo/mezo-lora-smollm2-movie.toml", 1},
                 {"MeZO — prefix tuning", "zo/mezo-prefix-smollm2-movie.toml", 2},
                 {"MeZO — full parameters", "zo/mezo-full-sentiment.toml", 10},
                 {"MeZO — LoRA", "zo/mezo-lora-sentiment.toml", 11},
                 {"MeZO — prefix tuning", "zo/mezo-prefix-sentiment.toml", 12},
                 {"MeZO — LoRETTA_adp tensor-train adapters", "loretta/loretta-adp-zo.toml", 13},
                 {"AdaZeta — LoRETTA_adp + adaptive queries", "loretta/adazeta.toml", 14},
                 {"ZO-Adam — LoRA", "zo/zo-adam-lora-sentiment.toml", 16},
                 {"AdaZeta query schedule — LoRA", "zo/adazeta-lora-sentiment.toml", 17},
                 {"Recovery after pruning — MeZO, pruned weights kept at zero", "prune/recover-zo.toml", 21},
                 {"MeZO with the loss landscape measured as it trains", "landscape/mezo-live-landscape-sentiment.toml",
                  25}};
    return v;
}

// mezo's view: zo's panels and result; the presets are zo configs, offered once, under zo.
MethodView mezoView() {
    MethodView v = zoView();
    v.presets.clear();
    for (PanelView& p : v.panels)  // a mezo config's scheme is mezo.scheme
        if (p.whenSet.rfind("zo.scheme=", 0) == 0) p.whenSet = "me" + p.whenSet;
    return v;
}

}  // namespace frugal::zo
