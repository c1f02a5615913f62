#include "store/store.h"

#include <signal.h>
#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstring>
#include <fstream>
#include <mutex>
#include <random>
#include <set>
#include <sstream>
#include <thread>
#include <unordered_map>
#include <variant>

#include "common/error.h"

namespace frugal::store {

namespace {

constexpr int kSchemaVersion = 3;
constexpr int64_t kChunkPoints = 4096;  // metric points per stored chunk

// Migration i takes a database from version i to i + 1.
const std::vector<const char*> kMigrations = {
    // 0 -> 1: the base schema
    R"SQL(
CREATE TABLE experiments(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE,
                         created_ms INTEGER NOT NULL);
CREATE TABLE runs(
  id INTEGER PRIMARY KEY, uuid TEXT NOT NULL UNIQUE, name TEXT NOT NULL,
  experiment_id INTEGER NOT NULL REFERENCES experiments(id),
  method TEXT NOT NULL,
  status TEXT NOT NULL CHECK(status IN ('queued','running','finished','failed','cancelled',
                                        'interrupted')),
  created_ms INTEGER NOT NULL, start_ms INTEGER NOT NULL DEFAULT 0,
  end_ms INTEGER NOT NULL DEFAULT 0,
  config TEXT NOT NULL, seed INTEGER,
  git_commit TEXT NOT NULL DEFAULT '', git_dirty INTEGER NOT NULL DEFAULT 0,
  libraries TEXT NOT NULL DEFAULT '{}', hardware TEXT NOT NULL DEFAULT '{}',
  command_line TEXT NOT NULL DEFAULT '', error TEXT NOT NULL DEFAULT '',
  note TEXT NOT NULL DEFAULT '',
  parent_id INTEGER REFERENCES runs(id) ON DELETE SET NULL,
  pid INTEGER NOT NULL DEFAULT 0, host TEXT NOT NULL DEFAULT '',
  process_start TEXT NOT NULL DEFAULT '', heartbeat_ms INTEGER NOT NULL DEFAULT 0);
CREATE INDEX runs_status ON runs(status);
CREATE TABLE params(run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
                    key TEXT NOT NULL, value TEXT NOT NULL,
                    PRIMARY KEY(run_id, key)) WITHOUT ROWID;
CREATE INDEX params_key ON params(key, value);
CREATE TABLE metric_keys(id INTEGER PRIMARY KEY,
                         run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
                         key TEXT NOT NULL, UNIQUE(run_id, key));
-- value NULL means NaN (SQLite stores no NaN); infinities are stored as such
CREATE TABLE metrics(key_id INTEGER NOT NULL REFERENCES metric_keys(id) ON DELETE CASCADE,
                     step INTEGER NOT NULL, wall_ms INTEGER NOT NULL, value REAL,
                     PRIMARY KEY(key_id, step)) WITHOUT ROWID;
CREATE TABLE vectors(run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
                     key TEXT NOT NULL, step INTEGER NOT NULL, shape TEXT NOT NULL,
                     data BLOB NOT NULL, PRIMARY KEY(run_id, key, step)) WITHOUT ROWID;
CREATE TABLE artifacts(id INTEGER PRIMARY KEY,
                       run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
                       kind TEXT NOT NULL, path TEXT NOT NULL, sha256 TEXT NOT NULL,
                       bytes INTEGER NOT NULL, created_ms INTEGER NOT NULL);
CREATE TABLE logs(id INTEGER PRIMARY KEY,
                  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
                  time_ms INTEGER NOT NULL, level TEXT NOT NULL, text TEXT NOT NULL);
CREATE INDEX logs_run ON logs(run_id, id);
CREATE TABLE tags(run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
                  tag TEXT NOT NULL, PRIMARY KEY(run_id, tag)) WITHOUT ROWID;
)SQL",
    // 1 -> 2: the latest point of every metric, for fast listing, filled from existing rows
    R"SQL(
CREATE TABLE latest_metrics(key_id INTEGER PRIMARY KEY
                              REFERENCES metric_keys(id) ON DELETE CASCADE,
                            step INTEGER NOT NULL, wall_ms INTEGER NOT NULL, value REAL);
INSERT INTO latest_metrics(key_id, step, wall_ms, value)
  SELECT m.key_id, m.step, m.wall_ms, m.value FROM metrics m
  JOIN (SELECT key_id, MAX(step) AS step FROM metrics GROUP BY key_id) last
    ON last.key_id = m.key_id AND last.step = m.step;
)SQL",
    // 2 -> 3: metric points packed in chunks of up to 4096, ordered by step and unique per
    // (key, step), so a 1,000,000-point series reads as ~250 blobs instead of a million rows.
    // data: per point little-endian int64 step, int64 wall_ms, float64 value (NaN, inf kept).
    // The rows of `metrics` are moved by Store::Impl::packOldMetrics, then the table is dropped.
    R"SQL(
CREATE TABLE metric_chunks(key_id INTEGER NOT NULL REFERENCES metric_keys(id) ON DELETE CASCADE,
                           first_step INTEGER NOT NULL, last_step INTEGER NOT NULL,
                           count INTEGER NOT NULL, data BLOB NOT NULL,
                           PRIMARY KEY(key_id, first_step)) WITHOUT ROWID;
)SQL",
};

static_assert(sizeof(MetricPoint) == 24, "metric points are packed as int64, int64, float64");

int64_t nowMs() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

std::string readSmallFile(const char* path) {
    std::ifstream in(path);
    std::string s;
    std::getline(in, s);
    return s;
}

std::string hostName() {
    char buf[256] = {};
    if (gethostname(buf, sizeof buf - 1) != 0) return "unknown";
    return buf;
}

// "<boot id>:<start time in clock ticks since boot>" of process PID, or "" when it is gone.
std::string processStart(int64_t pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string stat;
    if (!std::getline(in, stat)) return "";
    const size_t close = stat.rfind(')');  // the command name may hold spaces and parentheses
    if (close == std::string::npos) return "";
    std::istringstream fields(stat.substr(close + 2));
    std::string field;
    for (int i = 3; i <= 22 && fields >> field; ++i) {
        if (i == 22) return readSmallFile("/proc/sys/kernel/random/boot_id") + ":" + field;
    }
    return "";
}

