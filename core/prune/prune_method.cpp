// method = "prune": post-training pruning of a model, block by block (SPEC-PRUNING); the [prune]
// table. The one definition of the pruning config — reader, validation, schema — and its body.
// Every open choice of the method is a key, logged with the run.

#include "prune/prune_method.h"

#include <sstream>

#include "common/config_reader.h"
#include "common/error.h"
#include "common/files.h"
#include "common/runtime_info.h"
#include "data/builtin.h"
#include "eval/fine_tune_config.h"
#include "eval/memory_estimate.h"
#include "model/device.h"
#include "model/model_config.h"
#include "model/safetensors.h"
#include "prune/mask.h"
#include "prune/pipeline.h"
#include "prune/pruners.h"
#include "prune/wandapp.h"
#include "common/metric_keys.h"
#include "prune/prune_metrics.h"

namespace frugal::prune {

void PruneSpec::validate() const {
    atKey("prune.method", [&] { findPruner(method); });
    atKey("prune.sparsity", [&] { Sparsity::parse(sparsity); });
    atKey("prune.feature_norm", [&] { parseFeatureNorm(featureNorm); });
    if (calibSamples < 1) failAt("prune.calib_samples", "prune.calib_samples must be at least 1, got ", calibSamples);
    if (calibSeqLen < 0 || calibSeqLen == 1)
        failAt("prune.calib_seq_len", "prune.calib_seq_len must be 0 (the model's context) or at least 2, got ",
               calibSeqLen);
    if (batch < 1) failAt("prune.batch", "prune.batch must be at least 1, got ", batch);
    if (findPruner(method).regional && ro != RoMode::Off && (roSamples < 1 || roSamples > calibSamples))
        failAt("prune.ro_samples", "prune.ro_samples must be from 1 to calib_samples (", calibSamples, "), got ",
               roSamples);
    if (roRounds < 1) failAt("prune.ro_rounds", "prune.ro_rounds must be at least 1, got ", roRounds);
    if (owl && Sparsity::parse(sparsity).structured())
        failAt("prune.owl", "prune.owl allocates unstructured sparsity per layer; ", sparsity,
               " is N:M (every group the same)");
    if (owl && method == "masks")
        failAt("prune.owl", "prune.owl chooses the layers' sparsities; prune.method = \"masks\" applies saved masks as they are");
    if (owl && !(owlM > 0)) failAt("prune.owl_m", "prune.owl_m must be above 0, got ", owlM);
    if (dsnotBase != "wanda" && dsnotBase != "magnitude" && dsnotBase != "sparsegpt")
        failAt("prune.dsnot_base", "prune.dsnot_base: unknown base '", dsnotBase,
               "' (expected one of wanda, magnitude, sparsegpt)");
    if (riaPermute && !Sparsity::parse(sparsity).structured())
        failAt("prune.ria_permute", "prune.ria_permute groups input channels for N:M sparsity; ", sparsity,
               " is unstructured (each row's choice does not depend on the channels' order)");
    if (method == "masks" && masksFile.empty())
        failAt("prune.masks",
               "prune.method = \"masks\" needs prune.masks, the masks.safetensors of an earlier prune");
}

namespace {

// The estimate from the model's config.json and the calibration and evaluation shapes.
eval::MemoryEstimate estimateOf(const PruneSpec& c) {
    const model::ModelConfig config = model::ModelConfig::fromFile(data::resolveModel(c.model) / "config.json");
    const int64_t runtime = eval::runtimeBytesBeforeLoading(config);
    const int64_t context = config.maxPositions;
    const int64_t seqLen = c.calibSeqLen > 0 ? c.calibSeqLen : context;
    const double bufferMib = static_cast<double>(c.calibSamples * seqLen * config.hiddenSize * 4) / (1 << 20);
    const bool spilled = c.memoryMib > 0 && 3 * bufferMib > static_cast<double>(c.memoryMib);
    const int64_t evalTokens = c.evalText.empty() ? 0 : c.evalSeqLen > 0 ? c.evalSeqLen : context;
    return eval::estimatePruning(config, c.method, c.calibSamples, seqLen, c.batch, spilled, evalTokens, c.batch,
                                 runtime);
}

}  // namespace

PreparedRun preparePruneMethod(const MethodRequest& request) {
    using namespace frugal::config;
    if (request.resume)
        fail("pruning runs have no checkpoints; run again (same seed and calibration: same masks)");
    const std::string source = request.file.string();
    const toml::table root = parseConfig(request.text, source, request.overrides);
    const toml::table empty;
    const Section top(root, "", source, {"method", "prune"});
    const Section m(tableOr(root, "prune", source, empty), "prune", source);
    PruneSpec c;
    std::string ro = roModeName(c.ro);
    bool save = false;
    c.evalText = data::resourcesDir() / "data/text/moby-dick.txt";
    // a key that a row of the score table reads is read only under those rows
    const auto readBy = [&m](const char* key) { return m.when("method", prunersReading(key)); };
    m.string("model", c.model, {"the dense model to prune: a built-in name or a Hugging Face folder"});
    eval::readDevice(m, source, c.device);
    if (model::isCudaName(c.device))
        config::refuse(m.name("device"),
                       cat(source, ": ", m.name("device"), " = \"", c.device, "\": pruning runs on the CPU only: its "
                           "calibration activations, per-layer statistics and SparseGPT's Hessians are host buffers "
                           "(core/prune); use device = \"cpu\""));
    std::string rows;
    for (const auto& p : pruners()) rows += cat(rows.empty() ? "" : ", ", p.name, " (", p.selection, ")");
    m.choice("method", c.method, prunerNames(), {"how masks are chosen: " + rows});
    const KeyDoc sparsity{"the share of weights zeroed (0.5, \"50%\"), or N:M (\"2:4\": 2 of every 4 inputs of a row)"};
    if (const toml::node* n = m.find("sparsity"); n && (n->is_floating_point() || n->is_integer())) {
        std::ostringstream ratio;  // sparsity = 0.5 as well as "0.5", "50%", "2:4"
        ratio << *n->value<double>();
        c.sparsity = ratio.str();
        m.declareText("sparsity", "0.5", sparsity);
    } else {
        m.string("sparsity", c.sparsity, sparsity);
    }
    m.path("calib", c.calibFile,
           {"the calibration corpus (text, or JSON lines with a \"text\" field) the statistics come from", {readBy("calib")}});
    m.integer("calib_samples", c.calibSamples, 1, 1 << 20,
              {"calibration windows drawn from the corpus", {readBy("calib_samples")}});
    m.integer("calib_seq_len", c.calibSeqLen, 0, 1 << 20,
              {"tokens per calibration window; 0: the model's context length", {readBy("calib_seq_len")}});
    m.integer("seed", c.seed, 0, INT64_MAX, {"the seed that draws the calibration windows (and Wanda++'s samples)"});
    m.integer("batch", c.batch, 1, 4096, {"calibration windows per forward pass", {readBy("batch")}});
    m.number("alpha", c.alpha, 0.0, 1e12,
             {"Wanda++: the weight α of the regional gradient G in the score (α·G + ‖X_j‖)·|W|; 0: Wanda",
              {readBy("alpha")}});
    m.choice("feature_norm", c.featureNorm, {"unnormalised", "per_sequence"},
             {"‖X_j‖ over all calibration tokens, or per sequence (Wanda's, √N smaller)", {readBy("feature_norm")}});
    m.choice("ro", ro, {"off", "reselect", "fixed"},
             {"Wanda++'s regional optimisation: off, reselect (a new mask each round) or fixed (first mask)",
              {readBy("ro")}});
    const KeyCondition optimising = m.unless("ro", {"off"});
    m.integer("ro_rounds", c.roRounds, 1, 1000,
              {"Wanda++: rounds of regional optimisation per block", {readBy("ro_rounds"), optimising}});
    m.integer("ro_samples", c.roSamples, 1, 1 << 20,
              {"Wanda++: calibration windows drawn each round, one RMSprop step each", {readBy("ro_samples"), optimising}});
    m.number("ro_lr", c.roLr, 0.0, 1.0,
             {"Wanda++: RMSprop's learning rate in the regional optimisation", {readBy("ro_lr"), optimising}});
    m.boolean("ro_regradient", c.roRegradient,
              {"Wanda++: recompute G on the optimised block before its final prune", {readBy("ro_regradient"), optimising}});
    m.integer("block_size", c.blockSize, 1, 1 << 20,
              {"SparseGPT: columns whose mask is chosen and error compensated together", {readBy("block_size")}});
    m.number("percdamp", c.percdamp, 0.0, 10.0,
             {"SparseGPT: the dampening added to the Hessian's diagonal, as a share of its mean", {readBy("percdamp")}});
    m.number("ria_power", c.riaPower, 0.0, 10.0,
             {"RIA: the power a of ‖X_j‖ in its score (the paper's 0.5)", {readBy("ria_power")}});
    m.boolean("ria_permute", c.riaPermute,
              {"RIA: choose N:M over input channels permuted to keep more of the score (RIA's channel permutation)",
               {readBy("ria_permute")}});
    m.choice("dsnot_base", c.dsnotBase, {"wanda", "magnitude", "sparsegpt"},
             {"DSnoT: the score of the mask it starts from (SparseGPT's saliency, without its weight update)",
              {readBy("dsnot_base")}});
    m.integer("dsnot_cycles", c.dsnotCycles, 0, 1 << 20,
              {"DSnoT: prune-and-grow cycles at most (one swap per row a cycle)", {readBy("dsnot_cycles")}});
    m.number("dsnot_threshold", c.dsnotThreshold, 0.0, 1e12,
             {"DSnoT: a row stops once |Σ pruned W_ij·E[x_j]| (per-sequence sums) is at most this", {readBy("dsnot_threshold")}});
    m.number("dsnot_var_power", c.dsnotVarPower, 0.0, 10.0,
             {"DSnoT: the power p of Var[x_j] dividing W_ij·E[x_j] in the order weights are revived", {readBy("dsnot_var_power")}});
    m.boolean("owl", c.owl,
              {"OWL: each layer's sparsity from its outlier ratio (a layer with more outliers keeps more), "
               "averaging to the target; unstructured sparsity"});
    const KeyCondition owlOn = m.when("owl", {"true"});
    m.number("owl_m", c.owlM, 0.0, 1e6,
             {"OWL: a score is an outlier above M times its block's mean score (the paper's 5)", {owlOn}});
    m.number("owl_lambda", c.owlLambda, 0.0, 0.5,
             {"OWL: the layers' sparsities spread over ±λ around the target (the paper's 0.08)", {owlOn}});
    m.path("masks", c.masksFile,
           {"method = masks: the masks.safetensors of an earlier prune, applied as they are", {readBy("masks")}});
    m.path("eval_text", c.evalText, {"the text whose perplexity is measured before and after pruning"});
    m.integer("eval_seq_len", c.evalSeqLen, 0, 1 << 20, {"tokens per perplexity window; 0: the model's context length"});
    m.integer("eval_windows", c.evalWindows, 0, 1 << 30, {"perplexity windows scored; 0: the whole text"});
    m.boolean("save", save, {"write the pruned model, its masks and the calibration ids into the run's artifacts"});
    m.integer("memory_mib", c.memoryMib, 0, INT64_MAX,
              {"MiB the calibration activations may take in memory before they go to files; 0: no limit"});
    m.path("spill_dir", c.spillDir,
           {"the folder the calibration activations are spilled to (empty: the temporary folder)"});
    m.done();
    try {
        c.ro = parseRoMode(ro);
        c.validate();
    } catch (const Error& e) {
        config::rethrowIn(source, e);
    }
    if (request.checkOnly) return preparedFrom("prune", root, c.seed);
    // a relative path is taken from the working directory, else from the source tree
    for (const auto& [key, path] : {std::pair<const char*, std::filesystem::path*>{"calib", &c.calibFile},
                                    {"masks", &c.masksFile}, {"eval_text", &c.evalText}}) {
        *path = data::findInputFile(*path);
        if (path->empty()) continue;
        try {
            requireFile(*path, std::string(key) == "masks" ? "the masks.safetensors of an earlier pruning run"
                                                           : "a UTF-8 text file");
            if (std::string(key) == "masks") model::SafetensorsArchive::open(*path);  // the header only
            else requireUtf8(readFile(*path, "text"), path->string());
        } catch (const Error& e) {
            failAt(m.name(key), source, ": ", m.name(key), ": ", e.what());
        }
    }
    data::requireModel(c.model, source + ": " + m.name("model"));
    const eval::MemoryEstimate need = estimateOf(c);
    eval::guardMemory(need, {}, request.force, source);
    PreparedRun p = preparedFrom("prune", root, c.seed);
    if (c.owl)  // where this OWL departs from luuyin/OWL's code (docs/METHODS.md)
        p.params["choice.prune.owl"] =
            "outlier ratio of a block over all its matrices together on the dense model's activations (the "
            "reference's pass); ||X_j|| from mean squares (the ratio is scale-free); any row of the score table, "
            "not Wanda alone; unstructured only (the reference's mixed N:M variant is not implemented)";
    if (c.method == "ria" && c.riaPermute)  // RIA's channel permutation, as Frugal does it (docs/METHODS.md)
        p.params["choice.prune.ria_permute"] =
            "the better of the identity and the columns dealt by total score in a serpentine, then greedy "
            "pairwise swaps that raise the kept score (16 random partners a channel, 2 rounds, seeded by "
            "prune.seed) where RIA solves linear assignments; the weights stay in their order and the "
            "mask is N:M in the permuted order";
    if (c.method == "dsnot")  // where this DSnoT departs from zyxxmu/DSnoT's code (docs/METHODS.md)
        p.params["choice.prune.dsnot"] =
            "a swap only where it lowers |r_i| (the reference's default accepts any swap above the threshold); "
            "every linear (the reference's script skips the MLP's by default); Var[x_j] pooled over all "
            "calibration tokens (the reference averages per-batch variances)";
    p.body = [c, save, need, outDir = request.outDir](const RunContext& context) {
        EventSink& sink = context.sink;
        const StopToken& stop = context.stop;
        eval::reportEstimate(sink, need);
        PruneSpec spec = c;
        if (save) spec.outDir = outDir.empty() ? sink.artifactDir() / "model" : outDir;
        const Pruner& pruner = findPruner(spec.method);
        sink.info(cat("conventions: N:M prunes N of every M consecutive inputs of a row; ", spec.method, " selects by ",
                      pruner.selection, "; unstructured selection prunes exactly floor(C_in * s) per row "
                      "(per matrix: floor(numel * s)); ties to the lower index; pruned weights are +0.0",
                      pruner.regional
                          ? "; Wanda++: G = RMS over samples of d||block output||/dW (unsquared norm, fp32), "
                            "||X_j|| " + spec.featureNorm + ", regional optimisation " + roModeName(spec.ro) +
                                " with one RMSprop step per drawn sample and gradients zeroed every step"
                          : ""));
        const PruneResult r = runPrune(spec, sink, stop);
        // the peak since the block procedure began (the pipeline resets it there): the blocks and
        // the pruned model's perplexity, whose forward is the dense one's shape
        eval::reportPeak(sink, static_cast<int64_t>(r.blockErrors.size()), need);
        if (!spec.outDir.empty()) {
            sink.artifact("model", spec.outDir / "model.safetensors");
            sink.artifact("masks", spec.outDir / "masks.safetensors");
            sink.artifact("calibration", spec.outDir / "calibration.safetensors");
        }
    };
    return p;
}

// A pruning run: each block's reconstruction error, the perplexity before and after, memory; its
// per-matrix sparsity grid up front (and, with OWL, each block's sparsity and outlier ratio).
MethodView pruneView() {
    MethodView v;
    PanelView error{"Block error", "reconstruction error", {{{metrics::kBlockError, 0}}}};
    PanelView perplexity{"Perplexity", "perplexity",
                         {{{metrics::kPerplexityDense, 0}, {metrics::kPerplexity, 1}}, {"prune/perplexity"}}};
    v.panels = {error, perplexity, memoryPanel()};
    // OWL's runs: each block's sparsity and outlier ratio beside the grid
    v.vectors = {{metrics::kSparsityPerMatrix, ""}, {metrics::kLayerSparsity, "prune.owl"},
                 {metrics::kOwlOutlierRatio, "prune.owl"}};
    ResultPart ppl{"ppl ", metrics::kPerplexity, true};
    ppl.format = ResultPart::Format::Change;
    ppl.from = metrics::kPerplexityDense;
    ResultPart sparsity{"", metrics::kSparsity};
    sparsity.format = ResultPart::Format::Percent;
    sparsity.suffix = "% sparse";
    v.result = {ppl, sparsity};
    v.presets = {{"Pruning — Wanda at 2:4 (method: magnitude, wanda, sparsegpt, wandapp, ria)", "prune/prune-tiny.toml", 20}};
    return v;
}

}  // namespace frugal::prune
