// The commands over the experiment database: run, prune, eval, pretrain (each a stored run), list,
// show, compare, export, rm, merge.

#include <unistd.h>

#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <set>
#include <mutex>
#include <sstream>
#include <thread>

#include "cli_args.h"
#include "commands.h"
#include "common/error.h"
#include "common/files.h"
#include "run/jobs.h"
#include "run/method_registry.h"
#include "run/provenance.h"
#include "run/runner.h"
#include "run/workspace.h"
#include "store/run_filter.h"
#include "store/store.h"

namespace frugal::app {

namespace {
bool g_verbose = false;
}  // namespace

void setVerbose(bool on) { g_verbose = on; }
bool verbose() { return g_verbose; }

namespace {

using json = nlohmann::ordered_json;

// V as a TOML string, for KEY=VALUE overrides built from flags.
std::string tomlString(const std::string& v) {
    std::string out = "\"";
    for (char c : v) out += (c == '"' || c == '\\') ? std::string("\\") + c : std::string(1, c);
    return out + "\"";
}

std::string tomlList(const std::vector<std::string>& items) {
    std::string out = "[";
    for (const auto& item : items) out += (out.size() > 1 ? ", " : "") + tomlString(item);
    return out + "]";
}

std::filesystem::path dbPath(const Parsed& p) {
    return p.has("db") ? std::filesystem::path(p.get("db", "")) : store::Store::defaultPath();
}

store::RunInfo requireRun(const store::Store& s, const std::string& ref) {
    const auto r = s.findRun(ref);
    if (!r) fail("no run '", ref, "' in ", s.path().string(), " (see frugal list)");
    return *r;
}

std::string timeText(int64_t ms) {
    if (ms <= 0) return "-";
    const std::time_t t = static_cast<std::time_t>(ms / 1000);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M", std::localtime(&t));
    return buf;
}

std::string durationText(double seconds) {
    if (!(seconds >= 0)) return "-";
    char buf[32];
    const auto s = static_cast<long long>(seconds + 0.5);
    if (s < 60) std::snprintf(buf, sizeof buf, "%llds", s);
    else if (s < 3600) std::snprintf(buf, sizeof buf, "%lldm%02llds", s / 60, s % 60);
    else std::snprintf(buf, sizeof buf, "%lldh%02lldm", s / 3600, (s / 60) % 60);
    return buf;
}

std::string number(double v) { return store::numberText(v); }

double runSeconds(const store::RunInfo& r) {
    if (r.startMs <= 0) return -1;
    const int64_t end = r.endMs > 0 ? r.endMs : r.heartbeatMs;
    return static_cast<double>(end - r.startMs) / 1000.0;
}

// Prints rows as an aligned table (first row: header).
void printTable(const std::vector<std::vector<std::string>>& rows) {
    std::vector<size_t> width;
    for (const auto& row : rows)
        for (size_t i = 0; i < row.size(); ++i) {
            if (width.size() <= i) width.push_back(0);
            width[i] = std::max(width[i], row[i].size());
        }
    for (const auto& row : rows) {
        std::string line;
        for (size_t i = 0; i < row.size(); ++i) {
            line += row[i];
            if (i + 1 < row.size()) line += std::string(width[i] - row[i].size() + 2, ' ');
        }
        std::cout << line << "\n";
    }
}

// ---- run ----------------------------------------------------------------------------------------

run::StopToken* g_stop = nullptr;  // for the signal handler only

extern "C" void onSignal(int signal) {
    if (g_stop) g_stop->requestStop(signal);
}

// A progress bar on a terminal (redrawn at most 10 times a second, log lines printed above it);
// plain log lines otherwise.
// Debug lines (the run's numeric runtime) only with --verbose. OUT: stdout, or stderr for a
// command whose stdout is its result (frugal eval).
class Progress : public run::Observer {
public:
    explicit Progress(bool quiet, FILE* out = stdout)
        : m_out(out), m_tty(isatty(fileno(out)) != 0), m_quiet(quiet) {}
    void onLog(const std::string& level, const std::string& text) override {
        if ((m_quiet && level == "info") || (level == "debug" && !verbose())) return;
        if (m_tty) std::fprintf(m_out, "\r\033[K");
        std::fprintf(m_out, "%s%s\n", level == "info" || level == "debug" ? "" : (level + ": ").c_str(),
                     text.c_str());
        if (m_tty && m_total > 0) draw();
        std::fflush(m_out);
    }
    void onProgress(int64_t step, int64_t total, const std::string& status) override {
        const auto now = std::chrono::steady_clock::now();
        if (m_total == 0) {  // the first report: the rate counts from here
            m_start = now;
            m_firstStep = step;
        }
        m_step = step;
        m_total = total;
        m_status = status;
        if (!m_tty || (now - m_lastDraw < std::chrono::milliseconds(100) && step != total)) return;
        m_lastDraw = now;
        draw();
    }
    void finish() {
        if (m_tty && m_total > 0) std::fprintf(m_out, "\n");
        std::fflush(m_out);
    }

private:
    void draw() {
        const double elapsed =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - m_start).count();
        const double rate =
            elapsed > 0.2 ? static_cast<double>(m_step - m_firstStep) / elapsed : 0;
        const double eta = rate > 0 ? static_cast<double>(m_total - m_step) / rate : -1;
        const int width = 30;
        const int filled = static_cast<int>(width * m_step / std::max<int64_t>(m_total, 1));
        std::fprintf(m_out, "\r\033[K[%s%s] %lld/%lld  %.2f it/s  ETA %s  %s",
                    std::string(static_cast<size_t>(filled), '#').c_str(),
                    std::string(static_cast<size_t>(width - filled), '.').c_str(),
                    static_cast<long long>(m_step), static_cast<long long>(m_total), rate,
                    durationText(eta).c_str(), m_status.c_str());
        std::fflush(m_out);
    }
    FILE* m_out;
    bool m_tty, m_quiet;
    int64_t m_step = 0, m_total = 0, m_firstStep = 0;
    std::string m_status;
    std::chrono::steady_clock::time_point m_start, m_lastDraw;
};

struct SignalScope {
    explicit SignalScope(run::StopToken& stop) {
        g_stop = &stop;
        std::signal(SIGINT, onSignal);
        std::signal(SIGTERM, onSignal);
    }
    ~SignalScope() {
        std::signal(SIGINT, SIG_DFL);
        std::signal(SIGTERM, SIG_DFL);
        g_stop = nullptr;
    }
};

int finishRun(store::Store& db, const run::RunOutcome& outcome, int signal) {
    const auto info = db.run(outcome.runId);
    std::fprintf(stderr, "run %lld (%s) %s in %s; stored in %s\n",
                 static_cast<long long>(outcome.runId), info->name.c_str(),
                 store::statusName(outcome.status).c_str(), durationText(runSeconds(*info)).c_str(),
                 db.path().string().c_str());
    if (outcome.status == store::RunStatus::Finished) return 0;
    if (!outcome.error.empty()) std::fprintf(stderr, "%s\n", outcome.error.c_str());
    if (outcome.status == store::RunStatus::Cancelled)
        return signal == SIGTERM ? 143 : signal == SIGINT ? 130 : 1;
    return 1;
}

store::NewRun newRun(const Parsed& p, const run::PreparedRun& prepared,
                     const std::vector<std::string>& argv) {
    return run::newRunFor(prepared, run::collectProvenance(argv, run::sourceTree().string()), p.get("name", ""),
                          p.get("experiment", "default"));
}

// frugal run --resume RUN: the run's own resolved config, from its last checkpoint.
int resumeRun(const Parsed& p) {
    store::Store db(dbPath(p));
    const auto info = requireRun(db, p.get("resume", ""));
    run::StopToken stop;
    SignalScope signals(stop);
    Progress progress(p.has("quiet"));
    const run::RunOutcome outcome = run::resumeStoredRun(db, info.id, stop, &progress);
    progress.finish();
    return finishRun(db, outcome, stop.signal());
}

// Line-oriented output for runs in parallel: each line prefixed with the run's name.
class PrefixedLog : public run::Observer {
public:
    PrefixedLog(std::string name, bool quiet, std::mutex& out)
        : m_name(std::move(name)), m_quiet(quiet), m_out(out) {}
    void onLog(const std::string& level, const std::string& text) override {
        if (m_quiet && level == "info") return;
        std::lock_guard<std::mutex> lock(m_out);
        std::printf("[%s] %s\n", m_name.c_str(), text.c_str());
        std::fflush(stdout);
    }
    void onProgress(int64_t, int64_t, const std::string&) override {}

private:
    std::string m_name;
    bool m_quiet;
    std::mutex& m_out;
};

// frugal run -m CONFIG a=1,2 b=x,y [--jobs N]: the grid, every combination validated first.
int sweep(const Parsed& p, const std::vector<std::string>& argv) {
    if (p.positional.empty()) fail("run -m needs a CONFIG.toml and KEY=V1,V2,... overrides");
    const std::filesystem::path config = p.positional[0];
    const auto grid = run::sweepGrid(std::vector<std::string>(p.positional.begin() + 1, p.positional.end()));
    std::vector<run::SweepJob> jobs;  // all validated before the first run starts
    std::vector<std::string> labels;
    for (const auto& combo : grid) {
        const run::PreparedRun prepared = run::prepareRun(config, combo, p.get("out", ""));
        std::string label = p.get("name", config.stem().string());
        for (const auto& o : combo) label += " " + o;
        store::NewRun spec = newRun(p, prepared, argv);
        spec.name = label;
        if (!p.has("experiment")) spec.experiment = config.stem().string();
        jobs.push_back({spec, prepared.body});
        labels.push_back(label);
    }
    const int64_t parallel = std::max<int64_t>(1, p.getInt("jobs", 1));
    store::Store db(dbPath(p));
    std::fprintf(stderr, "sweep: %zu runs (%lld at a time) into %s\n", grid.size(),
                 static_cast<long long>(parallel), db.path().string().c_str());
    run::StopToken stop;
    SignalScope signals(stop);
    std::mutex outMutex;
    std::vector<std::unique_ptr<PrefixedLog>> logs;
    for (const auto& label : labels) logs.push_back(std::make_unique<PrefixedLog>(label, p.has("quiet"), outMutex));
    const auto outcomes = run::runSweep(
        db, jobs, parallel, stop, [&](size_t i) { return logs[i].get(); },
        [&](size_t i, const run::RunOutcome& outcome) {
            if (p.has("tag")) db.addTag(outcome.runId, p.get("tag", ""));
            std::lock_guard<std::mutex> lock(outMutex);
            std::fprintf(stderr, "run %lld (%s): %s%s%s\n", static_cast<long long>(outcome.runId),
                         labels[i].c_str(), store::statusName(outcome.status).c_str(),
                         outcome.error.empty() ? "" : ": ", outcome.error.c_str());
        });
    if (stop.stopRequested()) return stop.signal() == SIGTERM ? 143 : 130;
    for (const auto& o : outcomes)
        if (o.status != store::RunStatus::Finished) return 1;
    return 0;
}

}  // namespace