std::string newUuid() {
    std::random_device device;  // identity only: never feeds a metric
    std::mt19937_64 rng((static_cast<uint64_t>(device()) << 32) ^ device() ^
                        static_cast<uint64_t>(nowMs()));
    unsigned char b[16];
    for (auto& x : b) x = static_cast<unsigned char>(rng());
    b[6] = static_cast<unsigned char>((b[6] & 0x0f) | 0x40);
    b[8] = static_cast<unsigned char>((b[8] & 0x3f) | 0x80);
    char out[37];
    std::snprintf(out, sizeof out,
                  "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0],
                  b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13],
                  b[14], b[15]);
    return out;
}

struct DbCloser {
    void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
struct StmtFinalizer {
    void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
};
using Db = std::unique_ptr<sqlite3, DbCloser>;

class Stmt {
public:
    Stmt(sqlite3* db, const std::string& sql, const std::string& file) : m_db(db), m_file(file) {
        sqlite3_stmt* s = nullptr;
        if (sqlite3_prepare_v2(db, sql.c_str(), -1, &s, nullptr) != SQLITE_OK)
            fail(file, ": SQLite cannot prepare \"", sql, "\": ", sqlite3_errmsg(db));
        m_stmt.reset(s);
    }
    Stmt& bind(int i, int64_t v) {
        check(sqlite3_bind_int64(m_stmt.get(), i, v));
        return *this;
    }
    Stmt& bind(int i, const std::string& v) {
        check(sqlite3_bind_text(m_stmt.get(), i, v.data(), static_cast<int>(v.size()),
                                SQLITE_TRANSIENT));
        return *this;
    }
    Stmt& bindReal(int i, double v) {  // NaN -> NULL
        check(std::isnan(v) ? sqlite3_bind_null(m_stmt.get(), i)
                            : sqlite3_bind_double(m_stmt.get(), i, v));
        return *this;
    }
    Stmt& bindNull(int i) {
        check(sqlite3_bind_null(m_stmt.get(), i));
        return *this;
    }
    Stmt& bindBlob(int i, const void* data, size_t bytes) {
        check(sqlite3_bind_blob64(m_stmt.get(), i, data, bytes, SQLITE_TRANSIENT));
        return *this;
    }
    bool step() {  // true while rows come
        const int rc = sqlite3_step(m_stmt.get());
        if (rc == SQLITE_ROW) return true;
        if (rc == SQLITE_DONE) return false;
        fail(m_file, ": SQLite: ", sqlite3_errmsg(m_db), " (", sqlite3_errstr(rc), ")");
    }
    void run() {
        while (step()) {
        }
        reset();
    }
    void reset() {
        sqlite3_reset(m_stmt.get());
        sqlite3_clear_bindings(m_stmt.get());
    }
    int64_t integer(int col) const { return sqlite3_column_int64(m_stmt.get(), col); }
    bool isNull(int col) const { return sqlite3_column_type(m_stmt.get(), col) == SQLITE_NULL; }
    double real(int col) const {  // NULL -> NaN
        return isNull(col) ? std::nan("") : sqlite3_column_double(m_stmt.get(), col);
    }
    std::string text(int col) const {
        const auto* p = sqlite3_column_text(m_stmt.get(), col);
        return p ? std::string(reinterpret_cast<const char*>(p),
                               static_cast<size_t>(sqlite3_column_bytes(m_stmt.get(), col)))
                 : std::string();
    }
    std::string blob(int col) const {
        const void* p = sqlite3_column_blob(m_stmt.get(), col);
        return p ? std::string(static_cast<const char*>(p),
                               static_cast<size_t>(sqlite3_column_bytes(m_stmt.get(), col)))
                 : std::string();
    }

private:
    void check(int rc) {
        if (rc != SQLITE_OK) fail(m_file, ": SQLite bind: ", sqlite3_errstr(rc));
    }
    sqlite3* m_db;
    std::string m_file;
    std::unique_ptr<sqlite3_stmt, StmtFinalizer> m_stmt;
};

struct MetricItem {
    int64_t run;
    std::string key;
    int64_t step, wallMs;
    double value;
};
struct VectorItem {
    int64_t run;
    std::string key;
    int64_t step;
    std::vector<int64_t> shape;
    std::vector<float> data;
};
struct LogItem {
    int64_t run, timeMs;
    std::string level, text;
};
using Item = std::variant<MetricItem, VectorItem, LogItem>;

std::string shapeJson(const std::vector<int64_t>& shape) {
    std::string s = "[";
    for (size_t i = 0; i < shape.size(); ++i) s += (i ? "," : "") + std::to_string(shape[i]);
    return s + "]";
}

std::vector<int64_t> parseShape(const std::string& text) {
    std::vector<int64_t> out;
    std::string digits;
    for (char c : text) {
        if (c >= '0' && c <= '9') {
            digits += c;
        } else if (!digits.empty()) {
            out.push_back(std::stoll(digits));
            digits.clear();
        }
    }
    return out;
}

}  // namespace

std::string statusName(RunStatus s) {
    switch (s) {
        case RunStatus::Queued: return "queued";
        case RunStatus::Running: return "running";
        case RunStatus::Finished: return "finished";
        case RunStatus::Failed: return "failed";
        case RunStatus::Cancelled: return "cancelled";
        case RunStatus::Interrupted: return "interrupted";
    }
    return "unknown";
}

RunStatus parseStatus(const std::string& name) {
    for (auto s : {RunStatus::Queued, RunStatus::Running, RunStatus::Finished, RunStatus::Failed,
                   RunStatus::Cancelled, RunStatus::Interrupted})
        if (statusName(s) == name) return s;
    fail("unknown run status '", name,
         "' (expected queued, running, finished, failed, cancelled or interrupted)");
}

struct Store::Impl {
    std::filesystem::path path;
    std::string name;  // for messages
    Db db;
    mutable std::mutex dbMutex;  // one statement at a time on the connection

    std::mutex queueMutex;
    std::condition_variable queueChanged, flushed;
    std::vector<Item> queue;
    uint64_t enqueued = 0, committed = 0;  // item generations
    bool stopping = false;
    std::string writerError;
    std::set<int64_t> liveRuns;  // runs of this process still running: heartbeated
    std::unordered_map<std::string, int64_t> keyIds;  // "run\x1fkey" -> metric_keys.id
    std::thread writer;

