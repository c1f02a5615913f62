#include "commands.h"

#include "cli_args.h"

#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <optional>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "common/error.h"
#include "common/files.h"
#include "common/format.h"
#include "run/method_registry.h"
#include "run/tools.h"
#include "store/store_bench.h"

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

// Shortest decimal form that reads back as the same float.
std::string floatText(float v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.9g", static_cast<double>(v));
    return buf;
}

}  // namespace

int convertCommand(const Args& args) {
    const Parsed p = parse(args, {"out", "dtype"}, {"json"});
    if (p.positional.size() != 1) fail("convert needs exactly one FILE.gguf");
    if (!p.has("out")) fail("convert needs --out DIR (the Hugging Face folder to write)");
    const json r = run::convertGguf(p.positional[0], p.get("out", ""), p.get("dtype", "fp32"));
    if (p.has("json")) {
        std::cout << r.dump(2) << "\n";
        return 0;
    }
    std::cout << "converted " << r["file"].get<std::string>() << " (" << r["architecture"].get<std::string>()
              << ", " << r["parameters"] << " parameters in " << r["tensors"] << " tensors: ";
    bool first = true;
    for (const auto& [type, count] : r["tensors_by_type"].items()) {
        std::cout << (first ? "" : ", ") << count << " " << type;
        first = false;
    }
    std::cout << ") into " << r["out"].get<std::string>() << " as " << r["dtype"].get<std::string>()
              << " in " << cat(std::fixed, std::setprecision(1), r["seconds"].get<double>()) << " s\n";
    return 0;
}

int inspectCommand(const Args& args) {
    const Parsed p = parse(args, {"logits", "device"}, {"json"});
    if (p.positional.size() != 1) fail("inspect needs exactly one MODEL_DIR");
    if (!p.has("logits") && std::filesystem::path(p.positional[0]).extension() == ".gguf" &&
        !std::filesystem::is_directory(p.positional[0])) {
        const json g = run::inspectGguf(p.positional[0]);
        if (p.has("json")) {
            std::cout << g.dump(2) << "\n";
            return 0;
        }
        std::cout << "GGUF version " << g["version"] << ", alignment " << g["alignment"] << ", data at byte "
                  << g["data_offset"] << ", " << g["parameters"] << " parameters\n\nmetadata\n";
        for (const auto& [key, value] : g["metadata"].items())
            std::cout << "  " << key << " = " << value.get<std::string>() << "\n";
        std::cout << "\ntensors\n";
        for (const auto& t : g["tensors"])
            std::cout << "  " << t["name"].get<std::string>() << "  " << t["type"].get<std::string>() << " "
                      << shapeText(t["shape"].get<std::vector<int64_t>>()) << "  " << t["bytes"] << " bytes\n";
        return 0;
    }
    if (p.has("logits")) {
        std::vector<std::vector<int64_t>> sequences;
        std::stringstream in(p.get("logits", ""));
        std::string one;
        while (std::getline(in, one, ';')) sequences.push_back(parseIdList(one));
        const auto all = run::lastPositionLogits(p.positional[0], sequences, p.get("device", "cpu"));
        for (const auto& logits : all) {
            std::string out = "[";
            for (size_t i = 0; i < logits.size(); ++i) {
                if (!std::isfinite(logits[i]))
                    fail("logit ", i, " is ", logits[i],
                         "; the model's weights or inputs give non-finite values");
                out += (i ? ", " : "") + floatText(logits[i]);
            }
            std::cout << out << "]\n";
        }
        return 0;
    }
    const json j = run::inspectModel(p.positional[0]);
    if (p.has("json")) {
        std::cout << j.dump(2) << "\n";
        return 0;
    }
    std::cout << "model_type    " << j["model_type"].get<std::string>() << " (family "
              << j["family"].get<std::string>() << ")\n"
              << "layers        " << j["layers"] << "\n"
              << "hidden        " << j["hidden_size"] << ", MLP " << j["intermediate_size"] << "\n"
              << "heads         " << j["heads"] << " query, " << j["kv_heads"] << " key/value\n"
              << "vocabulary    " << j["vocab_size"]
              << (j["tied_embeddings"].get<bool>() ? ", tied head" : ", own head") << "\n"
              << "parameters    " << j["parameters"] << " (";
    bool first = true;
    for (const auto& [dtype, count] : j["parameters_by_dtype"].items()) {
        std::cout << (first ? "" : ", ") << dtype << " " << count;
        first = false;
    }
    std::cout << ")\n"
              << "weights       " << j["weight_bytes"] << " bytes in " << j["files"].size()
              << " file(s)\n"
              << "checked       " << j["tensors_checked"]
              << " tensors against config.json (names and shapes; none missing, none unexpected"
              << (j["tensors_ignored"].get<int64_t>() > 0
                      ? cat("; ", j["tensors_ignored"].get<int64_t>(), " buffer(s) or tied copies ignored")
                      : std::string())
              << ")\n\n";
    for (const auto& t : j["tensors"])
        std::cout << "  " << t["name"].get<std::string>() << "  " << t["dtype"].get<std::string>() << " "
                  << shapeText(t["shape"].get<std::vector<int64_t>>()) << "  " << t["file"].get<std::string>()
                  << "\n";
    return 0;
}