namespace {
// A run's outcome and the signal that stopped it (0: none).
struct Executed {
    run::RunOutcome outcome;
    int signal = 0;
};
// OUT: where the run's log lines go (stdout; stderr for a command whose stdout is its result).
Executed executeRun(const Parsed& p, const run::PreparedRun& prepared, const std::vector<std::string>& argv,
                    store::Store& db, FILE* out = stdout);
int executeRun(const Parsed& p, const run::PreparedRun& prepared, const std::vector<std::string>& argv);
}  // namespace

int runCommand(const Args& rawArgs, const std::vector<std::string>& argv) {
    Args args;
    bool multirun = false;
    for (const auto& a : rawArgs) {
        if (a == "-m" || a == "--multirun") multirun = true;
        else args.push_back(a);
    }
    const Parsed p = parse(args, {"db", "name", "experiment", "out", "tag", "resume", "jobs", "parent"},
                           {"print-config", "quiet"});
    if (p.has("resume")) return resumeRun(p);
    if (multirun) return sweep(p, argv);
    if (p.positional.empty()) fail("run needs a CONFIG.toml (and optional KEY=VALUE overrides)");
    const std::filesystem::path config = p.positional[0];
    std::vector<std::string> overrides;
    for (size_t i = 1; i < p.positional.size(); ++i) {
        if (p.positional[i].find('=') == std::string::npos)
            fail("run: '", p.positional[i], "' is not an override; expected KEY=VALUE after the config");
        overrides.push_back(p.positional[i]);
    }
    return executeRun(p, run::prepareRun(config, overrides, p.get("out", "")), argv);
}

