#include "run/tools.h"

#include <chrono>

#include "common/error.h"
#include "common/files.h"
#include "data/builtin.h"
#include "model/bpe_trainer.h"
#include "model/forward_bench.h"
#include "model/gguf.h"
#include "model/model_config.h"
#include "model/model_info.h"
#include "model/model_init.h"
#include "model/tokenizer.h"
#include "peft/peft_options.h"
#include "peft/tt_bench.h"
#include "zo/zo_bench.h"

namespace frugal::run {

Json inspectModel(const std::string& model) {
    const model::ModelSummary s = model::inspectModel(data::requireModel(model, "inspect"));
    Json j = {{"model_type", s.modelType},
              {"family", s.family},
              {"layers", s.layers},
              {"hidden_size", s.hidden},
              {"heads", s.heads},
              {"kv_heads", s.kvHeads},
              {"vocab_size", s.vocab},
              {"intermediate_size", s.intermediate},
              {"tied_embeddings", s.tiedEmbeddings},
              {"parameters", s.parameterCount},
              {"weight_bytes", s.weightBytes},
              {"parameters_by_dtype", s.parametersByDtype},
              {"files", s.files},
              {"tensors_checked", s.tensorsChecked},
              {"tensors_ignored", s.tensorsIgnored}};
    Json tensors = Json::array();
    for (const auto& t : s.tensors)
        tensors.push_back({{"name", t.name}, {"dtype", t.dtype}, {"shape", t.shape}, {"file", t.file}});
    j["tensors"] = tensors;
    return j;
}

std::vector<std::vector<float>> lastPositionLogits(const std::string& model,
                                                   const std::vector<std::vector<int64_t>>& sequences,
                                                   const std::string& device) {
    return model::lastPositionLogits(data::requireModel(model, "inspect"), sequences, device);
}

Json inspectGguf(const std::string& file) {
    const auto gguf = model::gguf::GgufFile::open(file);
    const auto& h = gguf->header();
    Json metadata = Json::object();
    for (const auto& key : h.keys) metadata[key] = h.metadata.at(key).text();
    Json tensors = Json::array();
    std::map<std::string, int64_t> byType;
    int64_t parameters = 0;
    for (const auto& t : h.tensors) {
        tensors.push_back({{"name", t.name}, {"type", model::gguf::typeName(t.type)}, {"shape", t.shape()},
                           {"bytes", t.bytes}, {"offset", t.offset}});
        ++byType[model::gguf::typeName(t.type)];
        parameters += t.numel();
    }
    return {{"file", file}, {"version", h.version}, {"alignment", h.alignment},
            {"data_offset", h.dataOffset}, {"metadata", metadata}, {"tensors", tensors},
            {"tensors_by_type", byType}, {"parameters", parameters}};
}

Json convertGguf(const std::string& file, const std::string& out, const std::string& dtype) {
    model::gguf::ConvertOptions options;
    if (dtype == "fp32") {
        options.dtype = model::DType::F32;
    } else if (dtype == "bf16") {
        options.dtype = model::DType::BF16;
    } else {
        fail("--dtype is '", dtype, "', expected fp32 or bf16");
    }
    const auto start = std::chrono::steady_clock::now();
    const model::gguf::ConvertResult r = model::gguf::convert(file, out, options);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return {{"file", file}, {"out", out}, {"dtype", dtype}, {"architecture", r.architecture},
            {"tensors", r.tensors}, {"parameters", r.parameters}, {"tensors_by_type", r.tensorsByType},
            {"vocabulary", r.vocabulary}, {"seconds", seconds}};
}

std::vector<int32_t> tokenize(const std::string& tokenizerPath, const std::string& text, bool special) {
    requireUtf8(text, "tokenize: the text");  // before the tokenizer loads
    return model::Tokenizer::load(tokenizerPath).encode(text, special);
}

std::vector<std::vector<int32_t>> tokenizeMany(const std::string& tokenizerPath,
                                               const std::vector<std::string>& texts, bool special) {
    for (size_t k = 0; k < texts.size(); ++k) requireUtf8(texts[k], cat("tokenize: text ", k + 1));
    const model::Tokenizer tokenizer = model::Tokenizer::load(tokenizerPath);
    std::vector<std::vector<int32_t>> out;
    out.reserve(texts.size());
    for (const auto& text : texts) out.push_back(tokenizer.encode(text, special));
    return out;
}

Json benchForward(const Json& options) {
    model::ForwardBenchOptions o;
    o.modelDir = data::resolveModel(options.at("model").get<std::string>());
    o.batch = options.at("batch").get<int64_t>();
    o.seq = options.at("seq").get<int64_t>();
    o.iters = options.at("iters").get<int>();
    o.seed = options.at("seed").get<uint64_t>();
    o.device = options.at("device").get<std::string>();
    const model::ForwardBenchResult r = model::benchForward(o);
    return {{"tokens_per_s", r.tokensPerSecond},
            {"peak_rss_mib", r.peakRssMiB},
            {"load_peak_mib", r.loadPeakMiB},
            {"load_seconds", r.loadSeconds},
            {"weight_mib", r.weightMiB},
            {"batch", r.batch},
            {"seq", r.seq},
            {"iters", r.iters},
            {"threads", r.threads},
            {"intra_op_threads", r.intraOpThreads},
            {"seconds", r.seconds},
            {"blas", r.blas},
            {"device", r.device},
            {"impl", "frugal"}};
}

Json benchZo(const Json& options) {
    zo::ZoBenchOptions o;
    if (options.contains("model_config")) o.modelConfig = options.at("model_config").get<std::string>();
    else o.modelDir = data::resolveModel(options.at("model").get<std::string>());
    o.dtype = options.value("dtype", o.dtype);
    o.force = options.value("force", false);
    o.batch = options.value("batch", o.batch);
    o.seq = options.value("seq", o.seq);
    o.steps = options.value("steps", o.steps);
    o.method = options.value("method", o.method);
    o.direction = options.value("direction", o.direction);
    o.target = options.value("target", o.target);
    o.seed = options.value("seed", o.seed);
    o.device = options.value("device", o.device);
    const zo::ZoBenchResult r = zo::benchZo(o);
    return {{"method", r.method},         {"direction", r.direction},
            {"target", r.target},         {"batch", r.batch},
            {"seq", r.seq},               {"steps", r.steps},
            {"parameters", r.parameters}, {"trainable", r.trainable},
            {"step_ms", r.stepMs},        {"forward_ms", r.forwardMs},
            {"passes_ms", r.passesMs},
            {"three_pass_step_ms", r.threePassStepMs}, {"three_pass_passes_ms", r.threePassPassesMs},
            {"three_pass_step_over_forward", r.threePassStepOverForward},
            {"dtype", r.dtype}, {"estimate_mb", r.estimateMb}, {"estimate", r.estimate},
            {"step_over_forward", r.stepOverForward},
            {"peak_rss_mb", r.peakRssMb}, {"baseline_rss_mb", r.baselineRssMb},
            {"final_loss", r.finalLoss},  {"blas", r.blas},
            {"blas_threads", r.blasThreads}, {"intra_op_threads", r.intraOpThreads},
            {"device", r.device}, {"gpu", r.gpu}, {"gpu_peak_mb", r.gpuPeakMb},
            {"gpu_estimate_mb", r.gpuEstimateMb}, {"weights_mb", r.weightsMb},
            {"impl", "frugal"}};
}

Json benchTt(int iters) {
    // LLaMA-2-7B's adapter matrices (4096 <-> 64, rank 5), its loretta_rep update (4096 -> 8,
    // rank 8), OPT-1.3B's (2048 -> 64), the built-in model's (256 <-> 64) and a tensorised head
    const std::vector<std::vector<int64_t>> shapes = {
        {4096, 64, 5}, {64, 4096, 5}, {4096, 8, 8}, {2048, 64, 5}, {256, 64, 5}, {64, 256, 5}, {768, 768, 5}};
    Json out = Json::array();
    for (const auto& c : peft::benchTt(shapes, {1, 64, 1024, 8192}, iters))
        out.push_back({{"in", c.in}, {"out", c.out}, {"rank", c.rank}, {"rows", c.rows},
                       {"modes", c.modes}, {"dense_ms", c.denseMs}, {"contract_ms", c.contractMs},
                       {"dense_madds", c.denseCost}, {"contract_madds", c.contractCost},
                       {"auto", c.chosen}, {"faster", c.faster}});
    return out;
}

Json countParams(const Json& options) {
    const std::filesystem::path configFile =
        options.contains("model") ? data::resolveModel(options.at("model").get<std::string>()) / "config.json"
                                  : std::filesystem::path(options.at("model_config").get<std::string>());
    const model::ModelConfig config = model::ModelConfig::fromFile(configFile);
    peft::PeftOptions o;
    o.target = peft::parseTarget(options.value("peft", std::string("full")));
    const bool tt = o.target == peft::Target::LorettaAdp || o.target == peft::Target::LorettaRep;
    if (tt) o.ttRank = options.value("rank", o.ttRank);
    else o.loraRank = options.value("rank", o.loraRank);
    if (o.target == peft::Target::LorettaAdp) o.ttBottleneck = options.value("bottleneck", o.ttBottleneck);
    if (o.target == peft::Target::LorettaRep) o.loraRank = options.value("bottleneck", o.loraRank);
    o.loraAlpha = options.value("alpha", o.loraAlpha);
    if (options.contains("modules")) o.loraModules = options.at("modules").get<std::vector<std::string>>();
    o.prefixTokens = options.value("prefix_tokens", o.prefixTokens);
    o.promptTokens = options.value("prompt_tokens", o.promptTokens);
    o.trainNorms = options.value("train_norms", false);
    o.ttHead = options.value("tt_head", false);
    if ((o.trainNorms || o.ttHead) && !peft::isAdapter(o.target))
        fail("--train-norms and --tt-head go with adapter targets (lora, prefix, prompt, "
             "loretta_adp, loretta_rep)");
    const peft::TrainableCount c = peft::countTrainable(config, o);
    Json parts = Json::object();
    for (const auto& [name, n] : c.parts) parts[name] = n;
    Json order = Json::array();  // the parts in the count's own order, for the text form
    for (const auto& [name, n] : c.parts) order.push_back(name);
    return {{"model_config", configFile.string()}, {"target", peft::targetName(o.target)},
            {"detail", c.detail}, {"trainable", c.trainable}, {"total", c.total},
            {"parts", parts}, {"part_order", order}, {"norm_elements", c.normElements},
            {"model_type", config.modelType}, {"layers", config.numLayers},
            {"hidden", config.hiddenSize}, {"adapter", peft::isAdapter(o.target)},
            {"train_norms", o.trainNorms}};
}

int64_t writeRandomModel(const Json& options, const std::string& dir) {
    model::RandomModelOptions o;
    o.modelType = options.value("type", o.modelType);
    o.layers = options.value("layers", o.layers);
    o.hidden = options.value("hidden", o.hidden);
    o.heads = options.value("heads", o.heads);
    o.kvHeads = options.value("kv_heads", int64_t{0});
    o.vocab = options.value("vocab", o.vocab);
    o.intermediate = options.value("intermediate", int64_t{0});
    o.maxPositions = options.value("max_positions", o.maxPositions);
    o.tied = options.value("tied", false);
    o.seed = options.value("seed", uint64_t{0});
    o.dtype = options.value("dtype", std::string("F32"));
    o.stddev = options.value("std", o.stddev);
    o.like = options.value("like", std::string());
    if (options.contains("shard_mib")) o.maxShardBytes = options.at("shard_mib").get<uint64_t>() << 20;
    return model::writeRandomModel(o, dir);
}

Json trainTokenizer(const std::vector<std::string>& files, const Json& options, const std::string& out) {
    model::BpeTrainerOptions o;
    o.vocabSize = options.value("vocab", o.vocabSize);
    o.minFrequency = options.value("min_frequency", o.minFrequency);
    const model::BpeTrainingResult r = model::trainByteLevelBpeOnFiles(files, o, out);
    return {{"vocab_size", r.vocabSize}, {"merges", r.merges}, {"words", r.words}, {"unique_words", r.uniqueWords}};
}

}  // namespace frugal::run