int tokenizeCommand(const Args& args) {
    const Parsed p = parse(args, {"tokenizer", "texts"}, {"no-special"});
    if (!p.has("tokenizer")) fail("tokenize needs --tokenizer PATH");
    if (p.has("texts")) {  // one JSON string a line in, one id array a line out
        if (!p.positional.empty()) fail("tokenize takes either --texts FILE or one text argument, not both");
        const std::string file = p.get("texts", "");
        std::ifstream in(file);
        if (!in) fail(file, ": cannot open for reading");
        std::vector<std::string> texts;
        std::string line;
        for (size_t n = 1; std::getline(in, line); ++n) {
            if (line.empty()) continue;
            json j;
            try {
                j = json::parse(line);
            } catch (const json::exception&) {
                fail(file, ": line ", n, " is not JSON; --texts expects one JSON string a line");
            }
            if (!j.is_string()) fail(file, ": line ", n, " is not a JSON string; --texts expects one a line");
            texts.push_back(j.get<std::string>());
        }
        for (const auto& ids : run::tokenizeMany(p.get("tokenizer", ""), texts, !p.has("no-special")))
            std::cout << json(ids).dump() << "\n";
        return 0;
    }
    if (p.positional.size() != 1) fail("tokenize needs exactly one text argument (or --texts FILE)");
    const std::vector<int32_t> ids = run::tokenize(p.get("tokenizer", ""), p.positional[0], !p.has("no-special"));
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
    const Parsed p = parse(args, {"model", "model-config", "dtype", "batch", "seq", "steps", "method", "direction",
                                  "target", "seed", "device"},
                           {"json", "force"});
    if (p.has("model") == p.has("model-config"))
        fail("bench zo needs --model DIR or --model-config CONFIG.json (a random model of that shape, in memory)");
    json o = p.has("model") ? json{{"model", p.get("model", "")}} : json{{"model_config", p.get("model-config", "")}};
    o["force"] = p.has("force");
    if (p.has("dtype")) o["dtype"] = p.get("dtype", "");
    for (const char* key : {"batch", "seq", "steps", "seed"})
        if (p.has(key)) o[key] = p.getInt(key, 0);
    for (const char* key : {"method", "direction", "target", "device"})
        if (p.has(key)) o[key] = p.get(key, "");
    const json j = run::benchZo(o);
    if (p.has("json")) {
        std::cout << j.dump() << "\n";
    } else {
        std::printf("%s step (%s directions, %s: %lld of %lld parameters), batch %lld x %lld tokens\n",
                    j["method"].get<std::string>().c_str(), j["direction"].get<std::string>().c_str(),
                    j["target"].get<std::string>().c_str(), j["trainable"].get<long long>(),
                    j["parameters"].get<long long>(), j["batch"].get<long long>(), j["seq"].get<long long>());
        std::printf("  weights  %s\n  estimate %s\n", j["dtype"].get<std::string>().c_str(),
                    j["estimate"].get<std::string>().c_str());
        std::printf("  step     %.1f ms (median of %lld)\n  forward  %.1f ms (no-grad)\n  ratio    %.2f\n",
                    j["step_ms"].get<double>(), j["steps"].get<long long>(), j["forward_ms"].get<double>(),
                    j["step_over_forward"].get<double>());
        if (j["method"] == "mezo")
            std::printf("  passes   %.1f ms (two a step)\n  three-pass step %.1f ms, passes %.1f ms, ratio %.2f\n",
                        j["passes_ms"].get<double>(), j["three_pass_step_ms"].get<double>(),
                        j["three_pass_passes_ms"].get<double>(), j["three_pass_step_over_forward"].get<double>());
        std::printf("  peak RSS %.1f MiB (%.1f MiB before the model)\n", j["peak_rss_mb"].get<double>(),
                    j["baseline_rss_mb"].get<double>());
        if (j["device"] != "cpu")
            std::printf("  device   %s (%s): GPU peak %.1f MiB, estimate on it %.1f MiB, weights %.1f MiB\n",
                        j["device"].get<std::string>().c_str(), j["gpu"].get<std::string>().c_str(),
                        j["gpu_peak_mb"].get<double>(), j["gpu_estimate_mb"].get<double>(),
                        j["weights_mb"].get<double>());
    }
    return 0;
}