// frugal prune --model DIR --method M --sparsity S [--calib FILE] [--out DIR] [KEY=VALUE ...]:
// method = "prune" with these keys, stored as a run like `frugal run` would.
int pruneCommand(const Args& args, const std::vector<std::string>& argv) {
    const Parsed p = parse(args, {"db", "name", "experiment", "out", "tag", "parent", "model", "method", "sparsity",
                                  "calib", "masks", "eval-text"},
                           {"print-config", "quiet"});
    std::vector<std::string> overrides;
    for (const auto& [flag, key] : std::vector<std::pair<std::string, std::string>>{
             {"model", "model"}, {"method", "method"}, {"sparsity", "sparsity"}, {"calib", "calib"},
             {"masks", "masks"}, {"eval-text", "eval_text"}})
        if (p.has(flag)) overrides.push_back("prune." + key + "=" + tomlString(p.get(flag, "")));
    if (p.has("out")) overrides.push_back("prune.save=true");
    for (const auto& o : p.positional) {
        if (o.find('=') == std::string::npos) fail("prune: '", o, "' is not an override; expected KEY=VALUE");
        overrides.push_back(o.rfind("prune.", 0) == 0 ? o : "prune." + o);
    }
    return executeRun(p, run::prepareRunText("method = \"prune\"\n", "frugal prune", overrides, p.get("out", "")),
                      argv);
}