    void exec(const std::string& sql) const {
        char* message = nullptr;
        if (sqlite3_exec(db.get(), sql.c_str(), nullptr, nullptr, &message) != SQLITE_OK) {
            const std::string text = message ? message : sqlite3_errmsg(db.get());
            sqlite3_free(message);
            fail(name, ": SQLite: ", text);
        }
    }
    int64_t scalar(const std::string& sql) const {
        Stmt s(db.get(), sql, name);
        return s.step() ? s.integer(0) : 0;
    }

    void open(int upToVersion);
    void packOldMetrics();  // migration 2 -> 3
    // Stores POINTS (sorted by step, unique) of key KEYID: appended to the last chunk when they
    // all come after it, else merged with the chunks they overlap (the new point wins a step).
    void storePoints(int64_t keyId, std::vector<MetricPoint> points);
    void insertChunks(int64_t keyId, const std::vector<MetricPoint>& points);
    void markDeadRuns();
    void writerLoop();
    void commit(std::vector<Item>& items, const std::set<int64_t>& beating);
    int64_t keyId(int64_t run, const std::string& key);
    RunInfo readRun(Stmt& s) const;
};

void Store::Impl::open(int upToVersion) {
    std::error_code ec;
    if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path(), ec);
    sqlite3* raw = nullptr;
    const int rc = sqlite3_open_v2(path.c_str(), &raw,
                                   SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                                       SQLITE_OPEN_FULLMUTEX,
                                   nullptr);
    db.reset(raw);
    if (rc != SQLITE_OK)
        fail(name, ": cannot open the experiment database: ",
             raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc));
    sqlite3_busy_timeout(db.get(), 10000);
    try {
        // Turning a new file into WAL takes an exclusive lock, and SQLite answers "locked" at
        // once, without the busy handler, when another connection is doing the same: retry
        // for as long as the busy timeout would have waited.
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
        for (int attempt = 0;; ++attempt) {
            try {
                exec("PRAGMA journal_mode=WAL");
                break;
            } catch (const Error& e) {
                if (std::string(e.what()).find("database is locked") == std::string::npos ||
                    std::chrono::steady_clock::now() > deadline)
                    throw;
                std::this_thread::sleep_for(std::chrono::milliseconds(2 + attempt % 20));
            }
        }
        exec("PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON; "
             "PRAGMA mmap_size=1073741824; PRAGMA cache_size=-65536;");
        {
            Stmt check(db.get(), "PRAGMA quick_check", name);
            const std::string result = check.step() ? check.text(0) : "no answer";
            if (result != "ok")
                fail(name, ": the experiment database is damaged (integrity check: ", result,
                     "); keep a copy and open another with --db");
        }
    } catch (const Error& e) {
        const std::string what = e.what();
        if (what.find("file is not a database") != std::string::npos)
            fail(name, ": not a Frugal experiment database (SQLite: file is not a database)");
        throw;
    }
    // The version is read and the migrations run inside one write transaction: connections
    // opening a new database at once (the workbench's store service and its run worker) must
    // not both create the schema.
    exec("BEGIN IMMEDIATE");
    try {
        const int version = static_cast<int>(scalar("PRAGMA user_version"));
        if (version > kSchemaVersion)
            fail(name, ": the experiment database has schema version ", version,
                 ", written by a newer Frugal; this build reads versions up to ", kSchemaVersion,
                 ". Upgrade Frugal, or use another database with --db");
        if (version == 0 && scalar("SELECT count(*) FROM sqlite_master") != 0)
            fail(name, ": not a Frugal experiment database (it has tables but no schema version)");
        for (int v = version; v < std::min(upToVersion, kSchemaVersion); ++v) {
            exec(kMigrations[static_cast<size_t>(v)]);
            if (v == 2) packOldMetrics();
            exec("PRAGMA user_version=" + std::to_string(v + 1));
        }
        exec("COMMIT");
    } catch (...) {
        exec("ROLLBACK");
        throw;
    }
}

void Store::Impl::markDeadRuns() {
    const std::string host = hostName();
    const int64_t now = nowMs();
    std::vector<int64_t> dead;
    {
        Stmt s(db.get(),
               "SELECT id, pid, host, process_start, heartbeat_ms FROM runs "
               "WHERE status IN ('running','queued')",
               name);
        while (s.step()) {
            const int64_t pid = s.integer(1);
            bool alive;
            if (s.text(2) == host) {
                alive = pid > 0 && processStart(pid) == s.text(3);
            } else {
                alive = now - s.integer(4) < 5 * 60 * 1000;  // another host: by heartbeat
            }
            if (!alive) dead.push_back(s.integer(0));
        }
    }
    for (int64_t id : dead) {
        Stmt u(db.get(),
               "UPDATE runs SET status='interrupted', end_ms=MAX(heartbeat_ms, start_ms), "
               "error=CASE error WHEN '' THEN 'the process ended without finishing the run "
               "(killed, crashed or power lost); metrics up to its last commit are kept' "
               "ELSE error END WHERE id=?",
               name);
        u.bind(1, id).run();
    }
}

int64_t Store::Impl::keyId(int64_t run, const std::string& key) {
    const std::string cacheKey = std::to_string(run) + '\x1f' + key;
    if (auto it = keyIds.find(cacheKey); it != keyIds.end()) return it->second;
    Stmt insert(db.get(), "INSERT OR IGNORE INTO metric_keys(run_id, key) VALUES(?, ?)", name);
    insert.bind(1, run).bind(2, key).run();
    Stmt select(db.get(), "SELECT id FROM metric_keys WHERE run_id=? AND key=?", name);
    select.bind(1, run).bind(2, key);
    if (!select.step()) fail(name, ": metric key '", key, "' of run ", run, " was not stored");
    const int64_t id = select.integer(0);
    keyIds.emplace(cacheKey, id);
    return id;
}