int benchTtCommand(const Args& args) {
    const Parsed p = parse(args, {"iters"}, {"json"});
    const json cases = run::benchTt(static_cast<int>(p.getInt("iters", 20)));
    if (p.has("json")) {
        std::cout << cases.dump(2) << "\n";
        return 0;
    }
    std::printf("| in x out, rank (modes) | rows | dense ms | contract ms | Auto takes | faster |\n");
    std::printf("|---|---:|---:|---:|---|---|\n");
    for (const auto& c : cases)
        std::printf("| %lld x %lld, %lld %s | %lld | %.3f | %.3f | %s | %s |\n", c["in"].get<long long>(),
                    c["out"].get<long long>(), c["rank"].get<long long>(), c["modes"].get<std::string>().c_str(),
                    c["rows"].get<long long>(), c["dense_ms"].get<double>(), c["contract_ms"].get<double>(),
                    c["auto"].get<std::string>().c_str(), c["faster"].get<std::string>().c_str());
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
    const json j = run::benchForward({{"model", p.get("model", "")},
                                      {"batch", p.getInt("batch", 1)},
                                      {"seq", p.getInt("seq", 128)},
                                      {"iters", p.getInt("iters", 5)},
                                      {"seed", p.getInt("seed", 0)},
                                      {"device", p.get("device", "cpu")}});
    if (p.has("json")) {
        std::cout << j.dump() << "\n";
    } else {
        std::printf("forward  batch %lld x seq %lld, %d iterations, %s with %d threads, %d intra-op\n",
                    j["batch"].get<long long>(), j["seq"].get<long long>(), j["iters"].get<int>(),
                    j["blas"].get<std::string>().c_str(), j["threads"].get<int>(), j["intra_op_threads"].get<int>());
        std::printf("  throughput   %.1f tokens/s (%.3f s)\n", j["tokens_per_s"].get<double>(),
                    j["seconds"].get<double>());
        std::printf("  weights      %.1f MiB fp32; loaded in %.3f s; load peak +%.1f MiB; "
                    "process peak %.1f MiB\n",
                    j["weight_mib"].get<double>(), j["load_seconds"].get<double>(), j["load_peak_mib"].get<double>(),
                    j["peak_rss_mib"].get<double>());
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
                   {"total", s->total}, {"target", s->detail}, {"memory", s->memory}};
            std::cout << out.dump(2) << "\n";
        } else {
            std::cout << s->line() << "\n  (" << s->modelConfig.string() << ")\n";
            if (!s->memory.empty()) std::cout << s->memory << "\n";
        }
        return 0;
    }
    if (!p.positional.empty()) fail("params: unexpected argument '", p.positional[0], "'");
    json o = json::object();
    if (p.has("model")) o["model"] = p.get("model", "");
    else o["model_config"] = p.get("model-config", "");
    if (p.has("peft")) o["peft"] = p.get("peft", "");
    for (const auto& [flag, key] : std::vector<std::pair<const char*, const char*>>{
             {"rank", "rank"}, {"bottleneck", "bottleneck"}, {"prefix-tokens", "prefix_tokens"},
             {"prompt-tokens", "prompt_tokens"}})
        if (p.has(flag)) o[key] = p.getInt(flag, 0);
    if (p.has("alpha")) o["alpha"] = std::stod(p.get("alpha", ""));
    if (p.has("modules")) {
        std::vector<std::string> modules;
        std::stringstream list(p.get("modules", ""));
        for (std::string m; std::getline(list, m, ',');) modules.push_back(m);
        o["modules"] = modules;
    }
    o["train_norms"] = p.has("train-norms");
    o["tt_head"] = p.has("tt-head");
    const json c = run::countParams(o);
    if (p.has("json")) {
        out = {{"model_config", c["model_config"]}, {"target", c["target"]}, {"detail", c["detail"]},
               {"trainable", c["trainable"]},       {"total", c["total"]},   {"parts", c["parts"]},
               {"norm_elements", c["norm_elements"]}};
        std::cout << out.dump(2) << "\n";
        return 0;
    }
    const auto trainable = c["trainable"].get<int64_t>(), total = c["total"].get<int64_t>(),
               norms = c["norm_elements"].get<int64_t>();
    const double share = 100.0 * static_cast<double>(trainable) / static_cast<double>(total);
    char percent[32];
    std::snprintf(percent, sizeof percent, "%.4g%%", share);
    std::cout << "model      " << c["model_type"].get<std::string>() << ", " << c["layers"] << " layers, hidden "
              << c["hidden"] << ": " << withThousands(total) << " parameters ("
              << c["model_config"].get<std::string>() << ")\n"
              << "target     " << c["detail"].get<std::string>() << "\n"
              << "trainable  " << withThousands(trainable) << " (" << percent << " of the model)\n";
    for (const auto& name : c["part_order"])
        std::cout << "  " << name.get<std::string>() << "  " << withThousands(c["parts"][name.get<std::string>()])
                  << "\n";
    if (c["adapter"].get<bool>() && !c["train_norms"].get<bool>())
        std::cout << "norms      " << withThousands(norms) << " more with --train-norms ("
                  << withThousands(trainable + norms) << " in all)\n";
    return 0;
}