// The results.json of a finished evaluation run.
json evalResults(const store::Store& db, int64_t runId) {
    for (const auto& a : db.artifacts(runId))
        if (a.kind == "results") return json::parse(readFile(a.path, "evaluation results"));
    fail("run ", runId, " has no results.json");
}

// frugal eval task|ppl ...: method = "eval" with these keys, stored as a run; the table (or JSON)
// on stdout, the run's log and its id on stderr.
int evalCommand(const Args& args, const std::vector<std::string>& argv) {
    const bool task = !args.empty() && args[0] == "task";
    if (args.empty() || (!task && args[0] != "ppl")) fail("eval needs a target: eval ppl ... or eval task ...");
    const std::vector<std::string> runFlags = {"db", "name", "experiment", "tag"};
    std::vector<std::string> flags = task ? std::vector<std::string>{"model", "task", "template", "labels",
                                                                     "tokenizer", "limit", "shots", "shots-from", "seed"}
                                          : std::vector<std::string>{"model", "text", "seq-len", "tokenizer",
                                                                     "batch", "limit-windows"};
    flags.insert(flags.end(), runFlags.begin(), runFlags.end());
    const Parsed p = parse(Args(args.begin() + 1, args.end()), flags, {"json", "quiet"});
    if (!p.positional.empty()) fail("eval ", args[0], ": unexpected argument '", p.positional[0], "'");
    std::vector<std::string> o;
    if (p.has("model")) o.push_back("eval.model=" + tomlString(p.get("model", "")));
    if (p.has("tokenizer")) o.push_back("eval.tokenizer=" + tomlString(p.get("tokenizer", "")));
    if (task) {
        if (!p.has("task"))
            fail("eval task needs --task NAME|FILE (built-in: sentiment, spam; NAME:dev for a split)"
                 " and, for a file, --template \"{text} ... {a|b}\" --labels A,B");
        o.push_back("eval.tasks=" + tomlList({p.get("task", "")}));
        if (p.has("template")) o.push_back("eval.template=" + tomlString(p.get("template", "")));
        if (p.has("labels")) {
            std::vector<std::string> labels;
            std::stringstream list(p.get("labels", ""));
            for (std::string label; std::getline(list, label, ',');) labels.push_back(label);
            o.push_back("eval.labels=" + tomlList(labels));
        }
        if (p.has("shots-from")) o.push_back("eval.shots_from=" + tomlString(p.get("shots-from", "")));
        for (const auto& [flag, key] : std::vector<std::pair<const char*, const char*>>{
                 {"limit", "limit"}, {"shots", "shots"}, {"seed", "seed"}})
            if (p.has(flag)) o.push_back(cat("eval.", key, "=", p.getInt(flag, 0)));
    } else {
        if (!p.has("text") || !p.has("seq-len"))
            fail("eval ppl needs --text FILE --seq-len N (and --model DIR, default the built-in ",
                 run::builtinModelName(), ")");
        o.push_back("eval.text=" + tomlString(p.get("text", "")));
        o.push_back(cat("eval.seq_len=", p.getInt("seq-len", 0)));
        o.push_back(cat("eval.batch=", p.getInt("batch", 1)));
        if (p.has("limit-windows")) o.push_back(cat("eval.limit_windows=", p.getInt("limit-windows", 0)));
    }
    const run::PreparedRun prepared = run::prepareRunText("method = \"eval\"\n", "frugal eval", o, "");
    store::Store db(dbPath(p));
    const Executed e = executeRun(p, prepared, argv, db, stderr);
    if (e.outcome.status != store::RunStatus::Finished) return finishRun(db, e.outcome, e.signal);
    const json results = evalResults(db, e.outcome.runId);
    if (task) {
        const json& r = results["tasks"].at(0);
        const auto shots = r["shots"].get<int64_t>();
        const std::string shotsText =
            shots > 0 ? cat(shots, "-shot from ", r["shots_from"].get<std::string>(), " (seed ",
                            r["seed"].get<int64_t>(), ")")
                      : std::string("zero-shot");
        if (p.has("json")) {
            json j = {{"accuracy", r["accuracy"]},
                                {"accuracy_length_normalised", r["accuracy_length_normalised"]},
                                {"accuracy_calibrated", r["accuracy_calibrated"]},
                                {"examples", r["examples"]},
                                {"task", r["task"]},
                                {"file", r["file"]},
                                {"model", results["model"]},
                                {"shots", r["shots"]},
                                {"shots_from", shots > 0 ? r["shots_from"] : json("")},
                                {"seed", r["seed"]},
                                {"template", r["template"]},
                                {"labels", r["labels"]},
                                {"run", e.outcome.runId}};
            std::cout << j.dump() << "\n";
        } else {
            std::printf("accuracy %.4f (%lld examples of %s; length-normalised %.4f; calibrated %.4f; %s, "
                        "log-likelihood of each label's verbaliser in \"%s\")\n",
                        r["accuracy"].get<double>(), r["examples"].get<long long>(),
                        r["file"].get<std::string>().c_str(), r["accuracy_length_normalised"].get<double>(),
                        r["accuracy_calibrated"].get<double>(), shotsText.c_str(),
                        r["template"].get<std::string>().c_str());
        }
    } else {
        const json& r = results["perplexity"];
        if (p.has("json")) {
            json j = r;
            j["run"] = e.outcome.runId;
            std::cout << j.dump() << "\n";
        } else {
            std::printf("perplexity %.4f  (mean loss %.5f nats/token; %s)\n", r["perplexity"].get<double>(),
                        r["mean_loss_nats"].get<double>(), r["protocol"].get<std::string>().c_str());
        }
    }
    return finishRun(db, e.outcome, e.signal);
}

