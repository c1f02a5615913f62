#include "pretrain/pretrain.h"

#include <toml++/toml.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <sstream>
#include <torch/serialize.h>
#include <torch/nn/functional/loss.h>
#include <torch/nn/utils/clip_grad.h>
#include <torch/optim/adamw.h>

#include "common/error.h"
#include "common/files.h"
#include "common/format.h"
#include "common/runtime_info.h"
#include "data/corpus.h"
#include "eval/perplexity.h"
#include "model/bpe_trainer.h"
#include "model/model_config.h"
#include "model/safetensors.h"
#include "model/tokenizer.h"
#include "model/transformer.h"
#include "common/metric_keys.h"

namespace frugal::pretrain {

namespace {

using Clock = std::chrono::steady_clock;

double secondsSince(Clock::time_point start) {
    return std::chrono::duration<double>(Clock::now() - start).count();
}

// The salt of the batch stream's seed: the windows are drawn apart from the weights'
// initialisation, which uses the seed itself.
constexpr uint64_t kBatchSeedSalt = 0x9e3779b97f4a7c15ull;

// One pre-training run, phase by phase (run() is the table of contents).
class Pretraining {
public:
    Pretraining(const PretrainConfig& c, EventSink& sink, const StopToken& stop, bool resume)
        : m_c(c), m_sink(sink), m_stop(stop), m_resume(resume), m_rng(c.seed ^ kBatchSeedSalt),
          // checkpoints live in the run's artifact folder (asked for only when they are used)
          m_checkpointDir(c.checkpointEvery > 0 || resume ? sink.artifactDir() / "checkpoint"
                                                          : std::filesystem::path()) {}

    PretrainResult run() {
        const auto start = Clock::now();
        checkInputs();
        makeTokenizer();     // 1. trained on every source's full text, or given
        tokenizeSources();   // 2. the tail of each source held out
        buildModel();        // 3. a LLaMA of the configured shape, AdamW over it
        drawHeldOut();
        if (m_resume) resumeFromCheckpoint();
        train();             // 4. the training loop
        saveAndEvaluate();   // 5. the folder saved and evaluated as `frugal eval ppl` does
        m_result.totalSeconds = secondsSince(start);
        writeSummary();
        return m_result;
    }

private:
    void checkInputs() {
        const PretrainConfig& c = m_c;
        for (size_t i = 0; i < c.sources.size(); ++i)
            if (!std::filesystem::is_regular_file(c.sources[i].path))
                fail(c.file.string(), ": data.sources[", i, "].path: ", c.sources[i].path.string(),
                     " does not exist (the built-in corpus is built by scripts/fetch-data --corpus)");
        if (!c.evalText.empty() && !std::filesystem::is_regular_file(c.evalText))
            fail(c.file.string(), ": data.eval_text: ", c.evalText.string(), " does not exist");
        std::filesystem::create_directories(c.outDir);
    }

    void makeTokenizer() {
        const PretrainConfig& c = m_c;
        for (const auto& s : c.sources)
            m_texts.push_back(readFile(s.path, "corpus file of source '" + s.name + "'"));
        if (!c.tokenizerPath.empty()) {
            m_tokenizer = model::Tokenizer::load(c.tokenizerPath);
            model::writeTextAtomically(
                c.outDir / "tokenizer.json",
                readFile(c.tokenizerPath.extension() == ".json" ? c.tokenizerPath : c.tokenizerPath / "tokenizer.json",
                         "tokenizer"));
        } else {
            const auto t0 = Clock::now();
            model::BpeTrainerOptions options;
            options.vocabSize = c.vocabSize;
            options.minFrequency = c.minFrequency;
            const model::BpeTrainingResult bpe = model::trainByteLevelBpe(m_texts, options);
            model::writeTextAtomically(c.outDir / "tokenizer.json", bpe.tokenizerJson);
            log(cat("tokenizer: byte-level BPE, ", bpe.vocabSize, " tokens (", bpe.merges, " merges) from ", bpe.words,
                    " words (", bpe.uniqueWords, " distinct) in ", static_cast<int>(secondsSince(t0)), " s"));
            m_tokenizer = model::Tokenizer::load(c.outDir / "tokenizer.json");
        }
        m_result.vocabSize = m_tokenizer->vocabSize();
    }

