// The commands that read and edit the experiment database: list, show, compare, export, rm, merge.

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <thread>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <sstream>

#include "cli_args.h"
#include "cli_output.h"
#include "commands.h"
#include "common/error.h"
#include "run/method_registry.h"
#include "run/workspace.h"
#include "store/run_filter.h"
#include "store/store.h"

namespace frugal::app {

namespace {

// TEXT as one CSV field: quoted (quotes doubled) when it holds a comma, quote or line break.
std::string csvField(const std::string& text) {
    if (text.find_first_of(",\"\r\n") == std::string::npos) return text;
    std::string out = "\"";
    for (char c : text) out += c == '"' ? std::string("\"\"") : std::string(1, c);
    return out + "\"";
}

}  // namespace

int listCommand(const Args& args) {
    const Parsed p = parse(args, {"db", "status", "filter", "limit"}, {"json"});
    const auto terms = p.has("filter") ? store::parseFilter(p.get("filter", "")) : std::vector<store::FilterTerm>{};
    std::optional<store::RunStatus> status;
    if (p.has("status")) status = store::parseStatus(p.get("status", ""));
    const int64_t limit = p.getCount("limit", 0, 1);
    const auto file = dbPath(p);
    if (!std::filesystem::exists(file)) {  // no run yet: an empty list, and nothing created
        if (p.has("json")) std::cout << "[]\n";
        else std::printf("no runs yet in %s\n", file.string().c_str());
        return 0;
    }
    store::Store db(file, store::Store::Access::Read);
    const auto allRuns = db.runs();
    store::checkFilterKeys(db, allRuns, terms);
    std::vector<std::vector<std::string>> rows = {
        {"id", "status", "name", "method", "start", "duration", "result", "tags"}};
    json out = json::array();
    int64_t shown = 0;
    for (const auto& r : allRuns) {
        if (status && r.status != *status) continue;
        if (!terms.empty() && !store::runMatches(db, r, terms)) continue;
        if (limit > 0 && shown >= limit) break;
        ++shown;
        json latest = json::object();
        std::map<std::string, double> values;
        for (const auto& m : db.latestMetrics(r.id)) {
            latest[m.key] = std::isfinite(m.point.value) ? json(m.point.value) : json(number(m.point.value));
            values[m.key] = m.point.value;
        }
        // the headline result as the workbench's runs table shows it (the method row's view)
        const std::string metrics = resultText(run::methodView(r.method).result, values).text;
        std::string tags;
        for (const auto& t : r.tags) tags += (tags.empty() ? "" : ",") + t;
        rows.push_back({std::to_string(r.id), store::statusName(r.status), r.name, r.method,
                        timeText(r.startMs), durationText(runSeconds(r)), metrics, tags});
        out.push_back({{"id", r.id}, {"uuid", r.uuid}, {"name", r.name}, {"status", store::statusName(r.status)},
                       {"method", r.method}, {"experiment", r.experiment}, {"start_ms", r.startMs},
                       {"end_ms", r.endMs}, {"tags", r.tags}, {"latest", latest}});
    }
    if (p.has("json")) std::cout << out.dump(2) << "\n";
    else printTable(rows);
    return 0;
}

int showCommand(const Args& args) {
    const Parsed p = parse(args, {"db"}, {"json"});
    if (p.positional.size() != 1) fail("show needs one RUN (id, uuid or name)");
    store::Store db(dbPath(p), store::Store::Access::Read);
    const auto r = requireRun(db, p.positional[0]);
    std::printf("run %lld  %s  (%s)\n", static_cast<long long>(r.id), r.name.c_str(), r.uuid.c_str());
    std::printf("  status      %s%s%s\n", store::statusName(r.status).c_str(),
                r.error.empty() ? "" : ": ", r.error.c_str());
    std::printf("  method      %s   experiment %s\n", r.method.c_str(), r.experiment.c_str());
    std::printf("  started     %s   duration %s\n", timeText(r.startMs).c_str(),
                durationText(runSeconds(r)).c_str());
    std::printf("  seed        %s\n", r.seed ? std::to_string(*r.seed).c_str() : "-");
    std::printf("  git         %s%s\n", r.gitCommit.empty() ? "-" : r.gitCommit.c_str(),
                r.gitDirty ? " (with uncommitted changes)" : "");
    std::printf("  command     %s\n", r.commandLine.c_str());
    std::printf("  host        %s (pid %lld)\n", r.host.c_str(), static_cast<long long>(r.pid));
    std::printf("  hardware    %s\n  libraries   %s\n", r.hardware.c_str(), r.libraries.c_str());
    if (r.parentId) std::printf("  parent      run %lld\n", static_cast<long long>(*r.parentId));
    if (!r.tags.empty()) {
        std::string tags;
        for (const auto& t : r.tags) tags += (tags.empty() ? "" : ", ") + t;
        std::printf("  tags        %s\n", tags.c_str());
    }
    if (!r.note.empty()) std::printf("  note        %s\n", r.note.c_str());
    std::printf("\nlatest metrics (step: value; points stored)\n");
    for (const auto& m : db.latestMetrics(r.id))
        std::printf("  %-28s step %lld: %s  (%lld points)\n", m.key.c_str(),
                    static_cast<long long>(m.point.step), number(m.point.value).c_str(),
                    static_cast<long long>(db.metricPointCount(r.id, m.key)));
    const auto artifacts = db.artifacts(r.id);
    if (!artifacts.empty()) std::printf("\nartifacts\n");
    for (const auto& a : artifacts)
        std::printf("  %-10s %s  %lld bytes  sha256 %s\n", a.kind.c_str(), a.path.c_str(),
                    static_cast<long long>(a.bytes), a.sha256.c_str());
    std::printf("\nconfig\n%s", r.config.c_str());
    const auto logs = db.logs(r.id);
    if (!logs.empty()) {
        std::printf("\nlast log lines\n");
        for (size_t i = logs.size() > 5 ? logs.size() - 5 : 0; i < logs.size(); ++i)
            std::printf("  [%s] %s\n", logs[i].level.c_str(), logs[i].text.c_str());
    }
    return 0;
}

int compareCommand(const Args& args) {
    const Parsed p = parse(args, {"db"}, {"all"});
    if (p.positional.size() < 2) fail("compare needs at least two RUNs");
    store::Store db(dbPath(p), store::Store::Access::Read);
    std::vector<store::RunInfo> runs;
    for (const auto& ref : p.positional) runs.push_back(requireRun(db, ref));
    std::set<std::string> keys;
    std::vector<std::map<std::string, std::string>> params;
    for (const auto& r : runs) {
        params.push_back(db.params(r.id));
        params.back()["method"] = r.method;
        params.back()["seed"] = r.seed ? std::to_string(*r.seed) : "-";
        for (const auto& [k, v] : params.back()) keys.insert(k);
    }
    std::vector<std::string> header = {"config key"};
    for (const auto& r : runs) header.push_back(cat(r.id, " ", r.name));
    std::vector<std::vector<std::string>> rows = {header};
    for (const auto& k : keys) {
        std::vector<std::string> row = {k};
        std::set<std::string> distinct;
        for (const auto& pr : params) {
            const auto it = pr.find(k);
            row.push_back(it == pr.end() ? "(unset)" : it->second);
            distinct.insert(row.back());
        }
        if (distinct.size() > 1 || p.has("all")) rows.push_back(row);
    }
    if (rows.size() == 1) rows.push_back({"(no config key differs)"});
    printTable(rows);

    std::set<std::string> metricKeys;
    for (const auto& r : runs)
        for (const auto& k : db.metricKeys(r.id)) metricKeys.insert(k);
    std::vector<std::string> mheader = {"metric (final / min / max)"};
    for (const auto& r : runs) mheader.push_back(cat(r.id, " ", r.name));
    std::vector<std::vector<std::string>> mrows = {mheader};
    for (const auto& k : metricKeys) {
        std::vector<std::string> row = {k};
        for (const auto& r : runs) {
            const auto series = db.metric(r.id, k);
            if (series.empty()) {
                row.push_back("-");
                continue;
            }
            double lo = INFINITY, hi = -INFINITY;
            for (const auto& pt : series)
                if (!std::isnan(pt.value)) lo = std::min(lo, pt.value), hi = std::max(hi, pt.value);
            row.push_back(number(series.back().value) + " / " + number(lo) + " / " + number(hi));
        }
        mrows.push_back(row);
    }
    std::cout << "\n";
    printTable(mrows);
    std::vector<std::string> srow = {"status, duration"};
    for (const auto& r : runs)
        srow.push_back(store::statusName(r.status) + ", " + durationText(runSeconds(r)));
    printTable({srow});
    return 0;
}

int exportCommand(const Args& args) {
    const Parsed p = parse(args, {"db", "csv", "json"}, {});
    if (p.positional.empty() || (p.has("csv") == p.has("json")))
        fail("export needs RUN... and one of --csv DIR or --json DIR");
    store::Store db(dbPath(p), store::Store::Access::Read);
    const std::filesystem::path dir = p.has("csv") ? p.get("csv", "") : p.get("json", "");
    std::filesystem::create_directories(dir);
    for (const auto& ref : p.positional) {
        const auto r = requireRun(db, ref);
        const std::string base = cat("run-", r.id, "-", r.uuid.substr(0, 8));
        if (p.has("csv")) {
            const auto file = dir / (base + ".csv");
            std::ofstream out(file);
            out << "run_id,run_name,key,step,wall_ms,value\n";
            for (const auto& k : db.metricKeys(r.id))
                for (const auto& pt : db.metric(r.id, k))
                    out << r.id << "," << csvField(r.name) << "," << csvField(k) << "," << pt.step << "," << pt.wallMs
                        << "," << store::exactNumberText(pt.value) << "\n";
            if (!out) fail(file.string(), ": cannot write");
            std::printf("wrote %s\n", file.string().c_str());
        } else {
            json j;
            j["id"] = r.id;
            j["uuid"] = r.uuid;
            j["name"] = r.name;
            j["method"] = r.method;
            j["status"] = store::statusName(r.status);
            j["config"] = r.config;
            j["seed"] = r.seed ? json(*r.seed) : json(nullptr);
            j["git_commit"] = r.gitCommit;
            j["git_dirty"] = r.gitDirty;
            j["command_line"] = r.commandLine;
            j["params"] = db.params(r.id);
            json metrics = json::object();
            for (const auto& k : db.metricKeys(r.id)) {
                json series = json::array();
                for (const auto& pt : db.metric(r.id, k))  // NaN/inf as strings: JSON has none
                    series.push_back({pt.step, pt.wallMs,
                                      std::isfinite(pt.value) ? json(pt.value) : json(store::exactNumberText(pt.value))});
                metrics[k] = series;
            }
            j["metrics"] = metrics;
            const auto file = dir / (base + ".json");
            std::ofstream out(file);
            out << j.dump(1) << "\n";
            if (!out) fail(file.string(), ": cannot write");
            std::printf("wrote %s\n", file.string().c_str());
        }
    }
    return 0;
}

int rmCommand(const Args& args) {
    const Parsed p = parse(args, {"db"}, {"force"});
    if (p.positional.empty()) fail("rm needs RUN...");
    store::Store db(dbPath(p));
    std::vector<store::RunInfo> runs;  // every reference checked before anything is deleted
    for (const auto& ref : p.positional) runs.push_back(requireRun(db, ref));
    for (const auto& r : runs) {
        const bool live = r.status == store::RunStatus::Running || r.status == store::RunStatus::Queued;
        if (!live) continue;
        if (!p.has("force"))
            fail("run ", r.id, " (", r.name, ") is ", store::statusName(r.status), " in process ", r.pid, " on ",
                 r.host, "; stop it first, or `frugal rm --force` cancels it (SIGTERM) and deletes it once "
                 "it has stopped");
        char host[256] = {};
        gethostname(host, sizeof host - 1);
        if (r.host != host)
            fail("run ", r.id, " (", r.name, ") is running on ", r.host, ", not on this machine; stop it there");
        if (::kill(static_cast<pid_t>(r.pid), SIGTERM) != 0 && errno != ESRCH)
            fail("cannot stop process ", r.pid, " of run ", r.id, ": ", std::strerror(errno));
        std::fprintf(stderr, "cancelling run %lld (process %lld) ...\n", static_cast<long long>(r.id),
                     static_cast<long long>(r.pid));
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
        for (;;) {
            const auto now = db.run(r.id);
            if (!now || (now->status != store::RunStatus::Running && now->status != store::RunStatus::Queued))
                break;
            if (::kill(static_cast<pid_t>(r.pid), 0) != 0) break;  // gone without a status
            if (std::chrono::steady_clock::now() > deadline)
                fail("run ", r.id, " (process ", r.pid, ") did not stop within 60 s of SIGTERM; nothing deleted");
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
    }
    for (const auto& r : runs) {
        const auto folder = run::deleteRunAndFolder(db, r.id);
        std::printf("deleted run %lld (%s)%s\n", static_cast<long long>(r.id), r.name.c_str(),
                    folder.empty() ? "" : cat(" and its folder ", std::filesystem::absolute(folder).string()).c_str());
    }
    return 0;
}

int mergeCommand(const Args& args) {
    const Parsed p = parse(args, {"db"}, {});
    if (p.positional.size() != 1) fail("merge needs one OTHER.db");
    store::Store db(dbPath(p));
    const int64_t added = db.merge(p.positional[0]);
    std::printf("merged %lld new run(s) from %s into %s\n", static_cast<long long>(added),
                p.positional[0].c_str(), db.path().string().c_str());
    return 0;
}

}  // namespace frugal::app