// frugal pretrain CONFIG [--out DIR] [--steps N]: method = "pretrain" as a stored run, the model
// written to --out or the config's output.dir.
int pretrainCommand(const Args& args, const std::vector<std::string>& argv) {
    const Parsed p = parse(args, {"out", "steps", "db", "name", "experiment", "tag"}, {"quiet", "print-config"});
    if (p.positional.size() != 1) fail("pretrain needs exactly one CONFIG.toml");
    std::vector<std::string> overrides;
    if (p.has("steps")) {
        const int64_t steps = p.getInt("steps", 0);
        if (steps < 1) fail("--steps expects a positive count, got ", steps);
        overrides.push_back(cat("train.steps=", steps));
    }
    MethodRequest request;
    request.file = p.positional[0];
    request.text = readFile(request.file, "experiment config");
    request.overrides = overrides;
    request.outDir = p.get("out", "");
    request.configuredOutput = true;
    return executeRun(p, run::prepareRequest(request), argv);
}

namespace {

Executed executeRun(const Parsed& p, const run::PreparedRun& prepared, const std::vector<std::string>& argv,
                    store::Store& db, FILE* out) {
    store::NewRun spec = newRun(p, prepared, argv);
    if (p.has("parent")) spec.parentId = requireRun(db, p.get("parent", "")).id;
    run::StopToken stop;
    SignalScope signals(stop);
    Progress progress(p.has("quiet"), out);
    const run::RunOutcome outcome =
        run::runMethod(db, spec, prepared.body, stop, &progress, run::artifactRoot(db.path()));
    progress.finish();
    if (p.has("tag")) db.addTag(outcome.runId, p.get("tag", ""));
    return {outcome, stop.signal()};
}

int executeRun(const Parsed& p, const run::PreparedRun& prepared, const std::vector<std::string>& argv) {
    if (p.has("print-config")) {
        std::cout << prepared.resolvedConfig;
        return 0;
    }
    store::Store db(dbPath(p));
    const Executed e = executeRun(p, prepared, argv, db);
    return finishRun(db, e.outcome, e.signal);
}

}  // namespace

