#include "pretrain/pretrain.h"

#include <toml++/toml.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
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

namespace frugal::pretrain {

namespace {

using Clock = std::chrono::steady_clock;

double secondsSince(Clock::time_point start) {
    return std::chrono::duration<double>(Clock::now() - start).count();
}



}  // namespace

PretrainResult pretrain(const PretrainConfig& c, EventSink& sink, const StopToken& stop, bool resume) {
    const auto log = [&](const std::string& line) { sink.info(line); };
    const auto metric = [&](const std::string& key, int64_t step, double value) {
        sink.metric(key, step, value);
    };
    // checkpoints live in the run's artifact folder (asked for only when they are used)
    const std::filesystem::path checkpointDir =
        c.checkpointEvery > 0 || resume ? sink.artifactDir() / "checkpoint" : std::filesystem::path();
    const auto start = Clock::now();
    PretrainResult result;
    for (size_t i = 0; i < c.sources.size(); ++i)
        if (!std::filesystem::is_regular_file(c.sources[i].path))
            fail(c.file.string(), ": data.sources[", i, "].path: ", c.sources[i].path.string(),
                 " does not exist (the built-in corpus is built by scripts/fetch-data --corpus)");
    if (!c.evalText.empty() && !std::filesystem::is_regular_file(c.evalText))
        fail(c.file.string(), ": data.eval_text: ", c.evalText.string(), " does not exist");
    std::filesystem::create_directories(c.outDir);

    // 1. Tokenizer: trained on every source's full text, or given.
    std::vector<std::string> texts;
    for (const auto& s : c.sources) texts.push_back(readFile(s.path, "corpus file of source '" + s.name + "'"));
    model::Tokenizer tokenizer = [&] {
        if (!c.tokenizerPath.empty()) return model::Tokenizer::load(c.tokenizerPath);
        const auto t0 = Clock::now();
        model::BpeTrainerOptions options;
        options.vocabSize = c.vocabSize;
        options.minFrequency = c.minFrequency;
        const model::BpeTrainingResult bpe = model::trainByteLevelBpe(texts, options);
        model::writeTextAtomically(c.outDir / "tokenizer.json", bpe.tokenizerJson);
        log(cat("tokenizer: byte-level BPE, ", bpe.vocabSize, " tokens (", bpe.merges,
                " merges) from ", bpe.words, " words (", bpe.uniqueWords, " distinct) in ",
                static_cast<int>(secondsSince(t0)), " s"));
        return model::Tokenizer::load(c.outDir / "tokenizer.json");
    }();
    if (c.tokenizerPath.empty() == false) {
        model::writeTextAtomically(c.outDir / "tokenizer.json",
                                   readFile(c.tokenizerPath.extension() == ".json"
                                                ? c.tokenizerPath
                                                : c.tokenizerPath / "tokenizer.json",
                                            "tokenizer"));
    }
    result.vocabSize = tokenizer.vocabSize();

    // 2. Tokenize the sources; the tail of each is held out.
    std::vector<data::Corpus> train, heldOut;
    std::vector<double> cumulative;
    double weightSum = 0;
    for (size_t i = 0; i < c.sources.size(); ++i) {
        const data::Corpus all = data::Corpus::fromText(texts[i], tokenizer, c.sources[i].path.string());
        const auto keep = static_cast<int64_t>(
            std::floor(static_cast<double>(all.size()) * (1.0 - c.holdoutFraction)));
        if (keep < c.seqLen + 1 || (c.holdoutFraction > 0 && all.size() - keep < c.seqLen + 1))
            fail(c.sources[i].path.string(), ": ", all.size(),
                 " tokens are too few for windows of ", c.seqLen + 1, " tokens on both sides of ",
                 "the held-out split");
        train.push_back(all.slice(0, keep));
        if (c.holdoutFraction > 0) heldOut.push_back(all.slice(keep, all.size()));
        result.corpusTokens += all.size();
        weightSum += c.sources[i].weight;
        cumulative.push_back(weightSum);
        log(cat("data: ", c.sources[i].name, ": ", all.documents(), " documents, ", all.size(),
                " tokens (", keep, " for training), weight ", c.sources[i].weight));
    }
    texts.clear();
    texts.shrink_to_fit();

    // 3. Model.
    nlohmann::json mj;
    mj["model_type"] = "llama";
    mj["architectures"] = {"LlamaForCausalLM"};
    mj["vocab_size"] = result.vocabSize;
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
    if (auto bos = tokenizer.bosId()) mj["bos_token_id"] = *bos;
    if (auto eos = tokenizer.eosId()) mj["eos_token_id"] = *eos;
    const model::ModelConfig config = model::ModelConfig::fromJson(mj.dump(), c.file.string() + " [model]");
    model::Transformer net = model::Transformer::random(config, c.seed, c.initStd);
    std::vector<torch::Tensor> decay, noDecay;
    {
        torch::NoGradGuard noGrad;
        const double residualScale = 1.0 / std::sqrt(2.0 * static_cast<double>(c.layers));
        for (auto& [name, tensor] : net.parameters()) {
            const bool isNorm = name.find("norm") != std::string::npos;
            if (isNorm) tensor.fill_(1.0);  // RMSNorm gains start at one
            // GPT-2's scaled init of the projections that write into the residual stream
            if (name.find("o_proj") != std::string::npos ||
                name.find("down_proj") != std::string::npos)
                tensor.mul_(residualScale);
            tensor.set_requires_grad(true);
            (isNorm ? noDecay : decay).push_back(tensor);
        }
    }
    result.parameters = net.parameterCount();
    log(cat("model: LLaMA, ", c.layers, " layers, hidden ", c.hidden, ", ", c.heads, " heads (",
            c.kvHeads, " key/value), MLP ", mj["intermediate_size"].get<int64_t>(), ", vocab ",
            result.vocabSize, ", context ", c.maxPositions, ": ", result.parameters,
            " parameters"));

    std::vector<torch::optim::OptimizerParamGroup> groups;
    const auto adamw = [&](double weightDecay) {
        return std::make_unique<torch::optim::AdamWOptions>(torch::optim::AdamWOptions(c.lr)
                                                                .betas({c.beta1, c.beta2})
                                                                .eps(c.adamEps)
                                                                .weight_decay(weightDecay));
    };
    groups.emplace_back(decay, adamw(c.weightDecay));
    groups.emplace_back(noDecay, adamw(0.0));
    torch::optim::AdamW optimizer(std::move(groups));
    std::vector<torch::Tensor> all = decay;
    all.insert(all.end(), noDecay.begin(), noDecay.end());

    // Fixed held-out windows per source, drawn once.
    std::vector<torch::Tensor> heldOutBatches;
    for (size_t i = 0; i < heldOut.size(); ++i) {
        const int64_t n = std::min<int64_t>(c.evalWindows, heldOut[i].size() / (c.seqLen + 1));
        const std::vector<int32_t> w = heldOut[i].contiguousWindows(c.seqLen + 1, n);
        heldOutBatches.push_back(
            torch::tensor(std::vector<int64_t>(w.begin(), w.end()), torch::kLong).view({n, c.seqLen + 1}));
    }
    const auto lossOf = [&](const torch::Tensor& windows) {
        const torch::Tensor input = windows.narrow(1, 0, c.seqLen);
        const torch::Tensor target = windows.narrow(1, 1, c.seqLen);
        const torch::Tensor logits = net.forward(input);
        return torch::nn::functional::cross_entropy(logits.reshape({-1, logits.size(2)}),
                                                    target.reshape({-1}));
    };
    int64_t currentStep = 0;
    const auto evaluateHeldOut = [&](std::string& line) {
        torch::NoGradGuard noGrad;
        double sum = 0;
        for (size_t i = 0; i < heldOutBatches.size(); ++i) {
            double loss = 0;
            const int64_t n = heldOutBatches[i].size(0);
            for (int64_t first = 0; first < n; first += c.batchSize) {
                const int64_t k = std::min(c.batchSize, n - first);
                loss += lossOf(heldOutBatches[i].narrow(0, first, k)).item<double>() *
                        static_cast<double>(k);
            }
            loss /= static_cast<double>(n);
            line += cat(" ", c.sources[i].name, " ", loss);
            metric("held_out/" + c.sources[i].name, currentStep, loss);
            sum += loss;
        }
        return heldOutBatches.empty() ? std::nan("") : sum / static_cast<double>(heldOutBatches.size());
    };

    // 4. Training loop (from a checkpoint when resuming).
    std::mt19937_64 rng(c.seed ^ 0x9e3779b97f4a7c15ull);
    int64_t firstStep = 1;
    double secondsBefore = 0;  // training time of the interrupted part
    std::string csvSoFar = "step,tokens,lr,train_loss,grad_norm,tokens_per_s,elapsed_s,held_out_loss\n";
    // Checkpoints are folders step-N; the file `latest` names the last complete one and is
    // replaced atomically, so a kill at any moment leaves a usable checkpoint.
    const auto pointer = checkpointDir / "latest";
    if (resume) {
        std::string latestName;
        if (std::filesystem::exists(pointer)) latestName = readFile(pointer, "checkpoint pointer");
        const auto latest = checkpointDir / latestName;
        if (latestName.empty() || !std::filesystem::exists(latest / "state.json"))
            fail("resume: no checkpoint in ", checkpointDir.string(),
                 " (train.checkpoint_every was 0, or the run stopped before its first checkpoint)");
        const auto state = nlohmann::json::parse(readFile(latest / "state.json", "checkpoint state"));
        firstStep = state.at("step").get<int64_t>() + 1;
        result.tokensSeen = state.at("tokens_seen").get<int64_t>();
        result.finalTrainLoss = state.at("final_train_loss").get<double>();
        result.heldOutLoss = state.at("held_out_loss").get<double>();
        secondsBefore = state.at("train_seconds").get<double>();
        std::istringstream rngState(state.at("rng").get<std::string>());
        rngState >> rng;
        const model::SafetensorsArchive weights = model::SafetensorsArchive::open(latest / "weights.safetensors");
        torch::NoGradGuard noGrad;
        for (auto& [name, tensor] : net.parameters()) tensor.copy_(weights.read(name, torch::kFloat32));
        torch::load(optimizer, (latest / "optimizer.pt").string());
        csvSoFar = readFile(latest / "training_log.csv", "checkpoint log");
        log(cat("resumed from the checkpoint at step ", firstStep - 1, " (", latest.string(), ")"));
    }
    std::ofstream csv(c.outDir / "training_log.csv.tmp");
    csv << csvSoFar;
    const auto saveCheckpoint = [&](int64_t step, double trainSeconds) {
        sink.flush();  // a resumed run finds every metric up to its checkpoint stored
        csv.flush();
        const std::string name = cat("step-", step);
        const auto tmp = checkpointDir / name;
        std::filesystem::remove_all(tmp);
        std::filesystem::create_directories(tmp);
        model::writeSafetensors(tmp / "weights.safetensors", net.parameters(), model::DType::F32);
        torch::save(optimizer, (tmp / "optimizer.pt").string());
        std::ostringstream rngState;
        rngState << rng;
        nlohmann::json state = {{"step", step},
                                {"tokens_seen", result.tokensSeen},
                                {"final_train_loss", result.finalTrainLoss},
                                {"held_out_loss", result.heldOutLoss},
                                {"train_seconds", trainSeconds},
                                {"rng", rngState.str()}};
        model::writeTextAtomically(tmp / "state.json", state.dump());
        std::filesystem::copy_file(c.outDir / "training_log.csv.tmp", tmp / "training_log.csv");
        model::writeTextAtomically(pointer, name);
        for (const auto& entry : std::filesystem::directory_iterator(checkpointDir))
            if (entry.is_directory() && entry.path().filename() != name)
                std::filesystem::remove_all(entry.path());
    };
    const auto trainStart = Clock::now();
    auto intervalStart = Clock::now();
    double intervalLoss = 0;
    int64_t intervalSteps = 0;
    const int64_t window = c.seqLen + 1;
    const double pi = std::acos(-1.0);
    for (int64_t step = firstStep; step <= c.steps; ++step) {
        currentStep = step;
        if (stop.stopRequested())
            throw Cancelled(cat("pre-training stopped before step ", step, " of ", c.steps,
                                     "; nothing was saved"));
        double lr = c.lr;
        if (step <= c.warmupSteps) {
            lr = c.lr * static_cast<double>(step) / static_cast<double>(c.warmupSteps);
        } else if (c.steps > c.warmupSteps) {
            const double progress = static_cast<double>(step - c.warmupSteps) /
                                    static_cast<double>(c.steps - c.warmupSteps);
            lr = c.minLr + 0.5 * (c.lr - c.minLr) * (1.0 + std::cos(pi * progress));
        }
        for (auto& group : optimizer.param_groups())
            static_cast<torch::optim::AdamWOptions&>(group.options()).lr(lr);

        std::vector<int64_t> ids;
        ids.reserve(static_cast<size_t>(c.batchSize * window));
        for (int64_t b = 0; b < c.batchSize; ++b) {
            const double u = data::uniformUnit(rng) * weightSum;
            size_t s = 0;
            while (s + 1 < cumulative.size() && u >= cumulative[s]) ++s;
            const std::vector<int32_t> w = train[s].sampleWindows(1, window, rng);
            ids.insert(ids.end(), w.begin(), w.end());
        }
        const torch::Tensor batch = torch::tensor(ids, torch::kLong).view({c.batchSize, window});
        optimizer.zero_grad();
        const torch::Tensor loss = lossOf(batch);
        const double lossValue = loss.item<double>();
        if (!std::isfinite(lossValue))
            fail("pre-training: the loss is ", lossValue, " at step ", step, " (lr ", lr,
                 "); stopping. Lower train.lr or raise train.warmup_steps");
        loss.backward();
        const double gradNorm =
            c.gradClip > 0 ? torch::nn::utils::clip_grad_norm_(all, c.gradClip)
                           : torch::nn::utils::clip_grad_norm_(all, 1e30);
        optimizer.step();
        result.tokensSeen += c.batchSize * c.seqLen;
        metric("train/loss", step, lossValue);
        metric("train/lr", step, lr);
        metric("train/grad_norm", step, gradNorm);
        sink.progress(step, c.steps, "loss " + shortNumber(lossValue));
        intervalLoss += lossValue;
        intervalSteps += 1;

        const bool evalNow = step % c.evalEvery == 0 || step == c.steps;
        if (step % c.logEvery == 0 || evalNow) {
            const double seconds = secondsSince(intervalStart);
            const double tokensPerSecond =
                static_cast<double>(intervalSteps * c.batchSize * c.seqLen) / seconds;
            const double meanLoss = intervalLoss / static_cast<double>(intervalSteps);
            result.finalTrainLoss = meanLoss;
            std::string heldOutText;
            double heldOutLoss = std::nan("");
            if (evalNow) {
                heldOutLoss = evaluateHeldOut(heldOutText);
                result.heldOutLoss = heldOutLoss;
                metric("held_out/mean", step, heldOutLoss);
            }
            metric("train/tokens_per_s", step, tokensPerSecond);
            const double elapsed = secondsBefore + secondsSince(trainStart);
            const double eta = elapsed / static_cast<double>(step) * static_cast<double>(c.steps - step);
            char line[256];
            std::snprintf(line, sizeof line,
                          "step %6lld/%lld  loss %.4f  lr %.2e  grad %.3f  %.0f tok/s  %.0f s "
                          "(eta %.0f s)",
                          static_cast<long long>(step), static_cast<long long>(c.steps), meanLoss,
                          lr, gradNorm, tokensPerSecond, elapsed, eta);
            log(line + (evalNow ? cat("  held-out", heldOutText, " (mean ", heldOutLoss, ")")
                                : std::string()));
            csv << step << "," << result.tokensSeen << "," << lr << "," << meanLoss << ","
                << gradNorm << "," << tokensPerSecond << "," << elapsed << ",";
            if (evalNow) csv << heldOutLoss;
            csv << "\n";
            intervalLoss = 0;
            intervalSteps = 0;
            intervalStart = Clock::now();
        }
        if (c.checkpointEvery > 0 && !checkpointDir.empty() && step % c.checkpointEvery == 0 &&
            step < c.steps)
            saveCheckpoint(step, secondsBefore + secondsSince(trainStart));
    }
    result.steps = c.steps;
    result.trainSeconds = secondsBefore + secondsSince(trainStart);
    csv.close();
    std::filesystem::rename(c.outDir / "training_log.csv.tmp", c.outDir / "training_log.csv");

    // 5. Save, then evaluate the saved folder the way `frugal eval ppl` does.
    for (auto& t : all) t.set_requires_grad(false);
    net.save(c.outDir, model::parseDType(c.dtype, c.file.string() + ": output.dtype"));
    if (!c.evalText.empty()) {
        const eval::PerplexityResult ppl =
            eval::perplexityOfFile(c.outDir, c.evalText, {}, c.maxPositions, 8);
        result.evalPerplexity = ppl.perplexity;
        result.evalProtocol = ppl.protocol();
        metric("eval/perplexity", c.steps, ppl.perplexity);
        log(cat("held-out text ", c.evalText.string(), ": perplexity ", ppl.perplexity, " (",
                ppl.protocol(), ")"));
    }
    result.totalSeconds = secondsSince(start);

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
    return result;
}

}  // namespace frugal::pretrain
