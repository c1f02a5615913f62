// The commands that run: run (one config, a sweep, a resume), prune, eval, pretrain (each a stored
// run) and replay. The commands that read the database: db_commands.cpp.

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
#include <optional>
#include <sstream>
#include <thread>

#include "cli_args.h"
#include "cli_output.h"
#include "key_flags.h"
#include "commands.h"
#include "common/error.h"
#include "common/files.h"
#include "common/format.h"
#include "run/data_parallel.h"
#include "run/jobs.h"
#include "run/method_registry.h"
#include "run/provenance.h"
#include "run/runner.h"
#include "run/tools.h"
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
    if (!info)  // deleted meanwhile (frugal rm --force)
        std::fprintf(stderr, "run %lld %s, and has been deleted from %s\n", static_cast<long long>(outcome.runId),
                     store::statusName(outcome.status).c_str(), db.path().string().c_str());
    else if (!outcome.statusStored)
        std::fprintf(stderr, "run %lld (%s) %s in %s; its status could not be stored in %s\n",
                     static_cast<long long>(outcome.runId), info->name.c_str(),
                     store::statusName(outcome.status).c_str(), durationText(runSeconds(*info)).c_str(),
                     db.path().string().c_str());
    else
        std::fprintf(stderr, "run %lld (%s) %s in %s; stored in %s\n",
                     static_cast<long long>(outcome.runId), info->name.c_str(),
                     store::statusName(outcome.status).c_str(), durationText(runSeconds(*info)).c_str(),
                     db.path().string().c_str());
    if (outcome.status == store::RunStatus::Finished) return 0;
    if (!outcome.error.empty()) std::fprintf(stderr, "%s\n", outcome.error.c_str());
    if (outcome.status == store::RunStatus::Cancelled)
        return signal == SIGTERM ? 143 : signal == SIGINT ? 130 : 1;
    return outcome.badInput ? 2 : 1;  // bad input exits 2, as when it is refused before the run
}

// The run as stored at its start: with --tag, tagged from then on (Runs and `list --filter tag=`
// find it while it runs).
store::NewRun newRun(const Parsed& p, const run::PreparedRun& prepared,
                     const std::vector<std::string>& argv) {
    store::NewRun spec = run::newRunFor(prepared, run::collectProvenance(argv, run::sourceTree().string()),
                                        p.get("name", ""), p.get("experiment", "default"));
    if (p.has("tag")) spec.tags.push_back(p.get("tag", ""));
    return spec;
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
    const int64_t parallel = p.getCount("jobs", 1, 1);
    const std::filesystem::path config = p.positional[0];
    const auto grid = run::sweepGrid(std::vector<std::string>(p.positional.begin() + 1, p.positional.end()));
    std::vector<run::SweepJob> jobs;  // all validated before the first run starts
    std::vector<std::string> labels;
    for (const auto& combo : grid) {
        const run::PreparedRun prepared = run::prepareRun(config, combo, p.get("out", ""));
        // named by what differs ("lr=3e-4"); the config is the run's experiment, its params every key
        std::string label = run::sweepName(combo, grid, p.get("name", ""));
        if (label.empty()) label = config.stem().string();
        store::NewRun spec = newRun(p, prepared, argv);
        spec.name = label;
        if (!p.has("experiment")) spec.experiment = config.stem().string();
        jobs.push_back({spec, prepared.body});
        labels.push_back(label);
    }
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
            std::lock_guard<std::mutex> lock(outMutex);
            std::fprintf(stderr, "run %lld (%s): %s%s%s\n", static_cast<long long>(outcome.runId),
                         labels[i].c_str(), store::statusName(outcome.status).c_str(),
                         outcome.error.empty() ? "" : ": ", outcome.error.c_str());
        });
    if (stop.stopRequested()) return stop.signal() == SIGTERM ? 143 : 130;
    int code = 0;
    for (const auto& o : outcomes)
        if (o.status != store::RunStatus::Finished) code = std::max(code, o.badInput ? 2 : 1);
    return code;
}

}  // namespace

