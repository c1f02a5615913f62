#pragma once
// Private to core/store: Store::Impl, the state behind Store (opened by schema.cpp, written by
// writer.cpp, read by reads.cpp and merge.cpp), and the SQLite helpers those files share.
// No torch; never included outside core/store.

#include <sqlite3.h>

#include <cmath>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <unordered_map>
#include <variant>
#include <vector>

#include "common/error.h"
#include "store/store.h"

namespace frugal::store {

namespace detail {

// The schema version this build writes; the migrations in schema.cpp lead up to it.
inline constexpr int kSchemaVersion = 3;

static_assert(sizeof(MetricPoint) == 24, "metric points are packed as int64, int64, float64");

int64_t nowMs();
std::string hostName();
// "<boot id>:<start time in clock ticks since boot>" of process PID, or "" when it is gone.
std::string processStart(int64_t pid);
// What went wrong on DB, a whole message naming FILE: "disk full: FILE (N MiB free)" when a
// write found no room (SQLITE_FULL, or a write failing with ENOSPC or EFBIG), "FILE is
// read-only (...)" for a write refused by the medium or the file's mode, else
// "FILE: SQLite: <message> (<code>)".
std::string failureText(sqlite3* db, const std::string& file);

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
        fail(failureText(m_db, m_file));
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

}  // namespace detail

struct Store::Impl {
    std::filesystem::path path;
    std::string name;  // for messages
    detail::Db db;
    mutable std::mutex dbMutex;  // one statement at a time on the connection

    std::mutex queueMutex;
    std::condition_variable queueChanged, flushed;
    std::vector<detail::Item> queue;
    uint64_t enqueued = 0, committed = 0;  // item generations
    bool stopping = false;
    bool readOnly = false;  // opened for reading only (a read-only file or medium)
    std::string writerError;
    // A file of kReserveBytes beside the database, given back when a write that must not be lost
    // (a run's final status) finds the disk full: the status is then stored, with its cause.
    static constexpr size_t kReserveBytes = 64 * 1024;  // a status update: a few WAL frames
    std::filesystem::path reservePath() const { return path.string() + "-reserve"; }
    void keepReserve() const;        // makes the reserve when it is missing and there is room
    bool releaseReserve() const;     // true when there was one to give back
    std::set<int64_t> liveRuns;  // runs of this process still running: heartbeated
    std::unordered_map<std::string, int64_t> keyIds;  // "run\x1fkey" -> metric_keys.id
    std::thread writer;

    void exec(const std::string& sql) const {
        char* message = nullptr;
        if (sqlite3_exec(db.get(), sql.c_str(), nullptr, nullptr, &message) != SQLITE_OK) {
            sqlite3_free(message);
            fail(detail::failureText(db.get(), name));
        }
    }
    // Ends the open transaction, if SQLite has not ended it itself (it rolls back on a full
    // disk): never throws, so the error that led here is the one reported.
    void rollback() const noexcept {
        if (db && !sqlite3_get_autocommit(db.get()))
            sqlite3_exec(db.get(), "ROLLBACK", nullptr, nullptr, nullptr);
    }
    int64_t scalar(const std::string& sql) const {
        detail::Stmt s(db.get(), sql, name);
        return s.step() ? s.integer(0) : 0;
    }

    void open(int upToVersion);
    // Called with queueMutex held before queuing: a read-only store takes nothing, and once the
    // writer thread has failed (a full disk) every later write fails at once with its error, so
    // a run stops instead of computing for nothing (flush() reports and clears it).
    void refuseQueuing() const {
        if (readOnly) fail(name, " is opened read-only; nothing can be stored in it");
        if (!writerError.empty()) fail("storing metrics failed: ", writerError);
    }
    void openReadOnly();
    void quickCheck();
    void packOldMetrics();  // migration 2 -> 3
    // Stores POINTS (sorted by step, unique) of key KEYID: appended to the last chunk when they
    // all come after it, else merged with the chunks they overlap (the new point wins a step).
    void storePoints(int64_t keyId, std::vector<MetricPoint> points);
    void insertChunks(int64_t keyId, const std::vector<MetricPoint>& points);
    void markDeadRuns();
    void writerLoop();
    void commit(std::vector<detail::Item>& items, const std::set<int64_t>& beating);
    int64_t keyId(int64_t run, const std::string& key);
    RunInfo readRun(detail::Stmt& s) const;
};

}  // namespace frugal::store