    void tokenizeSources() {
        const PretrainConfig& c = m_c;
        for (size_t i = 0; i < c.sources.size(); ++i) {
            const data::Corpus all = data::Corpus::fromText(m_texts[i], *m_tokenizer, c.sources[i].path.string());
            const auto keep =
                static_cast<int64_t>(std::floor(static_cast<double>(all.size()) * (1.0 - c.holdoutFraction)));
            if (keep < c.seqLen + 1 || (c.holdoutFraction > 0 && all.size() - keep < c.seqLen + 1))
                fail(c.sources[i].path.string(), ": ", all.size(), " tokens are too few for windows of ",
                     c.seqLen + 1, " tokens on both sides of ", "the held-out split");
            m_train.push_back(all.slice(0, keep));
            if (c.holdoutFraction > 0) m_heldOut.push_back(all.slice(keep, all.size()));
            m_result.corpusTokens += all.size();
            m_weightSum += c.sources[i].weight;
            m_cumulative.push_back(m_weightSum);
            log(cat("data: ", c.sources[i].name, ": ", all.documents(), " documents, ", all.size(), " tokens (",
                    keep, " for training), weight ", c.sources[i].weight));
        }
        m_texts.clear();
        m_texts.shrink_to_fit();
    }

    nlohmann::json modelJson() const {
        const PretrainConfig& c = m_c;
        nlohmann::json mj;
        mj["model_type"] = "llama";
        mj["architectures"] = {"LlamaForCausalLM"};
        mj["vocab_size"] = m_result.vocabSize;
        mj["hidden_size"] = c.hidden;
        mj["num_hidden_layers"] = c.layers;
        mj["num_attention_heads"] = c.heads;
        mj["num_key_value_heads"] = c.kvHeads;
        mj["intermediate_size"] = c.intermediate > 0 ? c.intermediate : (8 * c.hidden / 3 + 31) / 32 * 32;
        mj["max_position_embeddings"] = c.maxPositions;
        mj["rope_theta"] = c.ropeTheta;
        mj["rms_norm_eps"] = 1e-5;
        mj["hidden_act"] = "silu";
        mj["tie_word_embeddings"] = c.tied;
        if (auto bos = m_tokenizer->bosId()) mj["bos_token_id"] = *bos;
        if (auto eos = m_tokenizer->eosId()) mj["eos_token_id"] = *eos;
        return mj;
    }

    void buildModel() {
        const PretrainConfig& c = m_c;
        const nlohmann::json mj = modelJson();
        const model::ModelConfig config = model::ModelConfig::fromJson(mj.dump(), c.file.string() + " [model]");
        m_net.emplace(model::Transformer::random(config, c.seed, c.initStd));
        std::vector<torch::Tensor> decay, noDecay;
        {
            torch::NoGradGuard noGrad;
            const double residualScale = 1.0 / std::sqrt(2.0 * static_cast<double>(c.layers));
            for (auto& [name, tensor] : m_net->parameters()) {
                const bool isNorm = name.find("norm") != std::string::npos;
                if (isNorm) tensor.fill_(1.0);  // RMSNorm gains start at one
                // GPT-2's scaled init of the projections that write into the residual stream
                if (name.find("o_proj") != std::string::npos || name.find("down_proj") != std::string::npos)
                    tensor.mul_(residualScale);
                tensor.set_requires_grad(true);
                (isNorm ? noDecay : decay).push_back(tensor);
            }
        }
        m_result.parameters = m_net->parameterCount();
        log(cat("model: LLaMA, ", c.layers, " layers, hidden ", c.hidden, ", ", c.heads, " heads (", c.kvHeads,
                " key/value), MLP ", mj["intermediate_size"].get<int64_t>(), ", vocab ", m_result.vocabSize,
                ", context ", c.maxPositions, ": ", m_result.parameters, " parameters"));
        std::vector<torch::optim::OptimizerParamGroup> groups;
        const auto adamw = [&](double weightDecay) {
            return std::make_unique<torch::optim::AdamWOptions>(
                torch::optim::AdamWOptions(c.lr).betas({c.beta1, c.beta2}).eps(c.adamEps).weight_decay(weightDecay));
        };
        groups.emplace_back(decay, adamw(c.weightDecay));
        groups.emplace_back(noDecay, adamw(0.0));
        m_optimizer = std::make_unique<torch::optim::AdamW>(std::move(groups));
        m_all = decay;
        m_all.insert(m_all.end(), noDecay.begin(), noDecay.end());
    }