void Store::Impl::commit(std::vector<Item>& items, const std::set<int64_t>& beating) {
    std::lock_guard<std::mutex> lock(dbMutex);
    exec("BEGIN IMMEDIATE");
    try {
        Stmt vector(db.get(),
                    "INSERT OR REPLACE INTO vectors(run_id, key, step, shape, data) "
                    "VALUES(?, ?, ?, ?, ?)",
                    name);
        Stmt logLine(db.get(), "INSERT INTO logs(run_id, time_ms, level, text) VALUES(?, ?, ?, ?)",
                     name);
        std::unordered_map<int64_t, const MetricItem*> latest;  // key id -> highest step seen
        std::map<int64_t, std::vector<MetricPoint>> byKey;        // in logging order
        for (const auto& item : items) {
            if (const auto* m = std::get_if<MetricItem>(&item)) {
                const int64_t id = keyId(m->run, m->key);
                byKey[id].push_back({m->step, m->wallMs, m->value});
                auto& best = latest[id];
                if (!best || m->step >= best->step) best = m;
            } else if (const auto* v = std::get_if<VectorItem>(&item)) {
                vector.bind(1, v->run).bind(2, v->key).bind(3, v->step).bind(4, shapeJson(v->shape));
                vector.bindBlob(5, v->data.data(), v->data.size() * sizeof(float));
                vector.run();
            } else if (const auto* l = std::get_if<LogItem>(&item)) {
                logLine.bind(1, l->run).bind(2, l->timeMs).bind(3, l->level).bind(4, l->text);
                logLine.run();
            }
        }
        for (auto& [id, points] : byKey) {
            // sorted by step; of two points of one step the one logged last stays
            std::stable_sort(points.begin(), points.end(),
                             [](const MetricPoint& a, const MetricPoint& b) { return a.step < b.step; });
            std::vector<MetricPoint> unique;
            for (const auto& pt : points) {
                if (!unique.empty() && unique.back().step == pt.step) unique.back() = pt;
                else unique.push_back(pt);
            }
            storePoints(id, std::move(unique));
        }
        Stmt upsert(db.get(),
                    "INSERT INTO latest_metrics(key_id, step, wall_ms, value) VALUES(?, ?, ?, ?) "
                    "ON CONFLICT(key_id) DO UPDATE SET step=excluded.step, "
                    "wall_ms=excluded.wall_ms, value=excluded.value "
                    "WHERE excluded.step >= latest_metrics.step",
                    name);
        for (const auto& [id, m] : latest) {
            upsert.bind(1, id).bind(2, m->step).bind(3, m->wallMs).bindReal(4, m->value);
            upsert.run();
        }
        if (!beating.empty()) {
            Stmt beat(db.get(), "UPDATE runs SET heartbeat_ms=? WHERE id=?", name);
            for (int64_t run : beating) beat.bind(1, nowMs()).bind(2, run).run();
        }
        exec("COMMIT");
    } catch (...) {
        exec("ROLLBACK");
        throw;
    }
}

void Store::Impl::writerLoop() {
    auto lastBeat = std::chrono::steady_clock::now();
    std::unique_lock<std::mutex> lock(queueMutex);
    for (;;) {
        queueChanged.wait_for(lock, std::chrono::milliseconds(250),
                              [&] { return stopping || committed < enqueued; });
        const bool beatDue = std::chrono::steady_clock::now() - lastBeat > std::chrono::seconds(2);
        if (queue.empty() && !beatDue) {
            if (stopping) return;
            continue;
        }
        std::vector<Item> batch;
        batch.swap(queue);
        const uint64_t generation = enqueued;
        const std::set<int64_t> beating = liveRuns;
        lock.unlock();
        std::string error;
        try {
            commit(batch, beating);
        } catch (const std::exception& e) {
            error = e.what();
        }
        lastBeat = std::chrono::steady_clock::now();
        lock.lock();
        if (!error.empty() && writerError.empty()) writerError = error;
        committed = generation;
        flushed.notify_all();
    }
}

void Store::Impl::insertChunks(int64_t keyId, const std::vector<MetricPoint>& points) {
    Stmt ins(db.get(),
             "INSERT OR REPLACE INTO metric_chunks(key_id, first_step, last_step, count, data) "
             "VALUES(?, ?, ?, ?, ?)",
             name);
    for (size_t first = 0; first < points.size(); first += kChunkPoints) {
        const size_t n = std::min<size_t>(kChunkPoints, points.size() - first);
        ins.bind(1, keyId).bind(2, points[first].step).bind(3, points[first + n - 1].step);
        ins.bind(4, static_cast<int64_t>(n));
        ins.bindBlob(5, points.data() + first, n * sizeof(MetricPoint));
        ins.run();
    }
}

void Store::Impl::storePoints(int64_t keyId, std::vector<MetricPoint> points) {
    if (points.empty()) return;
    const auto unpack = [](const std::string& blob, std::vector<MetricPoint>& out) {
        const size_t n = blob.size() / sizeof(MetricPoint);
        const size_t at = out.size();
        out.resize(at + n);
        std::memcpy(out.data() + at, blob.data(), n * sizeof(MetricPoint));
    };
    Stmt last(db.get(),
              "SELECT first_step, last_step, count, data FROM metric_chunks WHERE key_id=? "
              "ORDER BY first_step DESC LIMIT 1",
              name);
    last.bind(1, keyId);
    if (!last.step()) {
        insertChunks(keyId, points);
        return;
    }
    const int64_t lastStep = last.integer(1);
    if (points.front().step > lastStep) {  // the common case: appending
        if (last.integer(2) >= kChunkPoints) {
            insertChunks(keyId, points);
            return;
        }
        std::vector<MetricPoint> merged;
        unpack(last.blob(3), merged);
        const int64_t oldFirst = last.integer(0);
        last.reset();
        merged.insert(merged.end(), points.begin(), points.end());
        Stmt del(db.get(), "DELETE FROM metric_chunks WHERE key_id=? AND first_step=?", name);
        del.bind(1, keyId).bind(2, oldFirst).run();
        insertChunks(keyId, merged);
        return;
    }
    last.reset();
    // Rewriting steps already stored (a resumed run): merge with every chunk from the first
    // overlapping one on, the new point winning a step.
    Stmt overlap(db.get(),
                 "SELECT data FROM metric_chunks WHERE key_id=? AND last_step>=? ORDER BY first_step",
                 name);
    overlap.bind(1, keyId).bind(2, points.front().step);
    std::vector<MetricPoint> old;
    while (overlap.step()) unpack(overlap.blob(0), old);
    overlap.reset();
    Stmt del(db.get(), "DELETE FROM metric_chunks WHERE key_id=? AND last_step>=?", name);
    del.bind(1, keyId).bind(2, points.front().step).run();
    std::vector<MetricPoint> merged;
    merged.reserve(old.size() + points.size());
    size_t i = 0, j = 0;
    while (i < old.size() || j < points.size()) {
        if (j == points.size() || (i < old.size() && old[i].step < points[j].step)) {
            merged.push_back(old[i++]);
        } else {
            if (i < old.size() && old[i].step == points[j].step) ++i;
            merged.push_back(points[j++]);
        }
    }
    insertChunks(keyId, merged);
}

