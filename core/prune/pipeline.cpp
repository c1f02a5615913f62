// The block-by-block pruning procedure (SPEC-PRUNING §1.5 Wanda's order, §2.4 Wanda++, §3 the
// baselines). Dimension legend: N calibration sequences, L tokens each, H hidden width,
// C_out x C_in a linear layer's weight.

#include "prune/pipeline.h"

#include <unistd.h>

#include <chrono>
#include <cmath>
#include <fstream>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>

#include "common/error.h"
#include "common/files.h"
#include "common/runtime_info.h"
#include "data/builtin.h"
#include "eval/model_loading.h"
#include "eval/perplexity.h"
#include "model/safetensors.h"
#include "prune/mask.h"
#include "prune/sparsegpt.h"
#include "prune/wandapp.h"

namespace frugal::prune {

std::string pruneMethodName(PruneMethod method) {
    switch (method) {
        case PruneMethod::Magnitude: return "magnitude";
        case PruneMethod::Wanda: return "wanda";
        case PruneMethod::SparseGpt: return "sparsegpt";
        case PruneMethod::WandaPlusPlus: return "wandapp";
        case PruneMethod::Masks: return "masks";
    }
    return "wanda";
}

PruneMethod parsePruneMethod(const std::string& name) {
    for (PruneMethod m : {PruneMethod::Magnitude, PruneMethod::Wanda, PruneMethod::SparseGpt,
                          PruneMethod::WandaPlusPlus, PruneMethod::Masks})
        if (pruneMethodName(m) == name) return m;
    fail("prune.method: unknown method '", name,
         "' (expected magnitude, wanda, sparsegpt, wandapp or masks)");
}

std::string roModeName(RoMode mode) {
    switch (mode) {
        case RoMode::Off: return "off";
        case RoMode::Reselect: return "reselect";
        case RoMode::Fixed: return "fixed";
    }
    return "off";
}

RoMode parseRoMode(const std::string& name) {
    for (RoMode m : {RoMode::Off, RoMode::Reselect, RoMode::Fixed})
        if (roModeName(m) == name) return m;
    fail("prune.ro: unknown regional optimisation mode '", name,
         "' (expected off, reselect or fixed)");
}

void PruneSpec::validate() const {
    Sparsity::parse(sparsity);
    parseFeatureNorm(featureNorm);
    if (calibSamples < 1) fail("prune.calib_samples must be at least 1, got ", calibSamples);
    if (calibSeqLen < 0 || calibSeqLen == 1)
        fail("prune.calib_seq_len must be 0 (the model's context) or at least 2, got ",
             calibSeqLen);
    if (batch < 1) fail("prune.batch must be at least 1, got ", batch);
    if (method == PruneMethod::WandaPlusPlus && ro != RoMode::Off &&
        (roSamples < 1 || roSamples > calibSamples))
        fail("prune.ro_samples must be from 1 to calib_samples (", calibSamples, "), got ",
             roSamples);
    if (roRounds < 1) fail("prune.ro_rounds must be at least 1, got ", roRounds);
    if (method == PruneMethod::Masks && masksFile.empty())
        fail(
            "prune.method = \"masks\" needs prune.masks, the masks.safetensors of an earlier "
            "prune");
}

namespace {

using Clock = std::chrono::steady_clock;
double secondsSince(Clock::time_point t) {
    return std::chrono::duration<double>(Clock::now() - t).count();
}

// The calibration corpus: a text file, or JSON lines whose "text" fields are joined by blank lines.
std::string corpusText(const std::filesystem::path& file) {
    const std::string raw = readFile(file, "calibration corpus");
    if (file.extension() != ".jsonl") return raw;
    std::istringstream lines(raw);
    std::string line, text;
    for (int64_t n = 1; std::getline(lines, line); ++n) {
        if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
        nlohmann::json row;
        try {
            row = nlohmann::json::parse(line);
        } catch (const nlohmann::json::exception& e) {
            fail(file.string(), ":", n, ": not a JSON line (", e.what(), ")");
        }
        if (!row.is_object() || !row.contains("text") || !row["text"].is_string())
            fail(file.string(), ":", n, ": expected an object with a \"text\" string");
        text += (text.empty() ? "" : "\n\n") + row["text"].get<std::string>();
    }
    return text;
}

// N windows of L tokens at seeded random offsets of the tokenized corpus: [N, L] int64.
torch::Tensor calibrationIds(const model::Tokenizer& tokenizer, const std::filesystem::path& file,
                             int64_t samples, int64_t seqLen, int64_t seed) {
    const std::vector<int32_t> stream = tokenizer.encode(corpusText(file));
    const auto size = static_cast<int64_t>(stream.size());
    if (size < seqLen)
        fail(file.string(), ": ", size, " tokens, shorter than one calibration window of ", seqLen,
             " tokens; give a longer corpus or a smaller prune.calib_seq_len");
    std::mt19937_64 rng(static_cast<uint64_t>(seed));
    torch::Tensor ids = torch::empty({samples, seqLen}, torch::kInt64);
    auto a = ids.accessor<int64_t, 2>();
    const auto starts = static_cast<uint64_t>(size - seqLen + 1);
    for (int64_t n = 0; n < samples; ++n) {
        const auto start = static_cast<int64_t>(rng() % starts);
        for (int64_t t = 0; t < seqLen; ++t) a[n][t] = stream[static_cast<size_t>(start + t)];
    }
    return ids;
}

// A [N, L, H] fp32 activation buffer: in memory, or in a file mapped shared (the OS pages it to
// disk) and removed with the buffer.
class ActivationBuffer {
public:
    ActivationBuffer(std::vector<int64_t> shape, const std::filesystem::path& spillFile) {
        if (spillFile.empty()) {
            m_tensor = torch::empty(shape, torch::kFloat32);
            return;
        }
        int64_t numel = 1;
        for (int64_t d : shape) numel *= d;
        m_file = spillFile;
        { std::ofstream create(m_file, std::ios::binary); }
        std::filesystem::resize_file(m_file, static_cast<uintmax_t>(numel) * sizeof(float));
        m_tensor =
            at::from_file(m_file.string(), /*shared=*/true, numel, torch::kFloat32).view(shape);
    }
    ~ActivationBuffer() {
        m_tensor = torch::Tensor();
        if (!m_file.empty()) {
            std::error_code ignored;  // a temporary file: nothing to report if it is already gone
            std::filesystem::remove(m_file, ignored);
        }
    }
    ActivationBuffer(const ActivationBuffer&) = delete;
    ActivationBuffer& operator=(const ActivationBuffer&) = delete;
    torch::Tensor& tensor() { return m_tensor; }

private:
    torch::Tensor m_tensor;
    std::filesystem::path m_file;
};

}  // namespace

PruneResult runPrune(const PruneSpec& spec, const PruneHooks& hooks) {
    spec.validate();
    const auto say = [&](const std::string& line) {
        if (hooks.log) hooks.log(line);
    };
    const auto metric = [&](const std::string& key, int64_t step, double value) {
        if (hooks.metric) hooks.metric(key, step, value);
    };
    const Sparsity sparsity = Sparsity::parse(spec.sparsity);
    const FeatureNorm featureNorm = parseFeatureNorm(spec.featureNorm);
    const std::filesystem::path modelDir = data::resolveModel(spec.model);
    eval::ModelAndTokenizer loaded = eval::loadModelAndTokenizer(modelDir, {});
    model::Transformer& model = loaded.model;
    const int64_t context = model.config().maxPositions;
    const int64_t seqLen = spec.calibSeqLen > 0 ? spec.calibSeqLen : context;
    if (context > 0 && seqLen > context)
        fail("prune.calib_seq_len is ", seqLen, " but ", spec.model, "'s context is ", context,
             " tokens");
    const int64_t evalSeqLen = spec.evalSeqLen > 0 ? spec.evalSeqLen : context;
    if (sparsity.structured())  // before any work: every prunable matrix must split into groups
        for (int64_t layer = 0; layer < model.numLayers(); ++layer)
            for (const model::Linear* l : model.block(layer).linears())
                if (l->weight.size(1) % sparsity.m != 0)
                    fail(l->name, ": ", sparsity.describe(),
                         " sparsity needs the input width to be a multiple of ", sparsity.m,
                         ", but it is ", l->weight.size(1));
    std::filesystem::path calibFile = spec.calibFile;
    if (calibFile.empty()) calibFile = data::resourcesDir() / "data/sentiment/train.jsonl";
    const torch::Tensor ids =
        calibrationIds(loaded.tokenizer, calibFile, spec.calibSamples, seqLen, spec.seed);
    say(cat(
        "calibration: ", spec.calibSamples, " windows of ", seqLen, " tokens from ",
        calibFile.string(), " (seed ", spec.seed, "); ", sparsity.describe(), " by ",
        pruneMethodName(spec.method),
        spec.method == PruneMethod::WandaPlusPlus
            ? cat(" (alpha ", spec.alpha, ", ||X_j|| ", spec.featureNorm,
                  ", regional optimisation ", roModeName(spec.ro),
                  spec.ro == RoMode::Off ? std::string()
                                         : cat(": ", spec.roRounds, " rounds of ", spec.roSamples,
                                               " RMSprop steps, lr ", spec.roLr),
                  ")")
            : std::string()));

    PruneResult result;
    result.densePerplexity = result.prunedPerplexity = std::numeric_limits<double>::quiet_NaN();
    const auto perplexity = [&] {
        const auto r = eval::perplexityOfText(model, loaded.tokenizer, spec.evalText, evalSeqLen,
                                              spec.batch, spec.evalWindows);
        result.protocol = r.protocol();
        return r.perplexity;
    };
    if (!spec.evalText.empty()) {
        result.densePerplexity = perplexity();
        metric("prune/perplexity_dense", 0, result.densePerplexity);
        say(cat("dense perplexity ", result.densePerplexity, " (", result.protocol, ")"));
    }

    torch::NoGradGuard noGrad;
    const int64_t samples = ids.size(0), layers = model.numLayers();
    std::map<int64_t, model::AttentionContext> contexts;
    const auto contextFor = [&](int64_t rows) -> const model::AttentionContext& {
        auto it = contexts.find(rows);
        if (it == contexts.end())
            it = contexts.emplace(rows, model.context(ids.slice(0, 0, rows), {})).first;
        return it->second;
    };
    // three [N, L, H] buffers: a block's inputs, its dense outputs, its pruned outputs
    const std::vector<int64_t> shape = {samples, ids.size(1), model.config().hiddenSize};
    const double bufferMib = static_cast<double>(shape[0] * shape[1] * shape[2]) * 4 / (1 << 20);
    result.spilled = spec.memoryMib > 0 && 3 * bufferMib > static_cast<double>(spec.memoryMib);
    const std::filesystem::path spillDir =
        spec.spillDir.empty() ? std::filesystem::temp_directory_path() : spec.spillDir;
    const auto spillFile = [&](const char* name) {
        return result.spilled ? spillDir / cat("frugal-prune-", ::getpid(), "-", name, ".f32")
                              : std::filesystem::path();
    };
    if (result.spilled)
        say(cat("calibration activations: 3 buffers of ", bufferMib,
                " MiB exceed prune.memory_mib = ", spec.memoryMib, "; kept in files under ",
                spillDir.string(), " (mapped, paged by the OS)"));
    ActivationBuffer bufferA(shape, spillFile("a")), bufferB(shape, spillFile("b")),
        bufferC(shape, spillFile("c"));
    // in chunks of spec.batch sequences, written into DST
    const auto embedInto = [&](torch::Tensor& dst) {
        for (int64_t a = 0; a < samples; a += spec.batch) {
            const int64_t b = std::min(samples, a + spec.batch);
            dst.slice(0, a, b).copy_(model.embed(ids.slice(0, a, b), contextFor(b - a)));
        }
    };
    const auto runBlock = [&](int64_t layer, const torch::Tensor& in, torch::Tensor& dst) {
        for (int64_t a = 0; a < samples; a += spec.batch) {
            const int64_t b = std::min(samples, a + spec.batch);
            dst.slice(0, a, b).copy_(
                model.forwardBlock(layer, in.slice(0, a, b), contextFor(b - a)));
        }
    };
    // one dense forward of the calibration set through every block, the benchmark's unit: the
    // faster of two (the first also pays for touching the buffers' fresh pages)
    result.calibForwardSeconds = std::numeric_limits<double>::infinity();
    for (int repeat = 0; repeat < 2; ++repeat) {
        const auto t = Clock::now();
        torch::Tensor* h = &bufferA.tensor();
        torch::Tensor* next = &bufferC.tensor();
        embedInto(*h);
        for (int64_t layer = 0; layer < layers; ++layer) {
            runBlock(layer, *h, *next);
            std::swap(h, next);
        }
        result.calibForwardSeconds = std::min(result.calibForwardSeconds, secondsSince(t));
    }

    // saved masks, checked against the model before anything is pruned
    std::shared_ptr<model::SafetensorsArchive> masks;
    if (spec.method == PruneMethod::Masks) {
        masks = std::make_shared<model::SafetensorsArchive>(
            model::SafetensorsArchive::open(spec.masksFile));
        for (int64_t layer = 0; layer < layers; ++layer)
            for (model::Linear* l : model.block(layer).linears()) {
                if (!masks->contains(l->name))
                    fail(spec.masksFile.string(), ": no mask for ", l->name,
                         " (the masks are for another model?)");
                const auto& info = masks->info(l->name);
                if (info.shape != l->weight.sizes().vec())
                    fail(spec.masksFile.string(), ": the mask of ", l->name, " is ",
                         torch::IntArrayRef(info.shape), " but the weight is ", l->weight.sizes());
            }
    }

    resetPeakRss();
    const auto start = Clock::now();
    double denseSeconds = 0, selectSeconds = 0, prunedSeconds = 0;  // where the time goes
    torch::Tensor* in = &bufferA.tensor();    // [N, L, H]: this block's inputs
    torch::Tensor* out = &bufferC.tensor();   // its pruned outputs, the next block's inputs
    torch::Tensor& dense = bufferB.tensor();  // its dense outputs
    embedInto(*in);
    int64_t prunedTotal = 0, weightsTotal = 0;
    std::vector<float> sparsityGrid;  // [layers, matrices per block]
    int64_t perBlock = 0;
    model::NamedTensors maskTensors;
    for (int64_t layer = 0; layer < layers; ++layer) {
        if (hooks.stopRequested && hooks.stopRequested()) fail("pruning stopped at block ", layer);
        model::Block& block = model.block(layer);
        const std::vector<model::Linear*> linears = block.linears();
        perBlock = static_cast<int64_t>(linears.size());
        const auto indexOf = [&](const model::Linear& l) {
            for (size_t i = 0; i < linears.size(); ++i)
                if (linears[i] == &l) return static_cast<int64_t>(i);
            return int64_t{-1};
        };
        // the dense pass: statistics for every linear at once (down_proj's from the dense
        // gate/up, as the reference), and the dense outputs
        std::vector<InputStatistics> stats;
        std::vector<HessianAccumulator> hessians;
        for (model::Linear* l : linears) {
            stats.emplace_back(l->weight.size(1));
            if (spec.method == PruneMethod::SparseGpt) hessians.emplace_back(l->weight.size(1));
        }
        const auto collect = [&](torch::Tensor& dst) {
            for (auto& s : stats) s = InputStatistics(s.meanSquares().size(0));
            // q, k and v (gate and up) see one tensor: reduce it once (the tensor is held, so its
            // memory cannot be reused by another input meanwhile)
            torch::Tensor lastInput, lastSquares;
            model.setLinearInputObserver([&](const model::Linear& l, const torch::Tensor& x) {
                const int64_t i = indexOf(l);
                if (i < 0) return;
                if (!lastInput.defined() || !x.is_same(lastInput)) {
                    lastSquares = InputStatistics::squares(x);
                    lastInput = x;
                }
                stats[static_cast<size_t>(i)].addSquares(lastSquares, x.dim() == 2 ? 1 : x.size(0));
                if (!hessians.empty()) hessians[static_cast<size_t>(i)].add(x);
            });
            try {
                runBlock(layer, *in, dst);
            } catch (...) {
                model.setLinearInputObserver(nullptr);
                throw;
            }
            model.setLinearInputObserver(nullptr);
        };
        const torch::Tensor& inputs = *in;
        auto phase = Clock::now();
        collect(dense);
        denseSeconds += secondsSince(phase);
        phase = Clock::now();
        std::vector<torch::Tensor> selected(linears.size());

        if (spec.method == PruneMethod::WandaPlusPlus) {
            // G: RMS over samples of d||f(X_n)||/dW on the dense block, in fp32 (§2.2)
            std::vector<torch::Tensor> weights;
            for (model::Linear* l : linears) weights.push_back(l->weight);
            const auto gradient = [&] {
                torch::AutoGradMode grad(true);
                for (auto& w : weights) w.requires_grad_(true);
                RegionalGradient rg(weights);
                for (int64_t n = 0; n < samples; ++n)
                    rg.add(model.forwardBlock(layer, inputs.slice(0, n, n + 1), contextFor(1)));
                for (auto& w : weights) w.requires_grad_(false);
                std::vector<torch::Tensor> g;
                for (size_t i = 0; i < weights.size(); ++i) g.push_back(rg.rms(i));
                return g;
            };
            std::vector<torch::Tensor> g = gradient();
            {  // how much the gradient term weighs against ||X_j||: mean(alpha*G) / mean(||X_j||)
                double share = 0;
                for (size_t i = 0; i < linears.size(); ++i)
                    share += spec.alpha * g[i].mean().item<double>() /
                             featureNorms(stats[i], featureNorm).mean().item<double>();
                share /= static_cast<double>(linears.size());
                metric("prune/rgs_gradient_share", layer, share);
                say(cat("block ", layer, ": mean(alpha * G) / mean(||X_j||) = ", share));
            }
            const auto prune = [&] {
                for (size_t i = 0; i < linears.size(); ++i) {
                    const torch::Tensor score = wandaPlusPlusScore(
                        linears[i]->weight, g[i], featureNorms(stats[i], featureNorm), spec.alpha);
                    selected[i] = selectPerRow(score, sparsity, linears[i]->name);
                    applyMask(linears[i]->weight, selected[i]);
                }
            };
            if (spec.ro == RoMode::Off) {
                prune();
            } else {
                std::mt19937_64 rng(static_cast<uint64_t>(spec.seed) * 1000003u +
                                    static_cast<uint64_t>(layer));
                for (int64_t round = 0; round < spec.roRounds; ++round) {
                    if (round == 0 || spec.ro == RoMode::Reselect) {
                        if (round > 0) collect(*out);  // the statistics; the outputs are scratch
                        prune();
                    }
                    // RMSprop on sum((f_dense(X) - f(X))^2), one step per drawn sample, gradients
                    // zeroed every step (the unofficial code lets them accumulate over a round)
                    torch::AutoGradMode grad(true);
                    for (auto& w : weights) w.requires_grad_(true);
                    torch::optim::RMSprop optimiser(
                        weights, torch::optim::RMSpropOptions(spec.roLr).alpha(0.99).eps(1e-8));
                    for (int64_t k = 0; k < spec.roSamples; ++k) {
                        const auto n = static_cast<int64_t>(rng() % static_cast<uint64_t>(samples));
                        optimiser.zero_grad();
                        const torch::Tensor y =
                            model.forwardBlock(layer, inputs.slice(0, n, n + 1), contextFor(1));
                        const torch::Tensor loss = (y - dense.slice(0, n, n + 1)).pow(2).sum();
                        if (!std::isfinite(loss.item<double>()))
                            fail("Wanda++ regional optimisation: the loss of block ", layer,
                                 " became ", loss.item<double>(), " at round ", round,
                                 "; lower prune.ro_lr");
                        loss.backward();
                        if (spec.ro == RoMode::Fixed)
                            for (size_t i = 0; i < weights.size(); ++i)
                                weights[i].mutable_grad().masked_fill_(selected[i], 0);
                        optimiser.step();
                        if (spec.ro == RoMode::Fixed) {
                            torch::NoGradGuard inner;
                            for (size_t i = 0; i < weights.size(); ++i)
                                weights[i].masked_fill_(selected[i], 0);
                        }
                    }
                    for (auto& w : weights) {
                        w.requires_grad_(false);
                        w.mutable_grad() = torch::Tensor();
                    }
                }
                if (spec.ro == RoMode::Reselect) {  // the final prune restores the pattern
                    if (spec.roRegradient) g = gradient();
                    collect(*out);
                    prune();
                }
            }
        } else {
            for (size_t i = 0; i < linears.size(); ++i) {
                model::Linear& l = *linears[i];
                switch (spec.method) {
                    case PruneMethod::Magnitude:
                        selected[i] = magnitudeMask(l.weight, sparsity, l.name);
                        break;
                    case PruneMethod::Wanda:
                        selected[i] = selectPerRow(wandaScore(l.weight, stats[i].meanSquares()),
                                                   sparsity, l.name);
                        break;
                    case PruneMethod::SparseGpt: {
                        SparseGptOptions o;
                        o.blockSize = spec.blockSize;
                        o.percdamp = spec.percdamp;
                        selected[i] =
                            sparseGpt(l.weight, hessians[i].hessian(), sparsity, o, l.name).mask;
                        break;
                    }
                    case PruneMethod::Masks:
                        selected[i] = masks->read(l.name, torch::kFloat32) != 0;
                        break;
                    case PruneMethod::WandaPlusPlus: break;
                }
                applyMask(l.weight, selected[i]);
            }
        }
        // the pruned block's outputs feed the next block
        selectSeconds += secondsSince(phase);
        phase = Clock::now();
        runBlock(layer, inputs, *out);
        prunedSeconds += secondsSince(phase);
        double num = 0, den = 0;
        for (int64_t a = 0; a < samples; a += spec.batch) {  // in chunks: no [N, L, H] temporaries
            const int64_t b = std::min(samples, a + spec.batch);
            num += (dense.slice(0, a, b) - out->slice(0, a, b)).pow(2).sum().item<double>();
            den += dense.slice(0, a, b).pow(2).sum().item<double>();
        }
        const double error = num / den;
        result.blockErrors.push_back(error);
        metric("prune/block_error", layer, error);
        for (size_t i = 0; i < linears.size(); ++i) {
            MatrixReport m;
            m.name = linears[i]->name;
            m.total = linears[i]->weight.numel();
            m.pruned = (linears[i]->weight == 0).sum().item<int64_t>();
            prunedTotal += m.pruned;
            weightsTotal += m.total;
            sparsityGrid.push_back(static_cast<float>(m.pruned) / static_cast<float>(m.total));
            result.matrices.push_back(m);
            maskTensors.emplace_back(m.name, selected[i].to(torch::kFloat32));
        }
        std::swap(in, out);
        if (hooks.progress)
            hooks.progress(layer + 1, layers, cat("block ", layer, " error ", error));
    }
    result.pruneSeconds = secondsSince(start);
    result.peakRssBytes = peakRssBytes();
    result.sparsity =
        weightsTotal > 0 ? static_cast<double>(prunedTotal) / static_cast<double>(weightsTotal) : 0;
    metric("prune/sparsity", layers, result.sparsity);
    metric("prune/seconds", layers, result.pruneSeconds);
    metric("prune/calib_forward_seconds", layers, result.calibForwardSeconds);
    metric("prune/time_over_forward", layers, result.pruneSeconds / result.calibForwardSeconds);
    metric("sys/peak_rss_mb", layers, static_cast<double>(result.peakRssBytes) / (1 << 20));
    if (hooks.vector) {
        hooks.vector("prune/sparsity_per_matrix", layers, {layers, perBlock}, sparsityGrid);
        hooks.vector("prune/block_error", layers, {layers},
                     std::vector<float>(result.blockErrors.begin(), result.blockErrors.end()));
    }
    say(cat("pruned ", prunedTotal, " of ", weightsTotal, " weights in ", layers, " blocks (",
            result.sparsity * 100, "%) in ", result.pruneSeconds, " s (",
            result.pruneSeconds / result.calibForwardSeconds,
            " x one forward of the calibration set, ", result.calibForwardSeconds,
            " s): dense passes with statistics ", denseSeconds, " s, scores and masks ",
            selectSeconds, " s, pruned passes ", prunedSeconds, " s"));
    if (!spec.evalText.empty()) {
        result.prunedPerplexity = perplexity();
        metric("prune/perplexity", layers, result.prunedPerplexity);
        say(cat("pruned perplexity ", result.prunedPerplexity, " (dense ", result.densePerplexity,
                "; ", result.protocol, ")"));
    }
    if (!spec.outDir.empty()) {
        model.save(spec.outDir, model::DType::F32);
        std::filesystem::copy_file(modelDir / "tokenizer.json", spec.outDir / "tokenizer.json",
                                   std::filesystem::copy_options::overwrite_existing);
        model::writeSafetensors(spec.outDir / "masks.safetensors", maskTensors, model::DType::F16,
                                {{"format", "frugal pruning masks: 1 = pruned"},
                                 {"sparsity", sparsity.describe()},
                                 {"method", pruneMethodName(spec.method)}});
        model::writeSafetensors(spec.outDir / "calibration.safetensors",
                                {{"ids", ids.to(torch::kFloat32)}}, model::DType::F32,
                                {{"format", "token ids as float32 (exact below 2^24)"},
                                 {"corpus", calibFile.string()},
                                 {"seed", std::to_string(spec.seed)}});
        say(cat("saved the pruned model, its masks and the calibration ids to ",
                spec.outDir.string()));
    }
    return result;
}

}  // namespace frugal::prune