    // Fixed held-out windows per source, drawn once.
    void drawHeldOut() {
        const int64_t window = m_c.seqLen + 1;
        for (const auto& corpus : m_heldOut) {
            const int64_t n = std::min<int64_t>(m_c.evalWindows, corpus.size() / window);
            const std::vector<int32_t> w = corpus.contiguousWindows(window, n);
            m_heldOutBatches.push_back(
                torch::tensor(std::vector<int64_t>(w.begin(), w.end()), torch::kLong).view({n, window}));
        }
    }

    torch::Tensor lossOf(const torch::Tensor& windows) {
        const torch::Tensor input = windows.narrow(1, 0, m_c.seqLen);
        const torch::Tensor target = windows.narrow(1, 1, m_c.seqLen);
        const torch::Tensor logits = m_net->forward(input);
        return torch::nn::functional::cross_entropy(logits.reshape({-1, logits.size(2)}), target.reshape({-1}));
    }

    // The mean held-out loss over the sources (NaN with none), each source's appended to LINE.
    double evaluateHeldOut(int64_t step, std::string& line) {
        torch::NoGradGuard noGrad;
        double sum = 0;
        for (size_t i = 0; i < m_heldOutBatches.size(); ++i) {
            double loss = 0;
            const int64_t n = m_heldOutBatches[i].size(0);
            for (int64_t first = 0; first < n; first += m_c.batchSize) {
                const int64_t k = std::min(m_c.batchSize, n - first);
                loss += lossOf(m_heldOutBatches[i].narrow(0, first, k)).item<double>() * static_cast<double>(k);
            }
            loss /= static_cast<double>(n);
            line += cat(" ", m_c.sources[i].name, " ", loss);
            metric("held_out/" + m_c.sources[i].name, step, loss);
            sum += loss;
        }
        return m_heldOutBatches.empty() ? std::nan("") : sum / static_cast<double>(m_heldOutBatches.size());
    }

    // Checkpoints are folders step-N; the file `latest` names the last complete one and is
    // replaced atomically, so a kill at any moment leaves a usable checkpoint.
    std::filesystem::path pointer() const { return m_checkpointDir / "latest"; }

    void resumeFromCheckpoint() {
        std::string latestName;
        if (std::filesystem::exists(pointer())) latestName = readFile(pointer(), "checkpoint pointer");
        const auto latest = m_checkpointDir / latestName;
        if (latestName.empty() || !std::filesystem::exists(latest / "state.json"))
            fail("resume: no checkpoint in ", m_checkpointDir.string(),
                 " (train.checkpoint_every was 0, or the run stopped before its first checkpoint)");
        const auto state = nlohmann::json::parse(readFile(latest / "state.json", "checkpoint state"));
        m_firstStep = state.at("step").get<int64_t>() + 1;
        m_result.tokensSeen = state.at("tokens_seen").get<int64_t>();
        m_result.finalTrainLoss = state.at("final_train_loss").get<double>();
        m_result.heldOutLoss = state.at("held_out_loss").get<double>();
        m_secondsBefore = state.at("train_seconds").get<double>();
        std::istringstream rngState(state.at("rng").get<std::string>());
        rngState >> m_rng;
        const model::SafetensorsArchive weights = model::SafetensorsArchive::open(latest / "weights.safetensors");
        {
            torch::NoGradGuard noGrad;
            for (auto& [name, tensor] : m_net->parameters()) tensor.copy_(weights.read(name, torch::kFloat32));
        }
        torch::load(*m_optimizer, (latest / "optimizer.pt").string());
        m_csvSoFar = readFile(latest / "training_log.csv", "checkpoint log");
        log(cat("resumed from the checkpoint at step ", m_firstStep - 1, " (", latest.string(), ")"));
    }

