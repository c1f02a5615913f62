#include "train/pretrain.h"

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

#include "common/error.h"
#include "common/files.h"
#include "common/runtime_info.h"
#include "data/corpus.h"
#include "eval/perplexity.h"
#include "model/bpe_trainer.h"
#include "model/model_config.h"
#include "model/safetensors.h"
#include "model/tokenizer.h"
#include "model/transformer.h"
#include "run/runner.h"
#include "run/toml_config.h"

namespace frugal::train {

namespace {

using namespace frugal::config;
using Clock = std::chrono::steady_clock;

double secondsSince(Clock::time_point start) {
    return std::chrono::duration<double>(Clock::now() - start).count();
}



}  // namespace

PretrainConfig PretrainConfig::fromToml(const std::filesystem::path& file,
                                        const std::vector<std::string>& overrides) {
    PretrainConfig c = fromTomlText(readFile(file, "pre-training config"), file.string(), overrides);
    c.file = file;
    return c;
}

PretrainConfig PretrainConfig::fromTomlText(const std::string& text, const std::string& source,
                                            const std::vector<std::string>& overrides) {
    const toml::table root = parseConfig(text, source, overrides);
    PretrainConfig c;
    c.text = text;
    c.resolvedText = tomlText(root);
    const toml::table empty;
    const Section top(root, "", source, {"method", "output", "tokenizer", "model", "data", "train"});
    if (const toml::node* m = top.find("method")) {
        if (!m->is_string() || *m->value<std::string>() != "pretrain")
            top.wrong("method", *m, "\"pretrain\" in a pre-training config");
    }

    const Section output(tableOr(root, "output", source, empty), "output", source,
                         {"dir", "dtype"});
    output.path("dir", c.outDir);
    output.string("dtype", c.dtype);
    if (c.dtype != "F32" && c.dtype != "BF16" && c.dtype != "F16")
        fail(source, ": output.dtype is '", c.dtype, "', expected F32, BF16 or F16");
    if (c.outDir.empty()) fail(source, ": output.dir is missing (the folder to write the model to)");

    const Section tok(tableOr(root, "tokenizer", source, empty), "tokenizer", source,
                      {"path", "vocab_size", "min_frequency"});
    tok.path("path", c.tokenizerPath);
    tok.integer("vocab_size", c.vocabSize, 258, 1 << 20);
    tok.integer("min_frequency", c.minFrequency, 1, 1 << 30);

    const Section m(tableOr(root, "model", source, empty), "model", source,
                    {"hidden_size", "num_layers", "num_heads", "num_kv_heads", "intermediate_size",
                     "max_position_embeddings", "rope_theta", "tie_word_embeddings", "init_std"});
    m.integer("hidden_size", c.hidden, 8, 1 << 16);
    m.integer("num_layers", c.layers, 1, 1024);
    m.integer("num_heads", c.heads, 1, 1024);
    c.kvHeads = c.heads;
    m.integer("num_kv_heads", c.kvHeads, 1, 1024);
    m.integer("intermediate_size", c.intermediate, 0, 1 << 20);
    m.integer("max_position_embeddings", c.maxPositions, 2, 1 << 20);
    m.number("rope_theta", c.ropeTheta, 1.0, 1e9);
    m.boolean("tie_word_embeddings", c.tied);
    m.number("init_std", c.initStd, 1e-6, 1.0);

    const toml::table& dataTable = tableOr(root, "data", source, empty);
    const Section d(dataTable, "data", source, {"sources", "holdout_fraction", "eval_text"});
    d.number("holdout_fraction", c.holdoutFraction, 0.0, 0.5);
    d.path("eval_text", c.evalText);
    if (const toml::node* s = d.find("sources")) {
        if (!s->is_array_of_tables()) d.wrong("sources", *s, "an array of tables [[data.sources]]");
        size_t i = 0;
        for (const auto& node : *s->as_array()) {
            const std::string path = cat("data.sources[", i++, "]");
            const Section src(*node.as_table(), path, source, {"name", "path", "weight"});
            CorpusSource cs;
            src.string("name", cs.name);
            src.path("path", cs.path);
            src.number("weight", cs.weight, 0.0, 1e9);
            if (cs.path.empty()) fail(source, ": ", path, ".path is missing");
            if (cs.name.empty()) cs.name = cs.path.stem().string();
            c.sources.push_back(cs);
        }
    }
    if (c.sources.empty()) fail(source, ": data.sources is empty; give at least one [[data.sources]]");
    double weights = 0;
    for (const auto& s : c.sources) weights += s.weight;
    if (!(weights > 0)) fail(source, ": the data.sources weights sum to 0");

    const Section t(tableOr(root, "train", source, empty), "train", source,
                    {"seed", "steps", "batch_size", "seq_len", "lr", "min_lr", "warmup_steps",
                     "weight_decay", "beta1", "beta2", "adam_eps", "grad_clip", "log_every",
                     "eval_every", "eval_windows", "checkpoint_every"});
    int64_t seed = static_cast<int64_t>(c.seed);
    t.integer("seed", seed, 0, INT64_MAX);
    c.seed = static_cast<uint64_t>(seed);
    t.integer("steps", c.steps, 1, 1 << 30);
    t.integer("batch_size", c.batchSize, 1, 1 << 16);
    c.seqLen = c.maxPositions;
    t.integer("seq_len", c.seqLen, 2, 1 << 20);
    t.number("lr", c.lr, 0.0, 10.0);
    t.number("min_lr", c.minLr, 0.0, 10.0);
    t.integer("warmup_steps", c.warmupSteps, 0, 1 << 30);
    t.number("weight_decay", c.weightDecay, 0.0, 10.0);
    t.number("beta1", c.beta1, 0.0, 0.999999);
    t.number("beta2", c.beta2, 0.0, 0.999999);
    t.number("adam_eps", c.adamEps, 1e-12, 1.0);
    t.number("grad_clip", c.gradClip, 0.0, 1e9);
    t.integer("log_every", c.logEvery, 1, 1 << 30);
    t.integer("eval_every", c.evalEvery, 1, 1 << 30);
    t.integer("eval_windows", c.evalWindows, 1, 1 << 20);
    t.integer("checkpoint_every", c.checkpointEvery, 0, 1 << 30);
    if (c.checkpointEvery > 0 && c.checkpointEvery % c.logEvery != 0)
        fail(source, ": train.checkpoint_every (", c.checkpointEvery,
             ") must be a multiple of train.log_every (", c.logEvery, ")");
    if (c.seqLen > c.maxPositions)
        fail(source, ": train.seq_len (", c.seqLen, ") exceeds model.max_position_embeddings (",
             c.maxPositions, ")");
    if (c.hidden % c.heads != 0)
        fail(source, ": model.hidden_size (", c.hidden, ") is not a multiple of model.num_heads (",
             c.heads, ")");
    if (c.heads % c.kvHeads != 0)
        fail(source, ": model.num_heads (", c.heads, ") is not a multiple of model.num_kv_heads (",
             c.kvHeads, ")");
    if (c.minLr > c.lr) fail(source, ": train.min_lr (", c.minLr, ") exceeds train.lr (", c.lr, ")");
    return c;
}

PretrainResult pretrain(const PretrainConfig& c,
                        const std::function<void(const std::string&)>& log) {
    PretrainHooks hooks;
    hooks.log = log;
    return pretrain(c, hooks);
}

PretrainResult pretrain(const PretrainConfig& c, const PretrainHooks& hooks) {
    const auto log = [&](const std::string& line) {
        if (hooks.log) hooks.log(line);
    };
    const auto metric = [&](const std::string& key, int64_t step, double value) {
        if (hooks.metric) hooks.metric(key, step, value);
    };
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
    const auto pointer = hooks.checkpointDir / "latest";
    if (hooks.resume) {
        std::string latestName;
        if (std::filesystem::exists(pointer)) latestName = readFile(pointer, "checkpoint pointer");
        const auto latest = hooks.checkpointDir / latestName;
        if (latestName.empty() || !std::filesystem::exists(latest / "state.json"))
            fail("resume: no checkpoint in ", hooks.checkpointDir.string(),
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
        if (hooks.beforeCheckpoint) hooks.beforeCheckpoint();
        csv.flush();
        const std::string name = cat("step-", step);
        const auto tmp = hooks.checkpointDir / name;
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
        for (const auto& entry : std::filesystem::directory_iterator(hooks.checkpointDir))
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
        if (hooks.stopRequested && hooks.stopRequested())
            throw run::Cancelled(cat("pre-training stopped before step ", step, " of ", c.steps,
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
        if (hooks.progress) hooks.progress(step, c.steps, lossValue);
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
        if (c.checkpointEvery > 0 && !hooks.checkpointDir.empty() && step % c.checkpointEvery == 0 &&
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

}  // namespace frugal::train
