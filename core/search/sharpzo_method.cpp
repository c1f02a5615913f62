// method = "sharpzo": SharpZO on a soft prompt (SPEC-ZO §7, search/sharpzo.h); the [sharpzo]
// table (the shared fine-tuning keys: steps and lr are stage 2's) and [peft] (target = "prompt").

#include "search/sharpzo_method.h"

#include "common/config_reader.h"
#include "common/error.h"
#include "model/device.h"
#include "eval/fine_tune_config.h"
#include "search/sharpzo.h"
#include "common/metric_keys.h"
#include "search/sharpzo_metrics.h"

namespace frugal::search {

namespace {

SharpZoConfig readSharpZo(const toml::table& root, const std::string& source, bool& save) {
    using namespace frugal::config;
    const toml::table empty;
    const Section top(root, "", source, {"method", "sharpzo", "peft"});
    const Section m(tableOr(root, "sharpzo", source, empty), "sharpzo", source);
    SharpZoConfig c;
    c.common.peft.target = peft::Target::Prompt;
    c.common.peft.promptTokens = 4;
    c.common.lr = 1e-3;
    c.common.steps = 2000;
    c.common.evalEvery = 100;
    // the shared keys as SharpZO reads them: steps and lr are stage 2's
    const KeyDocs retold = {
        {"sharpzo.steps", {"stage 2's ZO-SGD steps, after the CMA-ES warm start"}},
        {"sharpzo.lr", {"stage 2's learning rate η"}},
        {"sharpzo.lr_schedule", {"stage 2's learning-rate schedule (SharpZO takes only constant)"}},
        {"sharpzo.weight_decay", {"weight decay (SharpZO's stage 2 takes none: keep 0)"}},
        {"sharpzo.seed", {"the seed of the batches, CMA-ES's samples and stage 2's directions"}},
        {"sharpzo.eval_every", {"stage-2 steps between dev evaluations (stage 1 evaluates every generation)"}},
        {"peft.target", {"what w moves through its projection: a soft prompt by default, or another small trainable set"}},
    };
    eval::readFineTuneSpec(m, root, source, c.common, save, retold);
    if (model::isCudaName(c.common.device))
        failAt("sharpzo.device", source, ": sharpzo.device = \"", c.common.device, "\": SharpZO keeps its CMA-ES "
               "search and the projection of w onto the trainables in host doubles (search/sharpzo.cpp), so it runs "
               "on the CPU only; use device = \"cpu\"");
    m.integer("dim", c.dim, 1, 1 << 16, {"d: the size of the vector w that moves the trainables through a fixed random projection"});
    m.integer("popsize", c.popsize, 2, 1 << 12, {"λ: CMA-ES candidates per stage-1 generation"});
    m.number("rho", c.rho, 0.0, 1e3, {"stage 1's sharpness radius: candidates scored at x + ρ·g/‖g‖; 0: plain CMA-ES"});
    m.number("sigma0", c.sigma0, 1e-12, 1e3, {"CMA-ES's initial step size σ0, in w's coordinates"});
    m.number("cge_eps", c.cgeEps, 1e-12, 10.0, {"stage 1's coordinate-difference step for the gradient g at the CMA mean"});
    m.number("bound", c.bound, 0.0, 1e6, {"candidates kept in the box [−bound, bound] per coordinate; 0: unbounded"});
    m.boolean("separable", c.separable, {"sep-CMA-ES: a diagonal covariance, cheaper for a large dim"});
    m.integer("generations", c.generations, 0, 1 << 20, {"the most CMA-ES generations of stage 1; 0: no stage 1 (plain ZO-SGD on w)"});
    m.integer("patience", c.patience, 0, 1 << 20, {"stage 1 ends after this many generations without a dev-accuracy rise; 0: off"});
    m.number("min_delta", c.minDelta, 0.0, 1.0, {"the rise of dev accuracy above its best that counts as progress for patience"});
    m.number("rge_eps", c.rgeEps, 1e-12, 10.0, {"stage 2's perturbation scale μ of the two-point estimate"});
    m.number("mask_cge_eps", c.maskCgeEps, 1e-12, 10.0, {"the coordinate-difference step of the gradient that scores stage 2's mask"});
    m.number("prune_ratio", c.pruneRatio, 1e-6, 1.0, {"the share of w's coordinates stage 2 perturbs: the smallest |w|²·zscore(|g|)"});
    m.integer("mask_every", c.maskEvery, 1, 1 << 30, {"stage-2 steps between recomputing the mask"});
    m.integer("max_forwards", c.maxForwards, 0, INT64_MAX, {"training forwards both stages may take in all; 0: no budget"});
    m.number("target_loss", c.targetLoss, 0.0, 1e6, {"a dev loss; the forwards until it is first reached are reported; 0: none"});
    m.integer("sharpness_probes", c.sharpnessProbes, 0, 1 << 16, {"Hutchinson probes and ε-ball samples of the sharpness at stage 2's start; 0: none"});
    m.number("sharpness_h", c.sharpnessH, 1e-9, 10.0, {"the second-difference step (in w) of the Hutchinson trace estimate"});
    int64_t projectionSeed = 0;
    m.integer("projection_seed", projectionSeed, 0, INT64_MAX, {"the seed of the random projection from w to the trainables"});
    c.projectionSeed = static_cast<uint64_t>(projectionSeed);
    m.integer("population_batch", c.populationBatch, 0, 1 << 16, {"stage-1 points scored in one batched forward; 0: popsize on CUDA, 1 on the CPU"});
    m.done();
    if (c.common.textMode())
        failAt("sharpzo.train_text", source, ": sharpzo.train_text: SharpZO tunes a soft prompt for a labelled task and stops on dev accuracy; "
             "plain-text language modelling is for zo, mezo and fo");
    if (c.common.weightDecay != 0) failAt("sharpzo.weight_decay", source, ": sharpzo.weight_decay: SharpZO's stage 2 takes no weight decay; set 0");
    if (c.common.lrSchedule != eval::LrSchedule::Constant)
        failAt("sharpzo.lr_schedule", source, ": sharpzo.lr_schedule: SharpZO's stage 2 uses a constant lr; set \"constant\"");
    try {
        c.validate();
    } catch (const Error& e) {
        config::rethrowIn(source, e);
    }
    return c;
}

}  // namespace

PreparedRun prepareSharpZoMethod(const MethodRequest& request) {
    if (request.resume)
        fail("SharpZO runs are not resumed from checkpoints; the same config and seed give the same run");
    const std::string source = request.file.string();
    const toml::table root = config::parseConfig(request.text, source, request.overrides);
    bool save = false;
    const SharpZoConfig c = readSharpZo(root, source, save);
    if (request.checkOnly) return config::preparedFrom("sharpzo", root, static_cast<int64_t>(c.common.seed));
    eval::checkFineTuneInputs(c.common, "sharpzo", source);
    PreparedRun p = config::preparedFrom("sharpzo", root, static_cast<int64_t>(c.common.seed));
    // Where this implementation departs from the reference code on purpose (SPEC-ZO §7), stored
    // with the run.
    p.params["choice.sharpzo.shift_norm"] = "rho exactly (paper); the reference code's rho/sqrt(popsize) not reproduced";
    p.params["choice.sharpzo.shift_point"] = "CGE at the CMA mean (the code uses the mean of a fresh ask batch)";
    p.params["choice.sharpzo.stage2_update"] = "plain w -= lr*g (the code's never-zeroed gradient buffer not reproduced)";
    p.params["choice.sharpzo.mask"] = "1 on the floor(ratio*d) smallest |w|^2*zscore(|g|) (the code's semantics)";
    p.params["choice.sharpzo.population"] =
        "stage 1's points (candidates, CGE points) as soft prompts over replicas of one batch, population_batch "
        "a forward (0: popsize on CUDA, 1 on the CPU); a forward of K points counts K forwards";
    p.params["choice.sharpzo.projection"] = "A ~ N(0, s^2), s = ||p0||/sqrt(m*H*d) (our scaling)";
    p.body = [c, save, outDir = request.outDir](const RunContext& context) {
        EventSink& sink = context.sink;
        const StopToken& stop = context.stop;
        SharpZoConfig config = c;
        if (save) config.common.saveTo = outDir.empty() ? sink.artifactDir() / "model" : outDir;
        const SharpZoResult r = runSharpZo(config, sink, stop);
        eval::reportFineTune(sink, r, config.common,
                             cat(r.forwardPasses, " forward passes (", r.stage1Forwards, " in ",
                                 r.stage1Generations, " CMA-ES generations)"));
    };
    return p;
}

// SharpZO: loss and evaluation with stage 1 (CMA-ES) shaded, the CMA-ES fitness and step size,
// sharpness, the forwards spent.
MethodView sharpZoView() {
    MethodView v;
    PanelView loss = lossPanel(), evaluation = evaluationPanel();
    for (PanelView* p : {&loss, &evaluation}) {
        p->band = metrics::kStage;
        p->bandLabel = "stage 1: CMA-ES";
    }
    PanelView fitness{"CMA-ES fitness", "fitness (loss)", {{{metrics::kBestFitness, 0}, {metrics::kMeanFitness, 1}}}};
    PanelView sigma{"CMA-ES step size", "sigma", {{{metrics::kSigma, 0}}}};
    PanelView sharpness{"Sharpness", "value",
                        {{{frugal::metrics::kHutchinsonTrace, 0}, {frugal::metrics::kHutchinsonStderr, 1},
                          {frugal::metrics::kEpsBall, 4}, {frugal::metrics::kSam, 5}},
                         {"sharpness/"}}};
    PanelView forwards{"Forward passes", "training forwards", {{{frugal::metrics::kTrainForwards, 0}}}};
    v.panels = {loss, evaluation, fitness, sigma, sharpness, forwards};
    v.result = {{"dev ", frugal::metrics::kDevAccuracy, true},
                {"dev ppl ", frugal::metrics::kDevPerplexity, true, true},
                {"loss ", frugal::metrics::kDevLoss},
                {"best f ", metrics::kBestFitness}};
    v.presets = {{"SharpZO — soft prompt, CMA-ES then sparse ZO", "sharpzo/sharpzo-prompt-sentiment.toml", 19}};
    return v;
}

}  // namespace frugal::search