    void saveCheckpoint(int64_t step, double trainSeconds) {
        m_sink.flush();  // a resumed run finds every metric up to its checkpoint stored
        m_csv.flush();
        const std::string name = cat("step-", step);
        const auto tmp = m_checkpointDir / name;
        std::filesystem::remove_all(tmp);
        std::filesystem::create_directories(tmp);
        model::writeSafetensors(tmp / "weights.safetensors", m_net->parameters(), model::DType::F32);
        torch::save(*m_optimizer, (tmp / "optimizer.pt").string());
        std::ostringstream rngState;
        rngState << m_rng;
        nlohmann::json state = {{"step", step},
                                {"tokens_seen", m_result.tokensSeen},
                                {"final_train_loss", m_result.finalTrainLoss},
                                {"held_out_loss", m_result.heldOutLoss},
                                {"train_seconds", trainSeconds},
                                {"rng", rngState.str()}};
        model::writeTextAtomically(tmp / "state.json", state.dump());
        std::filesystem::copy_file(m_c.outDir / "training_log.csv.tmp", tmp / "training_log.csv");
        model::writeTextAtomically(pointer(), name);
        for (const auto& entry : std::filesystem::directory_iterator(m_checkpointDir))
            if (entry.is_directory() && entry.path().filename() != name) std::filesystem::remove_all(entry.path());
    }

    void train() {
        const PretrainConfig& c = m_c;
        m_csv.open(c.outDir / "training_log.csv.tmp");
        m_csv << m_csvSoFar;
        m_trainStart = Clock::now();
        m_intervalStart = Clock::now();
        for (int64_t step = m_firstStep; step <= c.steps; ++step) {
            if (m_stop.stopRequested())
                throw Cancelled(cat("pre-training stopped before step ", step, " of ", c.steps, "; nothing was saved"));
            const double lr = lrAt(step);
            for (auto& group : m_optimizer->param_groups())
                static_cast<torch::optim::AdamWOptions&>(group.options()).lr(lr);
            const double gradNorm = trainStep(step, lr);
            const bool evalNow = step % c.evalEvery == 0 || step == c.steps;
            if (step % c.logEvery == 0 || evalNow) logInterval(step, lr, gradNorm, evalNow);
            if (c.checkpointEvery > 0 && !m_checkpointDir.empty() && step % c.checkpointEvery == 0 && step < c.steps)
                saveCheckpoint(step, m_secondsBefore + secondsSince(m_trainStart));
        }
        m_result.steps = c.steps;
        m_result.trainSeconds = m_secondsBefore + secondsSince(m_trainStart);
        m_csv.close();
        std::filesystem::rename(c.outDir / "training_log.csv.tmp", c.outDir / "training_log.csv");
    }

    // Linear warm-up, then cosine decay to min_lr.
    double lrAt(int64_t step) const {
        const PretrainConfig& c = m_c;
        if (step <= c.warmupSteps) return c.lr * static_cast<double>(step) / static_cast<double>(c.warmupSteps);
        if (c.steps <= c.warmupSteps) return c.lr;
        const double pi = std::acos(-1.0);
        const double progress =
            static_cast<double>(step - c.warmupSteps) / static_cast<double>(c.steps - c.warmupSteps);
        return c.minLr + 0.5 * (c.lr - c.minLr) * (1.0 + std::cos(pi * progress));
    }

