// method = "landscape": a 1-D or 2-D loss-landscape slice of a model on one fixed batch of a task,
// and its forward-only sharpness (analysis/landscape.h); the [landscape] table and [peft] (the
// tensors the directions span; default: every weight).

#include "analysis/landscape_method.h"

#include "dist/world.h"
#include "zo/engine.h"

#include <torch/types.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>

#include "analysis/landscape.h"
#include "common/config_reader.h"
#include "common/error.h"
#include "model/device.h"
#include "common/files.h"
#include "common/format.h"
#include "eval/fine_tune_config.h"
#include "common/metric_keys.h"
#include "analysis/analysis_metrics.h"

namespace frugal::analysis {

namespace {

struct LandscapeConfig {
    eval::FineTuneSpec common;  // model, task, objective, batch_size, seed, [peft]
    int64_t dims = 2, points = 51;
    double lo = -1, hi = 1;
    std::string directions = "filter";  // filter, between, zo_step
    std::string modelB;                 // between: the second model
    int64_t zoSeed = -1;                // zo_step: the step's direction seed (query 0)
    std::string zoLaw = "gaussian";     // zo_step: the run's direction law
    int64_t timingForwards = 10;        // forwards at the centre timed before the slice; 0: none
    int64_t sharpnessProbes = 16;       // 0: no sharpness
    double sharpnessH = 1e-3, sharpnessRho = 0.05;
    bool sam = true;
};

LandscapeConfig readLandscape(const toml::table& root, const std::string& source) {
    using namespace frugal::config;
    const toml::table empty;
    const Section top(root, "", source, {"method", "landscape", "peft"});
    const Section m(tableOr(root, "landscape", source, empty), "landscape", source);
    // what a landscape makes of the keys the shared fine-tuning reader declares: the training
    // keys are refused in its table (it trains nothing); the task's keys name its one batch
    const std::string notRead = "a fine-tuning key; a landscape trains nothing and does not read it";
    KeyDocs retold = {
        {"landscape.model", {"the model whose loss surface is sliced: a built-in name or a Hugging Face folder"}},
        {"landscape.batch_size", {"examples in the one fixed batch every point is scored on"}},
        {"landscape.seed", {"the seed of the fixed batch and the random directions"}},
        {"landscape.task", {"the task whose training split the fixed batch is drawn from"}},
        {"landscape.objective", {"the loss the surface shows: cross-entropy over the labels, LM loss or −accuracy"}},
        {"landscape.dev_file", {"a task of one's own: its dev examples (a landscape scores its training batch only)"}},
        {"peft.target", {"the weights the directions span: every weight, biases, norms or the head"}},
    };
    for (const char* key : {"dtype", "steps", "lr", "lr_schedule", "weight_decay", "eval_every", "eval_limit", "save"})
        retold[m.name(key)] = {notRead, {}, false, true};
    for (const char* key : {"train_text", "dev_text", "seq_len"})  // refused below, saying why
        retold[m.name(key)] = {"plain-text language modelling: zo, mezo and fo only; a landscape needs a task", {}, true};
    LandscapeConfig c;
    bool save = false;
    eval::readFineTuneSpec(m, root, source, c.common, save, retold);
    c.common.dtype = "fp32";  // not read: a landscape's small steps are taken in fp32
    if (model::isCudaName(c.common.device))
        failAt("landscape.device", source, ": landscape.device = \"", c.common.device, "\": a landscape moves the "
               "weights along its directions with CPU loops over them (analysis/landscape.cpp), so it runs on the CPU "
               "only; use device = \"cpu\" (a CUDA run's weights replay on the CPU to the same bytes)");
    if (c.common.textMode())
        failAt("landscape.train_text", source, ": landscape.train_text: a landscape is drawn on one batch of a labelled task; "
             "plain-text language modelling is for zo, mezo and fo");
    m.integer("dims", c.dims, 1, 2, {"1: the loss along one direction; 2: a surface over two"});
    m.integer("points", c.points, 2, 1001, {"points per axis (a 2-D slice scores points × points)"});
    m.number("lo", c.lo, -1e6, 1e6, {"where each axis starts, in units of its direction (between: 1 is model_b)"});
    m.number("hi", c.hi, -1e6, 1e6, {"where each axis ends, in units of its direction (between: 1 is model_b)"});
    m.choice("directions", c.directions, {"filter", "between", "zo_step"},
             {"filter-normalised random axes, the line towards model_b, or a ZO step's direction z"});
    const KeyCondition between = m.when("directions", {"between"}), zoStep = m.when("directions", {"zo_step"});
    m.string("model_b", c.modelB, {"the second model; the slice runs from model to it", {between}});
    m.integer("zo_seed", c.zoSeed, -1, INT64_MAX, {"the direction seed of the ZO step whose z is the first axis", {zoStep}});
    m.choice("zo_law", c.zoLaw, {"gaussian", "rademacher", "sphere"},
             {"the ZO run's direction law, to regenerate its z", {zoStep}});
    m.integer("timing_forwards", c.timingForwards, 0, 1000,
              {"forwards at the centre timed first, to state the slice's cost in forwards"});
    m.integer("sharpness_probes", c.sharpnessProbes, 0, 1 << 16,
              {"Hutchinson probes and ε-ball samples of the sharpness at the centre; 0: none"});
    m.number("sharpness_h", c.sharpnessH, 1e-9, 10.0, {"the second-difference step of the Hutchinson trace estimate"});
    m.number("sharpness_rho", c.sharpnessRho, 1e-9, 1e3, {"the radius ρ of the ε-ball maximum and of SAM's step"});
    m.boolean("sam", c.sam, {"also SAM's one-step sharpness L(θ + ρ∇L/‖∇L‖) − L(θ) (one backward pass)"});
    m.done();
    if (!(c.lo < c.hi)) failAt("landscape.lo", source, ": landscape.lo must be below landscape.hi, got ", c.lo, " and ", c.hi);
    if (c.sharpnessProbes == 1) failAt("landscape.sharpness_probes", source, ": landscape.sharpness_probes must be 0 (off) or at least 2, got 1");
    if (c.directions == "between" && c.modelB.empty())
        failAt("landscape.directions", source, ": landscape.directions = \"between\" needs landscape.model_b, the second model's folder");
    if (c.directions == "between" && c.dims != 1)
        failAt("landscape.directions", source, ": landscape.directions = \"between\" is a 1-D slice (the line from model to model_b); set dims = 1");
    if (c.directions == "zo_step" && c.zoSeed < 0)
        failAt("landscape.directions", source, ": landscape.directions = \"zo_step\" needs landscape.zo_seed, the step's direction seed "
             "(`frugal landscape RUN --step N` fills it from the run's trajectory)");
    if (c.directions != "zo_step" && c.zoSeed >= 0)
        failAt("landscape.zo_seed", source, ": landscape.zo_seed is read only with directions = \"zo_step\"");
    if (c.directions != "between" && !c.modelB.empty())
        failAt("landscape.model_b", source, ": landscape.model_b is read only with directions = \"between\"");
    if (c.common.peft.target != peft::Target::Full && c.common.peft.target != peft::Target::BitFit &&
        c.common.peft.target != peft::Target::Norms && c.common.peft.target != peft::Target::Head)
        failAt("peft.target", source, ": peft.target = \"", peft::targetName(c.common.peft.target),
             "\": a landscape spans a model's own weights (full, bitfit, norms or head); adapters are not loaded");
    return c;
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v.empty() ? NAN : v[v.size() / 2];
}

std::string surfaceCsv(const LandscapeConfig& c, const Slice& s, double d1Norm, double d2Norm) {
    std::string out = cat("# frugal landscape: model=", c.common.model, " task=", c.common.task,
                          " objective=", eval::objectiveName(c.common.objective), " batch_size=", c.common.batchSize, " seed=",
                          c.common.seed, " directions=", c.directions, c.modelB.empty() ? "" : " model_b=" + c.modelB,
                          c.zoSeed >= 0 ? cat(" zo_seed=", c.zoSeed, " zo_law=", c.zoLaw) : std::string(),
                          " dims=", c.dims, " points=", c.points, " lo=", c.lo, " hi=", c.hi,
                          " peft=", peft::targetName(c.common.peft.target), " |d1|=", d1Norm,
                          c.dims == 2 ? cat(" |d2|=", d2Norm) : std::string(), "\n");
    out += c.dims == 1 ? "alpha,loss\n" : "alpha,beta,loss\n";
    char line[128];
    const auto n = static_cast<size_t>(c.points);
    for (size_t i = 0; i < s.loss.size(); ++i) {
        if (c.dims == 1)
            std::snprintf(line, sizeof line, "%.17g,%.17g\n", s.axis[i], s.loss[i]);
        else
            std::snprintf(line, sizeof line, "%.17g,%.17g,%.17g\n", s.axis[i % n], s.axis[i / n], s.loss[i]);
        out += line;
    }
    return out;
}

void runLandscape(const LandscapeConfig& c, EventSink& sink, const StopToken& stop, dist::World* world) {
    const auto start = std::chrono::steady_clock::now();
    eval::FineTuneProblem problem(c.common);
    std::mt19937_64 rng(c.common.seed);
    problem.nextBatch(rng);  // one fixed batch for every point
    const std::vector<Trainable>& params = problem.params().trainables();
    int64_t elements = 0;
    for (const auto& p : params) elements += p.tensor.numel();
    const auto stopIfAsked = [&](const char* before) {
        if (stop.stopRequested()) throw Cancelled(cat("landscape stopped before ", before));
    };
    // one process stops between any two forwards (the sharpness probes' too); processes that
    // share a grid stop together, between its rounds (analysis/landscape.cpp)
    const std::function<double()> loss = [&] {
        if (!world) stopIfAsked("its next forward");
        return problem.lossValue();
    };
    stopIfAsked("its directions");
    const int64_t gridPoints = c.dims == 1 ? c.points : c.points * c.points;
    // the stages before the first row, so that the view says what is going on (issue 35)
    sink.progress(0, gridPoints, "the directions (filter-normalised over every weight)");

    Direction d1, d2;
    if (c.directions == "between") {
        eval::FineTuneSpec other = c.common;
        other.model = c.modelB;
        eval::FineTuneProblem b(other);
        std::vector<torch::Tensor> target;
        for (const auto& p : b.params().trainables()) target.push_back(p.tensor.detach().to(torch::kFloat32).clone());
        d1 = between(params, target);
    } else if (c.directions == "zo_step") {
        // The step's own direction z over every trainable (norm weights too, as ZO perturbs
        // them), scaled to the norm a filter-normalised direction has, so that α = ±1 compares
        // with the random axis d₂.
        d2 = filterNormalised(params, c.common.seed * 2 + 2);
        d1 = rawDirection(params, static_cast<uint64_t>(c.zoSeed), zo::parseLaw(c.zoLaw));
        const double scale = d2.norm / d1.norm;  // rescaled, not generated a second time
        for (auto& rows : d1.rowScale)
            for (float& v : rows) v = static_cast<float>(scale);
        d1.norm = d2.norm;
        if (c.dims == 1) d2 = Direction();
    } else {
        d1 = filterNormalised(params, c.common.seed * 2 + 1);
        stopIfAsked("its second direction");
        if (c.dims == 2) d2 = filterNormalised(params, c.common.seed * 2 + 2);
    }
    stopIfAsked("its timing forwards");
    sink.progress(0, gridPoints, cat("the centre and ", c.timingForwards, " timing forwards"));
    sink.info(cat("landscape of ", c.common.model, " on ", c.common.task, " (", c.common.batchSize,
                  " examples, seed ", c.common.seed, "): ", c.dims == 1 ? cat(c.points, " points") : cat(c.points, "x", c.points),
                  " on [", c.lo, ", ", c.hi, "] along ", c.directions == "between" ? "model -> " + c.modelB
                  : c.directions == "zo_step" ? cat("the ZO step direction of seed ", c.zoSeed, " (", c.zoLaw, ")",
                                                    c.dims == 2 ? " and a filter-normalised random direction" : "")
                  : std::string("filter-normalised random directions"), " over ", params.size(), " tensors (",
                  elements, " weights); |d1| = ", d1.norm, c.dims == 2 ? cat(", |d2| = ", d2.norm) : std::string()));
    sink.metric(analysis::metrics::kD1Norm, 0, d1.norm);
    if (c.dims == 2) sink.metric(analysis::metrics::kD2Norm, 0, d2.norm);

    const double centre = problem.lossValue();
    std::vector<double> forwardTimes;
    for (int64_t k = 0; k < c.timingForwards; ++k) {
        stopIfAsked("its slice");
        const auto t0 = std::chrono::steady_clock::now();
        const double l = problem.lossValue();
        forwardTimes.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
        if (l != centre) fail("landscape: the loss at the centre changed between two forwards (", centre, ", ", l,
                              "); the forward is not deterministic");
    }
    Mover mover(params);
    const int64_t total = gridPoints;
    const auto onRow = [&](int64_t row, const Slice&) {
        sink.progress((row + 1) * c.points, total, cat("row ", row + 1, " of ", c.points));
    };
    SliceSettings settings;
    settings.points = c.points;
    settings.lo = c.lo;
    settings.hi = c.hi;
    if (world) {  // the grid's points (1-D) or rows (2-D) shared out
        // one surface from many processes only if they move the same weights along the same lines
        world->agree("model (weights digest)", zo::weightsDigest(problem.model().parameters()));
        world->agree("directions (norms)", cat(d1.norm, " ", d2.norm));
        settings.rank = world->rank();
        settings.count = world->size();
        settings.gather = [world](const std::vector<double>& mine) { return world->allgather(mine); };
        sink.info(cat("the grid is shared out over ", world->size(), " processes (", c.dims == 1 ? "points" : "rows",
                      " in rounds of ", world->size(), "); this process computes ", c.dims == 1 ? "point" : "row",
                      "s ", world->rank(), ", ", world->rank() + world->size(), ", ..."));
    }
    const Slice s = c.dims == 1 ? slice1d(mover, d1, loss, settings, stop)
                                : slice2d(mover, d1, d2, loss, settings, stop, onRow);
    std::vector<float> data(s.loss.begin(), s.loss.end()), axis(s.axis.begin(), s.axis.end());
    int64_t nonFinite = 0;
    for (double v : s.loss)
        if (!std::isfinite(v)) ++nonFinite;
    sink.vector(frugal::metrics::kLandscapeAxis, 0, {c.points}, axis);
    sink.vector(c.dims == 1 ? frugal::metrics::kSlice1d : frugal::metrics::kSlice2d, 0,
                c.dims == 1 ? std::vector<int64_t>{c.points} : std::vector<int64_t>{c.points, c.points}, data);
    sink.metric(frugal::metrics::kLandscapeCentreLoss, 0, s.centre);
    sink.metric(analysis::metrics::kBatchLoss, 0, centre);
    double lo = INFINITY, hi = -INFINITY;
    for (double v : s.loss)
        if (std::isfinite(v)) lo = std::min(lo, v), hi = std::max(hi, v);
    sink.metric(frugal::metrics::kLandscapeMinLoss, 0, lo);
    sink.metric(frugal::metrics::kLandscapeMaxLoss, 0, hi);
    sink.metric(analysis::metrics::kLandscapeSeconds, 0, s.seconds);
    sink.metric(analysis::metrics::kLandscapeForwards, 0, static_cast<double>(s.forwards));
    if (nonFinite > 0) {
        sink.metric(frugal::metrics::kLandscapeNonFinite, 0, static_cast<double>(nonFinite));
        sink.log("warn", cat(nonFinite, " of ", total, " grid points have a non-finite loss (stored as NaN/Inf, "
                             "shown blank); narrow landscape.lo/hi"));
    }
    if (!forwardTimes.empty()) {
        const double f = median(forwardTimes);
        sink.metric(analysis::metrics::kForwardSeconds, 0, f);
        // against this process's own forwards (all of them in one process)
        sink.metric(analysis::metrics::kOverheadRatio, 0, s.seconds / (static_cast<double>(s.forwards) * f));
        sink.info(cat("slice: ", total, " points in ", shortNumber(s.seconds), " s; one forward of the batch ",
                      shortNumber(f * 1e3), " ms (median of ", forwardTimes.size(), "): ",
                      shortNumber(s.seconds / (static_cast<double>(s.forwards) * f)), "x this process's ",
                      s.forwards, " forwards alone"));
    }
    if (s.centre != centre)
        fail("landscape: the slice's centre ", s.centre, " differs from the model's loss ", centre, " on the batch");
    const auto csv = sink.artifactDir() / "surface.csv";
    writeTextFile(csv, surfaceCsv(c, s, d1.norm, d2.norm));
    sink.artifact("surface", csv);

    if (c.sharpnessProbes > 0) {
        SharpnessSettings ss;
        ss.probes = c.sharpnessProbes;
        ss.h = c.sharpnessH;
        ss.rho = c.sharpnessRho;
        ss.seed = c.common.seed;
        const Sharpness sh = sharpness(mover, loss, ss, c.sam ? std::function<torch::Tensor()>([&] { return problem.loss(); })
                                                             : std::function<torch::Tensor()>());
        sink.metric(frugal::metrics::kHutchinsonTrace, 0, sh.trace);
        sink.metric(frugal::metrics::kHutchinsonStderr, 0, sh.traceError);
        sink.metric(frugal::metrics::kEpsBall, 0, sh.epsBall);
        if (c.sam) sink.metric(frugal::metrics::kSam, 0, sh.sam);
        sink.info(cat("sharpness (", ss.probes, " probes): Hutchinson trace ", sh.trace, " +- ", sh.traceError,
                      " (h ", ss.h, "), eps-ball max rise ", sh.epsBall, " (rho ", ss.rho, ")",
                      c.sam ? cat(", SAM one-step ", sh.sam) : std::string()));
    }
    sink.metric(frugal::metrics::kSeconds, 0, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
}

}  // namespace

PreparedRun prepareLandscapeMethod(const MethodRequest& request) {
    if (request.resume) fail("landscape runs are not resumed; the same config and seed give the same surface");
    const std::string source = request.file.string();
    const toml::table root = config::parseConfig(request.text, source, request.overrides);
    const LandscapeConfig c = readLandscape(root, source);
    if (request.checkOnly) return config::preparedFrom("landscape", root, static_cast<int64_t>(c.common.seed));
    eval::checkFineTuneInputs(c.common, "landscape", source);
    if (!c.modelB.empty()) {
        eval::FineTuneSpec other = c.common;
        other.model = c.modelB;
        eval::checkFineTuneInputs(other, "landscape", source);
    }
    PreparedRun p = config::preparedFrom("landscape", root, static_cast<int64_t>(c.common.seed));
    p.params["choice.landscape.filters"] =
        "rows of every tensor of 2+ dimensions (Linear output neurons, embedding tokens); 1-D tensors get no component";
    p.body = [c](const RunContext& context) { runLandscape(c, context.sink, context.stop, context.world); };
    return p;
}

// A landscape run: its surface (the slices up front), the surface's extremes, sharpness, memory.
MethodView landscapeView() {
    MethodView v;
    PanelView surface{"Surface", "loss",
                      {{{frugal::metrics::kLandscapeMinLoss, 0}, {frugal::metrics::kLandscapeMaxLoss, 1}, {frugal::metrics::kLandscapeCentreLoss, 2}}}};
    PanelView sharpness{"Sharpness", "value",
                        {{{frugal::metrics::kHutchinsonTrace, 0}, {frugal::metrics::kHutchinsonStderr, 1}, {frugal::metrics::kEpsBall, 4},
                          {frugal::metrics::kSam, 5}},
                         {"sharpness/"}}};
    v.panels = {surface, sharpness, memoryPanel()};
    v.vectors = {{frugal::metrics::kSlice2d, ""}, {frugal::metrics::kSlice1d, ""}};
    v.result = {{"tr(H) ", frugal::metrics::kHutchinsonTrace, true},
                {"ε-ball ", frugal::metrics::kEpsBall},
                {"centre loss ", frugal::metrics::kLandscapeCentreLoss, true}};
    v.presets = {{"Loss landscape — 2-D slice and sharpness", "landscape/builtin-2d-sentiment.toml", 24}};
    return v;
}

}  // namespace frugal::analysis