namespace {
// A run's outcome and the signal that stopped it (0: none).
struct Executed {
    run::RunOutcome outcome;
    int signal = 0;
};
// OUT: where the run's log lines go (stdout; stderr for a command whose stdout is its result).
// PARENT: the run's parent when the command knows it (else --parent, if given).
Executed executeRun(const Parsed& p, const run::PreparedRun& prepared, const std::vector<std::string>& argv,
                    store::Store& db, FILE* out = stdout, std::optional<int64_t> parent = std::nullopt);
int executeRun(const Parsed& p, const run::PreparedRun& prepared, const std::vector<std::string>& argv);
int executeDistributed(const Parsed& p, const run::PreparedRun& prepared, const std::vector<std::string>& argv);
}  // namespace

int runCommand(const Args& rawArgs, const std::vector<std::string>& argv) {
    Args args;
    bool multirun = false;
    for (const auto& a : rawArgs) {
        if (a == "-m" || a == "--multirun") multirun = true;
        else args.push_back(a);
    }
    const Parsed p = parse(args, {"db", "name", "experiment", "out", "tag", "resume", "jobs", "parent"},
                           {"print-config", "quiet", "force"});
    if ((p.has("resume") || multirun) && run::DataParallel::requested())
        fail("run: ", p.has("resume") ? "--resume" : "a sweep (-m)", " does not run data parallel; unset "
             "RANK and WORLD_SIZE (or run it outside frugal launch / srun / mpirun)");
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
    if (run::DataParallel::requested())
        return executeDistributed(p, run::prepareRun(config, overrides, p.get("out", ""), false, p.has("force")), argv);
    return executeRun(p, run::prepareRun(config, overrides, p.get("out", ""), false, p.has("force")), argv);
}