void Store::Impl::packOldMetrics() {
    std::vector<int64_t> keys;
    {
        Stmt k(db.get(), "SELECT DISTINCT key_id FROM metrics", name);
        while (k.step()) keys.push_back(k.integer(0));
    }
    for (int64_t key : keys) {
        std::vector<MetricPoint> points;
        Stmt rows(db.get(), "SELECT step, wall_ms, value FROM metrics WHERE key_id=? ORDER BY step",
                  name);
        rows.bind(1, key);
        while (rows.step()) points.push_back({rows.integer(0), rows.integer(1), rows.real(2)});
        insertChunks(key, points);
    }
    exec("DROP TABLE metrics");
}

RunInfo Store::Impl::readRun(Stmt& s) const {
    RunInfo r;
    r.id = s.integer(0);
    r.uuid = s.text(1);
    r.name = s.text(2);
    r.experiment = s.text(3);
    r.method = s.text(4);
    r.status = parseStatus(s.text(5));
    r.createdMs = s.integer(6);
    r.startMs = s.integer(7);
    r.endMs = s.integer(8);
    r.config = s.text(9);
    if (!s.isNull(10)) r.seed = s.integer(10);
    r.gitCommit = s.text(11);
    r.gitDirty = s.integer(12) != 0;
    r.libraries = s.text(13);
    r.hardware = s.text(14);
    r.commandLine = s.text(15);
    r.error = s.text(16);
    r.note = s.text(17);
    if (!s.isNull(18)) r.parentId = s.integer(18);
    r.pid = s.integer(19);
    r.host = s.text(20);
    r.heartbeatMs = s.integer(21);
    std::stringstream tags(s.text(22));
    for (std::string tag; std::getline(tags, tag, '\x1f');)
        if (!tag.empty()) r.tags.push_back(tag);
    return r;
}

namespace {
const char* kRunColumns =
    "SELECT r.id, r.uuid, r.name, e.name, r.method, r.status, r.created_ms, r.start_ms, r.end_ms, "
    "r.config, r.seed, r.git_commit, r.git_dirty, r.libraries, r.hardware, r.command_line, "
    "r.error, r.note, r.parent_id, r.pid, r.host, r.heartbeat_ms, "
    "(SELECT group_concat(tag, char(31)) FROM (SELECT tag FROM tags WHERE run_id=r.id "
    "ORDER BY tag)) FROM runs r JOIN experiments e ON e.id = r.experiment_id ";
}

std::filesystem::path Store::defaultPath() {
    if (const char* xdg = std::getenv("XDG_DATA_HOME"); xdg && *xdg)
        return std::filesystem::path(xdg) / "frugal" / "runs.db";
    const char* home = std::getenv("HOME");
    if (!home || !*home) fail("cannot place the experiment database: neither XDG_DATA_HOME nor "
                              "HOME is set; give one with --db");
    return std::filesystem::path(home) / ".local" / "share" / "frugal" / "runs.db";
}

int Store::schemaVersion() { return kSchemaVersion; }

Store::Store(const std::filesystem::path& file) : Store(file, kSchemaVersion) {}

Store::Store(const std::filesystem::path& file, int upToVersion) : m_impl(std::make_unique<Impl>()) {
    m_impl->path = file;
    m_impl->name = file.string();
    m_impl->open(upToVersion);
    if (upToVersion >= kSchemaVersion) {
        m_impl->markDeadRuns();
        m_impl->writer = std::thread([impl = m_impl.get()] { impl->writerLoop(); });
    }
}

Store::~Store() {
    if (!m_impl) return;
    {
        std::lock_guard<std::mutex> lock(m_impl->queueMutex);
        m_impl->stopping = true;
    }
    m_impl->queueChanged.notify_all();
    if (m_impl->writer.joinable()) m_impl->writer.join();
}

const std::filesystem::path& Store::path() const { return m_impl->path; }

int64_t Store::createRun(const NewRun& r) {
    std::lock_guard<std::mutex> lock(m_impl->dbMutex);
    Impl& d = *m_impl;
    if (r.method.empty()) fail(d.name, ": a run needs a method name");
    const int64_t now = nowMs();
    d.exec("BEGIN IMMEDIATE");
    try {
        Stmt exp(d.db.get(),
                 "INSERT INTO experiments(name, created_ms) VALUES(?, ?) "
                 "ON CONFLICT(name) DO NOTHING",
                 d.name);
        exp.bind(1, r.experiment.empty() ? std::string("default") : r.experiment).bind(2, now).run();
        Stmt ins(d.db.get(),
                 "INSERT INTO runs(uuid, name, experiment_id, method, status, created_ms, "
                 "start_ms, config, seed, git_commit, git_dirty, libraries, hardware, "
                 "command_line, parent_id, pid, host, process_start, heartbeat_ms) "
                 "VALUES(?, ?, (SELECT id FROM experiments WHERE name=?), ?, ?, ?, ?, ?, ?, ?, "
                 "?, ?, ?, ?, ?, ?, ?, ?, ?)",
                 d.name);
        const std::string uuid = newUuid();
        ins.bind(1, uuid)
            .bind(2, r.name.empty() ? r.method + "-" + uuid.substr(0, 8) : r.name)
            .bind(3, r.experiment.empty() ? std::string("default") : r.experiment)
            .bind(4, r.method)
            .bind(5, statusName(r.status))
            .bind(6, now)
            .bind(7, r.status == RunStatus::Queued ? int64_t{0} : now)
            .bind(8, r.config);
        if (r.seed) ins.bind(9, *r.seed); else ins.bindNull(9);
        ins.bind(10, r.gitCommit)
            .bind(11, int64_t{r.gitDirty})
            .bind(12, r.libraries.empty() ? std::string("{}") : r.libraries)
            .bind(13, r.hardware.empty() ? std::string("{}") : r.hardware)
            .bind(14, r.commandLine);
        if (r.parentId) ins.bind(15, *r.parentId); else ins.bindNull(15);
        ins.bind(16, static_cast<int64_t>(getpid()))
            .bind(17, hostName())
            .bind(18, processStart(getpid()))
            .bind(19, now);
        ins.run();
        const int64_t id = sqlite3_last_insert_rowid(d.db.get());
        Stmt param(d.db.get(), "INSERT INTO params(run_id, key, value) VALUES(?, ?, ?)", d.name);
        for (const auto& [key, value] : r.params) param.bind(1, id).bind(2, key).bind(3, value).run();
        d.exec("COMMIT");
        if (r.status == RunStatus::Running || r.status == RunStatus::Queued) {
            std::lock_guard<std::mutex> q(d.queueMutex);
            d.liveRuns.insert(id);
        }
        return id;
    } catch (...) {
        d.exec("ROLLBACK");
        throw;
    }
}

