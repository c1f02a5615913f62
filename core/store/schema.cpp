// Opening the experiment database: the schema and its migrations, Store::Impl::open (WAL,
// integrity check, migrating under one write transaction), and marking dead runs interrupted.
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <chrono>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "store/store_impl.h"

namespace frugal::store {

using detail::hostName;
using detail::kSchemaVersion;
using detail::nowMs;
using detail::processStart;
using detail::Stmt;

namespace {

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

}  // namespace

void Store::Impl::open(int upToVersion) {
    std::error_code folder;
    if (std::filesystem::is_directory(path, folder))  // SQLite would say only "unable to open database file"
        failInput(name, ": is a folder, not an experiment database file; give a file with --db (e.g. ",
                  (path / "runs.db").string(), ")");
    if (readOnly) {
        openReadOnly();
        return;
    }
    std::error_code ec;
    if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path(), ec);
    if (std::filesystem::exists(path, ec) && ::access(path.c_str(), W_OK) != 0)
        fail(name, ": the experiment database is read-only (", std::strerror(errno),
             "); commands that only read it (list, show, compare, export, plot) still work; give a "
             "writable database with --db");
    sqlite3* raw = nullptr;
    const int rc = sqlite3_open_v2(path.c_str(), &raw,
                                   SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                                       SQLITE_OPEN_FULLMUTEX,
                                   nullptr);
    db.reset(raw);
    if (rc != SQLITE_OK) {
        if (rc == SQLITE_CANTOPEN && path.has_parent_path() &&
            ::access(path.parent_path().c_str(), W_OK) != 0)
            fail(name, ": cannot create the experiment database: its folder is not writable (",
                 std::strerror(errno), "); give another with --db");
        fail(name, ": cannot open the experiment database: ",
             raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc));
    }
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
        // the WAL checkpointed every 128 pages (512 KiB) and cut back to 512 KiB after: a database
        // needs little more free space than its data (SQLite's default lets it reach 4 MiB)
        exec("PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON; "
             "PRAGMA mmap_size=1073741824; PRAGMA cache_size=-65536; "
             "PRAGMA wal_autocheckpoint=128; PRAGMA journal_size_limit=524288;");
        keepReserve();
        quickCheck();
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
        rollback();
        throw;
    }
}

void Store::Impl::quickCheck() {
    Stmt check(db.get(), "PRAGMA quick_check", name);
    const std::string result = check.step() ? check.text(0) : "no answer";
    if (result != "ok")
        fail(name, ": the experiment database is damaged (integrity check: ", result,
             "); keep a copy and open another with --db");
}

void Store::Impl::openReadOnly() {
    // On a read-only medium SQLite cannot create the WAL index (-shm) beside the file: the file
    // is then opened as immutable, which a medium nobody can write makes true.
    for (const bool immutable : {false, true}) {
        sqlite3* raw = nullptr;
        const std::string uri = "file:" + path.string() + (immutable ? "?mode=ro&immutable=1" : "?mode=ro");
        const int rc = sqlite3_open_v2(uri.c_str(), &raw, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI |
                                                               SQLITE_OPEN_FULLMUTEX, nullptr);
        db.reset(raw);
        if (rc != SQLITE_OK) {
            if (!immutable) continue;
            fail(name, ": cannot open the experiment database for reading: ",
                 raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc));
        }
        sqlite3_busy_timeout(db.get(), 10000);
        try {
            quickCheck();
        } catch (const Error& e) {
            const std::string what = e.what();
            if (!immutable && what.find("not a database") == std::string::npos) continue;
            if (what.find("file is not a database") != std::string::npos)
                fail(name, ": not a Frugal experiment database (SQLite: file is not a database)");
            throw;
        }
        break;
    }
    const int version = static_cast<int>(scalar("PRAGMA user_version"));
    if (version > kSchemaVersion)
        fail(name, ": the experiment database has schema version ", version,
             ", written by a newer Frugal; this build reads versions up to ", kSchemaVersion,
             ". Upgrade Frugal, or use another database with --db");
    if (version < kSchemaVersion)
        fail(name, ": the experiment database has schema version ", version, " and needs migrating to ",
             kSchemaVersion, ", which a read-only database cannot have; copy it somewhere writable");
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

}  // namespace frugal::store
