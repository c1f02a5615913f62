// Reading on the Store's own connection: runs (by id, reference or all), params, metric series
// (unpacked from their chunks), latest metrics, vector series, artifacts and logs.
#include <cstring>
#include <map>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "store/store_impl.h"

namespace frugal::store {

using detail::Stmt;

namespace {

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

const char* kRunColumns =
    "SELECT r.id, r.uuid, r.name, e.name, r.method, r.status, r.created_ms, r.start_ms, r.end_ms, "
    "r.config, r.seed, r.git_commit, r.git_dirty, r.libraries, r.hardware, r.command_line, "
    "r.error, r.note, r.parent_id, r.pid, r.host, r.heartbeat_ms, "
    "(SELECT group_concat(tag, char(31)) FROM (SELECT tag FROM tags WHERE run_id=r.id "
    "ORDER BY tag)) FROM runs r JOIN experiments e ON e.id = r.experiment_id ";

}  // namespace

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

std::vector<std::string> Store::keysOfAllRuns() const {
    std::lock_guard<std::mutex> lock(m_impl->dbMutex);
    Stmt s(m_impl->db.get(),
           "SELECT DISTINCT key FROM params UNION SELECT DISTINCT key FROM metric_keys ORDER BY 1",
           m_impl->name);
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

}  // namespace frugal::store