int initModelCommand(const Args& args) {
    const Parsed p = parse(args,
                           {"type", "layers", "hidden", "heads", "kv-heads", "vocab",
                            "intermediate", "max-positions", "seed", "dtype", "shard-mib", "std", "like"},
                           {"tied"});
    if (p.positional.size() != 1) fail("init-model needs exactly one output DIR");
    json o = {{"type", p.get("type", "llama")}, {"tied", p.has("tied")}, {"dtype", p.get("dtype", "F32")},
              {"seed", p.getInt("seed", 0)}};
    for (const auto& [flag, key] : std::vector<std::pair<const char*, const char*>>{
             {"layers", "layers"}, {"hidden", "hidden"}, {"heads", "heads"}, {"kv-heads", "kv_heads"},
             {"vocab", "vocab"}, {"intermediate", "intermediate"}, {"max-positions", "max_positions"}})
        if (p.has(flag)) o[key] = p.getInt(flag, 0);
    if (p.has("like")) {
        for (const char* flag : {"type", "layers", "hidden", "heads", "kv-heads", "vocab", "intermediate",
                                 "max-positions", "tied"})
            if (p.has(flag)) fail("init-model: --like takes the model's shape from ", p.get("like", ""), "; drop --", flag);
        o["like"] = p.get("like", "");
    }
    if (p.has("std")) {
        const std::string text = p.get("std", "");
        char* end = nullptr;
        const double stddev = std::strtod(text.c_str(), &end);
        if (text.empty() || *end != '\0' || !(stddev > 0))
            fail("--std expects a positive number, got '", text, "'");
        o["std"] = stddev;
    }
    if (p.has("shard-mib")) {
        const int64_t mib = p.getInt("shard-mib", 0);
        if (mib <= 0) fail("--shard-mib expects a positive size in MiB, got ", mib);
        o["shard_mib"] = mib;
    }
    const int64_t params = run::writeRandomModel(o, p.positional[0]);
    std::cout << "wrote " << (p.has("like") ? "a " + p.get("like", "") + "-shaped" : o["type"].get<std::string>()) << " model with " << params << " parameters to "
              << p.positional[0] << "\n";
    return 0;
}

int trainTokenizerCommand(const Args& args) {
    const Parsed p = parse(args, {"out", "vocab", "min-frequency"}, {});
    if (!p.has("out") || p.positional.empty())
        fail("train-tokenizer needs --out tokenizer.json and at least one text FILE");
    json o = json::object();
    if (p.has("vocab")) o["vocab"] = p.getInt("vocab", 0);
    if (p.has("min-frequency")) o["min_frequency"] = p.getInt("min-frequency", 0);
    const json r = run::trainTokenizer(p.positional, o, p.get("out", ""));
    std::printf("wrote %s: byte-level BPE, %lld tokens (%lld merges) from %lld words (%lld "
                "distinct)\n",
                p.get("out", "").c_str(), r["vocab_size"].get<long long>(), r["merges"].get<long long>(),
                r["words"].get<long long>(), r["unique_words"].get<long long>());
    return 0;
}

}  // namespace frugal::app
