// Writing: the Store's run methods (committed at once), the queue of streamed items and the writer
// thread that commits them in batches, and the packing of metric points into chunks.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <unordered_map>
#include <variant>
#include <vector>

#include "store/store_impl.h"

namespace frugal::store {

using detail::hostName;
using detail::Item;
using detail::LogItem;
using detail::MetricItem;
using detail::nowMs;
using detail::processStart;
using detail::Stmt;
using detail::VectorItem;

namespace {

constexpr int64_t kChunkPoints = 4096;  // metric points per stored chunk

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

std::string shapeJson(const std::vector<int64_t>& shape) {
    std::string s = "[";
    for (size_t i = 0; i < shape.size(); ++i) s += (i ? "," : "") + std::to_string(shape[i]);
    return s + "]";
}

}  // namespace

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
        rollback();
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
        Stmt tag(d.db.get(), "INSERT OR IGNORE INTO tags(run_id, tag) VALUES(?, ?)", d.name);
        for (const auto& t : r.tags) tag.bind(1, id).bind(2, t).run();
        d.exec("COMMIT");
        if (r.status == RunStatus::Running || r.status == RunStatus::Queued) {
            std::lock_guard<std::mutex> q(d.queueMutex);
            d.liveRuns.insert(id);
        }
        return id;
    } catch (...) {
        d.rollback();
        throw;
    }
}

void Store::setStatus(int64_t run, RunStatus status, const std::string& givenError) {
    // every metric before the status change is stored first; a run whose last points could not
    // be stored (a full disk) has not finished
    std::string error = givenError;
    try {
        flush();
    } catch (const Error& e) {
        if (status == RunStatus::Finished || status == RunStatus::Running) status = RunStatus::Failed;
        error = error.empty() ? e.what() : error + "; " + e.what();
    }
    std::lock_guard<std::mutex> lock(m_impl->dbMutex);
    const bool ended = status != RunStatus::Running && status != RunStatus::Queued;
    const auto store = [&](const std::string& text) {
        Stmt s(m_impl->db.get(),
               "UPDATE runs SET status=?, error=?, heartbeat_ms=?, "
               "start_ms=CASE WHEN start_ms=0 AND ?='running' THEN ? ELSE start_ms END, "
               "end_ms=CASE WHEN ? THEN ? ELSE end_ms END WHERE id=?",
               m_impl->name);
        const int64_t now = nowMs();
        s.bind(1, statusName(status)).bind(2, text).bind(3, now).bind(4, statusName(status));
        s.bind(5, now).bind(6, int64_t{ended}).bind(7, now).bind(8, run).run();
    };
    try {
        store(error);
    } catch (const Error& e) {
        // a full disk: the reserve beside the database is given back, so that a run's end is
        // stored with its cause rather than guessed at the next open
        if (std::string(e.what()).rfind("disk full", 0) != 0 || !m_impl->releaseReserve()) throw;
        m_impl->rollback();
        store(error + (error.empty() ? "" : "; ") + "stored in the database's reserve of free space (" + e.what() +
              "); free some space before the next run");
    }
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

void Store::renameRun(int64_t run, const std::string& name) {
    const size_t first = name.find_first_not_of(" \t"), last = name.find_last_not_of(" \t");
    if (first == std::string::npos) fail("a run's name must be non-empty text");
    const std::string trimmed = name.substr(first, last - first + 1);
    if (trimmed.find_first_of("\n\r") != std::string::npos) fail("a run's name must be one line of text");
    if (!this->run(run)) fail(m_impl->name, ": no run with id ", run);
    std::lock_guard<std::mutex> lock(m_impl->dbMutex);
    Stmt s(m_impl->db.get(), "UPDATE runs SET name=? WHERE id=?", m_impl->name);
    s.bind(1, trimmed).bind(2, run).run();
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
    {
        // a run still working (in this process or a live one on this host) keeps its row: its
        // writes would otherwise fail at the end
        Stmt s(m_impl->db.get(), "SELECT status, pid, host, process_start, name FROM runs WHERE id=?",
               m_impl->name);
        s.bind(1, run);
        if (s.step() && (s.text(0) == "running" || s.text(0) == "queued")) {
            bool live;
            {
                std::lock_guard<std::mutex> q(m_impl->queueMutex);
                live = m_impl->liveRuns.count(run) != 0;
            }
            if (!live && s.text(2) == hostName()) live = processStart(s.integer(1)) == s.text(3);
            if (live)
                fail("run ", run, " (", s.text(4), ") is ", s.text(0), " in process ", s.integer(1), " on ",
                     s.text(2), "; stop it before deleting it");
        }
    }
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
    m_impl->refuseQueuing();
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
    m_impl->refuseQueuing();
    m_impl->queue.emplace_back(VectorItem{run, key, step, std::move(shape), std::move(data)});
    ++m_impl->enqueued;
}

void Store::log(int64_t run, const std::string& level, const std::string& text) {
    std::lock_guard<std::mutex> lock(m_impl->queueMutex);
    m_impl->refuseQueuing();
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
        fail("storing metrics failed: ", error);
    }
}

}  // namespace frugal::store
