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
#include "common/metric_keys.h"

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
    const Section output(tableOr(root, "output", source, empty), "output", source);
    output.path("dir", c.outDir, {"the folder the model, tokenizer, training.json and training_log.csv are written to"});
    output.string("dtype", c.dtype, {"the dtype the trained weights are saved in"});
    output.done();
    if (c.dtype != "F32" && c.dtype != "BF16" && c.dtype != "F16")
        failAt("output.dtype", source, ": output.dtype is '", c.dtype, "', expected F32, BF16 or F16");
}

void readTokenizer(const toml::table& root, const std::string& source, PretrainConfig& c) {
    const toml::table empty;
    const Section tok(tableOr(root, "tokenizer", source, empty), "tokenizer", source);
    tok.path("path", c.tokenizerPath, {"a tokenizer.json to use; empty: a byte-level BPE is trained on the sources"});
    tok.integer("vocab_size", c.vocabSize, 258, 1 << 20, {"the size of the byte-level BPE vocabulary trained on the sources"});
    tok.integer("min_frequency", c.minFrequency, 1, 1 << 30, {"how often a pair must occur in the corpus to become a merge"});
    tok.done();
}

void readModel(const toml::table& root, const std::string& source, PretrainConfig& c) {
    const toml::table empty;
    const Section m(tableOr(root, "model", source, empty), "model", source);
    m.integer("hidden_size", c.hidden, 8, 1 << 16, {"the width of the residual stream"});
    m.integer("num_layers", c.layers, 1, 1024, {"transformer blocks"});
    m.integer("num_heads", c.heads, 1, 1024, {"attention heads per block"});
    c.kvHeads = c.heads;
    m.integer("num_kv_heads", c.kvHeads, 1, 1024, {"key/value heads per block (fewer than num_heads: grouped-query attention)"});
    m.integer("intermediate_size", c.intermediate, 0, 1 << 20, {"the MLP's hidden width; 0: LLaMA's 8·hidden/3, rounded up to a multiple of 32"});
    m.integer("max_position_embeddings", c.maxPositions, 2, 1 << 20, {"the longest context the model is built for"});
    m.number("rope_theta", c.ropeTheta, 1.0, 1e9, {"the base of the rotary position embedding's frequencies"});
    m.boolean("tie_word_embeddings", c.tied, {"share the token embedding with the output head"});
    m.number("init_std", c.initStd, 1e-6, 1.0, {"the standard deviation of the initial weights"});
    m.done();
}

void readData(const toml::table& root, const std::string& source, PretrainConfig& c) {
    const toml::table empty;
    const Section d(tableOr(root, "data", source, empty), "data", source);
    d.number("holdout_fraction", c.holdoutFraction, 0.0, 0.5, {"the tail of each source kept out of training, for the held-out loss"});
    d.path("eval_text", c.evalText, {"a text whose perplexity the finished model is measured on"});
    d.done({"sources"});
    if (const toml::node* s = d.find("sources")) {
        if (!s->is_array_of_tables()) d.wrong("sources", *s, "an array of tables [[data.sources]]");
        size_t i = 0;
        for (const auto& node : *s->as_array()) {
            const std::string path = cat("data.sources[", i++, "]");
            const Section src(*node.as_table(), path, source);
            CorpusSource cs;
            src.string("name", cs.name, {"a corpus's name in the logs (default: its file name)"});
            src.path("path", cs.path, {"the corpus's text file"});
            src.number("weight", cs.weight, 0.0, 1e9, {"the corpus's share of the training windows (normalised over the sources)"});
            src.done();
            if (cs.path.empty()) failAt(path + ".path", source, ": ", path, ".path is missing");
            if (cs.name.empty()) cs.name = cs.path.stem().string();
            c.sources.push_back(cs);
        }
    }
}

