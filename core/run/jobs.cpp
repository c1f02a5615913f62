#include "run/jobs.h"

#include <fstream>
#include <map>
#include <set>
#include <mutex>
#include <thread>

#include "common/error.h"
#include "eval/resume_point.h"
#include "run/method_registry.h"
#include "run/workspace.h"

namespace frugal::run {

std::vector<std::string> sweepValues(const std::string& override) {
    const size_t eq = override.find('=');
    if (eq == std::string::npos) return {override};
    const std::string key = override.substr(0, eq + 1);
    std::vector<std::string> out;
    std::string current;
    int depth = 0;
    char quote = 0;
    for (char c : override.substr(eq + 1)) {
        if (quote) {
            if (c == quote) quote = 0;
        } else if (c == '"' || c == '\'') {
            quote = c;
        } else if (c == '[' || c == '{') {
            ++depth;
        } else if (c == ']' || c == '}') {
            --depth;
        } else if (c == ',' && depth == 0) {
            out.push_back(key + current);
            current.clear();
            continue;
        }
        current += c;
    }
    out.push_back(key + current);
    return out;
}

std::vector<std::vector<std::string>> sweepGrid(const std::vector<std::string>& axes) {
    std::vector<std::vector<std::string>> grid = {{}};
    for (const auto& axisText : axes) {
        if (axisText.find('=') == std::string::npos)
            fail("run: '", axisText, "' is not an override; expected KEY=VALUE[,VALUE...]");
        std::vector<std::vector<std::string>> next;
        for (const auto& combo : grid)
            for (const auto& value : sweepValues(axisText)) {
                next.push_back(combo);
                next.back().push_back(value);
            }
        grid = std::move(next);
    }
    return grid;
}

std::string sweepName(const std::vector<std::string>& combo, const std::vector<std::vector<std::string>>& grid,
                      const std::string& prefix) {
    const auto keyOf = [](const std::string& o) { return o.substr(0, o.find('=')); };
    std::map<std::string, std::set<std::string>> values;  // key -> the values it takes
    for (const auto& c : grid)
        for (const auto& o : c) values[keyOf(o)].insert(o.substr(o.find('=') + 1));
    std::map<std::string, int> shortUses;
    for (const auto& [key, v] : values)
        if (v.size() > 1) ++shortUses[key.substr(key.rfind('.') + 1)];
    std::string name = prefix;
    for (const auto& o : combo) {
        const std::string key = keyOf(o);
        if (grid.size() > 1 && values[key].size() < 2) continue;
        const std::string shortKey = key.substr(key.rfind('.') + 1);
        name += (name.empty() ? "" : " ") + (shortUses[shortKey] > 1 ? key : shortKey) + o.substr(key.size());
    }
    return name;
}

std::vector<RunOutcome> runSweep(store::Store& store, const std::vector<SweepJob>& jobs, int64_t parallel,
                                 StopToken& stop, const std::function<Observer*(size_t)>& observerFor,
                                 const std::function<void(size_t, const RunOutcome&)>& onDone) {
    std::vector<RunOutcome> outcomes(jobs.size());
    for (auto& o : outcomes) o.status = store::RunStatus::Queued;
    std::mutex next;
    size_t cursor = 0;
    const auto worker = [&] {
        for (;;) {
            size_t i;
            {
                std::lock_guard<std::mutex> lock(next);
                if (cursor >= jobs.size() || stop.stopRequested()) return;
                i = cursor++;
            }
            outcomes[i] = runMethod(store, jobs[i].spec, jobs[i].body, stop,
                                    observerFor ? observerFor(i) : nullptr, artifactRoot(store.path()));
            if (onDone) onDone(i, outcomes[i]);
        }
    };
    std::vector<std::thread> threads;
    for (int64_t j = 0; j < std::max<int64_t>(1, parallel); ++j) threads.emplace_back(worker);
    for (auto& t : threads) t.join();
    return outcomes;
}

std::string resumeRefusal(const std::filesystem::path& storePath, const store::RunInfo& info) {
    using store::RunStatus;
    if (info.status == RunStatus::Finished) return cat("run ", info.id, " (", info.name, ") finished; there is nothing to resume");
    if (info.status == RunStatus::Running || info.status == RunStatus::Queued)
        return cat("run ", info.id, " (", info.name, ") is ", store::statusName(info.status), " in process ",
                   info.pid, " on ", info.host, "; it cannot be resumed twice");
    const auto dir = runArtifactDir(storePath, info.uuid);
    if (info.method == "pretrain") {
        std::error_code ec;
        if (std::filesystem::exists(dir / "checkpoint" / "latest", ec)) return "";
        return cat("run ", info.id, " (", info.name, ") wrote no checkpoint before it ended "
                   "(train.checkpoint_every was 0, or it stopped before the first); start it again");
    }
    if (info.method == "zo" || info.method == "mezo" || info.method == "fo") {
        const std::string none = cat("run ", info.id, " (", info.name, ") ended before its first evaluation step, so it "
                                     "has no resume point; start it again (the same config and seed give the same run)");
        std::error_code ec;
        if (!std::filesystem::exists(eval::resumeDir(dir), ec) && std::filesystem::exists(dir, ec))
            return cat("run ", info.id, " (", info.name, "): its resume folder ", eval::resumeDir(dir).string(),
                       " is missing: deleted, or the run ended before its first evaluation step wrote it; start it "
                       "again (the same config and seed give the same run)");
        return eval::hasResumePoint(dir) ? "" : none;
    }
    return cat(info.method, " runs are not resumed; the same config and seed give the same run");
}

RunOutcome resumeStoredRun(store::Store& store, int64_t runId, StopToken& stop, Observer* observer) {
    const auto info = store.run(runId);
    if (!info) fail("no run ", runId, " in ", store.path().string());
    if (const std::string why = resumeRefusal(store.path(), *info); !why.empty()) fail(why);
    // the point proves itself (its checksum, the files it stands on) before anything is stored
    if (info->method != "pretrain")
        if (const std::string why = eval::resumePointProblem(runArtifactDir(store.path(), info->uuid), "");
            !why.empty())
            failInput(why);
    const auto config = runArtifactDir(store.path(), info->uuid) / "config.toml";
    std::filesystem::create_directories(config.parent_path());
    {
        std::ofstream out(config);
        out << info->config;
        if (!out) fail(config.string(), ": cannot write the run's config for resuming");
    }
    const PreparedRun prepared = prepareRun(config, {}, "", /*resume=*/true);
    store.resumeRun(info->id);
    store.log(info->id, "info", "resumed with frugal run --resume");
    return continueMethod(store, info->id, prepared.body, stop, observer, artifactRoot(store.path()));
}

}  // namespace frugal::run
