// Store::merge: imports the runs of another experiment database (by uuid) with their params,
// tags, vectors, artifacts, logs and metrics, in one transaction.
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "store/store_impl.h"

namespace frugal::store {

using detail::Stmt;

int64_t Store::merge(const std::filesystem::path& other) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(other, ec))
        fail(other.string(), std::filesystem::exists(other, ec) ? ": is not a file" : ": no such file",
             " (merge reads the runs of an existing experiment database; it never creates one)");
    if (std::filesystem::equivalent(other, m_impl->path, ec))
        fail("merge: ", other.string(), " is this database itself (", m_impl->name, "); nothing to merge");
    flush();
    { Store check(other, Access::Read); }  // integrity, version and migration of the other first
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
        for (const auto& entry : incoming) {
            const int64_t oldId = entry.first;  // a plain local: lambdas capture it (C++17)
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
        d.rollback();
        d.exec("DETACH DATABASE other");
        throw;
    }
    d.exec("DETACH DATABASE other");
    return added;
}

}  // namespace frugal::store