    // A batch of windows, each from a source drawn by weight.
    torch::Tensor drawBatch() {
        const int64_t window = m_c.seqLen + 1;
        std::vector<int64_t> ids;
        ids.reserve(static_cast<size_t>(m_c.batchSize * window));
        for (int64_t b = 0; b < m_c.batchSize; ++b) {
            const double u = data::uniformUnit(m_rng) * m_weightSum;
            size_t s = 0;
            while (s + 1 < m_cumulative.size() && u >= m_cumulative[s]) ++s;
            const std::vector<int32_t> w = m_train[s].sampleWindows(1, window, m_rng);
            ids.insert(ids.end(), w.begin(), w.end());
        }
        return torch::tensor(ids, torch::kLong).view({m_c.batchSize, window});
    }

    // One AdamW step; returns the gradient norm before clipping.
    double trainStep(int64_t step, double lr) {
        const PretrainConfig& c = m_c;
        const torch::Tensor batch = drawBatch();
        m_optimizer->zero_grad();
        const torch::Tensor loss = lossOf(batch);
        const double lossValue = loss.item<double>();
        if (!std::isfinite(lossValue))
            fail("pre-training: the loss is ", lossValue, " at step ", step, " (lr ", lr,
                 "); stopping. Lower train.lr or raise train.warmup_steps");
        loss.backward();
        const double gradNorm = c.gradClip > 0 ? torch::nn::utils::clip_grad_norm_(m_all, c.gradClip)
                                               : torch::nn::utils::clip_grad_norm_(m_all, 1e30);
        m_optimizer->step();
        m_result.tokensSeen += c.batchSize * c.seqLen;
        metric(frugal::metrics::kTrainLoss, step, lossValue);
        metric(frugal::metrics::kTrainLr, step, lr);
        metric(frugal::metrics::kTrainGradNorm, step, gradNorm);
        m_sink.progress(step, c.steps, "loss " + shortNumber(lossValue));
        m_intervalLoss += lossValue;
        m_intervalSteps += 1;
        return gradNorm;
    }

    // The log line and training_log.csv row of the steps since the last one (with EVALNOW, the
    // held-out losses too).
    void logInterval(int64_t step, double lr, double gradNorm, bool evalNow) {
        const PretrainConfig& c = m_c;
        const double seconds = secondsSince(m_intervalStart);
        const double tokensPerSecond = static_cast<double>(m_intervalSteps * c.batchSize * c.seqLen) / seconds;
        const double meanLoss = m_intervalLoss / static_cast<double>(m_intervalSteps);
        m_result.finalTrainLoss = meanLoss;
        std::string heldOutText;
        double heldOutLoss = std::nan("");
        if (evalNow) {
            heldOutLoss = evaluateHeldOut(step, heldOutText);
            m_result.heldOutLoss = heldOutLoss;
            metric(frugal::metrics::kHeldOutMean, step, heldOutLoss);
        }
        metric(frugal::metrics::kTokensPerSecond, step, tokensPerSecond);
        const double elapsed = m_secondsBefore + secondsSince(m_trainStart);
        const double eta = elapsed / static_cast<double>(step) * static_cast<double>(c.steps - step);
        char line[256];
        std::snprintf(line, sizeof line, "step %6lld/%lld  loss %.4f  lr %.2e  grad %.3f  %.0f tok/s  %.0f s (eta %.0f s)",
                      static_cast<long long>(step), static_cast<long long>(c.steps), meanLoss, lr, gradNorm,
                      tokensPerSecond, elapsed, eta);
        log(line + (evalNow ? cat("  held-out", heldOutText, " (mean ", heldOutLoss, ")") : std::string()));
        m_csv << step << "," << m_result.tokensSeen << "," << lr << "," << meanLoss << "," << gradNorm << ","
              << tokensPerSecond << "," << elapsed << ",";
        if (evalNow) m_csv << heldOutLoss;
        m_csv << "\n";
        m_intervalLoss = 0;
        m_intervalSteps = 0;
        m_intervalStart = Clock::now();
    }