void Store::setStatus(int64_t run, RunStatus status, const std::string& error) {
    flush();  // every metric before the status change is stored first
    std::lock_guard<std::mutex> lock(m_impl->dbMutex);
    const bool ended = status != RunStatus::Running && status != RunStatus::Queued;
    Stmt s(m_impl->db.get(),
           "UPDATE runs SET status=?, error=?, heartbeat_ms=?, "
           "start_ms=CASE WHEN start_ms=0 AND ?='running' THEN ? ELSE start_ms END, "
           "end_ms=CASE WHEN ? THEN ? ELSE end_ms END WHERE id=?",
           m_impl->name);
    const int64_t now = nowMs();
    s.bind(1, statusName(status)).bind(2, error).bind(3, now).bind(4, statusName(status));
    s.bind(5, now).bind(6, int64_t{ended}).bind(7, now).bind(8, run).run();
    if (sqlite3_changes(m_impl->db.get()) == 0) fail(m_impl->name, ": no run with id ", run);
    std::lock_guard<std::mutex> q(m_impl->queueMutex);
    if (ended) m_impl->liveRuns.erase(run); else m_impl->liveRuns.insert(run);
}

void Store::resumeRun(int64_t run) {
    const auto info = this->run(run);
    if (!info) fail(m_impl->name, ": no run with id ", run);
    if (info->status == RunStatus::Finished)
        fail("run ", run, " (", info->name, ") finished; there is nothing to resume");
    if (info->status == RunStatus::Running || info->status == RunStatus::Queued)
        fail("run ", run, " (", info->name, ") is ", statusName(info->status), " in process ",
             info->pid, " on ", info->host, "; it cannot be resumed twice");
    std::lock_guard<std::mutex> lock(m_impl->dbMutex);
    Stmt s(m_impl->db.get(),
           "UPDATE runs SET status='running', error='', end_ms=0, pid=?, host=?, process_start=?, "
           "heartbeat_ms=? WHERE id=?",
           m_impl->name);
    s.bind(1, static_cast<int64_t>(getpid())).bind(2, hostName()).bind(3, processStart(getpid()));
    s.bind(4, nowMs()).bind(5, run).run();
    std::lock_guard<std::mutex> q(m_impl->queueMutex);
    m_impl->liveRuns.insert(run);
}

void Store::heartbeat(int64_t run) {
    std::lock_guard<std::mutex> lock(m_impl->dbMutex);
    Stmt s(m_impl->db.get(), "UPDATE runs SET heartbeat_ms=? WHERE id=?", m_impl->name);
    s.bind(1, nowMs()).bind(2, run).run();
}

void Store::setNote(int64_t run, const std::string& note) {
    std::lock_guard<std::mutex> lock(m_impl->dbMutex);
    Stmt s(m_impl->db.get(), "UPDATE runs SET note=? WHERE id=?", m_impl->name);
    s.bind(1, note).bind(2, run).run();
}

void Store::addTag(int64_t run, const std::string& tag) {
    if (tag.empty() || tag.find('\x1f') != std::string::npos) fail("a tag must be non-empty text");
    std::lock_guard<std::mutex> lock(m_impl->dbMutex);
    Stmt s(m_impl->db.get(), "INSERT OR IGNORE INTO tags(run_id, tag) VALUES(?, ?)", m_impl->name);
    s.bind(1, run).bind(2, tag).run();
}

void Store::removeTag(int64_t run, const std::string& tag) {
    std::lock_guard<std::mutex> lock(m_impl->dbMutex);
    Stmt s(m_impl->db.get(), "DELETE FROM tags WHERE run_id=? AND tag=?", m_impl->name);
    s.bind(1, run).bind(2, tag).run();
}

void Store::deleteRun(int64_t run) {
    flush();
    std::lock_guard<std::mutex> lock(m_impl->dbMutex);
    Stmt s(m_impl->db.get(), "DELETE FROM runs WHERE id=?", m_impl->name);
    s.bind(1, run).run();
    if (sqlite3_changes(m_impl->db.get()) == 0) fail(m_impl->name, ": no run with id ", run);
    std::lock_guard<std::mutex> q(m_impl->queueMutex);
    m_impl->liveRuns.erase(run);
    for (auto it = m_impl->keyIds.begin(); it != m_impl->keyIds.end();)
        it = it->first.rfind(std::to_string(run) + '\x1f', 0) == 0 ? m_impl->keyIds.erase(it)
                                                                  : std::next(it);
}

void Store::addArtifact(int64_t run, const Artifact& a) {
    std::lock_guard<std::mutex> lock(m_impl->dbMutex);
    Stmt s(m_impl->db.get(),
           "INSERT INTO artifacts(run_id, kind, path, sha256, bytes, created_ms) "
           "VALUES(?, ?, ?, ?, ?, ?)",
           m_impl->name);
    s.bind(1, run).bind(2, a.kind).bind(3, a.path).bind(4, a.sha256).bind(5, a.bytes);
    s.bind(6, nowMs()).run();
}

void Store::logMetric(int64_t run, const std::string& key, int64_t step, double value,
                      int64_t wallMs) {
    std::lock_guard<std::mutex> lock(m_impl->queueMutex);
    m_impl->queue.emplace_back(MetricItem{run, key, step, wallMs < 0 ? nowMs() : wallMs, value});
    ++m_impl->enqueued;
}

void Store::logVector(int64_t run, const std::string& key, int64_t step,
                      std::vector<int64_t> shape, std::vector<float> data) {
    int64_t count = 1;
    for (int64_t d : shape) count *= d;
    if (count != static_cast<int64_t>(data.size()))
        fail("vector series '", key, "': shape ", shapeJson(shape), " holds ", count,
             " values but ", data.size(), " were given");
    std::lock_guard<std::mutex> lock(m_impl->queueMutex);
    m_impl->queue.emplace_back(VectorItem{run, key, step, std::move(shape), std::move(data)});
    ++m_impl->enqueued;
}

