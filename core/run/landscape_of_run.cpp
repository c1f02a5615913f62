// `frugal landscape RUN [--step N]`: the landscape config around a stored run's weights
// (run/tools.h).

#include <filesystem>

#include "common/error.h"
#include "run/method_registry.h"
#include "run/tools.h"
#include "zo/engine.h"

namespace frugal::run {

namespace {

std::string tomlQuoted(const std::string& v) {
    std::string out = "\"";
    for (char ch : v) {
        if (ch == '"' || ch == '\\') out += '\\';
        out += ch;
    }
    return out + "\"";
}

}  // namespace

Json landscapeOfRun(const Json& request) {
    const std::string method = request.at("method").get<std::string>();
    const auto params = request.at("params").get<std::map<std::string, std::string>>();
    const auto runId = request.at("run_id").get<int64_t>();
    const auto step = request.value("step", int64_t{-1});
    const std::filesystem::path root = request.at("artifact_root").get<std::string>();
    std::string trajectory, savedModel;
    for (const auto& a : request.at("artifacts")) {
        if (a.at("kind") == "trajectory") trajectory = a.at("path").get<std::string>();
        if (a.at("kind") == "model") savedModel = std::filesystem::path(a.at("path").get<std::string>()).parent_path().string();
    }
    // The run's method table: zo, mezo, fo, sharpzo, eval ... hold model, task and the batch.
    const auto key = [&](const std::string& name) -> std::string {
        const auto it = params.find(method + "." + name);
        return it == params.end() ? std::string() : it->second;
    };
    if (method == "sharpzo")
        fail("run ", runId, " is a SharpZO run: it trains a soft prompt through a projection, not the model's "
             "weights that a landscape spans; its sharpness where ZO starts is in its sharpness/* series");
    const std::string target = params.count("peft.target") ? params.at("peft.target") : "full";
    const bool baseWeights = target == "full" || target == "bitfit" || target == "norms" || target == "head";
    if (!baseWeights)
        fail("run ", runId, " trained peft.target = ", target, " (adapters); a landscape spans a model's own "
             "weights (runs with peft.target full, bitfit, norms or head)");
    Json out;
    std::string model, directions = "filter";
    int64_t zoSeed = -1;
    if (!trajectory.empty()) {
        auto steps = zo::readTrajectory(trajectory);
        const int64_t last = steps.empty() ? 0 : steps.back().step;
        if (step == 0 || step > last)
            fail("--step ", step, " is not a step of run ", runId, " (its trajectory has steps 1 to ", last, ")");
        const int64_t until = step > 0 ? step - 1 : last;  // the weights before step N
        if (step > 0) {
            for (const auto& s : steps)
                if (s.step == step) zoSeed = static_cast<int64_t>(s.seeds.at(0));
            if (zoSeed < 0) fail("step ", step, " of run ", runId, " was rolled back; it has no direction");
            directions = "zo_step";
        }
        const std::filesystem::path dir = root / cat("replay-", runId, "-step-", until);
        if (!std::filesystem::exists(dir / "model.safetensors")) {
            std::filesystem::create_directories(dir);
            replayRun(method, request.at("config").get<std::string>(), trajectory, dir, until);
        }
        model = dir.string();
        out["note"] = cat("run ", runId, "'s weights after step ", until, " rebuilt from its trajectory into ", model,
                          step > 0 ? cat("; along step ", step, "'s direction (seed ", zoSeed, ")") : std::string());
    } else if (!savedModel.empty()) {
        if (step >= 0) fail("--step needs a zeroth-order run's trajectory; run ", runId, " (", method, ") has none");
        model = savedModel;
        out["note"] = cat("around run ", runId, "'s saved model ", model);
    } else {
        fail("run ", runId, " (", method, ") has neither a trajectory nor a saved model; run it with save = true, "
             "or slice a zeroth-order run");
    }
    std::string text = "method = \"landscape\"\n\n[landscape]\nmodel = " + tomlQuoted(model) + "\n";
    for (const char* k : {"task", "train_file", "dev_file", "template", "objective"})
        if (const std::string v = key(k); !v.empty()) text += cat(k, " = ", tomlQuoted(v), "\n");
    for (const char* k : {"batch_size", "seed"})
        if (const std::string v = key(k); !v.empty()) text += cat(k, " = ", v, "\n");
    text += cat("dims = ", request.value("dims", int64_t{2}), "\npoints = ", request.value("points", int64_t{51}),
                "\ndirections = \"", directions, "\"\n");
    if (zoSeed >= 0) {
        const std::string law = key("direction");
        text += cat("zo_seed = ", zoSeed, "\nzo_law = ", tomlQuoted(law.empty() ? "gaussian" : law), "\n");
    }
    text += "\n[peft]\ntarget = " + tomlQuoted(target) + "\n";
    out["config"] = text;
    out["model"] = model;
    return out;
}

}  // namespace frugal::run