void readTrain(const toml::table& root, const std::string& source, PretrainConfig& c) {
    const toml::table empty;
    const Section t(tableOr(root, "train", source, empty), "train", source);
    cpuOnlyDevice(t, source, "where the model is pre-trained: the CPU (the recipe has no GPU path)",
                  "pre-training builds, trains and checkpoints the built-in model as CPU tensors (core/pretrain has "
                  "no device path; fine-tune the result on a GPU)");
    int64_t seed = static_cast<int64_t>(c.seed);
    t.integer("seed", seed, 0, INT64_MAX, {"the seed of the initial weights and the training windows"});
    c.seed = static_cast<uint64_t>(seed);
    t.integer("steps", c.steps, 1, 1 << 30, {"AdamW steps"});
    t.integer("batch_size", c.batchSize, 1, 1 << 16, {"training windows per step"});
    c.seqLen = c.maxPositions;
    t.integer("seq_len", c.seqLen, 2, 1 << 20, {"tokens per training window"});
    t.number("lr", c.lr, 0.0, 10.0, {"AdamW's peak learning rate, reached after warm-up, then cosine-decayed to min_lr"});
    t.number("min_lr", c.minLr, 0.0, 10.0, {"the learning rate the cosine decay ends at"});
    t.integer("warmup_steps", c.warmupSteps, 0, 1 << 30, {"steps of linear warm-up to the peak learning rate"});
    t.number("weight_decay", c.weightDecay, 0.0, 10.0, {"AdamW's decoupled weight decay"});
    t.number("beta1", c.beta1, 0.0, 0.999999, {"AdamW's first-moment decay β1"});
    t.number("beta2", c.beta2, 0.0, 0.999999, {"AdamW's second-moment decay β2"});
    t.number("adam_eps", c.adamEps, 1e-12, 1.0, {"AdamW's ε in the denominator"});
    t.number("grad_clip", c.gradClip, 0.0, 1e9, {"the global gradient norm is clipped to this; 0: no clipping"});
    t.integer("log_every", c.logEvery, 1, 1 << 30, {"steps between logged training losses"});
    t.integer("eval_every", c.evalEvery, 1, 1 << 30, {"steps between held-out loss evaluations"});
    t.integer("eval_windows", c.evalWindows, 1, 1 << 20, {"held-out windows per source scored at each evaluation"});
    t.integer("checkpoint_every", c.checkpointEvery, 0, 1 << 30, {"steps between checkpoints that --resume continues from; 0: none"});
    t.done();
}

// What spans tables, checked once every key is read (so that the schema holds every key, and
// the command line's flags, whatever the config lacks): what must be given, the shapes against
// each other, the schedule's pieces.
void checkTogether(const std::string& source, const PretrainConfig& c) {
    if (c.outDir.empty()) failAt("output.dir", source, ": output.dir is missing (the folder to write the model to)");
    if (c.sources.empty()) failAt("data.sources", source, ": data.sources is empty; give at least one [[data.sources]]");
    double weights = 0;
    for (const auto& s : c.sources) weights += s.weight;
    if (!(weights > 0)) failAt("data.sources", source, ": the data.sources weights sum to 0");
    if (c.checkpointEvery > 0 && c.checkpointEvery % c.logEvery != 0)
        failAt("train.checkpoint_every", source, ": train.checkpoint_every (", c.checkpointEvery, ") must be a multiple of train.log_every (",
             c.logEvery, ")");
    if (c.seqLen > c.maxPositions)
        failAt("train.seq_len", source, ": train.seq_len (", c.seqLen, ") exceeds model.max_position_embeddings (", c.maxPositions, ")");
    if (c.hidden % c.heads != 0)
        failAt("model.hidden_size", source, ": model.hidden_size (", c.hidden, ") is not a multiple of model.num_heads (", c.heads, ")");
    if (c.heads % c.kvHeads != 0)
        failAt("model.num_heads", source, ": model.num_heads (", c.heads, ") is not a multiple of model.num_kv_heads (", c.kvHeads, ")");
    if (c.minLr > c.lr) failAt("train.min_lr", source, ": train.min_lr (", c.minLr, ") exceeds train.lr (", c.lr, ")");
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

// Pre-training: the loss and each source's held-out loss, perplexity, the learning rate, tokens a
// second, memory.
MethodView pretrainView() {
    MethodView v;
    PanelView loss = lossPanel();
    loss.match.prefixes = {"held_out/"};
    PanelView lr{"Learning rate", "lr", {{{metrics::kTrainLr, 0}}}};
    PanelView speed{"Throughput", "tokens / s", {{{metrics::kTokensPerSecond, 0}}}};
    v.panels = {loss, evaluationPanel(), lr, speed, memoryPanel()};
    v.result = {{"ppl ", metrics::kEvalPerplexity, true}, {"held-out loss ", metrics::kHeldOutMean, true, true}};
    v.presets = {{"Pre-train the built-in model", "pretrain-tiny.toml", 22}};
    return v;
}

}  // namespace frugal::pretrain
