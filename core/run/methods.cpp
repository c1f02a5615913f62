// The registry of methods `frugal run` can run from a TOML config: one row per method. Each row
// reads its config (with overrides), and returns the body the Runner executes.

#include <toml++/toml.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "common/error.h"
#include "run/runner.h"
#include "train/pretrain.h"

namespace frugal::run {

namespace {

void flatten(const toml::table& table, const std::string& prefix,
             std::map<std::string, std::string>& out) {
    for (const auto& [key, value] : table) {
        const std::string path =
            prefix.empty() ? std::string(key.str()) : prefix + "." + std::string(key.str());
        if (value.is_table()) {
            flatten(*value.as_table(), path, out);
        } else if (value.is_array_of_tables()) {
            size_t i = 0;
            for (const auto& element : *value.as_array())
                flatten(*element.as_table(), cat(path, "[", i++, "]"), out);
        } else if (const auto* s = value.as_string()) {
            out[path] = s->get();
        } else {
            std::ostringstream text;
            if (const auto* i = value.as_integer()) text << i->get();
            else if (const auto* f = value.as_floating_point()) text << f->get();
            else if (const auto* b = value.as_boolean()) text << (b->get() ? "true" : "false");
            else if (const auto* a = value.as_array()) text << toml::toml_formatter(*a);
            else text << "(" << value.type() << ")";
            out[path] = text.str();
        }
    }
}

std::string shortNumber(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.4g", v);
    return buf;
}

PreparedRun preparePretrain(const std::filesystem::path& file,
                            const std::vector<std::string>& overrides,
                            const std::filesystem::path& outDir, bool resume) {
    const train::PretrainConfig config = train::PretrainConfig::fromToml(file, overrides);
    PreparedRun p;
    p.method = "pretrain";
    p.resolvedConfig = config.resolvedText;
    flatten(toml::parse(config.resolvedText, file.string()), "", p.params);
    p.seed = static_cast<int64_t>(config.seed);
    p.body = [config, outDir, resume](EventSink& sink, const StopToken& stop) {
        train::PretrainConfig c = config;
        c.outDir = outDir.empty() ? sink.artifactDir() / "model" : outDir;
        train::PretrainHooks hooks;
        hooks.log = [&](const std::string& line) { sink.log("info", line); };
        hooks.metric = [&](const std::string& key, int64_t step, double value) {
            sink.metric(key, step, value);
        };
        hooks.progress = [&](int64_t step, int64_t total, double loss) {
            sink.progress(step, total, "loss " + shortNumber(loss));
        };
        hooks.stopRequested = [&] { return stop.stopRequested(); };
        hooks.checkpointDir = sink.artifactDir() / "checkpoint";
        hooks.resume = resume;
        hooks.beforeCheckpoint = [&] { sink.flush(); };
        train::pretrain(c, hooks);
        sink.artifact("model", c.outDir / "model.safetensors");
        sink.artifact("tokenizer", c.outDir / "tokenizer.json");
        sink.artifact("summary", c.outDir / "training.json");
        sink.artifact("log", c.outDir / "training_log.csv");
    };
    return p;
}

struct MethodRow {
    const char* name;
    PreparedRun (*prepare)(const std::filesystem::path&, const std::vector<std::string>&,
                           const std::filesystem::path&, bool resume);
};

const MethodRow kMethods[] = {
    {"pretrain", preparePretrain},
};

}  // namespace

std::vector<std::string> methodNames() {
    std::vector<std::string> names;
    for (const auto& m : kMethods) names.emplace_back(m.name);
    return names;
}

PreparedRun prepareRun(const std::filesystem::path& file, const std::vector<std::string>& overrides,
                       const std::filesystem::path& outDir, bool resume) {
    std::ifstream in(file, std::ios::binary);
    if (!in) fail(file.string(), ": cannot open the experiment config");
    std::ostringstream text;
    text << in.rdbuf();
    toml::table root;
    try {
        root = toml::parse(text.str(), file.string());
    } catch (const toml::parse_error& e) {
        fail(file.string(), ":", e.source().begin.line, ":", e.source().begin.column, ": ",
             std::string(e.description()));
    }
    std::string names;
    for (const auto& m : kMethods) names += (names.empty() ? "" : ", ") + std::string(m.name);
    const toml::node* method = root.get("method");
    if (!method || !method->is_string())
        fail(file.string(), ": needs a top-level method = \"...\" (methods: ", names, ")");
    const std::string name = *method->value<std::string>();
    for (const auto& m : kMethods)
        if (name == m.name) return m.prepare(file, overrides, outDir, resume);
    fail(file.string(), ": method is '", name, "', which is not a method (methods: ", names, ")");
}

}  // namespace frugal::run