// frugal prune --model DIR --method M --sparsity S [--KEY VALUE ...] [--out DIR] [KEY=VALUE ...]:
// method = "prune" with these keys, stored as a run like `frugal run` would. Every [prune] key
// its reader declares is a flag (KeyFlags).
int pruneCommand(const Args& args, const std::vector<std::string>& argv) {
    const KeyFlags keys("prune", "prune");
    const Parsed p = parse(args, keys.names({"db", "name", "experiment", "out", "tag", "parent"}),
                           {"print-config", "quiet"});
    std::vector<std::string> overrides = keys.overrides(p);
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
    const std::vector<std::string> runFlags = {"db", "name", "experiment", "tag", "device"};
    std::vector<std::string> flags = task ? std::vector<std::string>{"model", "task", "template", "labels",
                                                                     "tokenizer", "limit", "shots", "shots-from", "seed"}
                                          : std::vector<std::string>{"model", "text", "seq-len", "tokenizer",
                                                                     "batch", "limit-windows"};
    flags.insert(flags.end(), runFlags.begin(), runFlags.end());
    const Parsed p = parse(Args(args.begin() + 1, args.end()), flags, {"json", "quiet"});
    if (!p.positional.empty()) fail("eval ", args[0], ": unexpected argument '", p.positional[0], "'");
    // each flag sets the eval key its reader declares (KeyFlags); --task is eval.tasks' one item
    const KeyFlags keys("eval", "eval");
    std::vector<std::string> o;
    for (const char* flag : {"model", "tokenizer", "template", "labels", "shots-from", "text", "device"})
        if (p.has(flag)) o.push_back(keys.overrideFor(flag, p.get(flag, "")));
    if (task) {
        if (!p.has("task"))
            fail("eval task needs --task NAME|FILE (built-in: sentiment, spam; NAME:dev for a split)"
                 " and, for a file, --template \"{text} ... {a|b}\" --labels A,B");
        o.push_back("eval.tasks=" + tomlList({p.get("task", "")}));  // one task, whatever its name holds
        // a flag given is a limit: 0 or less is an error (the config's eval.limit = 0 means all)
        if (p.has("limit")) o.push_back(keys.overrideFor("limit", cat(p.getCount("limit", 0, 1))));
        if (p.has("shots")) o.push_back(keys.overrideFor("shots", cat(p.getCount("shots", 0, 0))));
        if (p.has("seed")) o.push_back(keys.overrideFor("seed", cat(p.getCount("seed", 0, 0))));
    } else {
        if (!p.has("text") || !p.has("seq-len"))
            fail("eval ppl needs --text FILE --seq-len N (and --model DIR, default the built-in ",
                 run::builtinModelName(), ")");
        o.push_back(keys.overrideFor("seq-len", cat(p.getCount("seq-len", 0, 2))));
        o.push_back(keys.overrideFor("batch", cat(p.getCount("batch", 1, 1))));
        if (p.has("limit-windows"))
            o.push_back(keys.overrideFor("limit-windows", cat(p.getCount("limit-windows", 0, 1))));
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
    const KeyFlags keys("pretrain", "train");  // every [train] key is a flag: --steps, --lr, ...
    const Parsed p = parse(args, keys.names({"out", "db", "name", "experiment", "tag"}), {"quiet", "print-config"});
    if (p.positional.size() != 1) fail("pretrain needs exactly one CONFIG.toml");
    if (p.has("steps") && p.getInt("steps", 0) < 1) fail("--steps expects a positive count, got ", p.getInt("steps", 0));
    const std::vector<std::string> overrides = keys.overrides(p);
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
                    store::Store& db, FILE* out, std::optional<int64_t> parent) {
    if (run::DataParallel::requested())  // N copies would store N runs and share their output folders
        fail("only `frugal run CONFIG` runs data parallel (zo, mezo, landscape); this command runs as one "
             "process: unset RANK and WORLD_SIZE (or run it outside frugal launch / srun / mpirun)");
    store::NewRun spec = newRun(p, prepared, argv);
    if (p.has("parent")) spec.parentId = requireRun(db, p.get("parent", "")).id;
    if (parent) spec.parentId = parent;
    run::StopToken stop;
    SignalScope signals(stop);
    Progress progress(p.has("quiet"), out);
    const run::RunOutcome outcome =
        run::runMethod(db, spec, prepared.body, stop, &progress, run::artifactRoot(db.path()));
    progress.finish();
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

// One process of a data-parallel run (RANK/WORLD_SIZE or a launcher's variables set): process 0
// runs it as a stored run, the others follow it (run/data_parallel.h).
int executeDistributed(const Parsed& p, const run::PreparedRun& prepared, const std::vector<std::string>& argv) {
    if (p.has("print-config")) return executeRun(p, prepared, argv);
    const run::Provenance provenance = run::collectProvenance(argv, run::sourceTree().string());
    const auto world = run::DataParallel::join(prepared, provenance.gitCommit, provenance.gitDirty);
    run::StopToken stop;
    SignalScope signals(stop);
    if (world->rank() != 0) return world->follow(prepared.body, stop);
    std::optional<store::Store> db;
    run::RunOutcome outcome;
    try {  // whatever fails here, the other processes are told, not left waiting
        db.emplace(dbPath(p));
        store::NewRun runSpec = run::newRunFor(prepared, provenance, p.get("name", ""), p.get("experiment", "default"));
        world->annotate(runSpec);
        if (p.has("tag")) runSpec.tags.push_back(p.get("tag", ""));
        if (p.has("parent")) runSpec.parentId = requireRun(*db, p.get("parent", "")).id;
        Progress progress(p.has("quiet"));
        outcome = run::runMethod(*db, runSpec, world->lead(prepared.body), stop, &progress,
                                 run::artifactRoot(db->path()));
        progress.finish();
    } catch (const std::exception& e) {
        world->finish(true, cat("rank 0 of ", world->size(), ": ", e.what()));
        throw;
    }
    store::Store& store = *db;
    const std::string others = world->finish(outcome.status == store::RunStatus::Failed, outcome.error);
    const int code = finishRun(store, outcome, stop.signal());
    if (others.empty()) return code;
    std::fprintf(stderr, "after the run: %s\n", others.c_str());  // this process's run stands as stored
    return code == 0 ? 1 : code;
}

}  // namespace

int replayCommand(const Args& args) {
    const Parsed p = parse(args, {"db", "out", "step", "device"}, {});
    if (p.positional.size() != 1 || !p.has("out"))
        fail("replay needs one RUN (id, uuid or name) and --out DIR [--step N] [--device D]");
    store::Store db(dbPath(p), store::Store::Access::Read);
    const auto r = requireRun(db, p.positional[0]);
    std::string trajectory;
    for (const auto& a : db.artifacts(r.id))
        if (a.kind == "trajectory") trajectory = a.path;
    // a run killed before it registered its trajectory: the file grows as its steps are stored
    if (const auto grown = run::runArtifactDir(db.path(), r.uuid) / "trajectory.csv";
        trajectory.empty() && (r.method == "zo" || r.method == "mezo") && std::filesystem::exists(grown))
        trajectory = grown.string();
    if (trajectory.empty())
        fail("run ", r.id, " (", r.method, ") has no trajectory artifact; only zeroth-order runs "
             "(method zo or mezo) can be replayed");
    const std::filesystem::path out = p.get("out", "");
    const int64_t untilStep = p.has("step") ? p.getInt("step", 0) : -1;
    if (p.has("step") && untilStep < 0) fail("--step must be 0 or more, got ", untilStep);
    const int64_t applied = run::replayRun(r.method, r.config, trajectory, out, untilStep, p.get("device", ""));
    std::printf("rebuilt run %lld's weights after %lld steps of %s into %s\n",
                static_cast<long long>(r.id), static_cast<long long>(applied), trajectory.c_str(),
                out.c_str());
    return 0;
}

// frugal landscape RUN [--step N] [--dims D] [--points P] [KEY=VALUE...]: a landscape run (child
// of RUN) around RUN's weights; with --step, before step N of a zeroth-order run and along that
// step's direction.
int landscapeCommand(const Args& args, const std::vector<std::string>& argv) {
    const Parsed p = parse(args, {"db", "name", "experiment", "tag", "step", "dims", "points"}, {"print-config", "quiet"});
    if (p.positional.empty()) fail("landscape needs one RUN (id, uuid or name) [--step N] [KEY=VALUE...]");
    store::Store db(dbPath(p));
    const auto r = requireRun(db, p.positional[0]);
    json request = {{"method", r.method},         {"params", db.params(r.id)},
                    {"config", r.config},         {"run_id", r.id},
                    {"artifact_root", run::artifactRoot(db.path()).string()},
                    {"dims", p.getCount("dims", 2, 1)}, {"points", p.getCount("points", 51, 2)},
                    {"artifacts", json::array()}};
    if (p.has("step")) request["step"] = p.getCount("step", 0, 1);
    for (const auto& a : db.artifacts(r.id)) request["artifacts"].push_back({{"kind", a.kind}, {"path", a.path}});
    const json of = run::landscapeOfRun(request);
    std::vector<std::string> overrides;
    for (size_t i = 1; i < p.positional.size(); ++i) {
        const std::string& o = p.positional[i];
        if (o.find('=') == std::string::npos) fail("landscape: '", o, "' is not an override; expected KEY=VALUE");
        overrides.push_back(o.rfind("landscape.", 0) == 0 || o.rfind("peft.", 0) == 0 ? o : "landscape." + o);
    }
    const run::PreparedRun prepared =
        run::prepareRunText(of["config"].get<std::string>(), cat("the landscape of run ", r.id), overrides, "");
    if (p.has("print-config")) {
        std::cout << prepared.resolvedConfig;
        return 0;
    }
    std::fprintf(stderr, "%s\n", of["note"].get<std::string>().c_str());
    const Executed e = executeRun(p, prepared, argv, db, stderr, r.id);
    return finishRun(db, e.outcome, e.signal);
}

}  // namespace frugal::app
