// The block-by-block pruning procedure (SPEC-PRUNING §1.5 Wanda's order, §2.4 Wanda++, §3 the
// baselines). Dimension legend: N calibration sequences, L tokens each, H hidden width,
// C_out x C_in a linear layer's weight.

#include "prune/pipeline.h"
#include "prune/owl.h"

#include <unistd.h>

#include <chrono>
#include <cmath>
#include <fstream>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <torch/optim/rmsprop.h>

#include "common/error.h"
#include "common/files.h"
#include "common/runtime_info.h"
#include "data/builtin.h"
#include "eval/model_loading.h"
#include "eval/perplexity.h"
#include "model/safetensors.h"
#include "common/format.h"
#include "prune/mask.h"
#include "prune/pruners.h"
#include "prune/sparsegpt.h"
#include "prune/wandapp.h"
#include "common/metric_keys.h"
#include "prune/prune_metrics.h"

namespace frugal::prune {

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
    failInput("prune.ro: unknown regional optimisation mode '", name,
         "' (expected off, reselect or fixed)");
}

namespace {

using Clock = std::chrono::steady_clock;
double secondsSince(Clock::time_point t) {
    return std::chrono::duration<double>(Clock::now() - t).count();
}

// A block's linear layers by their short names ("q_proj, k_proj, ..."): each weight's name
// without "model.layers.N." and ".weight", its last part.
std::string matrixOrder(const std::vector<model::Linear*>& linears) {
    std::string out;
    for (const model::Linear* l : linears) {
        std::string name = l->name;
        if (name.size() > 7 && name.compare(name.size() - 7, 7, ".weight") == 0) name.resize(name.size() - 7);
        const size_t dot = name.rfind('.');
        out += (out.empty() ? "" : ", ") + (dot == std::string::npos ? name : name.substr(dot + 1));
    }
    return out;
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
            failInput(file.string(), ":", n, ": not a JSON line (", e.what(), ")");
        }
        if (!row.is_object() || !row.contains("text") || !row["text"].is_string())
            failInput(file.string(), ":", n, ": expected an object with a \"text\" string");
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
        failInput(file.string(), ": ", size, " tokens, shorter than one calibration window of ", seqLen,
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


// One pruning run: the model, the calibration set, the three activation buffers and the figures,
// with one member function per phase of the procedure.
class PruneRun {
public:
    PruneRun(const PruneSpec& spec, EventSink& sink, const StopToken& stop)
        : m_spec(spec),
          m_sink(sink),
          m_stop(stop),
          m_pruner(findPruner(spec.method)),
          m_target(Sparsity::parse(spec.sparsity)),
          m_sparsity(m_target),
          m_featureNorm(parseFeatureNorm(spec.featureNorm)),
          m_modelDir(data::resolveModel(spec.model)),
          m_loaded(eval::loadModelAndTokenizer(m_modelDir, {})),
          m_model(m_loaded.model) {}

    // The stages before the first block and after the last, as progress (block 0 of N, and what
    // runs), so that a view shows what the run is doing in the minutes they can take.
    PruneResult run() {
        loadSavedMasks();  // inputs checked before the first expensive step
        stage("the calibration text, tokenised into windows");
        prepareCalibration();
        if (!m_spec.evalText.empty()) stage("the dense model's perplexity");
        measureDensePerplexity();
        torch::NoGradGuard noGrad;
        stage("the activation buffers and one timed calibration forward");
        allocateBuffers();
        timeCalibrationForward();
        pruneBlocks();
        finish();
        return m_result;
    }

private:
    void say(const std::string& line) { m_sink.info(line); }
    void stage(const std::string& what) { m_sink.progress(0, m_model.config().numLayers, what); }
    void metric(const std::string& key, int64_t step, double value) { m_sink.metric(key, step, value); }
    bool wandaPlusPlus() const { return m_pruner.regional; }

    // The calibration windows, after the checks that need the model (context, N:M widths).
    void prepareCalibration() {
        const int64_t context = m_model.config().maxPositions;
        const int64_t seqLen = m_spec.calibSeqLen > 0 ? m_spec.calibSeqLen : context;
        if (context > 0 && seqLen > context)
            failInput("prune.calib_seq_len is ", seqLen, " but ", m_spec.model, "'s context is ", context,
                 " tokens");
        m_evalSeqLen = m_spec.evalSeqLen > 0 ? m_spec.evalSeqLen : context;
        if (m_sparsity.structured())  // before any work: every prunable matrix must split into groups
            for (int64_t layer = 0; layer < m_model.numLayers(); ++layer)
                for (const model::Linear* l : m_model.block(layer).linears())
                    if (l->weight.size(1) % m_sparsity.m != 0)
                        failInput(l->name, ": ", m_sparsity.describe(),
                             " sparsity needs the input width to be a multiple of ", m_sparsity.m,
                             ", but it is ", l->weight.size(1));
        m_calibFile = m_spec.calibFile;
        if (m_calibFile.empty()) m_calibFile = data::resourcesDir() / "data/sentiment/train.jsonl";
        m_ids = calibrationIds(m_loaded.tokenizer, m_calibFile, m_spec.calibSamples, seqLen, m_spec.seed);
        say(cat("calibration: ", m_spec.calibSamples, " windows of ", seqLen, " tokens from ",
                m_calibFile.string(), " (seed ", m_spec.seed, "); ", m_sparsity.describe(), " by ",
                m_spec.method,
                wandaPlusPlus()
                    ? cat(" (alpha ", m_spec.alpha, ", ||X_j|| ", m_spec.featureNorm,
                          ", regional optimisation ", roModeName(m_spec.ro),
                          m_spec.ro == RoMode::Off ? std::string()
                                                   : cat(": ", m_spec.roRounds, " rounds of ", m_spec.roSamples,
                                                         " RMSprop steps, lr ", m_spec.roLr),
                          ")")
                    : std::string()));
        m_samples = m_ids.size(0);
        m_layers = m_model.numLayers();
    }

    double perplexity() {
        const auto r = eval::perplexityOfText(m_model, m_loaded.tokenizer, m_spec.evalText, m_evalSeqLen,
                                              m_spec.batch, m_spec.evalWindows, &m_stop);
        m_result.protocol = r.protocol();
        return r.perplexity;
    }

    void measureDensePerplexity() {
        m_result.densePerplexity = m_result.prunedPerplexity = std::numeric_limits<double>::quiet_NaN();
        if (m_spec.evalText.empty()) return;
        m_result.densePerplexity = perplexity();
        metric(prune::metrics::kPerplexityDense, 0, m_result.densePerplexity);
        say(cat("dense perplexity ", m_result.densePerplexity, " (", m_result.protocol, ")"));
    }

    const model::AttentionContext& contextFor(int64_t rows) {
        auto it = m_contexts.find(rows);
        if (it == m_contexts.end())
            it = m_contexts.emplace(rows, m_model.context(m_ids.slice(0, 0, rows), {})).first;
        return it->second;
    }

    // three [N, L, H] buffers: a block's inputs, its dense outputs, its pruned outputs
    void allocateBuffers() {
        const std::vector<int64_t> shape = {m_samples, m_ids.size(1), m_model.config().hiddenSize};
        const double bufferMib = static_cast<double>(shape[0] * shape[1] * shape[2]) * 4 / (1 << 20);
        m_result.spilled = m_spec.memoryMib > 0 && 3 * bufferMib > static_cast<double>(m_spec.memoryMib);
        const std::filesystem::path spillDir =
            m_spec.spillDir.empty() ? std::filesystem::temp_directory_path() : m_spec.spillDir;
        const auto spillFile = [&](const char* name) {
            return m_result.spilled ? spillDir / cat("frugal-prune-", ::getpid(), "-", name, ".f32")
                                    : std::filesystem::path();
        };
        if (m_result.spilled)
            say(cat("calibration activations: 3 buffers of ", bufferMib,
                    " MiB exceed prune.memory_mib = ", m_spec.memoryMib, "; kept in files under ",
                    spillDir.string(), " (mapped, paged by the OS)"));
        m_bufferA = std::make_unique<ActivationBuffer>(shape, spillFile("a"));
        m_bufferB = std::make_unique<ActivationBuffer>(shape, spillFile("b"));
        m_bufferC = std::make_unique<ActivationBuffer>(shape, spillFile("c"));
    }

    // in chunks of spec.batch sequences, written into DST
    void embedInto(torch::Tensor& dst) {
        for (int64_t a = 0; a < m_samples; a += m_spec.batch) {
            const int64_t b = std::min(m_samples, a + m_spec.batch);
            dst.slice(0, a, b).copy_(m_model.embed(m_ids.slice(0, a, b), contextFor(b - a)));
        }
    }
    void runBlock(int64_t layer, const torch::Tensor& in, torch::Tensor& dst) {
        for (int64_t a = 0; a < m_samples; a += m_spec.batch) {
            const int64_t b = std::min(m_samples, a + m_spec.batch);
            dst.slice(0, a, b).copy_(m_model.forwardBlock(layer, in.slice(0, a, b), contextFor(b - a)));
        }
    }

    // one dense forward of the calibration set through every block, the benchmark's unit: the
    // faster of two (the first also pays for touching the buffers' fresh pages)
    void timeCalibrationForward() {
        m_result.calibForwardSeconds = std::numeric_limits<double>::infinity();
        for (int repeat = 0; repeat < 2; ++repeat) {
            const auto t = Clock::now();
            torch::Tensor* h = &m_bufferA->tensor();
            torch::Tensor* next = &m_bufferC->tensor();
            embedInto(*h);
            for (int64_t layer = 0; layer < m_layers; ++layer) {
                runBlock(layer, *h, *next);
                std::swap(h, next);
            }
            m_result.calibForwardSeconds = std::min(m_result.calibForwardSeconds, secondsSince(t));
        }
    }

    // saved masks, checked against the model before anything is pruned
    void loadSavedMasks() {
        if (m_spec.method != "masks") return;
        try {
            m_masks = std::make_shared<model::SafetensorsArchive>(model::SafetensorsArchive::open(m_spec.masksFile));
        } catch (const Error& e) {
            failInput("prune.masks: ", e.what());
        }
        for (int64_t layer = 0; layer < m_model.numLayers(); ++layer)
            for (model::Linear* l : m_model.block(layer).linears()) {
                if (!m_masks->contains(l->name))
                    failInput(m_spec.masksFile.string(), ": no mask for ", l->name,
                              " (the masks are for another model?)");
                const auto& info = m_masks->info(l->name);
                if (info.shape != l->weight.sizes().vec())
                    failInput(m_spec.masksFile.string(), ": the mask of ", l->name, " is ",
                              torch::IntArrayRef(info.shape), " but the weight is ", l->weight.sizes());
            }
    }

    // The block's dense pass: statistics for every linear at once (down_proj's from the dense
    // gate/up, as the reference), and the block's outputs into DST.
    void collect(int64_t layer, const std::vector<model::Linear*>& linears, const torch::Tensor& in,
                 torch::Tensor& dst) {
        const auto indexOf = [&](const model::Linear& l) {
            for (size_t i = 0; i < linears.size(); ++i)
                if (linears[i] == &l) return static_cast<int64_t>(i);
            return int64_t{-1};
        };
        for (auto& s : m_stats) s = InputStatistics(s.meanSquares().size(0));
        // q, k and v (gate and up) see one tensor: reduce it once (the tensor is held, so its
        // memory cannot be reused by another input meanwhile)
        torch::Tensor lastInput, lastSquares, lastSums;
        m_model.setLinearInputObserver([&](const model::Linear& l, const torch::Tensor& x) {
            const int64_t i = indexOf(l);
            if (i < 0) return;
            if (!lastInput.defined() || !x.is_same(lastInput)) {
                lastSquares = InputStatistics::squares(x);
                lastSums = InputStatistics::sums(x);
                lastInput = x;
            }
            const int64_t sequences = x.dim() == 2 ? 1 : x.size(0);
            m_stats[static_cast<size_t>(i)].addSquares(lastSquares, sequences);
            m_stats[static_cast<size_t>(i)].addSums(lastSums, sequences, x.numel() / x.size(-1));
            if (!m_hessians.empty()) m_hessians[static_cast<size_t>(i)].add(x);
        });
        try {
            runBlock(layer, in, dst);
        } catch (...) {
            m_model.setLinearInputObserver(nullptr);
            throw;
        }
        m_model.setLinearInputObserver(nullptr);
    }

    // OWL's pass over the dense model (its activations, nothing pruned): each block's outlier
    // ratio, the share of its Wanda scores |W|·‖X_j‖ above owl_m times their mean, then the
    // layers' sparsities (prune/owl.h), stored as vector series and logged.
    std::vector<double> owlPass(torch::Tensor& in, torch::Tensor& out) {
        torch::Tensor* a = &in;
        torch::Tensor* b = &out;
        embedInto(*a);
        std::vector<double> ratios;
        for (int64_t layer = 0; layer < m_layers; ++layer) {
            if (m_stop.stopRequested())
                throw Cancelled(cat("pruning stopped in OWL's pass, at block ", layer, " of ", m_layers));
            const std::vector<model::Linear*> linears = m_model.block(layer).linears();
            m_stats.clear();
            m_hessians.clear();
            for (model::Linear* l : linears) m_stats.emplace_back(l->weight.size(1));
            collect(layer, linears, *a, *b);
            double sum = 0;
            int64_t count = 0, above = 0;
            std::vector<torch::Tensor> scores;
            for (size_t i = 0; i < linears.size(); ++i) {
                scores.push_back(linears[i]->weight.abs().to(torch::kFloat32) *
                                 m_stats[i].meanSquares().to(torch::kFloat32).sqrt().unsqueeze(0));
                sum += scores.back().sum().item<double>();
                count += scores.back().numel();
            }
            const double threshold = m_spec.owlM * sum / static_cast<double>(count);
            for (const torch::Tensor& s : scores) above += (s > threshold).sum().item<int64_t>();
            ratios.push_back(static_cast<double>(above) / static_cast<double>(count));
            std::swap(a, b);
            m_sink.progress(layer + 1, m_layers, cat("OWL: block ", layer, " outlier ratio ", ratios.back()));
        }
        const std::vector<double> sparsities = owlSparsities(ratios, m_target.ratio, m_spec.owlLambda);
        m_sink.vector(prune::metrics::kOwlOutlierRatio, 0, {m_layers}, std::vector<float>(ratios.begin(), ratios.end()));
        m_sink.vector(prune::metrics::kLayerSparsity, 0, {m_layers},
                      std::vector<float>(sparsities.begin(), sparsities.end()));
        std::string line;
        for (size_t i = 0; i < sparsities.size(); ++i)
            line += cat(i ? ", " : "", i, ": ", sparsities[i], " (D ", ratios[i], ")");
        say(cat("OWL (M ", m_spec.owlM, ", λ ", m_spec.owlLambda, "): the blocks' sparsities ", line));
        return sparsities;
    }

    // A table row's mask for every linear of the block, applied.
    void pruneMatrices(const std::vector<model::Linear*>& linears, std::vector<torch::Tensor>& selected) {
        for (size_t i = 0; i < linears.size(); ++i) {
            const MatrixInput input{*linears[i], m_stats[i], m_hessians.empty() ? nullptr : &m_hessians[i],
                                    m_sparsity, m_spec, m_masks.get()};
            selected[i] = m_pruner.select(input);
            applyMask(linears[i]->weight, selected[i]);
        }
    }

    // G: RMS over samples of d||f(X_n)||/dW on the block as it is, in fp32 (§2.2)
    std::vector<torch::Tensor> regionalGradient(int64_t layer, std::vector<torch::Tensor>& weights,
                                                const torch::Tensor& inputs) {
        torch::AutoGradMode grad(true);
        for (auto& w : weights) w.requires_grad_(true);
        RegionalGradient rg(weights);
        for (int64_t n = 0; n < m_samples; ++n)
            rg.add(m_model.forwardBlock(layer, inputs.slice(0, n, n + 1), contextFor(1)));
        for (auto& w : weights) w.requires_grad_(false);
        std::vector<torch::Tensor> g;
        for (size_t i = 0; i < weights.size(); ++i) g.push_back(rg.rms(i));
        return g;
    }

    // RMSprop on sum((f_dense(X) - f(X))^2), one step per drawn sample, gradients zeroed every
    // step (the unofficial code lets them accumulate over a round); with a fixed mask the pruned
    // weights get no gradient and stay zero.
    void regionalOptimisationRound(int64_t layer, int64_t round, std::vector<torch::Tensor>& weights,
                                   const std::vector<torch::Tensor>& selected, const torch::Tensor& inputs,
                                   const torch::Tensor& dense, std::mt19937_64& rng) {
        torch::AutoGradMode grad(true);
        for (auto& w : weights) w.requires_grad_(true);
        torch::optim::RMSprop optimiser(weights, torch::optim::RMSpropOptions(m_spec.roLr).alpha(0.99).eps(1e-8));
        for (int64_t k = 0; k < m_spec.roSamples; ++k) {
            const auto n = static_cast<int64_t>(rng() % static_cast<uint64_t>(m_samples));
            optimiser.zero_grad();
            const torch::Tensor y = m_model.forwardBlock(layer, inputs.slice(0, n, n + 1), contextFor(1));
            const torch::Tensor loss = (y - dense.slice(0, n, n + 1)).pow(2).sum();
            if (!std::isfinite(loss.item<double>()))
                fail("Wanda++ regional optimisation: the loss of block ", layer, " became ",
                     loss.item<double>(), " at round ", round, "; lower prune.ro_lr");
            loss.backward();
            if (m_spec.ro == RoMode::Fixed)
                for (size_t i = 0; i < weights.size(); ++i) weights[i].mutable_grad().masked_fill_(selected[i], 0);
            optimiser.step();
            if (m_spec.ro == RoMode::Fixed) {
                torch::NoGradGuard inner;
                for (size_t i = 0; i < weights.size(); ++i) weights[i].masked_fill_(selected[i], 0);
            }
        }
        for (auto& w : weights) {
            w.requires_grad_(false);
            w.mutable_grad() = torch::Tensor();
        }
    }

    // Wanda++ (SPEC-PRUNING §2): the regional gradient score, then rounds of regional
    // optimisation (re-selecting the mask each round, or keeping the first), a final prune.
    void pruneRegional(int64_t layer, const std::vector<model::Linear*>& linears,
                       std::vector<torch::Tensor>& selected, const torch::Tensor& inputs,
                       const torch::Tensor& dense, torch::Tensor& scratch) {
        std::vector<torch::Tensor> weights;
        for (model::Linear* l : linears) weights.push_back(l->weight);
        std::vector<torch::Tensor> g = regionalGradient(layer, weights, inputs);
        {  // how much the gradient term weighs against ||X_j||: mean(alpha*G) / mean(||X_j||)
            double share = 0;
            for (size_t i = 0; i < linears.size(); ++i)
                share += m_spec.alpha * g[i].mean().item<double>() /
                         featureNorms(m_stats[i], m_featureNorm).mean().item<double>();
            share /= static_cast<double>(linears.size());
            metric(prune::metrics::kRgsGradientShare, layer, share);
            say(cat("block ", layer, ": mean(alpha * G) / mean(||X_j||) = ", share));
        }
        const auto prune = [&] {
            for (size_t i = 0; i < linears.size(); ++i) {
                const torch::Tensor score = wandaPlusPlusScore(
                    linears[i]->weight, g[i], featureNorms(m_stats[i], m_featureNorm), m_spec.alpha);
                selected[i] = selectPerRow(score, m_sparsity, linears[i]->name);
                applyMask(linears[i]->weight, selected[i]);
            }
        };
        if (m_spec.ro == RoMode::Off) {
            prune();
            return;
        }
        std::mt19937_64 rng(static_cast<uint64_t>(m_spec.seed) * 1000003u + static_cast<uint64_t>(layer));
        for (int64_t round = 0; round < m_spec.roRounds; ++round) {
            if (round == 0 || m_spec.ro == RoMode::Reselect) {
                if (round > 0) collect(layer, linears, inputs, scratch);  // the statistics; the outputs are scratch
                prune();
            }
            regionalOptimisationRound(layer, round, weights, selected, inputs, dense, rng);
        }
        if (m_spec.ro == RoMode::Reselect) {  // the final prune restores the pattern
            if (m_spec.roRegradient) g = regionalGradient(layer, weights, inputs);
            collect(layer, linears, inputs, scratch);
            prune();
        }
    }

    // ||Y_dense - Y_pruned||^2 / ||Y_dense||^2 over the calibration set, in chunks (no [N, L, H]
    // temporaries).
    double blockError(const torch::Tensor& dense, const torch::Tensor& pruned) const {
        double num = 0, den = 0;
        for (int64_t a = 0; a < m_samples; a += m_spec.batch) {
            const int64_t b = std::min(m_samples, a + m_spec.batch);
            num += (dense.slice(0, a, b) - pruned.slice(0, a, b)).pow(2).sum().item<double>();
            den += dense.slice(0, a, b).pow(2).sum().item<double>();
        }
        return num / den;
    }

    void recordBlock(const std::vector<model::Linear*>& linears, const std::vector<torch::Tensor>& selected) {
        for (size_t i = 0; i < linears.size(); ++i) {
            MatrixReport m;
            m.name = linears[i]->name;
            m.total = linears[i]->weight.numel();
            m.pruned = (linears[i]->weight == 0).sum().item<int64_t>();
            m_prunedTotal += m.pruned;
            m_weightsTotal += m.total;
            m_sparsityGrid.push_back(static_cast<float>(m.pruned) / static_cast<float>(m.total));
            m_result.matrices.push_back(m);
            m_maskTensors.emplace_back(m.name, selected[i].to(torch::kFloat32));
        }
    }

    void pruneBlocks() {
        resetPeakRss();
        m_start = Clock::now();
        torch::Tensor* in = &m_bufferA->tensor();    // [N, L, H]: this block's inputs
        torch::Tensor* out = &m_bufferC->tensor();   // its pruned outputs, the next block's inputs
        torch::Tensor& dense = m_bufferB->tensor();  // its dense outputs
        if (m_spec.owl) m_layerSparsity = owlPass(*in, *out);
        embedInto(*in);
        for (int64_t layer = 0; layer < m_layers; ++layer) {
            if (m_stop.stopRequested())
                throw Cancelled(cat("pruning stopped before block ", layer, " of ", m_layers));
            if (!m_layerSparsity.empty()) m_sparsity.ratio = m_layerSparsity[static_cast<size_t>(layer)];
            const std::vector<model::Linear*> linears = m_model.block(layer).linears();
            m_perBlock = static_cast<int64_t>(linears.size());
            if (layer == 0) m_matrixOrder = matrixOrder(linears);
            m_stats.clear();
            m_hessians.clear();
            for (model::Linear* l : linears) {
                m_stats.emplace_back(l->weight.size(1));
                if (m_pruner.needsHessian(m_spec)) m_hessians.emplace_back(l->weight.size(1));
            }
            const torch::Tensor& inputs = *in;
            auto phase = Clock::now();
            collect(layer, linears, inputs, dense);
            m_denseSeconds += secondsSince(phase);
            phase = Clock::now();
            std::vector<torch::Tensor> selected(linears.size());
            if (wandaPlusPlus()) pruneRegional(layer, linears, selected, inputs, dense, *out);
            else pruneMatrices(linears, selected);
            m_selectSeconds += secondsSince(phase);
            // the pruned block's outputs feed the next block
            phase = Clock::now();
            runBlock(layer, inputs, *out);
            m_prunedSeconds += secondsSince(phase);
            const double error = blockError(dense, *out);
            m_result.blockErrors.push_back(error);
            metric(prune::metrics::kBlockError, layer, error);
            recordBlock(linears, selected);
            std::swap(in, out);
            m_sink.progress(layer + 1, m_layers, cat("block ", layer, " error ", error));
        }
        m_result.pruneSeconds = secondsSince(m_start);
        m_result.peakRssBytes = peakRssBytes();
    }

    void finish() {
        m_result.sparsity = m_weightsTotal > 0
                                ? static_cast<double>(m_prunedTotal) / static_cast<double>(m_weightsTotal)
                                : 0;
        metric(prune::metrics::kSparsity, m_layers, m_result.sparsity);
        metric(prune::metrics::kSeconds, m_layers, m_result.pruneSeconds);
        metric(prune::metrics::kCalibForwardSeconds, m_layers, m_result.calibForwardSeconds);
        metric(prune::metrics::kTimeOverForward, m_layers, m_result.pruneSeconds / m_result.calibForwardSeconds);
        metric(frugal::metrics::kPeakRssMb, m_layers, static_cast<double>(m_result.peakRssBytes) / (1 << 20));
        // the columns of the per-matrix grid, named for the workbench's heatmap
        say(cat("matrix order: ", m_matrixOrder));
        m_sink.vector(prune::metrics::kSparsityPerMatrix, m_layers, {m_layers, m_perBlock}, m_sparsityGrid);
        m_sink.vector(prune::metrics::kBlockError, m_layers, {m_layers},
                      std::vector<float>(m_result.blockErrors.begin(), m_result.blockErrors.end()));
        say(cat("pruned ", m_prunedTotal, " of ", m_weightsTotal, " weights in ", m_layers, " blocks (",
                m_result.sparsity * 100, "%) in ", m_result.pruneSeconds, " s (",
                m_result.pruneSeconds / m_result.calibForwardSeconds,
                " x one forward of the calibration set, ", m_result.calibForwardSeconds,
                " s): dense passes with statistics ", m_denseSeconds, " s, scores and masks ",
                m_selectSeconds, " s, pruned passes ", m_prunedSeconds, " s"));
        if (!m_spec.evalText.empty()) {
            m_sink.progress(m_layers, m_layers, "the pruned model's perplexity");
            m_result.prunedPerplexity = perplexity();
            metric(prune::metrics::kPerplexity, m_layers, m_result.prunedPerplexity);
            say(cat("pruned perplexity ", m_result.prunedPerplexity, " (dense ", m_result.densePerplexity,
                    "; ", m_result.protocol, ")"));
        }
        if (!m_spec.outDir.empty()) save();
    }

    void save() {
        m_model.save(m_spec.outDir, model::DType::F32);
        std::filesystem::copy_file(m_modelDir / "tokenizer.json", m_spec.outDir / "tokenizer.json",
                                   std::filesystem::copy_options::overwrite_existing);
        model::writeSafetensors(m_spec.outDir / "masks.safetensors", m_maskTensors, model::DType::F16,
                                {{"format", "frugal pruning masks: 1 = pruned"},
                                 {"sparsity", m_target.describe() + (m_spec.owl ? " on average (OWL per layer)" : "")},
                                 {"method", m_spec.method}});
        model::writeSafetensors(m_spec.outDir / "calibration.safetensors",
                                {{"ids", m_ids.to(torch::kFloat32)}}, model::DType::F32,
                                {{"format", "token ids as float32 (exact below 2^24)"},
                                 {"corpus", m_calibFile.string()},
                                 {"seed", std::to_string(m_spec.seed)}});
        say(cat("saved the pruned model, its masks and the calibration ids to ", m_spec.outDir.string()));
    }

    const PruneSpec& m_spec;
    EventSink& m_sink;
    const StopToken& m_stop;
    const Pruner& m_pruner;
    const Sparsity m_target;  // the run's sparsity
    Sparsity m_sparsity;      // the block being pruned's (OWL: its own ratio; else the target)
    std::vector<double> m_layerSparsity;  // OWL: each block's ratio
    const FeatureNorm m_featureNorm;
    const std::filesystem::path m_modelDir;
    eval::ModelAndTokenizer m_loaded;
    model::Transformer& m_model;
    PruneResult m_result;
    std::filesystem::path m_calibFile;
    torch::Tensor m_ids;  // [N, L] calibration token ids
    int64_t m_samples = 0, m_layers = 0, m_evalSeqLen = 0, m_perBlock = 0;
    std::string m_matrixOrder;  // "q_proj, k_proj, ...": a block's linear layers in order
    std::map<int64_t, model::AttentionContext> m_contexts;
    std::unique_ptr<ActivationBuffer> m_bufferA, m_bufferB, m_bufferC;
    std::shared_ptr<model::SafetensorsArchive> m_masks;
    std::vector<InputStatistics> m_stats;      // per linear of the current block
    std::vector<HessianAccumulator> m_hessians;  // the same, for rows that need the Hessian
    Clock::time_point m_start;
    double m_denseSeconds = 0, m_selectSeconds = 0, m_prunedSeconds = 0;  // where the time goes
    int64_t m_prunedTotal = 0, m_weightsTotal = 0;
    std::vector<float> m_sparsityGrid;  // [layers, matrices per block]
    model::NamedTensors m_maskTensors;
};

}  // namespace

PruneResult runPrune(const PruneSpec& spec, EventSink& sink, const StopToken& stop) {
    spec.validate();
    return PruneRun(spec, sink, stop).run();
}

}  // namespace frugal::prune