    void saveAndEvaluate() {
        const PretrainConfig& c = m_c;
        for (auto& t : m_all) t.set_requires_grad(false);
        m_net->save(c.outDir, model::parseDType(c.dtype, c.file.string() + ": output.dtype"));
        if (c.evalText.empty()) return;
        const eval::PerplexityResult ppl = eval::perplexityOfFile(c.outDir, c.evalText, {}, c.maxPositions, 8);
        m_result.evalPerplexity = ppl.perplexity;
        m_result.evalProtocol = ppl.protocol();
        metric(frugal::metrics::kEvalPerplexity, c.steps, ppl.perplexity);
        log(cat("held-out text ", c.evalText.string(), ": perplexity ", ppl.perplexity, " (", ppl.protocol(), ")"));
    }

    void writeSummary() {
        const PretrainConfig& c = m_c;
        const PretrainResult& result = m_result;
        const RuntimeInfo runtime = queryRuntime();
        nlohmann::ordered_json summary;
        summary["recipe"] = c.file.string();
        summary["config"] = c.text;
        summary["resolved_config"] = c.resolvedText;
        summary["parameters"] = result.parameters;
        summary["vocab_size"] = result.vocabSize;
        summary["corpus_tokens"] = result.corpusTokens;
        summary["tokens_seen"] = result.tokensSeen;
        summary["steps"] = result.steps;
        summary["train_seconds"] = result.trainSeconds;
        summary["total_seconds"] = result.totalSeconds;
        summary["final_train_loss"] = result.finalTrainLoss;
        summary["held_out_loss"] = result.heldOutLoss;
        summary["eval_text"] = c.evalText.string();
        summary["eval_perplexity"] = result.evalPerplexity;
        summary["eval_protocol"] = result.evalProtocol;
        summary["blas"] = runtime.blasKind;
        summary["blas_threads"] = runtime.openblasThreads;
        summary["intra_op_threads"] = runtime.intraOpThreads;
        summary["libtorch"] = runtime.torchVersion;
        model::writeTextAtomically(c.outDir / "training.json", summary.dump(2) + "\n");
        log(cat("wrote ", c.outDir.string(), " (config.json, model.safetensors, tokenizer.json, ",
                "training.json, training_log.csv) in ", static_cast<int>(result.totalSeconds), " s"));
    }

    void log(const std::string& line) { m_sink.info(line); }
    void metric(const std::string& key, int64_t step, double value) { m_sink.metric(key, step, value); }

    const PretrainConfig& m_c;
    EventSink& m_sink;
    const StopToken& m_stop;
    bool m_resume;
    std::mt19937_64 m_rng;
    std::filesystem::path m_checkpointDir;
    PretrainResult m_result;
    std::vector<std::string> m_texts;
    std::optional<model::Tokenizer> m_tokenizer;
    std::vector<data::Corpus> m_train, m_heldOut;
    std::vector<double> m_cumulative;
    double m_weightSum = 0;
    std::optional<model::Transformer> m_net;
    std::unique_ptr<torch::optim::AdamW> m_optimizer;
    std::vector<torch::Tensor> m_all;  // every parameter, for the gradient norm
    std::vector<torch::Tensor> m_heldOutBatches;
    int64_t m_firstStep = 1;
    double m_secondsBefore = 0;  // training time of the interrupted part
    std::string m_csvSoFar = "step,tokens,lr,train_loss,grad_norm,tokens_per_s,elapsed_s,held_out_loss\n";
    std::ofstream m_csv;
    Clock::time_point m_trainStart, m_intervalStart;
    double m_intervalLoss = 0;
    int64_t m_intervalSteps = 0;
};

}  // namespace

PretrainResult pretrain(const PretrainConfig& c, EventSink& sink, const StopToken& stop, bool resume) {
    return Pretraining(c, sink, stop, resume).run();
}

}  // namespace frugal::pretrain