void Store::log(int64_t run, const std::string& level, const std::string& text) {
    std::lock_guard<std::mutex> lock(m_impl->queueMutex);
    m_impl->queue.emplace_back(LogItem{run, nowMs(), level, text});
    ++m_impl->enqueued;
}

void Store::flush() {
    std::unique_lock<std::mutex> lock(m_impl->queueMutex);
    if (!m_impl->writer.joinable()) return;
    const uint64_t target = m_impl->enqueued;
    m_impl->queueChanged.notify_all();
    m_impl->flushed.wait(lock, [&] { return m_impl->committed >= target; });
    if (!m_impl->writerError.empty()) {
        const std::string error = m_impl->writerError;
        m_impl->writerError.clear();
        fail(m_impl->name, ": storing metrics failed: ", error);
    }
}

std::optional<RunInfo> Store::run(int64_t id) const {
    std::lock_guard<std::mutex> lock(m_impl->dbMutex);
    Stmt s(m_impl->db.get(), std::string(kRunColumns) + "WHERE r.id=?", m_impl->name);
    s.bind(1, id);
    if (!s.step()) return std::nullopt;
    return m_impl->readRun(s);
}

std::optional<RunInfo> Store::findRun(const std::string& ref) const {
    if (ref.empty()) return std::nullopt;
    std::lock_guard<std::mutex> lock(m_impl->dbMutex);
    // In order: the id, the whole uuid, the name, a uuid prefix of at least 4 characters.
    const bool digits = ref.find_first_not_of("0123456789") == std::string::npos;
    const std::vector<std::string> where = {
        digits ? "WHERE r.id=CAST(?1 AS INTEGER)" : "", "WHERE r.uuid=?1", "WHERE r.name=?1",
        ref.size() >= 4 ? "WHERE substr(r.uuid, 1, length(?1))=?1" : ""};
    for (const auto& clause : where) {
        if (clause.empty()) continue;
        Stmt s(m_impl->db.get(), std::string(kRunColumns) + clause + " ORDER BY r.id DESC",
               m_impl->name);
        s.bind(1, ref);
        std::vector<RunInfo> found;
        while (s.step()) found.push_back(m_impl->readRun(s));
        if (found.size() == 1) return found[0];
        if (found.size() > 1) {
            std::string ids;
            for (const auto& r : found) ids += (ids.empty() ? "" : ", ") + std::to_string(r.id);
            fail("run '", ref, "' is ambiguous: it matches runs ", ids, "; give the id");
        }
    }
    return std::nullopt;
}

std::vector<RunInfo> Store::runs() const {
    std::lock_guard<std::mutex> lock(m_impl->dbMutex);
    Stmt s(m_impl->db.get(), std::string(kRunColumns) + "ORDER BY r.id DESC", m_impl->name);
    std::vector<RunInfo> out;
    while (s.step()) out.push_back(m_impl->readRun(s));
    return out;
}

std::map<std::string, std::string> Store::params(int64_t run) const {
    std::lock_guard<std::mutex> lock(m_impl->dbMutex);
    Stmt s(m_impl->db.get(), "SELECT key, value FROM params WHERE run_id=? ORDER BY key",
           m_impl->name);
    s.bind(1, run);
    std::map<std::string, std::string> out;
    while (s.step()) out[s.text(0)] = s.text(1);
    return out;
}

std::vector<std::string> Store::metricKeys(int64_t run) const {
    std::lock_guard<std::mutex> lock(m_impl->dbMutex);
    Stmt s(m_impl->db.get(), "SELECT key FROM metric_keys WHERE run_id=? ORDER BY key",
           m_impl->name);
    s.bind(1, run);
    std::vector<std::string> out;
    while (s.step()) out.push_back(s.text(0));
    return out;
}

std::vector<MetricPoint> Store::metric(int64_t run, const std::string& key) const {
    std::lock_guard<std::mutex> lock(m_impl->dbMutex);
    Stmt s(m_impl->db.get(),
           "SELECT c.count, c.data FROM metric_chunks c JOIN metric_keys k ON k.id=c.key_id "
           "WHERE k.run_id=? AND k.key=? ORDER BY c.first_step",
           m_impl->name);
    s.bind(1, run).bind(2, key);
    std::vector<std::string> blobs;
    size_t total = 0;
    while (s.step()) {
        blobs.push_back(s.blob(1));
        total += blobs.back().size() / sizeof(MetricPoint);
    }
    std::vector<MetricPoint> out(total);
    size_t at = 0;
    for (const auto& blob : blobs) {
        const size_t n = blob.size() / sizeof(MetricPoint);
        std::memcpy(out.data() + at, blob.data(), n * sizeof(MetricPoint));
        at += n;
    }
    return out;
}

int64_t Store::metricPointCount(int64_t run, const std::string& key) const {
    std::lock_guard<std::mutex> lock(m_impl->dbMutex);
    Stmt s(m_impl->db.get(),
           "SELECT coalesce(sum(c.count), 0) FROM metric_chunks c JOIN metric_keys k "
           "ON k.id=c.key_id WHERE k.run_id=? AND k.key=?",
           m_impl->name);
    s.bind(1, run).bind(2, key);
    return s.step() ? s.integer(0) : 0;
}

std::vector<LatestMetric> Store::latestMetrics(int64_t run) const {
    std::lock_guard<std::mutex> lock(m_impl->dbMutex);
    Stmt s(m_impl->db.get(),
           "SELECT k.key, l.step, l.wall_ms, l.value FROM latest_metrics l "
           "JOIN metric_keys k ON k.id=l.key_id WHERE k.run_id=? ORDER BY k.key",
           m_impl->name);
    s.bind(1, run);
    std::vector<LatestMetric> out;
    while (s.step()) out.push_back({s.text(0), {s.integer(1), s.integer(2), s.real(3)}});
    return out;
}

