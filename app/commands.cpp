#include "commands.h"

#include "cli_args.h"

#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <optional>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "common/error.h"
#include "common/files.h"
#include "common/format.h"
#include "data/builtin.h"
#include "data/task.h"
#include "eval/candidate_scoring.h"
#include "eval/perplexity.h"
#include "model/forward_bench.h"
#include "model/model_info.h"
#include "model/model_init.h"
#include "model/bpe_trainer.h"
#include "model/tokenizer.h"
#include "peft/peft_options.h"
#include "peft/tt_bench.h"
#include "run/runner.h"
#include "store/store_bench.h"
#include "zo/zo_bench.h"
#include "train/pretrain.h"

namespace frugal::app {
namespace {

using json = nlohmann::json;

std::vector<int64_t> parseIdList(const std::string& text) {
    std::vector<int64_t> ids;
    std::stringstream in(text);
    std::string item;
    while (std::getline(in, item, ',')) {
        try {
            size_t used = 0;
            ids.push_back(std::stoll(item, &used));
            if (used != item.size()) throw std::invalid_argument("trailing");
        } catch (const std::exception&) {
            fail("--logits expects comma-separated token ids such as 1,5,7,9; got '", item, "'");
        }
    }
    return ids;
}

std::string builtinTaskNames() {
    std::string names;
    for (const auto& t : data::builtinTasks()) names += (names.empty() ? "" : ", ") + t.name;
    return names;
}

// Shortest decimal form that reads back as the same float.
std::string floatText(float v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.9g", static_cast<double>(v));
    return buf;
}

}  // namespace

void printUsage() {
    std::cerr
        << "usage: frugal [--threads N] [--intra-op-threads M] [--quiet] [COMMAND ...]\n"
           "  (no command)            the workbench (gui); with no display, the default experiment\n"
           "                          headless, its figures in ./frugal-plots/\n"
           "  --threads N             OpenBLAS threads for matrix products (default: one per "
           "core)\n"
           "  --intra-op-threads M    LibTorch OpenMP threads for other ops (default 1)\n"
           "\n"
           "  inspect MODEL_DIR [--json]           family, parameter count, dtypes, tensors\n"
           "  inspect MODEL_DIR --logits 1,5,7,9 [--device cpu|cuda]\n"
           "                                       logits at the last position, as one JSON array\n"
           "  tokenize --tokenizer PATH \"text\"     token ids as one JSON array (--no-special: no "
           "BOS)\n"
           "  eval ppl [--model DIR] --text FILE --seq-len N [--tokenizer PATH] [--batch B] "
           "[--json]\n"
           "                                       perplexity over non-overlapping windows of N "
           "tokens\n"
           "  eval task [--model DIR] --task NAME[:SPLIT]|FILE [--template T --labels A,B] "
           "[--limit K] [--json]\n"
           "            [--shots K [--shots-from FILE|NAME:train] [--seed S]]\n"
           "                                       accuracy (zero-shot, or K demonstrations); "
           "built-in tasks sentiment, spam\n"
           "                                       (test split unless :train or :dev); model "
           "default frugal-tiny\n"
           "  bench forward --model DIR [--batch B] [--seq T] [--iters K] [--device D] [--json]\n"
           "                                       forward throughput (tokens/s) and peak RSS\n"
           "  bench zo --model DIR [--method mezo|zo-adam|adam|sgd|forward] [--batch B] [--seq T]\n"
           "           [--steps N] [--direction gaussian|rademacher|sphere] [--target full] [--json]\n"
           "                                       one fine-tuning step against one forward (ms, peak RSS)\n"
           "  bench tt [--iters K] [--json]        tensor-train forwards: rebuild-then-multiply against\n"
           "                                       contracting, beside the cost model's choice\n"
           "  bench store [--points N] [--runs R] [--db FILE] [--json]\n"
           "                                       experiment-database insert, read and list "
           "speed\n"
           "  params --model-config CONFIG.json|--model DIR [--peft TARGET] [--rank R] [--bottleneck B]\n"
           "         [--modules q,v] [--train-norms] [--tt-head] [--json]   or   params --config RUN.toml\n"
           "                                       trainable parameters of a target, from config.json alone\n"
           "                                       (full, bitfit, norms, head, lora, prefix, prompt,\n"
           "                                       loretta_adp, loretta_rep; --rank: TT rank for loretta)\n"
           "  init-model DIR [--type llama|mistral|opt|gpt2] [--layers L] [--hidden H] [--heads "
           "N]\n"
           "             [--kv-heads N] [--vocab V] [--intermediate I] [--max-positions P] "
           "[--tied]\n"
           "             [--seed S] [--dtype F32|F16|BF16] [--shard-mib M]\n"
           "                                       writes a random checkpoint in Hugging Face "
           "layout\n"
           "  pretrain CONFIG.toml [--out DIR] [--steps N]\n"
           "                                       trains a LLaMA-architecture model from scratch "
           "(AdamW)\n"
           "                                       and its byte-level BPE; see "
           "experiments/pretrain-tiny.toml\n"
           "  train-tokenizer --out tokenizer.json [--vocab V] [--min-frequency F] FILE...\n"
           "                                       trains a byte-level BPE on text files\n" "\n"
           "runs (stored in --db FILE, default $XDG_DATA_HOME/frugal/runs.db):\n"
           "  prune --model DIR --method wanda|wandapp|magnitude|sparsegpt|masks --sparsity 0.5|2:4|4:8\n"
           "        [--calib FILE] [--out DIR] [--masks FILE] [--eval-text FILE] [KEY=VALUE ...]\n"
           "                                       post-training pruning as a stored run (method prune)\n"
           "  gui [--db FILE] [--plots DIR] [--config C]  the desktop workbench (runs, new experiment, live\n"
           "                                       run, compare, export)\n"
           "  screenshots [--out docs/img]         short runs, then every view rendered offscreen\n"
           "  plot RUN... --out FILE.png|svg|pdf|csv [--metric dev/loss] [--x passes|step|wall] [--log-x]\n"
           "       [--log-y] [--each-run] [--title T] [--width-mm W --height-mm H --dpi D]\n"
           "                                       one figure of stored runs (runs of one name: their mean)\n"
           "  run CONFIG.toml [KEY=VALUE ...] [--name N] [--experiment E] [--tag T] [--parent RUN] [--print-config]\n"
           "                                       runs the config's method (pretrain, eval, zo, mezo, fo)\n"
           "  run -m CONFIG.toml KEY=V1,V2 ... [--jobs N]   a sweep over the grid\n"
           "  run --resume RUN                     continues from the run's last checkpoint\n"
           "  list [--status S] [--filter 'method=mezo and lr<1e-3'] [--json]\n"
           "  show RUN | compare RUN RUN... | export RUN... --csv DIR|--json DIR\n"
           "  replay RUN --out DIR [--step N]     rebuilds a ZO run's weights (after step N) from its trajectory\n"
           "  rm RUN... | merge OTHER.db\n";
}

int inspectCommand(const Args& args) {
    const Parsed p = parse(args, {"logits", "device"}, {"json"});
    if (p.positional.size() != 1) fail("inspect needs exactly one MODEL_DIR");
    const std::filesystem::path dir = data::resolveModel(p.positional[0]);
    if (p.has("logits")) {
        const std::vector<float> logits = model::lastPositionLogits(
            dir, parseIdList(p.get("logits", "")), p.get("device", "cpu"));
        std::string out = "[";
        for (size_t i = 0; i < logits.size(); ++i) {
            if (!std::isfinite(logits[i]))
                fail("logit ", i, " is ", logits[i],
                     "; the model's weights or inputs give non-finite values");
            out += (i ? ", " : "") + floatText(logits[i]);
        }
        std::cout << out << "]\n";
        return 0;
    }
    const model::ModelSummary s = model::inspectModel(dir);
    if (p.has("json")) {
        json j = {{"model_type", s.modelType},
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
                  {"files", s.files}};
        json tensors = json::array();
        for (const auto& t : s.tensors)
            tensors.push_back(
                {{"name", t.name}, {"dtype", t.dtype}, {"shape", t.shape}, {"file", t.file}});
        j["tensors"] = tensors;
        std::cout << j.dump(2) << "\n";
        return 0;
    }
    std::cout << "model_type    " << s.modelType << " (family " << s.family << ")\n"
              << "layers        " << s.layers << "\n"
              << "hidden        " << s.hidden << ", MLP " << s.intermediate << "\n"
              << "heads         " << s.heads << " query, " << s.kvHeads << " key/value\n"
              << "vocabulary    " << s.vocab << (s.tiedEmbeddings ? ", tied head" : ", own head")
              << "\n"
              << "parameters    " << s.parameterCount << " (";
    bool first = true;
    for (const auto& [dtype, count] : s.parametersByDtype) {
        std::cout << (first ? "" : ", ") << dtype << " " << count;
        first = false;
    }
    std::cout << ")\n"
              << "weights       " << s.weightBytes << " bytes in " << s.files.size()
              << " file(s)\n\n";
    for (const auto& t : s.tensors)
        std::cout << "  " << t.name << "  " << t.dtype << " " << shapeText(t.shape) << "  "
                  << t.file << "\n";
    return 0;
}

int tokenizeCommand(const Args& args) {
    const Parsed p = parse(args, {"tokenizer"}, {"no-special"});
    if (!p.has("tokenizer")) fail("tokenize needs --tokenizer PATH");
    if (p.positional.size() != 1) fail("tokenize needs exactly one text argument");
    const model::Tokenizer tokenizer = model::Tokenizer::load(p.get("tokenizer", ""));
    const std::vector<int32_t> ids = tokenizer.encode(p.positional[0], !p.has("no-special"));
    std::cout << json(ids).dump() << "\n";
    return 0;
}

int benchStoreCommand(const Args& args) {
    const Parsed p = parse(args, {"db", "points", "runs"}, {"json"});
    store::StoreBenchOptions o;
    const std::filesystem::path temp =
        std::filesystem::temp_directory_path() / cat("frugal-bench-store-", ::getpid(), ".db");
    o.file = p.get("db", temp.string());
    o.points = p.getInt("points", o.points);
    o.runs = p.getInt("runs", o.runs);
    if (o.points < 1 || o.runs < 1) fail("--points and --runs expect positive counts");
    const store::StoreBenchResult r = store::benchStore(o);
    if (!p.has("db")) {
        for (const char* suffix : {"", "-wal", "-shm"})
            std::filesystem::remove(o.file.string() + suffix);
    }
    if (p.has("json")) {
        json j = {{"points", r.points},
                  {"insert_seconds", r.insertSeconds},
                  {"points_per_second", r.pointsPerSecond},
                  {"read_seconds", r.readSeconds},
                  {"runs", r.runs},
                  {"create_runs_seconds", r.createRunsSeconds},
                  {"list_seconds", r.listSeconds},
                  {"latest_seconds", r.latestSeconds},
                  {"file_bytes", r.fileBytes}};
        std::cout << j.dump() << "\n";
    } else {
        std::printf("insert   %lld points in %.3f s: %.0f points/s (batched writer, committed)\n",
                    static_cast<long long>(r.points), r.insertSeconds, r.pointsPerSecond);
        std::printf("read     %lld-point series in %.1f ms\n", static_cast<long long>(r.points),
                    r.readSeconds * 1e3);
        std::printf("list     %lld runs in %.1f ms (latest metrics of all: %.1f ms; created in "
                    "%.2f s)\n",
                    static_cast<long long>(r.runs), r.listSeconds * 1e3, r.latestSeconds * 1e3,
                    r.createRunsSeconds);
        std::printf("file     %.1f MiB\n", static_cast<double>(r.fileBytes) / (1 << 20));
    }
    return 0;
}

int benchZoCommand(const Args& args) {
    const Parsed p = parse(args, {"model", "batch", "seq", "steps", "method", "direction", "target", "seed"},
                           {"json"});
    if (!p.has("model")) fail("bench zo needs --model DIR");
    zo::ZoBenchOptions o;
    o.modelDir = data::resolveModel(p.get("model", data::kBuiltinModel));
    o.batch = p.getInt("batch", o.batch);
    o.seq = p.getInt("seq", o.seq);
    o.steps = p.getInt("steps", o.steps);
    o.method = p.get("method", o.method);
    o.direction = p.get("direction", o.direction);
    o.target = p.get("target", o.target);
    o.seed = static_cast<uint64_t>(p.getInt("seed", 0));
    const zo::ZoBenchResult r = zo::benchZo(o);
    if (p.has("json")) {
        json j = {{"method", r.method},         {"direction", r.direction},
                  {"target", r.target},         {"batch", r.batch},
                  {"seq", r.seq},               {"steps", r.steps},
                  {"parameters", r.parameters}, {"trainable", r.trainable},
                  {"step_ms", r.stepMs},        {"forward_ms", r.forwardMs},
                  {"passes_ms", r.passesMs},
                  {"step_over_forward", r.stepOverForward},
                  {"peak_rss_mb", r.peakRssMb}, {"baseline_rss_mb", r.baselineRssMb},
                  {"final_loss", r.finalLoss},  {"blas", r.blas},
                  {"blas_threads", r.blasThreads}, {"intra_op_threads", r.intraOpThreads},
                  {"impl", "frugal"}};
        std::cout << j.dump() << "\n";
    } else {
        std::printf("%s step (%s directions, %s: %lld of %lld parameters), batch %lld x %lld tokens\n",
                    r.method.c_str(), r.direction.c_str(), r.target.c_str(),
                    static_cast<long long>(r.trainable), static_cast<long long>(r.parameters),
                    static_cast<long long>(r.batch), static_cast<long long>(r.seq));
        std::printf("  step     %.1f ms (median of %lld)\n  forward  %.1f ms (no-grad)\n  ratio    %.2f\n",
                    r.stepMs, static_cast<long long>(r.steps), r.forwardMs, r.stepOverForward);
        std::printf("  peak RSS %.1f MiB (%.1f MiB before the model)\n", r.peakRssMb, r.baselineRssMb);
    }
    return 0;
}

int benchTtCommand(const Args& args) {
    const Parsed p = parse(args, {"iters"}, {"json"});
    // LLaMA-2-7B's adapter matrices (4096 <-> 64, rank 5), its loretta_rep update (4096 -> 8,
    // rank 8), OPT-1.3B's (2048 -> 64), the built-in model's (256 <-> 64) and a tensorised head
    const std::vector<std::vector<int64_t>> shapes = {
        {4096, 64, 5}, {64, 4096, 5}, {4096, 8, 8}, {2048, 64, 5}, {256, 64, 5}, {64, 256, 5}, {768, 768, 5}};
    const auto cases = peft::benchTt(shapes, {1, 64, 1024, 8192}, static_cast<int>(p.getInt("iters", 20)));
    if (p.has("json")) {
        json out = json::array();
        for (const auto& c : cases)
            out.push_back({{"in", c.in}, {"out", c.out}, {"rank", c.rank}, {"rows", c.rows},
                           {"modes", c.modes}, {"dense_ms", c.denseMs}, {"contract_ms", c.contractMs},
                           {"dense_madds", c.denseCost}, {"contract_madds", c.contractCost},
                           {"auto", c.chosen}, {"faster", c.faster}});
        std::cout << out.dump(2) << "\n";
        return 0;
    }
    std::printf("| in x out, rank (modes) | rows | dense ms | contract ms | Auto takes | faster |\n");
    std::printf("|---|---:|---:|---:|---|---|\n");
    for (const auto& c : cases)
        std::printf("| %lld x %lld, %lld %s | %lld | %.3f | %.3f | %s | %s |\n",
                    static_cast<long long>(c.in), static_cast<long long>(c.out),
                    static_cast<long long>(c.rank), c.modes.c_str(), static_cast<long long>(c.rows),
                    c.denseMs, c.contractMs, c.chosen.c_str(), c.faster.c_str());
    return 0;
}

int benchCommand(const Args& args) {
    if (!args.empty() && args[0] == "tt") return benchTtCommand(Args(args.begin() + 1, args.end()));
    if (!args.empty() && args[0] == "store")
        return benchStoreCommand(Args(args.begin() + 1, args.end()));
    if (!args.empty() && args[0] == "zo") return benchZoCommand(Args(args.begin() + 1, args.end()));
    if (args.empty() || args[0] != "forward")
        fail("bench needs a target: bench forward ..., bench zo ..., bench store ... or bench tt");
    const Parsed p = parse(Args(args.begin() + 1, args.end()),
                           {"model", "batch", "seq", "iters", "seed", "device"}, {"json"});
    if (!p.has("model")) fail("bench forward needs --model DIR");
    model::ForwardBenchOptions o;
    o.modelDir = data::resolveModel(p.get("model", data::kBuiltinModel));
    o.batch = p.getInt("batch", 1);
    o.seq = p.getInt("seq", 128);
    o.iters = static_cast<int>(p.getInt("iters", 5));
    o.seed = static_cast<uint64_t>(p.getInt("seed", 0));
    o.device = p.get("device", "cpu");
    const model::ForwardBenchResult r = model::benchForward(o);
    if (p.has("json")) {
        json j = {{"tokens_per_s", r.tokensPerSecond},
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
        std::cout << j.dump() << "\n";
    } else {
        std::printf(
            "forward  batch %lld x seq %lld, %d iterations, %s with %d threads, %d intra-op\n",
            static_cast<long long>(r.batch), static_cast<long long>(r.seq), r.iters, r.blas.c_str(),
            r.threads, r.intraOpThreads);
        std::printf("  throughput   %.1f tokens/s (%.3f s)\n", r.tokensPerSecond, r.seconds);
        std::printf("  weights      %.1f MiB fp32; loaded in %.3f s; load peak +%.1f MiB; "
                    "process peak %.1f MiB\n",
                    r.weightMiB, r.loadSeconds, r.loadPeakMiB, r.peakRssMiB);
    }
    return 0;
}

int evalTask(const Args& args) {
    const Parsed p =
        parse(args, {"model", "task", "template", "labels", "tokenizer", "limit", "shots",
                     "shots-from", "seed"},
              {"json"});
    if (!p.has("task"))
        fail("eval task needs --task NAME|FILE (built-in: sentiment, spam; NAME:dev for a split)"
             " and, for a file, --template \"{text} ... {a|b}\" --labels A,B");
    std::string file = p.get("task", "");
    std::string poolFile = p.get("shots-from", "");
    std::string templateText = p.get("template", "");
    std::vector<std::string> labels;
    std::stringstream list(p.get("labels", ""));
    for (std::string label; std::getline(list, label, ',');) labels.push_back(label);
    if (const auto builtin = data::findBuiltinTask(file)) {
        file = builtin->file.string();
        if (templateText.empty()) templateText = builtin->task.promptTemplate;
        if (labels.empty()) labels = builtin->task.labels;
        if (poolFile.empty()) poolFile = builtin->task.split("train").string();
    } else if (templateText.empty() || labels.empty()) {
        fail("task '", file, "' is not a built-in task name (", builtinTaskNames(),
             "); for a task file give --template \"{text} ... {a|b}\" and --labels A,B");
    }
    const data::Task task = data::Task::load(file, labels);
    const data::PromptTemplate prompt = data::PromptTemplate::parse(templateText, labels);
    const std::string modelDir = data::resolveModel(p.get("model", data::kBuiltinModel)).string();
    eval::FewShot fewShot;
    fewShot.shots = p.getInt("shots", 0);
    fewShot.seed = static_cast<uint64_t>(p.getInt("seed", 0));
    std::optional<data::Task> pool;
    if (fewShot.shots > 0) {
        if (const auto builtinPool = data::findBuiltinTask(poolFile)) poolFile = builtinPool->file.string();
        if (poolFile.empty())
            fail("--shots ", fewShot.shots, " needs --shots-from FILE|NAME:train (the examples to ",
                 "draw demonstrations from)");
        pool = data::Task::load(poolFile, labels);
        fewShot.pool = &*pool;
    }
    const eval::TaskResult r = eval::evaluateTaskInFolder(modelDir, p.get("tokenizer", ""), task,
                                                          prompt, p.getInt("limit", 0), fewShot);
    const std::string shotsText =
        fewShot.shots > 0 ? cat(fewShot.shots, "-shot from ", poolFile, " (seed ", fewShot.seed, ")")
                          : std::string("zero-shot");
    if (p.has("json")) {
        json j = {{"accuracy", r.accuracy},    {"accuracy_length_normalised", r.accuracyMean},
                  {"accuracy_calibrated", r.accuracyCalibrated},
                  {"examples", r.examples},    {"task", p.get("task", "")}, {"file", file}, {"model", modelDir}, {"shots", fewShot.shots}, {"shots_from", fewShot.shots > 0 ? poolFile : ""}, {"seed", fewShot.seed},
                  {"template", prompt.text()}, {"labels", labels}};
        std::cout << j.dump() << "\n";
    } else {
        std::printf(
            "accuracy %.4f (%lld examples of %s; length-normalised %.4f; calibrated %.4f; %s, "
            "log-likelihood of each label's verbaliser in \"%s\")\n",
            r.accuracy, static_cast<long long>(r.examples), file.c_str(), r.accuracyMean,
            r.accuracyCalibrated, shotsText.c_str(), prompt.text().c_str());
    }
    return 0;
}

int evalCommand(const Args& args) {
    if (!args.empty() && args[0] == "task") return evalTask(Args(args.begin() + 1, args.end()));
    if (args.empty() || args[0] != "ppl")
        fail("eval needs a target: eval ppl ... or eval task ...");
    const Parsed p =
        parse(Args(args.begin() + 1, args.end()),
              {"model", "text", "seq-len", "tokenizer", "batch", "limit-windows"}, {"json"});
    if (!p.has("text") || !p.has("seq-len"))
        fail("eval ppl needs --text FILE --seq-len N (and --model DIR, default the built-in ",
             data::kBuiltinModel, ")");
    const eval::PerplexityResult r = eval::perplexityOfFile(
        data::resolveModel(p.get("model", data::kBuiltinModel)), p.get("text", ""), p.get("tokenizer", ""), p.getInt("seq-len", 0),
        p.getInt("batch", 1), p.getInt("limit-windows", 0));
    if (p.has("json")) {
        json j = {{"perplexity", r.perplexity},
                  {"mean_loss_nats", r.meanLoss},
                  {"seq_len", r.seqLen},
                  {"windows", r.windows},
                  {"tokens_total", r.tokensTotal},
                  {"tokens_scored", r.tokensScored},
                  {"tokens_dropped", r.tokensDropped},
                  {"windows_available", r.windowsAvailable},
                  {"protocol", r.protocol()}};
        std::cout << j.dump() << "\n";
    } else {
        std::printf("perplexity %.4f  (mean loss %.5f nats/token; %s)\n", r.perplexity, r.meanLoss,
                    r.protocol().c_str());
    }
    return 0;
}

int paramsCommand(const Args& args) {
    const Parsed p = parse(args,
                           {"model-config", "model", "config", "peft", "rank", "bottleneck",
                            "modules", "alpha", "prefix-tokens", "prompt-tokens"},
                           {"train-norms", "tt-head", "json"});
    const int sources = p.has("model-config") + p.has("model") + p.has("config");
    if (sources != 1)
        fail("params needs one of --model-config CONFIG.json, --model DIR or --config RUN.toml");
    json out;
    if (p.has("config")) {
        const std::filesystem::path file = p.get("config", "");
        const auto s = run::trainableSummary(readFile(file, "the run config"), file.string(), p.positional);
        if (!s) fail(file.string(), ": its method trains no parameter subset (params counts zo, mezo and fo configs)");
        if (p.has("json")) {
            out = {{"model_config", s->modelConfig.string()}, {"trainable", s->trainable},
                   {"total", s->total}, {"target", s->detail}};
            std::cout << out.dump(2) << "\n";
        } else {
            std::cout << s->line() << "\n  (" << s->modelConfig.string() << ")\n";
        }
        return 0;
    }
    if (!p.positional.empty()) fail("params: unexpected argument '", p.positional[0], "'");
    const std::filesystem::path configFile =
        p.has("model") ? data::resolveModel(p.get("model", "")) / "config.json"
                       : std::filesystem::path(p.get("model-config", ""));
    const model::ModelConfig config = model::ModelConfig::fromFile(configFile);
    peft::PeftOptions o;
    o.target = peft::parseTarget(p.get("peft", "full"));
    const bool tt = o.target == peft::Target::LorettaAdp || o.target == peft::Target::LorettaRep;
    if (tt) o.ttRank = p.getInt("rank", o.ttRank);
    else o.loraRank = p.getInt("rank", o.loraRank);
    if (o.target == peft::Target::LorettaAdp) o.ttBottleneck = p.getInt("bottleneck", o.ttBottleneck);
    if (o.target == peft::Target::LorettaRep) o.loraRank = p.getInt("bottleneck", o.loraRank);
    if (p.has("alpha")) o.loraAlpha = std::stod(p.get("alpha", ""));
    if (p.has("modules")) {
        o.loraModules.clear();
        std::stringstream list(p.get("modules", ""));
        for (std::string m; std::getline(list, m, ',');) o.loraModules.push_back(m);
    }
    o.prefixTokens = p.getInt("prefix-tokens", o.prefixTokens);
    o.promptTokens = p.getInt("prompt-tokens", o.promptTokens);
    o.trainNorms = p.has("train-norms");
    o.ttHead = p.has("tt-head");
    if ((o.trainNorms || o.ttHead) && !peft::isAdapter(o.target))
        fail("--train-norms and --tt-head go with adapter targets (lora, prefix, prompt, "
             "loretta_adp, loretta_rep)");
    const peft::TrainableCount c = peft::countTrainable(config, o);
    const double share = 100.0 * static_cast<double>(c.trainable) / static_cast<double>(c.total);
    if (p.has("json")) {
        json parts = json::object();
        for (const auto& [name, n] : c.parts) parts[name] = n;
        out = {{"model_config", configFile.string()}, {"target", peft::targetName(o.target)},
               {"detail", c.detail}, {"trainable", c.trainable}, {"total", c.total},
               {"parts", parts}, {"norm_elements", c.normElements}};
        std::cout << out.dump(2) << "\n";
        return 0;
    }
    char percent[32];
    std::snprintf(percent, sizeof percent, "%.4g%%", share);
    std::cout << "model      " << config.modelType << ", " << config.numLayers << " layers, hidden "
              << config.hiddenSize << ": " << withThousands(c.total) << " parameters ("
              << configFile.string() << ")\n"
              << "target     " << c.detail << "\n"
              << "trainable  " << withThousands(c.trainable) << " (" << percent << " of the model)\n";
    for (const auto& [name, n] : c.parts) std::cout << "  " << name << "  " << withThousands(n) << "\n";
    if (peft::isAdapter(o.target) && !o.trainNorms)
        std::cout << "norms      " << withThousands(c.normElements)
                  << " more with --train-norms (" << withThousands(c.trainable + c.normElements)
                  << " in all)\n";
    return 0;
}

int initModelCommand(const Args& args) {
    const Parsed p = parse(args,
                           {"type", "layers", "hidden", "heads", "kv-heads", "vocab",
                            "intermediate", "max-positions", "seed", "dtype", "shard-mib", "std"},
                           {"tied"});
    if (p.positional.size() != 1) fail("init-model needs exactly one output DIR");
    model::RandomModelOptions o;
    o.modelType = p.get("type", "llama");
    o.layers = p.getInt("layers", o.layers);
    o.hidden = p.getInt("hidden", o.hidden);
    o.heads = p.getInt("heads", o.heads);
    o.kvHeads = p.getInt("kv-heads", 0);
    o.vocab = p.getInt("vocab", o.vocab);
    o.intermediate = p.getInt("intermediate", 0);
    o.maxPositions = p.getInt("max-positions", o.maxPositions);
    o.tied = p.has("tied");
    o.seed = static_cast<uint64_t>(p.getInt("seed", 0));
    o.dtype = p.get("dtype", "F32");
    if (p.has("std")) {
        const std::string text = p.get("std", "");
        char* end = nullptr;
        o.stddev = std::strtod(text.c_str(), &end);
        if (text.empty() || *end != '\0' || !(o.stddev > 0))
            fail("--std expects a positive number, got '", text, "'");
    }
    if (p.has("shard-mib")) {
        const int64_t mib = p.getInt("shard-mib", 0);
        if (mib <= 0) fail("--shard-mib expects a positive size in MiB, got ", mib);
        o.maxShardBytes = static_cast<uint64_t>(mib) << 20;
    }
    const int64_t params = model::writeRandomModel(o, p.positional[0]);
    std::cout << "wrote " << o.modelType << " model with " << params << " parameters to "
              << p.positional[0] << "\n";
    return 0;
}

int pretrainCommand(const Args& args) {
    const Parsed p = parse(args, {"out", "steps"}, {});
    if (p.positional.size() != 1) fail("pretrain needs exactly one CONFIG.toml");
    train::PretrainConfig config = train::PretrainConfig::fromToml(p.positional[0]);
    if (p.has("out")) config.outDir = p.get("out", "");
    if (p.has("steps")) {
        config.steps = p.getInt("steps", config.steps);
        if (config.steps < 1) fail("--steps expects a positive count, got ", config.steps);
    }
    const train::PretrainResult r = train::pretrain(config, [](const std::string& line) {
        std::printf("%s\n", line.c_str());
        std::fflush(stdout);
    });
    std::printf("pre-trained %lld parameters on %lld tokens (%lld steps) in %.0f s of training, "
                "%.0f s in all; held-out loss %.4f; perplexity %.3f on %s\n",
                static_cast<long long>(r.parameters), static_cast<long long>(r.tokensSeen),
                static_cast<long long>(r.steps), r.trainSeconds, r.totalSeconds, r.heldOutLoss,
                r.evalPerplexity, config.evalText.string().c_str());
    return 0;
}

int trainTokenizerCommand(const Args& args) {
    const Parsed p = parse(args, {"out", "vocab", "min-frequency"}, {});
    if (!p.has("out") || p.positional.empty())
        fail("train-tokenizer needs --out tokenizer.json and at least one text FILE");
    model::BpeTrainerOptions options;
    options.vocabSize = p.getInt("vocab", options.vocabSize);
    options.minFrequency = p.getInt("min-frequency", options.minFrequency);
    const model::BpeTrainingResult r =
        model::trainByteLevelBpeOnFiles(p.positional, options, p.get("out", ""));
    std::printf("wrote %s: byte-level BPE, %lld tokens (%lld merges) from %lld words (%lld "
                "distinct)\n",
                p.get("out", "").c_str(), static_cast<long long>(r.vocabSize),
                static_cast<long long>(r.merges), static_cast<long long>(r.words),
                static_cast<long long>(r.uniqueWords));
    return 0;
}

}  // namespace frugal::app
