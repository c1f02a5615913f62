// method = "pretrain": pre-training a LLaMA-architecture model from scratch (the recipe of the
// built-in model). The one definition of the pre-training config — reader, validation, schema —
// and the body, which saves the model into the run's artifact folder (or --out) and resumes from
// the run's checkpoint.

#include "pretrain/pretrain_method.h"

#include <toml++/toml.h>

#include "common/config_reader.h"
#include "common/error.h"
#include "common/files.h"
#include "pretrain/pretrain.h"

namespace frugal::pretrain {

using namespace frugal::config;

PretrainConfig PretrainConfig::fromToml(const std::filesystem::path& file,
                                        const std::vector<std::string>& overrides) {
    PretrainConfig c = fromTomlText(readFile(file, "pre-training config"), file.string(), overrides);
    c.file = file;
    return c;
}

namespace {

// Each table of the config, read in the schema's order.

void readOutput(const toml::table& root, const std::string& source, PretrainConfig& c) {
    const toml::table empty;
    const Section output(tableOr(root, "output", source, empty), "output", source, {"dir", "dtype"});
    output.path("dir", c.outDir);
    output.string("dtype", c.dtype);
    if (c.dtype != "F32" && c.dtype != "BF16" && c.dtype != "F16")
        fail(source, ": output.dtype is '", c.dtype, "', expected F32, BF16 or F16");
    if (c.outDir.empty()) fail(source, ": output.dir is missing (the folder to write the model to)");
}

void readTokenizer(const toml::table& root, const std::string& source, PretrainConfig& c) {
    const toml::table empty;
    const Section tok(tableOr(root, "tokenizer", source, empty), "tokenizer", source,
                      {"path", "vocab_size", "min_frequency"});
    tok.path("path", c.tokenizerPath);
    tok.integer("vocab_size", c.vocabSize, 258, 1 << 20);
    tok.integer("min_frequency", c.minFrequency, 1, 1 << 30);
}

void readModel(const toml::table& root, const std::string& source, PretrainConfig& c) {
    const toml::table empty;
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
}

void readData(const toml::table& root, const std::string& source, PretrainConfig& c) {
    const toml::table empty;
    const Section d(tableOr(root, "data", source, empty), "data", source, {"sources", "holdout_fraction", "eval_text"});
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
}

void readTrain(const toml::table& root, const std::string& source, PretrainConfig& c) {
    const toml::table empty;
    const Section t(tableOr(root, "train", source, empty), "train", source,
                    {"seed", "steps", "batch_size", "seq_len", "lr", "min_lr", "warmup_steps", "weight_decay", "beta1",
                     "beta2", "adam_eps", "grad_clip", "log_every", "eval_every", "eval_windows", "checkpoint_every"});
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
}

// What spans tables: the shapes against each other, the schedule's pieces.
void checkTogether(const std::string& source, const PretrainConfig& c) {
    if (c.checkpointEvery > 0 && c.checkpointEvery % c.logEvery != 0)
        fail(source, ": train.checkpoint_every (", c.checkpointEvery, ") must be a multiple of train.log_every (",
             c.logEvery, ")");
    if (c.seqLen > c.maxPositions)
        fail(source, ": train.seq_len (", c.seqLen, ") exceeds model.max_position_embeddings (", c.maxPositions, ")");
    if (c.hidden % c.heads != 0)
        fail(source, ": model.hidden_size (", c.hidden, ") is not a multiple of model.num_heads (", c.heads, ")");
    if (c.heads % c.kvHeads != 0)
        fail(source, ": model.num_heads (", c.heads, ") is not a multiple of model.num_kv_heads (", c.kvHeads, ")");
    if (c.minLr > c.lr) fail(source, ": train.min_lr (", c.minLr, ") exceeds train.lr (", c.lr, ")");
}

}  // namespace

PretrainConfig PretrainConfig::fromTomlText(const std::string& text, const std::string& source,
                                            const std::vector<std::string>& overrides) {
    const toml::table root = parseConfig(text, source, overrides);
    PretrainConfig c;
    c.text = text;
    c.resolvedText = tomlText(root);
    const Section top(root, "", source, {"method", "output", "tokenizer", "model", "data", "train"});
    if (const toml::node* m = top.find("method")) {
        if (!m->is_string() || *m->value<std::string>() != "pretrain")
            top.wrong("method", *m, "\"pretrain\" in a pre-training config");
    }
    readOutput(root, source, c);
    readTokenizer(root, source, c);
    readModel(root, source, c);
    readData(root, source, c);
    readTrain(root, source, c);
    checkTogether(source, c);
    return c;
}

PreparedRun preparePretrainMethod(const MethodRequest& request) {
    PretrainConfig config = PretrainConfig::fromTomlText(request.text, request.file.string(), request.overrides);
    config.file = request.file;
    PreparedRun p = preparedFrom("pretrain", toml::parse(config.resolvedText, request.file.string()),
                                 static_cast<int64_t>(config.seed));
    const std::filesystem::path outDir =
        !request.outDir.empty() ? request.outDir : request.configuredOutput ? config.outDir : "";
    p.body = [config, outDir, resume = request.resume](const RunContext& context) {
        EventSink& sink = context.sink;
        const StopToken& stop = context.stop;
        PretrainConfig c = config;
        c.outDir = outDir.empty() ? sink.artifactDir() / "model" : outDir;
        const PretrainResult r = pretrain(c, sink, stop, resume);
        sink.info(cat("pre-trained ", r.parameters, " parameters on ", r.tokensSeen, " tokens (", r.steps,
                      " steps) in ", static_cast<int64_t>(r.trainSeconds + 0.5), " s of training, ",
                      static_cast<int64_t>(r.totalSeconds + 0.5), " s in all; held-out loss ", r.heldOutLoss,
                      "; perplexity ", r.evalPerplexity, " on ", c.evalText.string()));
        sink.artifact("model", c.outDir / "model.safetensors");
        sink.artifact("tokenizer", c.outDir / "tokenizer.json");
        sink.artifact("summary", c.outDir / "training.json");
        sink.artifact("log", c.outDir / "training_log.csv");
    };
    return p;
}

}  // namespace frugal::pretrain