std::vector<VectorPoint> Store::vectorSeries(int64_t run, const std::string& key) const {
    std::lock_guard<std::mutex> lock(m_impl->dbMutex);
    Stmt s(m_impl->db.get(),
           "SELECT step, shape, data FROM vectors WHERE run_id=? AND key=? ORDER BY step",
           m_impl->name);
    s.bind(1, run).bind(2, key);
    std::vector<VectorPoint> out;
    while (s.step()) {
        VectorPoint p;
        p.step = s.integer(0);
        p.shape = parseShape(s.text(1));
        const std::string bytes = s.blob(2);
        p.data.resize(bytes.size() / sizeof(float));
        std::memcpy(p.data.data(), bytes.data(), p.data.size() * sizeof(float));
        out.push_back(std::move(p));
    }
    return out;
}

std::vector<std::string> Store::vectorKeys(int64_t run) const {
    std::lock_guard<std::mutex> lock(m_impl->dbMutex);
    Stmt s(m_impl->db.get(), "SELECT DISTINCT key FROM vectors WHERE run_id=? ORDER BY key",
           m_impl->name);
    s.bind(1, run);
    std::vector<std::string> out;
    while (s.step()) out.push_back(s.text(0));
    return out;
}

std::vector<Artifact> Store::artifacts(int64_t run) const {
    std::lock_guard<std::mutex> lock(m_impl->dbMutex);
    Stmt s(m_impl->db.get(),
           "SELECT kind, path, sha256, bytes FROM artifacts WHERE run_id=? ORDER BY id",
           m_impl->name);
    s.bind(1, run);
    std::vector<Artifact> out;
    while (s.step()) out.push_back({s.text(0), s.text(1), s.text(2), s.integer(3)});
    return out;
}

std::vector<LogLine> Store::logs(int64_t run) const {
    std::lock_guard<std::mutex> lock(m_impl->dbMutex);
    Stmt s(m_impl->db.get(), "SELECT time_ms, level, text FROM logs WHERE run_id=? ORDER BY id",
           m_impl->name);
    s.bind(1, run);
    std::vector<LogLine> out;
    while (s.step()) out.push_back({s.integer(0), s.text(1), s.text(2)});
    return out;
}

int64_t Store::merge(const std::filesystem::path& other) {
    flush();
    { Store check(other); }  // integrity, version and migration of the other file first
    std::lock_guard<std::mutex> lock(m_impl->dbMutex);
    Impl& d = *m_impl;
    {
        Stmt attach(d.db.get(), "ATTACH DATABASE ? AS other", d.name);
        attach.bind(1, other.string()).run();
    }
    int64_t added = 0;
    try {
        d.exec("BEGIN IMMEDIATE");
        d.exec("INSERT INTO experiments(name, created_ms) SELECT name, created_ms FROM "
               "other.experiments WHERE true ON CONFLICT(name) DO NOTHING");
        std::vector<std::pair<int64_t, std::string>> incoming;
        {
            Stmt s(d.db.get(),
                   "SELECT id, uuid FROM other.runs WHERE uuid NOT IN (SELECT uuid FROM main.runs) "
                   "ORDER BY id",
                   d.name);
            while (s.step()) incoming.emplace_back(s.integer(0), s.text(1));
        }
        for (const auto& [oldId, uuid] : incoming) {
            Stmt copy(d.db.get(),
                      "INSERT INTO main.runs(uuid, name, experiment_id, method, status, created_ms, "
                      "start_ms, end_ms, config, seed, git_commit, git_dirty, libraries, hardware, "
                      "command_line, error, note, parent_id, pid, host, process_start, "
                      "heartbeat_ms) SELECT r.uuid, r.name, (SELECT id FROM main.experiments "
                      "WHERE name=e.name), r.method, r.status, r.created_ms, r.start_ms, r.end_ms, "
                      "r.config, r.seed, r.git_commit, r.git_dirty, r.libraries, r.hardware, "
                      "r.command_line, r.error, r.note, (SELECT m.id FROM main.runs m JOIN "
                      "other.runs p ON p.uuid=m.uuid WHERE p.id=r.parent_id), r.pid, r.host, "
                      "r.process_start, r.heartbeat_ms FROM other.runs r JOIN other.experiments e "
                      "ON e.id=r.experiment_id WHERE r.id=?",
                      d.name);
            copy.bind(1, oldId).run();
            const int64_t newId = sqlite3_last_insert_rowid(d.db.get());
            const auto copyTable = [&](const std::string& sql) {
                Stmt s(d.db.get(), sql, d.name);
                s.bind(1, newId).bind(2, oldId).run();
            };
            copyTable("INSERT INTO main.params SELECT ?1, key, value FROM other.params WHERE run_id=?2");
            copyTable("INSERT INTO main.tags SELECT ?1, tag FROM other.tags WHERE run_id=?2");
            copyTable("INSERT INTO main.vectors SELECT ?1, key, step, shape, data FROM "
                      "other.vectors WHERE run_id=?2");
            copyTable("INSERT INTO main.artifacts(run_id, kind, path, sha256, bytes, created_ms) "
                      "SELECT ?1, kind, path, sha256, bytes, created_ms FROM other.artifacts "
                      "WHERE run_id=?2 ORDER BY id");
            copyTable("INSERT INTO main.logs(run_id, time_ms, level, text) SELECT ?1, time_ms, "
                      "level, text FROM other.logs WHERE run_id=?2 ORDER BY id");
            copyTable("INSERT INTO main.metric_keys(run_id, key) SELECT ?1, key FROM "
                      "other.metric_keys WHERE run_id=?2");
            copyTable("INSERT INTO main.metric_chunks SELECT mk.id, c.first_step, c.last_step, "
                      "c.count, c.data FROM other.metric_chunks c JOIN other.metric_keys ok ON "
                      "ok.id=c.key_id JOIN main.metric_keys mk ON mk.run_id=?1 AND mk.key=ok.key "
                      "WHERE ok.run_id=?2");
            copyTable("INSERT INTO main.latest_metrics SELECT mk.id, l.step, l.wall_ms, l.value "
                      "FROM other.latest_metrics l JOIN other.metric_keys ok ON ok.id=l.key_id "
                      "JOIN main.metric_keys mk ON mk.run_id=?1 AND mk.key=ok.key "
                      "WHERE ok.run_id=?2");
            ++added;
        }
        d.exec("COMMIT");
    } catch (...) {
        d.exec("ROLLBACK");
        d.exec("DETACH DATABASE other");
        throw;
    }
    d.exec("DETACH DATABASE other");
    return added;
}

}  // namespace frugal::store