// ---- list ---------------------------------------------------------------------------------------

int listCommand(const Args& args) {
    const Parsed p = parse(args, {"db", "status", "filter", "limit"}, {"json"});
    store::Store db(dbPath(p));
    const auto terms = p.has("filter") ? store::parseFilter(p.get("filter", "")) : std::vector<store::FilterTerm>{};
    std::optional<store::RunStatus> status;
    if (p.has("status")) status = store::parseStatus(p.get("status", ""));
    const int64_t limit = p.getInt("limit", 0);
    std::vector<std::vector<std::string>> rows = {
        {"id", "status", "name", "method", "start", "duration", "final metrics", "tags"}};
    json out = json::array();
    int64_t shown = 0;
    for (const auto& r : db.runs()) {
        if (status && r.status != *status) continue;
        if (!terms.empty() && !store::runMatches(db, r, terms)) continue;
        if (limit > 0 && shown >= limit) break;
        ++shown;
        std::string metrics;
        json latest = json::object();
        for (const auto& m : db.latestMetrics(r.id)) {
            latest[m.key] = std::isfinite(m.point.value) ? json(m.point.value) : json(number(m.point.value));
            const auto endsWith = [&](const std::string& suffix) {
                return m.key.size() >= suffix.size() &&
                       m.key.compare(m.key.size() - suffix.size(), suffix.size(), suffix) == 0;
            };
            if (m.key == "train/loss" || m.key == "eval/perplexity" || m.key == "held_out/mean" ||
                endsWith("/accuracy"))
                metrics += (metrics.empty() ? "" : " ") + m.key + "=" + number(m.point.value);
        }
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

int replayCommand(const Args& args) {
    const Parsed p = parse(args, {"db", "out", "step"}, {});
    if (p.positional.size() != 1 || !p.has("out"))
        fail("replay needs one RUN (id, uuid or name) and --out DIR [--step N]");
    store::Store db(dbPath(p));
    const auto r = requireRun(db, p.positional[0]);
    std::string trajectory;
    for (const auto& a : db.artifacts(r.id))
        if (a.kind == "trajectory") trajectory = a.path;
    if (trajectory.empty())
        fail("run ", r.id, " (", r.method, ") has no trajectory artifact; only zeroth-order runs "
             "(method zo or mezo) can be replayed");
    const std::filesystem::path out = p.get("out", "");
    const int64_t untilStep = p.has("step") ? p.getInt("step", 0) : -1;
    if (p.has("step") && untilStep < 0) fail("--step must be 0 or more, got ", untilStep);
    const int64_t applied = run::replayRun(r.method, r.config, trajectory, out, untilStep);
    std::printf("rebuilt run %lld's weights after %lld steps of %s into %s\n",
                static_cast<long long>(r.id), static_cast<long long>(applied), trajectory.c_str(),
                out.c_str());
    return 0;
}

int showCommand(const Args& args) {
    const Parsed p = parse(args, {"db"}, {"json"});
    if (p.positional.size() != 1) fail("show needs one RUN (id, uuid or name)");
    store::Store db(dbPath(p));
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
    store::Store db(dbPath(p));
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
    store::Store db(dbPath(p));
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
                    out << r.id << "," << r.name << "," << k << "," << pt.step << "," << pt.wallMs
                        << "," << number(pt.value) << "\n";
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
                                      std::isfinite(pt.value) ? json(pt.value) : json(number(pt.value))});
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
    const Parsed p = parse(args, {"db"}, {});
    if (p.positional.empty()) fail("rm needs RUN...");
    store::Store db(dbPath(p));
    for (const auto& ref : p.positional) {
        const auto r = requireRun(db, ref);
        db.deleteRun(r.id);
        std::printf("deleted run %lld (%s)\n", static_cast<long long>(r.id), r.name.c_str());
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
